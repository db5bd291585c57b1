/**
 * Program entry: `pulumi up -s staging` / `-s production` (or a pull request's `-s pr-<number>`, made by
 * .github/workflows/preview-environment.yml from Pulumi.preview.yaml) runs this file. It reads the validated stack config,
 * composes the components (seed 000's five sections) and exports what other stacks read with a StackReference.
 * Data flows one way, config → components → resources → outputs; the stacks differ only through their config.
 */
import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import { DashboardApp, type DashboardIdentityProviderArgs } from "./components/dashboard-app";
import { DocsSite } from "./components/docs-site";
import { FlyApp, type FlyAppArgs, type FlyProcessGroupArgs, type FlyScheduledMachineArgs, type FlyVolumeArgs } from "./components/fly-app";
import { NeonProject, type NeonProjectArgs } from "./components/neon-project";
import { PrefectServer, type PrefectServerArgs } from "./components/prefect-server";
import type { IpType } from "./dynamic-providers/fly/ip-address";
import { IpAllowList } from "./dynamic-providers/neon/ip-allow-list";
import { loadConfig, secretEnv, type AccessConfig, type FlyAppConfig, type GitHubConfig, type IdentityProvider, type PlatformConfig } from "./config";

/**
 * Plain settings that seed 000 nevertheless sets with `fly secrets set` (§1 and §3). They stay Fly secrets, so
 * each app gets exactly the seed's secret list; their values come from config (`wordpress`, `r2`, or an app's `env`).
 */
const seedSecretSettings: readonly string[] = ["WP_BASE_URL", "WP_USERNAME", "R2_ACCOUNT_ID", "R2_BUCKET_NAME"];

/** Names of the GitHub Actions secrets the deploy workflow reads (seed 000 §1 "FLY_API_TOKEN"). */
const deploySecretNames = { worker: "FLY_API_TOKEN", dashboard: "FLY_API_TOKEN_DASHBOARD" } as const;

type SecretInputs = Record<string, pulumi.Input<string>>;

/** An app's config env split into what stays plain and the seed's settings that go to its Fly secrets. */
function splitEnv(app: FlyAppConfig): { env: Record<string, string>; settings: Record<string, string> } {
  const env: Record<string, string> = {};
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(app.env)) (seedSecretSettings.includes(name) ? settings : env)[name] = value;
  return { env, settings };
}

/**
 * Seed 000 §2/§4's layout: `naluma_content` (the app's data, created with the project) and `prefect_server`
 * (Prefect's state); `pipeline` reads and writes rows of naluma_content, `migrations` owns its DDL. Prefect logs
 * in as the project owner, so no role is granted on prefect_server and it stays closed to every other role.
 */
function neonLayout(config: PlatformConfig): Pick<NeonProjectArgs, "databases" | "roles" | "compute"> {
  const { databases, roles, compute } = config.neon;
  return {
    // Both hold data: the app's rows and Prefect's flow-run history.
    databases: { [databases.app]: { protect: config.protect }, [databases.prefect]: { protect: config.protect } },
    roles: {
      [roles.app]: { profile: "app", databases: [databases.app] },
      [roles.migrations]: { profile: "migrations", databases: [databases.app] },
    },
    compute,
  };
}

/**
 * The stack a branch stack copies its database from, and which of that stack's branches: production's `main`,
 * or, for a pull-request preview (platform:preview.databaseParent `staging`), the staging stack's own branch.
 */
function neonParent(config: PlatformConfig): { stack: string; branchOutput: "neonMainBranchId" | "neonBranchId" } {
  const { productionStack, stagingStack } = config.environment;
  if (config.preview?.databaseParent === "staging") {
    if (stagingStack === undefined) throw new Error("platform:stagingStack is required while platform:preview.databaseParent is `staging`");
    return { stack: stagingStack, branchOutput: "neonBranchId" };
  }
  if (productionStack === undefined) throw new Error("platform:productionStack is required while platform:neon.ownsProject is false");
  return { stack: productionStack, branchOutput: "neonMainBranchId" };
}

/**
 * Owner mode creates the project; branch mode reads the parent stack's project, branch and owner role (every stack
 * exports them), and a pull-request preview's branch expires (platform:preview.databaseLifetimeDays).
 */
function neonArgs(config: PlatformConfig): { args: NeonProjectArgs; mainBranchId?: pulumi.Output<string> } {
  const neon = config.neon;
  if (neon.ownsProject) {
    return {
      args: {
        mode: "owner",
        ...neonLayout(config),
        name: neon.projectName,
        regionId: neon.regionId,
        pgVersion: neon.pgVersion,
        historyRetentionSeconds: neon.historyRetentionSeconds,
        orgId: neon.orgId,
        protect: config.protect,
        // Neon's own protection too: Neon then refuses to delete or reset main, and protectedBranchesOnly scopes the allowlist to it.
        protectMainBranch: config.protect,
        // The allowlist is written by neon:IpAllowList after the Fly apps (below), so it can list their egress IPs.
        adopt: neon.adopt,
      },
    };
  }
  const parent = neonParent(config);
  const owner = new pulumi.StackReference(parent.stack, { name: parent.stack });
  const read = (output: string): pulumi.Output<string> => owner.requireOutput(output).apply((value) => String(value));
  return {
    args: {
      mode: "branch",
      ...neonLayout(config),
      projectId: read("neonProjectId"),
      parentBranchId: read(parent.branchOutput),
      name: neon.branchName,
      ownerRoleName: read("neonOwnerRoleName"),
      resetFromParent: neon.resetFromParent,
      expiresAt: config.preview?.databaseExpiresAt,
    },
    mainBranchId: read("neonMainBranchId"),
  };
}

/**
 * `platform:protect` (on in production) sets Pulumi's `protect` on every resource whose loss loses data or opens access,
 * so `pulumi destroy`, a replacing change or a resource dropped from the program fails instead of deleting it:
 * - data: the Neon project, its main branch and every database (NeonProject's `protect` args), the Fly volumes;
 * - access: the Neon IP allowlist (deleting it lets every IP reach the database), each database's lockdown (deleting it
 *   gives PUBLIC its CONNECT back), the dashboard's Cloudflare Access application and its allow policy.
 * - a branch stack's own branch, when its config turns protect on.
 * Roles, grants, machines, IPs and tokens are not: losing them closes access or is rebuilt from config.
 * The components expose no `protect` for volumes, lockdowns, a branch stack's branch or Access, so a transformation
 * sets it on those by type.
 */
const guardedTypes: readonly string[] = [
  "pulumi-nodejs:dynamic/fly:Volume",
  "pulumi-nodejs:dynamic/neon:Branch",
  "pulumi-nodejs:dynamic/postgres:DatabaseLockdown",
  "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication",
  "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy",
];

function protectGuarded(protect: boolean): pulumi.ResourceTransformation {
  return ({ type, props, opts }) => (guardedTypes.includes(type) ? { props, opts: { ...opts, protect } } : undefined);
}

/** Seed 000 §2's two pools; recovery has its own so production work filling content-pool never blocks it. */
const workPools = { "content-pool": {}, "recovery-pool": {} };

function prefectArgs(config: PlatformConfig, databaseUrl: pulumi.Output<string>): PrefectServerArgs {
  const prefect = config.prefect;
  if (prefect.mode === "colocated") {
    // Seed 000 runs the CLI through uv (`fly ssh console -C "uv run prefect …"`).
    return { mode: "colocated", databaseUrl, workPools, prefectCli: ["uv", "run", "prefect"], processGroup: Object.keys(config.worker.processes)[0] };
  }
  const server = prefect.server;
  return {
    mode: "standalone",
    databaseUrl,
    workPools,
    port: server.internalPort,
    app: {
      appName: server.appName,
      orgSlug: config.fly.org,
      primaryRegion: server.region,
      image: server.image,
      env: server.env,
      group: {
        guest: server.guest,
        httpService: {
          internalPort: server.internalPort,
          autostop: server.autostop,
          minMachinesRunning: server.minMachinesRunning,
          autostart: server.autostart,
          forceHttps: server.forceHttps,
          checks: server.checks,
        },
      },
    },
  };
}

function workerProcessGroups(config: PlatformConfig): Record<string, FlyProcessGroupArgs> {
  const { guest, volume, processes } = config.worker;
  return Object.fromEntries(
    Object.entries(processes).map(([group, process]): [string, FlyProcessGroupArgs] => [
      group,
      { guest, command: process.command, mounts: volume ? { [volume.name]: volume.path } : undefined, deploy: { smokeChecks: config.fly.smokeChecks } },
    ]),
  );
}

function workerScheduledMachines(config: PlatformConfig): Record<string, FlyScheduledMachineArgs> {
  return Object.fromEntries(
    config.worker.cronMachines.map((cron): [string, FlyScheduledMachineArgs] => [
      cron.name,
      { schedule: cron.schedule, command: cron.command, entrypoint: cron.entrypoint, guest: cron.guest, region: cron.region },
    ]),
  );
}

/** Seed 000 §3 step 5: Google and GitHub sign-in, each from its OAuth client (config requires the pair for each one in use). */
function identityProviders(config: PlatformConfig, access: AccessConfig): Record<string, DashboardIdentityProviderArgs> {
  const clients: Record<IdentityProvider, [string | undefined, pulumi.Output<string> | undefined]> = {
    google: [access.googleClientId, config.secrets.googleOauthClientSecret],
    github: [access.githubClientId, config.secrets.githubOauthClientSecret],
  };
  return Object.fromEntries(
    access.identityProviders.map((type): [string, DashboardIdentityProviderArgs] => {
      const [clientId, clientSecret] = clients[type];
      if (clientId === undefined || clientSecret === undefined) throw new Error(`platform:dashboard.access: ${type} needs its client id and secret`);
      return [type, { type, clientId, clientSecret }];
    }),
  );
}

const config = loadConfig();

/** Seed 000 §4 "Add Fly.io egress IPs": with platform:neon.allowFlyEgress each app gets a static egress IPv4 in its region. */
const egressIpAddresses: IpType[] | undefined = config.neon.allowFlyEgress ? ["egress_v4"] : undefined;

// Seed 000 §4: the project (production) or this stack's branch of it, the databases, roles and connection strings.
const neonSetup = neonArgs(config);
const guarded: pulumi.ComponentResourceOptions = { transformations: [protectGuarded(config.protect)] };
const neon = new NeonProject("neon", neonSetup.args, guarded);
// Seed 000's three connection strings, all for SQLAlchemy's asyncpg dialect. The app goes through PgBouncer;
// Alembic and Prefect (prepared statements, session state) connect directly.
const neonUrls = {
  /** DATABASE_URL */
  app: neon.connectionUrl(config.neon.roles.app, config.neon.databases.app, { pooled: true, driver: "sqlalchemy+asyncpg" }),
  /** DATABASE_URL_MIGRATIONS */
  migrations: neon.connectionUrl(config.neon.roles.migrations, config.neon.databases.app, { driver: "sqlalchemy+asyncpg" }),
  /** PREFECT_API_DATABASE_CONNECTION_URL */
  prefect: neon.ownerConnectionUrl(config.neon.databases.prefect, { driver: "sqlalchemy+asyncpg" }),
};

// Seed 000 §2 (colocated in the worker) or seed 004 (its own app).
const prefect = new PrefectServer("prefect", prefectArgs(config, neonUrls.prefect), guarded);

// Seed 000 §1: the worker app with the seed's `fly secrets set` list and a deploy token for CI.
const workerEnv = splitEnv(config.worker);
const workerVolume = config.worker.volume;
const workerVolumes: Record<string, FlyVolumeArgs> | undefined = workerVolume ? { [workerVolume.name]: { sizeGb: workerVolume.sizeGb } } : undefined;
const workerSecrets: SecretInputs = {
  ...secretEnv(config.secrets, config.worker.secrets),
  ...workerEnv.settings,
  DATABASE_URL: neonUrls.app,
  DATABASE_URL_MIGRATIONS: neonUrls.migrations,
};
const worker = new FlyApp("worker", {
  appName: config.worker.appName,
  orgSlug: config.fly.org,
  primaryRegion: config.worker.region,
  image: config.worker.image,
  processGroups: workerProcessGroups(config),
  // The stack's own env (PREFECT_API_URL from platform:prefect.apiUrl among it) wins over the server's default.
  env: prefect.env.apply((prefectEnv) => ({ ...prefectEnv, ...workerEnv.env })),
  secrets: pulumi.all([pulumi.output(workerSecrets), prefect.secretEnv]).apply(([own, prefectSecrets]) => ({ ...own, ...prefectSecrets })),
  volumes: workerVolumes,
  scheduledMachines: workerScheduledMachines(config),
  releaseCommand: config.worker.releaseCommand ? { command: config.worker.releaseCommand } : undefined,
  execCommands: prefect.workPoolCommands,
  ipAddresses: egressIpAddresses,
  // Handed to GitHub Actions below; a pull-request preview makes no deploy secrets, so no token either.
  deployToken: config.github ? { expiry: config.fly.deployTokenExpiry } : undefined,
}, guarded);

// Seed 000 §3: the dashboard behind Cloudflare Access, with its own app-scoped deploy token. A pull-request
// preview without platform:dashboard.access gets the same app without any public address: Flycast only, reached
// with `fly proxy`, so it is never on the internet without Access in front.
if (config.dashboard.volume) throw new Error("platform:dashboard.volume: the dashboard keeps no local state; remove the volume");
const dashboardEnv = splitEnv(config.dashboard);
const dashboardApp: FlyAppArgs = {
  appName: config.dashboard.appName,
  orgSlug: config.fly.org,
  primaryRegion: config.dashboard.region,
  image: config.dashboard.image,
  processGroups: {
    app: {
      guest: config.dashboard.guest,
      httpService: {
        internalPort: config.dashboard.internalPort,
        autostop: config.dashboard.autostop,
        autostart: config.dashboard.autostart,
        minMachinesRunning: config.dashboard.minMachinesRunning,
        forceHttps: config.dashboard.forceHttps,
        checks: config.dashboard.checks,
      },
      deploy: { smokeChecks: config.fly.smokeChecks },
    },
  },
  env: dashboardEnv.env,
  secrets: { ...secretEnv(config.secrets, config.dashboard.secrets), ...dashboardEnv.settings, DATABASE_URL: pulumi.secret(neonUrls.app) },
  ipAddresses: egressIpAddresses,
  deployToken: config.github ? { expiry: config.fly.deployTokenExpiry } : undefined,
};
const dashboardAccess = config.dashboard.access;
const dashboardHostname = config.dashboard.hostname;
const publicDashboard =
  dashboardAccess && dashboardHostname !== undefined
    ? new DashboardApp("dashboard", {
        app: dashboardApp,
        hostname: dashboardHostname,
        zoneId: config.cloudflare.zoneId,
        accountId: config.cloudflare.accountId,
        allowedEmails: dashboardAccess.allowedEmails,
        sessionDuration: dashboardAccess.sessionDuration,
        identityProviders: identityProviders(config, dashboardAccess),
        accessSecretNames: { aud: "CF_ACCESS_AUD", teamDomain: "CF_ACCESS_TEAM_DOMAIN" },
      }, guarded)
    : undefined;
const privateDashboard = publicDashboard ? undefined : new FlyApp("dashboard", { ...dashboardApp, ipAddresses: ["private_v6"] }, guarded);
const dashboard: FlyApp = publicDashboard?.app ?? (privateDashboard as FlyApp);

// Seed 000 §4 "IP Allow": project-wide, so only the owning stack writes it; after the apps, whose egress IPs it
// lists while their secrets come from the project. Any entry makes Neon reject unlisted IPs; none allows all.
// It waits for the whole NeonProject too: its postgres roles and grants connect from wherever `pulumi up` runs.
if (config.neon.ownsProject) {
  const flyEgressIps = config.neon.allowFlyEgress ? [worker.egressIps, dashboard.egressIps] : [];
  new IpAllowList(
    "neon-ip-allow-list",
    {
      projectId: neon.projectId,
      ips: pulumi.all(flyEgressIps).apply((perApp) => [...config.neon.allowedIps, ...perApp.flat()]),
      protectedBranchesOnly: config.neon.protectedBranchesOnly,
    },
    { dependsOn: [neon, worker, publicDashboard ?? dashboard], protect: config.protect },
  );
}

// CI: one GitHub Actions environment per stack, so staging's and production's tokens never overwrite each other.
// A pull-request preview has none (config.github unset): nothing deploys to it but this program.
const githubProvider = config.github ? new github.Provider("github", { owner: config.github.owner }) : undefined;
function deploySecrets(settings: GitHubConfig, provider: github.Provider): github.RepositoryEnvironment {
  const deployEnvironment = new github.RepositoryEnvironment(
    "deploy-environment",
    { repository: settings.name, environment: settings.environment },
    { provider },
  );
  const deployTokens: [string, string, pulumi.Output<string> | undefined][] = [
    ["worker-fly-api-token", deploySecretNames.worker, worker.deployToken],
    ["dashboard-fly-api-token", deploySecretNames.dashboard, dashboard.deployToken],
  ];
  for (const [name, secretName, token] of deployTokens) {
    if (token === undefined) throw new Error(`${name}: the app made no deploy token`);
    new github.ActionsEnvironmentSecret(
      name,
      { repository: settings.name, environment: deployEnvironment.environment, secretName, value: pulumi.secret(token) },
      { provider },
    );
  }
  return deployEnvironment;
}
const deployEnvironment = config.github && githubProvider ? deploySecrets(config.github, githubProvider) : undefined;

// Seed 000 §5: one Pages project serves every branch, so only the stack whose config enables it makes it (config
// refuses it in a pull-request preview, which has no GitHub settings).
const docs =
  config.docs.enabled && config.github && githubProvider
    ? new DocsSite(
        "docs",
        {
          accountId: config.cloudflare.accountId,
          projectName: config.docs.projectName,
          productionBranch: config.docs.productionBranch,
          githubSecrets: { repository: config.github.name, apiTokenName: "CLOUDFLARE_API_TOKEN", accountIdName: "CLOUDFLARE_ACCOUNT_ID" },
        },
        { providers: { github: githubProvider } },
      )
    : undefined;

/** The environment this stack builds (`production`, `staging` or `preview`). */
export const environment = config.environment.name;
/** A pull-request preview's number (platform:preview.prNumber); absent from every other stack. */
export const previewPrNumber = config.preview?.prNumber;
/** A pull-request preview's head branch (platform:preview.branch), as the workflow recorded it. */
export const previewBranch = config.preview?.branch;
/** The worker's Fly app name, e.g. `naluma-content`. */
export const workerAppName = worker.appName;
/** `https://<worker app>.fly.dev`; the worker serves nothing publicly in seed 000 (the Prefect UI is reached with `fly proxy`). */
export const workerUrl = pulumi.interpolate`https://${worker.hostname}`;
/** `<worker app>.internal`, how other apps in the Fly organization reach the worker over the private network. */
export const workerPrivateHostname = worker.privateHostname;
/** The dashboard's Fly app name, e.g. `naluma-dashboard`. */
export const dashboardAppName = dashboard.appName;
/**
 * `https://dashboard.naluma.space` (behind Cloudflare Access); a private preview dashboard's Flycast address,
 * `http://naluma-dashboard-pr-<n>.flycast`, reachable inside the Fly organization's network only.
 */
export const dashboardUrl = publicDashboard ? publicDashboard.url : pulumi.interpolate`http://${dashboard.appName}.flycast`;
/** How to open a private preview dashboard from your machine (then browse http://localhost:<port>); absent when it is public. */
export const dashboardProxyCommand = publicDashboard
  ? undefined
  : pulumi.interpolate`fly proxy ${config.dashboard.internalPort}:80 ${dashboard.appName}.flycast -a ${dashboard.appName}`;
/** The Access application's audience tag (CF_ACCESS_AUD), for other apps that verify the same Access JWTs. */
export const dashboardAccessAud = publicDashboard?.accessAud;
/** The Zero Trust team name (CF_ACCESS_TEAM_DOMAIN). */
export const dashboardTeamDomain = publicDashboard?.teamDomain;
/** The docs site's URL, only from the stack with `platform:docs.enabled`. */
export const docsUrl = docs?.url;
/** Where Prefect clients reach the API: `http://localhost:4200/api` colocated, `https://<server>.fly.dev/api` standalone. */
export const prefectApiUrl = prefect.apiUrl;
/** PREFECT_API_AUTH_STRING for clients of a standalone server (secret); absent when colocated. */
export const prefectAuthString = prefect.authString ? pulumi.secret(prefect.authString) : undefined;
/** The Neon project id; branch stacks read it from the owner stack. */
export const neonProjectId = neon.projectId;
/** This stack's own branch: `main` in the owner stack, e.g. `staging` elsewhere; a pull-request preview's parent in staging. */
export const neonBranchId = neon.branchId;
/** When Neon deletes a pull-request preview's branch (Neon's `expires_at`); absent from every other stack. */
export const neonBranchExpiresAt = config.preview?.databaseExpiresAt;
/** The project's `main` branch, the parent of every other stack's branch. */
export const neonMainBranchId = neonSetup.mainBranchId ?? neon.branchId;
/** The project owner's Neon-managed role, e.g. `naluma_content_owner`. */
export const neonOwnerRoleName = neon.ownerRoleName;
/** The branch's direct host (migrations, Prefect). */
export const neonHost = neon.host;
/** The branch's PgBouncer host (the app). */
export const neonPoolerHost = neon.poolerHost;
/** DATABASE_URL: `pipeline` through the pooler (secret). */
export const databaseUrl = pulumi.secret(neonUrls.app);
/** DATABASE_URL_MIGRATIONS: `migrations` on the direct host (secret). */
export const migrationsDatabaseUrl = pulumi.secret(neonUrls.migrations);
/** PREFECT_API_DATABASE_CONNECTION_URL: `prefect_server` on the direct host (secret). */
export const prefectDatabaseUrl = pulumi.secret(neonUrls.prefect);
/** The GitHub Actions environment holding this stack's deploy secrets; absent from a pull-request preview. */
export const githubEnvironment = deployEnvironment?.environment;
