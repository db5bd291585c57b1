import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import type { IpType } from "../dynamic-providers/fly/ip-address";
import { FlyApp, type FlyAppArgs } from "./fly-app";

/** Cloudflare's Zero Trust team domains are `<team>.cloudflareaccess.com`. */
const accessDomainSuffix = ".cloudflareaccess.com";

/** Identity provider types this component can create from an OAuth client (Cloudflare's `type` values). */
export const oauthIdentityProviderTypes = ["google", "github", "google-apps", "azureAD", "okta"] as const;
export type OauthIdentityProviderType = (typeof oauthIdentityProviderTypes)[number];

const displayNames: Record<OauthIdentityProviderType | "onetimepin", string> = {
  google: "Google",
  github: "GitHub",
  "google-apps": "Google Workspace",
  azureAD: "Microsoft Entra ID",
  okta: "Okta",
  onetimepin: "One-time PIN",
};

/**
 * One identity provider of the Access application: created from an OAuth client (seed 000 §3 step 5, "configure
 * OAuth client ID + secret in Cloudflare"), Cloudflare's one-time PIN by email, or one the account already has,
 * by its id. Identity providers belong to the Cloudflare account, so a second stack on it may pass the first's ids.
 */
export type DashboardIdentityProviderArgs =
  | {
      type: OauthIdentityProviderType;
      /** OAuth client id (Google Cloud console, GitHub OAuth app, ...). */
      clientId: pulumi.Input<string>;
      /** OAuth client secret; set it with `pulumi config set --secret`. */
      clientSecret: pulumi.Input<string>;
      /** @default the provider's name, e.g. `Google` */
      name?: pulumi.Input<string>;
    }
  | { type: "onetimepin"; name?: pulumi.Input<string> }
  | {
      /** Id of an identity provider already in the account (Zero Trust > Settings > Authentication). */
      existingId: pulumi.Input<string>;
    };

export interface DashboardAppArgs {
  /**
   * The app behind Access, as FlyApp takes it. One of its process groups serves HTTP (`httpService`); the
   * component adds `hostname` to its certificates (with the Cloudflare records, proxied), the `shared_v4` and
   * `v6` addresses the certificate needs, and the Access values to its secrets.
   */
  app: FlyAppArgs;
  /** The hostname Access protects, in the zone `zoneId`. @example `"dashboard.example.com"` */
  hostname: string;
  /** Cloudflare zone id of `hostname`, for the DNS records. */
  zoneId: pulumi.Input<string>;
  /** Cloudflare account id, for the Access application, policy and identity providers. */
  accountId: pulumi.Input<string>;
  /** Who may sign in (seed 000 §3 step 4 "Allow — Include: specific email addresses"). At least one. */
  allowedEmails: pulumi.Input<pulumi.Input<string>[]>;
  /** Access session length, e.g. `"168h"` (seed 000 §3 step 3 "7 days"). @default Cloudflare's (`24h`) */
  sessionDuration?: pulumi.Input<string>;
  /** Identity providers by a name of the program's (the resource name suffix). At least one. */
  identityProviders: Record<string, DashboardIdentityProviderArgs>;
  /**
   * The app's secret names that receive the Access application's audience tag and the Zero Trust team name,
   * e.g. `{ aud: "ACCESS_AUD", teamDomain: "ACCESS_TEAM" }`.
   * @default none: read them from the `accessAud` and `teamDomain` outputs
   */
  accessSecretNames?: { aud?: string; teamDomain?: string };
}

function checkArgs(name: string, args: DashboardAppArgs): void {
  const fail = (message: string): never => {
    throw new Error(`DashboardApp '${name}': ${message}`);
  };
  const providers = Object.entries(args.identityProviders);
  if (providers.length === 0) fail("identityProviders must name at least one provider, or nobody can sign in");
  for (const [key, idp] of providers) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(key)) fail(`identityProviders: name '${key}' must be lowercase letters, digits or dashes`);
    if ("existingId" in idp) continue;
    const allowed: readonly string[] = [...oauthIdentityProviderTypes, "onetimepin"];
    if (!allowed.includes(idp.type)) fail(`identityProviders.${key}.type must be one of ${allowed.join(", ")}, got ${JSON.stringify(idp.type)}`);
    if (idp.type !== "onetimepin" && (idp.clientId === undefined || idp.clientSecret === undefined)) {
      fail(`identityProviders.${key}: \`clientId\` and \`clientSecret\` go together; set both (the secret with \`pulumi config set --secret\`)`);
    }
  }
  if (!Object.values(args.app.processGroups).some((group) => group.httpService !== undefined)) {
    fail("app: no process group has an `httpService`, so there is nothing for Access to protect");
  }
  if (!/^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/.test(args.hostname)) {
    fail(`hostname must be a DNS hostname such as \`dashboard.example.com\`, got ${JSON.stringify(args.hostname)}`);
  }
  if (args.app.certificateDns !== undefined) fail("app.certificateDns is set by the component (zoneId, proxied for Access); remove it");
  // Known now when given as values; an Output is checked once it resolves (in the constructor's applies).
  if (Array.isArray(args.allowedEmails) && args.allowedEmails.length === 0) fail("allowedEmails must list at least one address, or nobody can sign in");
  const names = args.accessSecretNames ?? {};
  const secrets = args.app.secrets;
  if (secrets !== undefined && !pulumi.Output.isInstance(secrets)) {
    const clash = Object.keys(secrets).filter((key) => key === names.aud || key === names.teamDomain);
    if (clash.length > 0) fail(`app.secrets also sets ${clash.join(", ")}, which accessSecretNames fills from Access`);
  }
  if (names.aud !== undefined && names.aud === names.teamDomain) fail(`accessSecretNames: aud and teamDomain are both '${names.aud}'`);
  for (const [field, secret] of Object.entries(names)) {
    if (secret !== undefined && !/^[A-Z_][A-Z0-9_]*$/.test(secret)) fail(`accessSecretNames.${field} must be an environment variable name, got ${JSON.stringify(secret)}`);
  }
}

/** `acme` from `acme.cloudflareaccess.com`: the team name apps verify Access tokens against. */
export function teamNameOf(authDomain: string): string {
  return authDomain.endsWith(accessDomainSuffix) ? authDomain.slice(0, -accessDomainSuffix.length) : authDomain;
}

/**
 * Any FlyApp behind Cloudflare Access on a custom domain (seed 000 §3's dashboard): the Fly certificate and the
 * proxied CNAME, a self-hosted Access application with an allow policy on emails and the given identity
 * providers; the audience tag and team name go to the app's secrets under the names the program picks.
 *
 * @example
 * new DashboardApp("dashboard", {
 *   app: { appName: "acme-dashboard", orgSlug: "acme", primaryRegion: "ams", image,
 *          processGroups: { app: { httpService: { internalPort: 3000 } } } },
 *   hostname: "dashboard.acme.dev", zoneId, accountId,
 *   allowedEmails: ["ops@acme.dev"],
 *   identityProviders: { pin: { type: "onetimepin" } },
 *   accessSecretNames: { aud: "ACCESS_AUD" },
 * });
 */
export class DashboardApp extends pulumi.ComponentResource {
  /** `https://<hostname>` */
  public readonly url: pulumi.Output<string>;
  public readonly appName: pulumi.Output<string>;
  /** The Access application's audience tag. Not a credential: every Access JWT carries it. */
  public readonly accessAud: pulumi.Output<string>;
  /** The Zero Trust team name (`<team>` of `<team>.cloudflareaccess.com`). */
  public readonly teamDomain: pulumi.Output<string>;
  /** The FlyApp behind Access, with all its outputs (deployToken, egressIps, image, ...). */
  public readonly app: FlyApp;

  constructor(name: string, args: DashboardAppArgs, opts?: pulumi.ComponentResourceOptions) {
    checkArgs(name, args);
    super("platform:index:DashboardApp", name, {}, opts);
    const hostname = args.hostname;

    const access = this.createAccess(name, args, hostname);
    const organization = cloudflare.getZeroTrustOrganizationOutput({ accountId: args.accountId }, { parent: this });
    const teamDomain = organization.authDomain.apply(teamNameOf);

    const names = args.accessSecretNames ?? {};
    const accessSecrets: Record<string, pulumi.Input<string>> = {};
    if (names.aud) accessSecrets[names.aud] = pulumi.secret(access.aud);
    if (names.teamDomain) accessSecrets[names.teamDomain] = teamDomain;
    const secrets =
      args.app.secrets === undefined && Object.keys(accessSecrets).length === 0
        ? undefined
        : pulumi.output(args.app.secrets ?? {}).apply((own) => {
            const clash = Object.keys(own).filter((key) => key in accessSecrets);
            if (clash.length > 0) throw new Error(`DashboardApp '${name}': app.secrets also sets ${clash.join(", ")}, which accessSecretNames fills from Access`);
            return { ...own, ...accessSecrets };
          });

    this.app = new FlyApp(
      `${name}-fly`,
      {
        ...args.app,
        // `fly launch` allocates these on first deploy; the certificate and the CNAME need them.
        ipAddresses: [...new Set<IpType>(["shared_v4", "v6", ...(args.app.ipAddresses ?? [])])],
        certificates: [...new Set([...(args.app.certificates ?? []), hostname])],
        certificateDns: { zoneId: args.zoneId, proxied: true },
        secrets,
      },
      { parent: this, transformations: [legacyDnsNames(name, hostname, this)] },
    );

    this.url = pulumi.output(`https://${hostname}`);
    this.appName = this.app.appName;
    this.accessAud = access.aud;
    this.teamDomain = teamDomain;
    this.registerOutputs({ url: this.url, appName: this.appName, accessAud: this.accessAud, teamDomain: this.teamDomain });
  }

  /** Seed 000 §3 "Cloudflare Access": identity providers, an allow policy by email, and the self-hosted application. */
  private createAccess(name: string, args: DashboardAppArgs, hostname: string): cloudflare.ZeroTrustAccessApplication {
    const idps = Object.entries(args.identityProviders).map(([key, idp]) => this.identityProvider(`${name}-${key}`, args.accountId, idp));
    const includes = pulumi.output(args.allowedEmails).apply((emails) => {
      if (emails.length === 0) throw new Error(`DashboardApp '${name}': allowedEmails must list at least one address, or nobody can sign in`);
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
        sessionDuration: args.sessionDuration,
        allowedIdps: idps,
        policies: [{ id: policy.id, precedence: 1 }],
      },
      { parent: this },
    );
  }

  private identityProvider(resourceName: string, accountId: pulumi.Input<string>, idp: DashboardIdentityProviderArgs): pulumi.Input<string> {
    if ("existingId" in idp) return idp.existingId;
    const config = idp.type === "onetimepin" ? {} : { clientId: idp.clientId, clientSecret: pulumi.secret(idp.clientSecret) };
    return new cloudflare.ZeroTrustAccessIdentityProvider(
      resourceName,
      { accountId, name: idp.name ?? displayNames[idp.type], type: idp.type, config },
      { parent: this },
    ).id;
  }
}

/**
 * The DNS records were the DashboardApp's own children (`<name>-cname`, `<name>-acme-challenge`) before FlyApp
 * made certificate records; the aliases let an existing stack keep them instead of replacing them.
 */
function legacyDnsNames(name: string, hostname: string, parent: pulumi.Resource): pulumi.ResourceTransformation {
  const legacy: Record<string, string> = { [`${name}-fly-dns-${hostname}`]: `${name}-cname`, [`${name}-fly-acme-${hostname}`]: `${name}-acme-challenge` };
  return ({ type, name: childName, props, opts }) => {
    const old = legacy[childName];
    if (type !== "cloudflare:index/dnsRecord:DnsRecord" || old === undefined) return undefined;
    return { props, opts: pulumi.mergeOptions(opts, { aliases: [{ name: old, parent }] }) };
  };
}
