import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import type { IpType } from "../dynamic-providers/fly/ip-address";
import type { DeepInput } from "../dynamic-providers/fly/machine";
import type { MachineGuest } from "../dynamic-providers/fly/machine-types";
import { FlyApp, type FlyDeployTokenArgs, type FlyHttpServiceArgs } from "./fly-app";

/** Fly secrets this component sets itself; `secrets` must not name them. */
export const dashboardOwnedSecrets: readonly string[] = ["DATABASE_URL", "CF_ACCESS_AUD", "CF_ACCESS_TEAM_DOMAIN"];

/** Cloudflare's Zero Trust team domains are `<team>.cloudflareaccess.com`. */
const accessDomainSuffix = ".cloudflareaccess.com";

/**
 * One identity provider of the Access application: either create it from an OAuth client (seed 000 §3 step 5,
 * "configure OAuth client ID + secret in Cloudflare"), or use one the account already has by its id. Identity
 * providers belong to the Cloudflare account, so the second stack on the same account passes the first one's ids.
 */
export interface DashboardIdentityProviderArgs {
  /** OAuth client id (Google Cloud console / GitHub OAuth app). Only one of `clientId` or `existingId` can be provided. */
  clientId?: pulumi.Input<string>;
  /** OAuth client secret; required with `clientId`. Set it with `pulumi config set --secret`. */
  clientSecret?: pulumi.Input<string>;
  /** Id of an identity provider already in the account (Zero Trust > Settings > Authentication). */
  existingId?: pulumi.Input<string>;
}

export interface DashboardAppArgs {
  /** Fly app name. @default `naluma-dashboard` (seed 000 §3) */
  appName?: pulumi.Input<string>;
  /** Fly organization slug. @example `"personal"` */
  orgSlug: pulumi.Input<string>;
  /** Fly region. @default `fra` (seed 000 §3 "Select region: fra") */
  region?: pulumi.Input<string>;
  /** The dashboard image (Dockerfile.dashboard), built and pushed by CI; a new value deploys. */
  image: pulumi.Input<string>;
  /** Machine memory on shared-cpu-1x. @default `512` (seed 000 §3 "shared-cpu-1x, 512MB") */
  memoryMb?: pulumi.Input<number>;
  /** The whole machine size, over `memoryMb`. @default `{ cpuKind: "shared", cpus: 1, memoryMb }` */
  guest?: DeepInput<MachineGuest>;
  /** The port Streamlit listens on. @default `8501` (Streamlit's default) */
  internalPort?: pulumi.Input<number>;
  /**
   * fly.toml `[http_service]` settings over the defaults (`internalPort`, force HTTPS), e.g. autostop and
   * `minMachinesRunning` (0 in staging, 1 in production). @default FlyApp's (`autostop: "off"`, no minimum)
   */
  httpService?: Partial<FlyHttpServiceArgs>;
  /** Plain fly.toml `[env]` settings. @default `{}` */
  env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Make an app-scoped deploy token (`fly tokens create deploy -a naluma-dashboard`) for CI; see the `deployToken` output. @default none */
  deployToken?: FlyDeployTokenArgs;
  /** Take over the app made by hand with `fly launch --config fly.dashboard.toml`. @default `false` */
  adopt?: pulumi.Input<boolean>;
  /**
   * Addresses on top of the `shared_v4` and `v6` the certificate needs, e.g. `["egress_v4"]` for the Neon IP
   * allowlist (seed 000 §4); egress ones are in the `egressIps` output. @default `[]`
   */
  ipAddresses?: IpType[];

  /** The Cloudflare zone's domain; the dashboard is served at `<subdomain>.<domain>`. @example `"naluma.space"` */
  domain: string;
  /** @default `dashboard` (seed 000 §3 `dashboard.naluma.space`) */
  subdomain?: string;
  /** Cloudflare zone id of `domain`, for the DNS records. */
  zoneId: pulumi.Input<string>;
  /** Cloudflare account id, for the Access application, policy and identity providers. */
  accountId: pulumi.Input<string>;

  /** Who may sign in (seed 000 §3 step 4 "Allow — Include: specific email addresses"). At least one. */
  allowedEmails: pulumi.Input<pulumi.Input<string>[]>;
  /** Access session length. @default `168h` (seed 000 §3 step 3 "Session duration: 7 days") */
  sessionDuration?: pulumi.Input<string>;
  /** Google sign-in (seed 000 §3 step 5). At least one of `google` or `github`. @default none */
  google?: DashboardIdentityProviderArgs;
  /** GitHub sign-in (seed 000 §3 step 5). At least one of `google` or `github`. @default none */
  github?: DashboardIdentityProviderArgs;

  /** DATABASE_URL: the NeonProject's `appUrl` (pooled, `pipeline`). */
  databaseUrl: pulumi.Input<string>;
  /**
   * The rest of seed 000 §3's `fly secrets set -a naluma-dashboard`: ANTHROPIC_API_KEY, WP_BASE_URL, WP_USERNAME,
   * WP_APP_PASSWORD, R2_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, R2_BUCKET_NAME. DATABASE_URL,
   * CF_ACCESS_AUD and CF_ACCESS_TEAM_DOMAIN are set by this component. @default `{}`
   */
  secrets?: Record<string, pulumi.Input<string>>;
}

function checkArgs(name: string, args: DashboardAppArgs): void {
  if (args.google === undefined && args.github === undefined) {
    throw new Error(`dashboard '${name}': give at least one of \`google\` or \`github\`, or nobody can sign in`);
  }
  for (const [label, idp] of [["google", args.google], ["github", args.github]] as const) {
    if (idp === undefined) continue;
    const fromClient = idp.clientId !== undefined || idp.clientSecret !== undefined;
    if (fromClient === (idp.existingId !== undefined)) {
      throw new Error(`dashboard '${name}': ${label}: only one of \`clientId\`/\`clientSecret\` or \`existingId\` can be provided, and one is required`);
    }
    if (fromClient && (idp.clientId === undefined || idp.clientSecret === undefined)) {
      throw new Error(`dashboard '${name}': ${label}: \`clientId\` and \`clientSecret\` go together; set both (the secret with \`pulumi config set --secret\`)`);
    }
  }
  const taken = Object.keys(args.secrets ?? {}).filter((key) => dashboardOwnedSecrets.includes(key));
  if (taken.length > 0) {
    throw new Error(`dashboard '${name}': secrets: ${taken.join(", ")} are set by the component (from Neon and Cloudflare Access); remove them from \`secrets\``);
  }
}

/** `naluma` from `naluma.cloudflareaccess.com`: seed 000 §3's CF_ACCESS_TEAM_DOMAIN is the team name. */
export function teamNameOf(authDomain: string): string {
  return authDomain.endsWith(accessDomainSuffix) ? authDomain.slice(0, -accessDomainSuffix.length) : authDomain;
}

/**
 * Seed 000 §3: the Streamlit dashboard as its own Fly app on `dashboard.<domain>`, behind Cloudflare Access
 * (Google and GitHub sign-in, listed emails only). The Access application's AUD tag and the team name go to the
 * app's Fly secrets directly, with the database URL and the other secrets.
 */
export class DashboardApp extends pulumi.ComponentResource {
  /** `https://dashboard.<domain>` */
  public readonly url: pulumi.Output<string>;
  public readonly appName: pulumi.Output<string>;
  /** The Access application's audience tag (CF_ACCESS_AUD). Not a credential: every Access JWT carries it. */
  public readonly accessAud: pulumi.Output<string>;
  /** The Zero Trust team name (CF_ACCESS_TEAM_DOMAIN). */
  public readonly teamDomain: pulumi.Output<string>;
  /** The app's deploy token (secret), when `deployToken` was given. */
  public readonly deployToken: pulumi.Output<string> | undefined;
  /** The app's static egress addresses (`ipAddresses` egress types), `[]` when none was asked for. */
  public readonly egressIps: pulumi.Output<string[]>;

  constructor(name: string, args: DashboardAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:DashboardApp", name, {}, opts);
    checkArgs(name, args);
    const hostname = `${args.subdomain ?? "dashboard"}.${args.domain}`;

    const access = this.createAccess(name, args, hostname);
    const organization = cloudflare.getZeroTrustOrganizationOutput({ accountId: args.accountId }, { parent: this });
    const teamDomain = organization.authDomain.apply(teamNameOf);

    const fly = new FlyApp(
      `${name}-fly`,
      {
        appName: args.appName ?? "naluma-dashboard",
        orgSlug: args.orgSlug,
        primaryRegion: args.region ?? "fra",
        image: args.image,
        processGroups: {
          app: {
            guest: args.guest ?? { cpuKind: "shared", cpus: 1, memoryMb: args.memoryMb ?? 512 },
            httpService: { internalPort: args.internalPort ?? 8501, forceHttps: true, ...args.httpService },
          },
        },
        // `fly launch` allocates these on first deploy; the certificate and the CNAME need them.
        ipAddresses: [...new Set<IpType>(["shared_v4", "v6", ...(args.ipAddresses ?? [])])],
        certificates: [hostname],
        env: args.env,
        secrets: {
          ...args.secrets,
          DATABASE_URL: pulumi.secret(args.databaseUrl),
          CF_ACCESS_AUD: pulumi.secret(access.aud),
          CF_ACCESS_TEAM_DOMAIN: teamDomain,
        },
        deployToken: args.deployToken,
        adopt: args.adopt,
      },
      { parent: this },
    );
    this.createDns(name, args, hostname, fly);

    this.url = pulumi.output(`https://${hostname}`);
    this.appName = fly.appName;
    this.accessAud = access.aud;
    this.teamDomain = teamDomain;
    this.deployToken = fly.deployToken;
    this.egressIps = fly.egressIps;
    this.registerOutputs({
      url: this.url,
      appName: this.appName,
      accessAud: this.accessAud,
      teamDomain: this.teamDomain,
      deployToken: this.deployToken,
      egressIps: this.egressIps,
    });
  }

  /** The hostname through Cloudflare's proxy to `<app>.fly.dev`, and the DNS-01 challenge Fly validates through (it cannot see past the proxy). */
  private createDns(name: string, args: DashboardAppArgs, hostname: string, fly: FlyApp): void {
    new cloudflare.DnsRecord(
      `${name}-cname`,
      { zoneId: args.zoneId, name: hostname, type: "CNAME", content: fly.hostname, proxied: true, ttl: 1, comment: "Fly app behind Cloudflare Access" },
      { parent: this },
    );
    const certificate = fly.certificates.apply((byHost) => {
      const dns = byHost[hostname];
      if (!dns) throw new Error(`dashboard '${name}': FlyApp reported no certificate for ${hostname}`);
      return dns;
    });
    new cloudflare.DnsRecord(
      `${name}-acme-challenge`,
      {
        zoneId: args.zoneId,
        name: certificate.acmeChallengeName,
        type: "CNAME",
        content: certificate.acmeChallengeTarget,
        proxied: false,
        ttl: 1,
        comment: "Fly certificate validation (fly certs show)",
      },
      { parent: this },
    );
  }

  /** Seed 000 §3 "Cloudflare Access": identity providers, an allow policy by email, and the self-hosted application. */
  private createAccess(name: string, args: DashboardAppArgs, hostname: string): cloudflare.ZeroTrustAccessApplication {
    const google = args.google && this.identityProvider(`${name}-google`, "google", "Google", args.accountId, args.google);
    const github = args.github && this.identityProvider(`${name}-github`, "github", "GitHub", args.accountId, args.github);
    const includes = pulumi.output(args.allowedEmails).apply((emails) => {
      if (emails.length === 0) throw new Error(`dashboard '${name}': allowedEmails must list at least one address, or nobody can sign in`);
      return emails.map((email) => ({ email: { email } }));
    });
    const policy = new cloudflare.ZeroTrustAccessPolicy(
      `${name}-allow`,
      { accountId: args.accountId, name: `${hostname} allowed emails`, decision: "allow", includes },
      { parent: this },
    );
    return new cloudflare.ZeroTrustAccessApplication(
      `${name}-access`,
      {
        accountId: args.accountId,
        name: hostname,
        type: "self_hosted",
        domain: hostname,
        destinations: [{ type: "public", uri: hostname }],
        sessionDuration: args.sessionDuration ?? "168h",
        allowedIdps: [google, github].filter((id): id is pulumi.Input<string> => id !== undefined),
        policies: [{ id: policy.id, precedence: 1 }],
      },
      { parent: this },
    );
  }

  private identityProvider(
    resourceName: string,
    type: "google" | "github",
    displayName: string,
    accountId: pulumi.Input<string>,
    idp: DashboardIdentityProviderArgs,
  ): pulumi.Input<string> {
    const { clientId, clientSecret, existingId } = idp;
    // checkArgs made sure exactly one of the two forms is given.
    if (clientId === undefined || clientSecret === undefined) return existingId ?? "";
    return new cloudflare.ZeroTrustAccessIdentityProvider(
      resourceName,
      { accountId, name: displayName, type, config: { clientId, clientSecret: pulumi.secret(clientSecret) } },
      { parent: this },
    ).id;
  }
}
