/**
 * The one typed schema of the `platform:` stack config. `loadConfig()` reads `new pulumi.Config("platform")`
 * when the program starts; `parseConfig()` validates everything at once, fills in the seeds' defaults and
 * throws one `ConfigError` listing every problem, each naming its key and how to fix it.
 *
 * Only what a person must decide or provide is config. What the platform makes itself (database passwords,
 * connection strings, Fly deploy tokens, the Access AUD tag, Cloudflare API tokens, the Prefect auth string,
 * the Access team domain, which the Zero Trust organization already has) is not.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  ConfigError,
  configFailures,
  explain,
  flyAppNameRule,
  flyRegions,
  namespaceKeys,
  patterns,
  readChecks,
  readEnv,
  readGuest,
  readSecrets as getSecrets,
  readSection,
  Reader,
} from "./config-kit";
import { parseDuration, type Failures } from "./dynamic-providers/core/check";
import { appNamePattern } from "./dynamic-providers/fly/app";
import { machineNamePattern, processGroupPattern } from "./dynamic-providers/fly/machine-check";
import type { Autostop, CpuKind, MachineCheck, MachineGuest, Schedule } from "./dynamic-providers/fly/machine-types";
import { isAllowedIpEntry, neonRegions, projectDefaults } from "./dynamic-providers/neon/project";
import { computeUnitsRule, isComputeUnits, isSuspendTimeout, suspendTimeoutRule } from "./dynamic-providers/neon/endpoint";
import { branchNameProblem, maxBranchLifetimeDays } from "./dynamic-providers/neon/check";
import { identifierProblem, roleNameProblem } from "./dynamic-providers/postgres/names";
import {
  databaseParents,
  previewExpiry,
  pullRequestAppName,
  pullRequestBranchName,
  pullRequestDashboardHostname,
  pullRequestNumberProblem,
  type DatabaseParent,
} from "./preview-environment";

export type { Autostop, CpuKind, MachineCheck, MachineGuest, Schedule };
export { ConfigError };

export const environments = ["production", "staging", "preview"] as const;
export type EnvironmentName = (typeof environments)[number];
export const prefectModes = ["colocated", "standalone"] as const;
export type PrefectMode = (typeof prefectModes)[number];
export const identityProviders = ["google", "github"] as const;
export type IdentityProvider = (typeof identityProviders)[number];

/** Environment variables the user's secrets become on the Fly apps (seed 000 §1 and §3). */
export const secretEnvNames = [
  "ANTHROPIC_API_KEY",
  "OPENAI_API_KEY",
  "WP_APP_PASSWORD",
  "NCBI_API_KEY",
  "BRAVE_API_KEY",
  "R2_ACCESS_KEY_ID",
  "R2_SECRET_ACCESS_KEY",
  "SLACK_WEBHOOK_URL",
  "LANGFUSE_PUBLIC_KEY",
  "LANGFUSE_SECRET_KEY",
  "SENTRY_DSN",
] as const;
export type SecretEnvName = (typeof secretEnvNames)[number];

/** Secrets the platform makes and sets itself; a plain `env` entry of the same name would shadow them. */
const platformSecretEnvNames = ["DATABASE_URL", "DATABASE_URL_MIGRATIONS", "PREFECT_API_DATABASE_CONNECTION_URL", "CF_ACCESS_AUD"];

/** Secrets only the user can provide, `pulumi config set --secret platform:<key> …`. */
export interface UserSecrets {
  anthropicApiKey: pulumi.Output<string>;
  openaiApiKey: pulumi.Output<string>;
  wpAppPassword: pulumi.Output<string>;
  ncbiApiKey: pulumi.Output<string>;
  braveApiKey: pulumi.Output<string>;
  r2AccessKeyId: pulumi.Output<string>;
  r2SecretAccessKey: pulumi.Output<string>;
  slackWebhookUrl?: pulumi.Output<string>;
  langfusePublicKey?: pulumi.Output<string>;
  langfuseSecretKey?: pulumi.Output<string>;
  sentryDsn?: pulumi.Output<string>;
  /** Cloudflare Access Google identity provider; required while `google` is in `dashboard.access.identityProviders`. */
  googleOauthClientSecret?: pulumi.Output<string>;
  /** Cloudflare Access GitHub identity provider; required while `github` is in `dashboard.access.identityProviders`. */
  githubOauthClientSecret?: pulumi.Output<string>;
}
export type UserSecretKey = keyof UserSecrets;

/**
 * When a secret is required. `always`: the pipeline calls it on every run (LLMs, WordPress, R2, research
 * sources), so a stack without it deploys a broken app. `optional`: notifications and telemetry, whose absence
 * only loses Slack messages, traces or error reports. The others follow a setting.
 */
type SecretNeed = "always" | "optional" | "langfuse pair" | IdentityProvider;

interface SecretSpec {
  key: UserSecretKey;
  env?: SecretEnvName;
  what: string;
  need: SecretNeed;
}

export const userSecretSpecs: readonly SecretSpec[] = [
  { key: "anthropicApiKey", env: "ANTHROPIC_API_KEY", what: "the Anthropic API key (sk-ant-…)", need: "always" },
  { key: "openaiApiKey", env: "OPENAI_API_KEY", what: "the OpenAI API key (sk-…)", need: "always" },
  { key: "wpAppPassword", env: "WP_APP_PASSWORD", what: "the WordPress application password", need: "always" },
  { key: "ncbiApiKey", env: "NCBI_API_KEY", what: "the NCBI E-utilities API key", need: "always" },
  { key: "braveApiKey", env: "BRAVE_API_KEY", what: "the Brave Search API key", need: "always" },
  { key: "r2AccessKeyId", env: "R2_ACCESS_KEY_ID", what: "the R2 access key id", need: "always" },
  { key: "r2SecretAccessKey", env: "R2_SECRET_ACCESS_KEY", what: "the R2 secret access key", need: "always" },
  { key: "slackWebhookUrl", env: "SLACK_WEBHOOK_URL", what: "the Slack incoming webhook URL", need: "optional" },
  { key: "langfusePublicKey", env: "LANGFUSE_PUBLIC_KEY", what: "the Langfuse public key (pk-lf-…)", need: "langfuse pair" },
  { key: "langfuseSecretKey", env: "LANGFUSE_SECRET_KEY", what: "the Langfuse secret key (sk-lf-…)", need: "langfuse pair" },
  { key: "sentryDsn", env: "SENTRY_DSN", what: "the Sentry DSN", need: "optional" },
  { key: "googleOauthClientSecret", what: "the Google OAuth client secret for Cloudflare Access", need: "google" },
  { key: "githubOauthClientSecret", what: "the GitHub OAuth client secret for Cloudflare Access", need: "github" },
];

export interface EnvironmentConfig {
  /** `platform:environment`: `production`, `staging` or `preview` (seed 003); picks the defaults below. */
  name: EnvironmentName;
  /** `platform:productionStack`, e.g. `organization/platform/production`: whose Neon project a non-owning stack branches from. */
  productionStack?: string;
  /**
   * `platform:stagingStack`, e.g. `organization/platform/staging`: the stack whose Neon branch a pull-request
   * preview's database copies (`platform:preview.databaseParent` `staging`).
   */
  stagingStack?: string;
}

/**
 * `platform:preview`: a pull request's preview environment (stack `pr-<number>`). The preview-environment
 * workflow sets `prNumber` and `branch`; the `preview` template stack may set the rest.
 */
export interface PullRequestConfig {
  /** `preview.prNumber`: names the apps (`naluma-content-pr-<n>`), the Neon branch (`preview/pr-<n>`) and the dashboard host. */
  prNumber: number;
  /** `preview.branch`: the pull request's head branch, recorded in the stack's outputs; names do not use it. */
  branch: string;
  /** `preview.databaseParent`: the Neon branch the database copies. @default `staging` (the staging stack's branch) */
  databaseParent: DatabaseParent;
  /** `preview.databaseLifetimeDays`: days the database branch outlives the last deploy, 1-30. @default `7` */
  databaseLifetimeDays: number;
  /** The Neon branch's `expires_at`: midnight UTC of the day the config was read, plus `databaseLifetimeDays` (previewExpiry). */
  databaseExpiresAt: string;
}

export interface FlyConfig {
  /** Fly organization slug. @default `personal` */
  org: string;
  /** Primary region of every app. @default `fra` (seed 000 §1 "Select region: fra") */
  region: string;
  /** Expiry of the per-app deploy tokens handed to GitHub Actions. @default `999999h` (seed 000 `fly tokens create deploy -x 999999h`) */
  deployTokenExpiry: string;
  /**
   * flyctl's smoke checks (`fly deploy --smoke-checks`): each started machine is watched for 10 s and the deploy fails
   * if it exits. Off in the `local` stack, whose machines are the emulator's and never crash on their own.
   * @default `true`
   */
  smokeChecks: boolean;
}

export interface VolumeConfig {
  /** Fly volume name (lowercase letters, digits, underscores). */
  name: string;
  /** Absolute mount path (seed 002 `[[mounts]] destination`). */
  path: string;
  /** @default `1` */
  sizeGb: number;
}

/** What every Fly app section has. */
export interface FlyAppConfig {
  /** Physical Fly app name (globally unique, becomes `<appName>.fly.dev`). */
  appName: string;
  /** Image reference. @default `registry.fly.io/<appName>:latest` (CI pushes it with `fly deploy --image-label latest`) */
  image: string;
  /** @default `platform:fly.region` */
  region: string;
  guest: MachineGuest;
  /** Plain environment variables: the defaults from the seeds merged with the section's `env`. */
  env: Record<string, string>;
  /** Which of the user's secrets (by environment variable) the app receives; unset optional ones are skipped. */
  secrets: SecretEnvName[];
  /** At most one volume per machine (seed 002 `[[mounts]]`). */
  volume?: VolumeConfig;
}

/** fly.toml `[http_service]`. */
export interface HttpServiceConfig {
  internalPort: number;
  autostop: Autostop;
  autostart: boolean;
  minMachinesRunning: number;
  forceHttps: boolean;
  checks: MachineCheck[];
}

export interface ProcessConfig {
  /** Replaces the image's CMD (fly.toml `[processes]`); unset runs the image's CMD. */
  command?: string[];
}

/** Seed 001's `fly machine run $IMAGE --schedule …`: same image as the app, re-pointed on every deploy. */
export interface CronMachineConfig {
  name: string;
  schedule: Schedule;
  command: string[];
  entrypoint?: string[];
  /** @default shared-cpu-1x, 512 MB (seed 001) */
  guest: MachineGuest;
  /** @default the app's region */
  region: string;
}

export interface WorkerConfig extends FlyAppConfig {
  /** Process groups. @default `{ app: {} }` (seed 000: the image runs scripts/start-pipeline.sh) */
  processes: Record<string, ProcessConfig>;
  /** @default `[]` */
  cronMachines: CronMachineConfig[];
  /** Runs once per deploy before machines update (seed 001 `release_command`). @default none: seed 000 migrates in start-pipeline.sh */
  releaseCommand?: string[];
}

export interface AccessConfig {
  /** @default `168h` (seed 000 §3 "Session duration: 7 days") */
  sessionDuration: string;
  /** The Access policy's allow list (seed 000 §3 "Include: specific email addresses"). Required. */
  allowedEmails: string[];
  /** @default `["google", "github"]` */
  identityProviders: IdentityProvider[];
  /** Google OAuth client id; required while `google` is a provider. */
  googleClientId?: string;
  /** GitHub OAuth client id; required while `github` is a provider. */
  githubClientId?: string;
}

/**
 * `hostname` and `access` are both set (a public dashboard behind Cloudflare Access) or both unset: a
 * pull-request preview without `dashboard.access`, whose dashboard has no public address (Flycast only).
 */
export interface DashboardConfig extends FlyAppConfig, HttpServiceConfig {
  /**
   * @default `dashboard.<cloudflare.domain>` in production, `dashboard-<environment>.<domain>` in staging,
   * `dashboard-pr-<n>.<domain>` in a pull-request preview with `dashboard.access`
   */
  hostname?: string;
  access?: AccessConfig;
}

export interface PrefectServerConfig extends FlyAppConfig, HttpServiceConfig {}

export type PrefectConfig =
  | { mode: "colocated"; /** @default `http://localhost:4200/api` */ apiUrl: string }
  | { mode: "standalone"; /** @default `https://<server.appName>.fly.dev/api` */ apiUrl: string; server: PrefectServerConfig };

export interface NeonComputeConfig {
  /** @default `0.25` */
  minCu: number;
  /** @default `2` */
  maxCu: number;
  /** 0 = Neon's default (300 s), -1 = never. @default `0` */
  suspendTimeoutSeconds: number;
}

export interface NeonConfig {
  /** True: this stack creates the project and its default branch; false: it branches from `environment.productionStack`'s project. */
  ownsProject: boolean;
  /** Project settings; only the owning stack applies them. */
  projectName: string;
  regionId: string;
  pgVersion: number;
  historyRetentionSeconds: number;
  allowedIps: string[];
  /**
   * Seed 000 §4 "Add Fly.io egress IPs": the worker and the dashboard each get an `egress_v4` address in their
   * region, and those join `allowedIps` in the project's allowlist. Owning stack only. @default `false`
   */
  allowFlyEgress: boolean;
  protectedBranchesOnly: boolean;
  orgId?: string;
  /** The stack's branch: the project's default branch (`main`) when it owns the project. */
  branchName: string;
  databases: { app: string; prefect: string };
  roles: { app: string; migrations: string };
  compute: NeonComputeConfig;
  /** Take over a project/branch made by hand (pulumi import does not work for dynamic resources). @default `false` */
  adopt: boolean;
  /**
   * Branch stacks only: a new value (e.g. today's date) resets the branch to its parent's latest state, seed
   * 000's "Staging Reset" (today a console delete-and-recreate); the branch id and URLs stay the same.
   */
  resetFromParent?: string;
}

export interface CloudflareConfig {
  /**
   * `cloudflare.enabled`: false makes nothing in Cloudflare (a stack without an account, e.g. `local`): the dashboard
   * is private (Flycast only, no hostname or Access) and the docs site is off. @default `true`
   */
  enabled: boolean;
  /** 32 hex digits; user-provided. */
  accountId: string;
  /** The zone of `domain`; user-provided. */
  zoneId: string;
  /** @default `naluma.space` */
  domain: string;
}

export interface GitHubConfig {
  /** `owner/name`; user-provided. */
  repository: string;
  owner: string;
  name: string;
  /** GitHub Actions environment the deploy secrets go to. @default the stack's environment name */
  environment: string;
  /** @default `main` */
  branch: string;
}

export interface DocsConfig {
  /** @default true in production only: one Pages project serves every branch */
  enabled: boolean;
  /** @default `naluma-content-automation` */
  projectName: string;
  /** @default `main` */
  productionBranch: string;
}

export interface WordPressConfig {
  /** WP_BASE_URL; user-provided. */
  baseUrl: string;
  /** WP_USERNAME. @default `content-pipeline` */
  username: string;
}

export interface R2Config {
  /** R2_BUCKET_NAME. @default `naluma-wordpress` */
  bucketName: string;
  /** R2_ACCOUNT_ID: the Cloudflare account id, not a credential. @default `platform:cloudflare.accountId` */
  accountId: string;
}

export interface PlatformConfig {
  environment: EnvironmentConfig;
  /**
   * `platform:protect`: Pulumi's `protect` on every resource whose loss loses data or opens access (the Neon project,
   * its main branch, which Neon protects too, every database and its lockdown, the IP allowlist, the Fly volumes, the
   * dashboard's Access application and policy), so `pulumi destroy` and a replacing change fail instead of deleting
   * them. @default `true` in production, `false` elsewhere
   */
  protect: boolean;
  fly: FlyConfig;
  worker: WorkerConfig;
  dashboard: DashboardConfig;
  prefect: PrefectConfig;
  neon: NeonConfig;
  cloudflare: CloudflareConfig;
  /** Unset in a pull-request preview: it makes no GitHub environment or deploy secrets. */
  github?: GitHubConfig;
  docs: DocsConfig;
  wordpress: WordPressConfig;
  r2: R2Config;
  secrets: UserSecrets;
  /** Set in a pull-request preview (`platform:preview.prNumber`), unset in every other stack. */
  preview?: PullRequestConfig;
}

export interface RawConfig {
  /**
   * Plain keys without the `platform:` prefix, as `pulumi.Config` gives them: strings for `environment` and
   * `productionStack`, objects for the sections. Any other key present is reported as unknown.
   */
  readonly values: Readonly<Record<string, unknown>>;
  /** Secret keys that are set: plain strings (tests) or `config.getSecret()` outputs. */
  readonly secrets: Readonly<Partial<Record<UserSecretKey, string | pulumi.Output<string>>>>;
}

/** Per-environment defaults: the only place staging and production differ when their stack files say nothing. */
interface EnvironmentDefaults {
  /** Appended to the seeds' app names; undefined: the stack must name its apps (previews share nothing). */
  appSuffix?: string;
  branchName?: string;
  ownsProject: boolean;
  protect: boolean;
  dashboardMinMachines: number;
  docsEnabled: boolean;
  /** A standalone Prefect server's autostop and standing machines: previews stop when idle and keep none. */
  prefectAutostop: Autostop;
  prefectMinMachines: number;
}

const environmentDefaults: Record<EnvironmentName, EnvironmentDefaults> = {
  production: {
    appSuffix: "",
    branchName: projectDefaults.defaultBranchName,
    ownsProject: true,
    protect: true,
    dashboardMinMachines: 1,
    docsEnabled: true,
    prefectAutostop: "off",
    prefectMinMachines: 1,
  },
  staging: { appSuffix: "-staging", branchName: "staging", ownsProject: false, protect: false, dashboardMinMachines: 0, docsEnabled: false, prefectAutostop: "off", prefectMinMachines: 1 },
  preview: { ownsProject: false, protect: false, dashboardMinMachines: 0, docsEnabled: false, prefectAutostop: "stop", prefectMinMachines: 0 },
};

/**
 * How a stack names its apps: production and staging add their suffix to the seed's names, a pull-request
 * preview derives them from its number (and refuses names set by hand, which every pull request would share),
 * a hand-made preview must name them.
 */
interface Naming {
  appName(base: string): string | undefined;
  /** Reports `path` when a pull-request preview sets what its number decides. */
  refuseInPullRequest(path: string, value: unknown, derived: string | undefined): void;
}

function naming(read: Reader, suffix: string | undefined, pullRequest: PullRequestConfig | undefined): Naming {
  return {
    appName: (base) => (pullRequest ? pullRequestAppName(base, validNumber(pullRequest)) : suffix === undefined ? undefined : `${base}${suffix}`),
    refuseInPullRequest(path, value, derived) {
      if (!pullRequest || value === undefined || value === null) return;
      const what = derived === undefined ? "" : ` (\`${derived}\`)`;
      read.problems.add(path, `is derived from platform:preview.prNumber in a pull-request preview${what}, so each pull request gets its own; remove it`);
    },
  };
}

/** A stand-in while preview.prNumber is wrong: the ConfigError is thrown before anything uses the names. */
function validNumber(pullRequest: PullRequestConfig): number {
  return pullRequestNumberProblem(pullRequest.prNumber) === undefined ? pullRequest.prNumber : 1;
}

/** Pulumi's `config set --path` stores a branch named `123` or `true` as a number or a boolean; it is text either way. */
function branchText(read: Reader, value: unknown): string | undefined {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return read.text("preview.branch", value);
}

/** `platform:preview`, read in a preview stack only; undefined when the stack is no pull request's. */
function readPullRequest(read: Reader, value: unknown, environment: EnvironmentName, now: Date): PullRequestConfig | undefined {
  if (value === undefined || value === null) return undefined;
  const raw = read.object("preview", value, ["prNumber", "branch", "databaseParent", "databaseLifetimeDays"]);
  if (environment !== "preview") {
    read.problems.add("preview", "is only read in a preview stack (platform:environment `preview`); remove it");
    return undefined;
  }
  const workflowSets = "the preview-environment workflow sets it on each `pr-<number>` stack";
  if (raw.prNumber === undefined || raw.prNumber === null) read.problems.add("preview.prNumber", `is required: the pull request's number (${workflowSets})`);
  const prNumber = read.number("preview.prNumber", raw.prNumber, 0, { min: 1 });
  const branch = branchText(read, raw.branch);
  if (branch === undefined || branch === "") read.problems.add("preview.branch", `is required: the pull request's head branch (${workflowSets})`);
  const databaseLifetimeDays = read.number("preview.databaseLifetimeDays", raw.databaseLifetimeDays, 7, { min: 1, max: maxBranchLifetimeDays });
  return {
    prNumber,
    branch: branch ?? "",
    databaseParent: read.oneOf("preview.databaseParent", raw.databaseParent, databaseParents, "staging"),
    databaseLifetimeDays,
    databaseExpiresAt: previewExpiry(now, databaseLifetimeDays),
  };
}

/**
 * Seed 000 §1 asks for shared-cpu-1x with 3072 MB, which Fly refuses (at most 2048 MB per shared cpu,
 * fly-go MAX_MEMORY_MB_PER_SHARED_CPU). We keep the memory the worker needs (Prefect server + worker + LLM
 * calls in one machine) and make it valid with a second shared cpu (shared-cpu-2x allows up to 4096 MB).
 */
const workerGuest: MachineGuest = { cpuKind: "shared", cpus: 2, memoryMb: 3072 };
const dashboardGuest: MachineGuest = { cpuKind: "shared", cpus: 1, memoryMb: 512 };
/**
 * Seed 004's `[[vm]]` is shared-cpu-1x with 256 MB, sized for Prefect 2; a Prefect 3 server is OOM-killed at
 * 256 MB, so the default keeps the one shared cpu and gives it 512 MB.
 */
const prefectServerGuest: MachineGuest = { cpuKind: "shared", cpus: 1, memoryMb: 512 };
const cronGuest: MachineGuest = { cpuKind: "shared", cpus: 1, memoryMb: 512 };

const workerSecrets: SecretEnvName[] = [...secretEnvNames];
/** Seed 000 §3's `fly secrets set -a naluma-dashboard` list (the user-provided part). */
const dashboardSecrets: SecretEnvName[] = ["ANTHROPIC_API_KEY", "WP_APP_PASSWORD", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"];

/** Seed 004's `[[http_service.checks]]`. */
const prefectHealthCheck: MachineCheck = { type: "http", method: "GET", path: "/api/health", interval: "30s", timeout: "5s", gracePeriod: "60s" };
/** Streamlit's own health endpoint; the grace period covers its start-up. */
const dashboardHealthCheck: MachineCheck = { type: "http", method: "GET", path: "/_stcore/health", interval: "30s", timeout: "5s", gracePeriod: "30s" };

const sectionKeys = ["fly", "worker", "dashboard", "prefect", "neon", "cloudflare", "github", "docs", "wordpress", "r2", "preview"] as const;
const textKeys = ["environment", "productionStack", "stagingStack"] as const;
const flagKeys = ["protect"] as const;
const userSecretKeys: readonly string[] = userSecretSpecs.map((spec) => spec.key);

function readVolume(read: Reader, owner: string, value: unknown): VolumeConfig | undefined {
  if (value === undefined || value === null) return undefined;
  const raw = read.object(`${owner}.volume`, value, ["name", "path", "sizeGb"]);
  const volume = {
    name: read.text(`${owner}.volume.name`, raw.name, ""),
    path: read.text(`${owner}.volume.path`, raw.path, ""),
    sizeGb: read.number(`${owner}.volume.sizeGb`, raw.sizeGb, 1, { min: 1, max: 500 }),
  };
  read.match(`${owner}.volume.name`, volume.name, patterns.volumeName, "1-30 lowercase letters, digits or underscores");
  read.match(`${owner}.volume.path`, volume.path, patterns.absolutePath, "an absolute path such as `/data`");
  return volume;
}

const reservedEnv = {
  names: [...secretEnvNames, ...platformSecretEnvNames],
  rule: "is a secret the platform sets; remove it from env (user secrets go in with `pulumi config set --secret`)",
};

function readSecretNames(read: Reader, path: string, value: unknown, fallback: SecretEnvName[]): SecretEnvName[] {
  const names = read.textList(path, value, fallback);
  names.forEach((name, index) => read.problems.oneOf(`${path}[${index}]`, name, secretEnvNames));
  return names as SecretEnvName[];
}

const appFields = ["appName", "image", "region", "guest", "env", "secrets", "volume"];
const serviceFields = ["internalPort", "autostop", "autostart", "minMachinesRunning", "forceHttps", "checks"];

interface AppDefaults {
  appName?: string;
  /** @default `registry.fly.io/<appName>:latest` */
  image?: string;
  region: string;
  guest: MachineGuest;
  env: Record<string, string>;
  secrets: SecretEnvName[];
}

function readApp(read: Reader, path: string, raw: Record<string, unknown>, defaults: AppDefaults, environment: EnvironmentName): FlyAppConfig {
  const appName = read.text(`${path}.appName`, raw.appName, defaults.appName);
  const rule =
    defaults.appName === undefined
      ? `required for a ${environment} stack, which shares nothing with the others (e.g. \`<slug>-naluma-content\`); 1-63 lowercase letters, digits or dashes`
      : flyAppNameRule;
  read.match(`${path}.appName`, appName, appNamePattern, rule);
  const image = read.text(`${path}.image`, raw.image, defaults.image ?? `registry.fly.io/${appName ?? ""}:latest`);
  read.match(`${path}.image`, image, patterns.image, "a container image reference such as `registry.fly.io/naluma-content:latest`");
  const region = read.text(`${path}.region`, raw.region, defaults.region);
  // A region inherited from platform:fly.region is checked there, once.
  if (raw.region !== undefined) read.problems.oneOf(`${path}.region`, region, flyRegions);
  const app: FlyAppConfig = {
    appName: appName ?? "",
    image,
    region,
    guest: readGuest(read, `${path}.guest`, raw.guest, defaults.guest),
    env: readEnv(read, `${path}.env`, raw.env, defaults.env, reservedEnv),
    secrets: readSecretNames(read, `${path}.secrets`, raw.secrets, defaults.secrets),
  };
  const volume = readVolume(read, path, raw.volume);
  if (volume) app.volume = volume;
  return app;
}

/** fly.toml's auto_stop_machines also takes a boolean (seed 004 writes `false`): true is "stop", false is "off". */
function autostopOf(value: unknown): unknown {
  if (value === true || value === "true") return "stop";
  if (value === false || value === "false") return "off";
  return value;
}

function readService(read: Reader, path: string, raw: Record<string, unknown>, defaults: HttpServiceConfig): HttpServiceConfig {
  return {
    internalPort: read.number(`${path}.internalPort`, raw.internalPort, defaults.internalPort, { min: 1, max: 65535 }),
    autostop: read.oneOf<Autostop>(`${path}.autostop`, autostopOf(raw.autostop), ["off", "stop", "suspend"], defaults.autostop),
    autostart: read.flag(`${path}.autostart`, raw.autostart, defaults.autostart),
    minMachinesRunning: read.number(`${path}.minMachinesRunning`, raw.minMachinesRunning, defaults.minMachinesRunning, { min: 0 }),
    forceHttps: read.flag(`${path}.forceHttps`, raw.forceHttps, defaults.forceHttps),
    checks: readChecks(read, `${path}.checks`, raw.checks, defaults.checks),
  };
}

function readProcesses(read: Reader, value: unknown): Record<string, ProcessConfig> {
  if (value === undefined || value === null) return { app: {} };
  const raw = read.object("worker.processes", value);
  const processes: Record<string, ProcessConfig> = {};
  for (const [name, item] of Object.entries(raw)) {
    const at = `worker.processes.${name}`;
    if (!processGroupPattern.test(name)) read.problems.add(at, "must be named with lowercase letters, digits, `_` or `-` (a Fly process group)");
    const fields = read.object(at, item, ["command"]);
    const command = read.command(`${at}.command`, fields.command);
    processes[name] = command ? { command } : {};
  }
  if (Object.keys(processes).length === 0) read.problems.add("worker.processes", "must name at least one process group, e.g. `app`");
  return processes;
}

function readCronMachines(read: Reader, value: unknown, region: string): CronMachineConfig[] {
  return read.list("worker.cronMachines", value).map((item, index) => {
    const at = `worker.cronMachines[${index}]`;
    const raw = read.object(at, item, ["name", "schedule", "command", "entrypoint", "guest", "region"]);
    const name = read.text(`${at}.name`, raw.name, "");
    read.match(`${at}.name`, name, machineNamePattern, "a machine name (lowercase letters, digits, dashes), e.g. `news-ingestion-cron`");
    const schedule = read.text(`${at}.schedule`, raw.schedule);
    read.problems.oneOf(`${at}.schedule`, schedule, ["hourly", "daily", "weekly", "monthly"], true);
    const command = read.command(`${at}.command`, raw.command) ?? [];
    if (command.length === 0) read.problems.add(`${at}.command`, "is required (the arguments the machine runs, e.g. `[-m, app.cli.cron_runner]`)");
    const cron: CronMachineConfig = {
      name,
      schedule: (schedule ?? "daily") as Schedule,
      command,
      guest: readGuest(read, `${at}.guest`, raw.guest, cronGuest),
      region: read.text(`${at}.region`, raw.region, region),
    };
    if (raw.region !== undefined) read.problems.oneOf(`${at}.region`, cron.region, flyRegions);
    const entrypoint = read.command(`${at}.entrypoint`, raw.entrypoint);
    if (entrypoint) cron.entrypoint = entrypoint;
    return cron;
  });
}

function readNeon(read: Reader, value: unknown, defaults: EnvironmentDefaults, environment: EnvironmentName, pullRequest: PullRequestConfig | undefined): NeonConfig {
  const raw = read.object("neon", value, [
    "ownsProject", "projectName", "regionId", "pgVersion", "historyRetentionSeconds", "allowedIps", "allowFlyEgress", "protectedBranchesOnly",
    "orgId", "branchName", "protected", "databases", "roles", "compute", "adopt", "resetFromParent",
  ]);
  const ownsProject = read.flag("neon.ownsProject", raw.ownsProject, defaults.ownsProject);
  const pullRequestBranch = pullRequest ? pullRequestBranchName(validNumber(pullRequest)) : undefined;
  if (pullRequest) {
    if (raw.branchName !== undefined && raw.branchName !== null) {
      read.problems.add("neon.branchName", `is derived from platform:preview.prNumber in a pull-request preview (\`${pullRequestBranch}\`), so each pull request gets its own; remove it`);
    }
    if (ownsProject) read.problems.add("neon.ownsProject", "must be false in a pull-request preview: its database is a branch of the project", true);
  }
  const branchName = read.text("neon.branchName", raw.branchName, ownsProject ? projectDefaults.defaultBranchName : (pullRequestBranch ?? defaults.branchName));
  // The neon:Branch provider's rule first (its message names what is wrong), then this program's stricter one.
  const branchProblem = branchName ? branchNameProblem(branchName) : undefined;
  if (branchProblem) read.problems.add("neon.branchName", branchProblem, branchName);
  else read.match("neon.branchName", branchName, patterns.neonBranchName, ownsProject ? "a Neon branch name" : `a Neon branch name (required for a ${environment} stack, e.g. \`preview-<slug>\`)`);
  if (!ownsProject && branchName === projectDefaults.defaultBranchName) {
    read.problems.add("neon.branchName", `must not be \`${branchName}\`, the production stack's branch, when platform:neon.ownsProject is false`, branchName);
  }
  const databasesRaw = read.object("neon.databases", raw.databases, ["app", "prefect"]);
  const rolesRaw = read.object("neon.roles", raw.roles, ["app", "migrations"]);
  const computeRaw = read.object("neon.compute", raw.compute, ["minCu", "maxCu", "suspendTimeoutSeconds"]);
  const neon: NeonConfig = {
    ownsProject,
    projectName: read.text("neon.projectName", raw.projectName, "naluma_content"),
    regionId: read.oneOf("neon.regionId", raw.regionId, neonRegions, "aws-eu-central-1"),
    pgVersion: read.number("neon.pgVersion", raw.pgVersion, projectDefaults.pgVersion, { min: 14, max: 18 }),
    historyRetentionSeconds: read.number("neon.historyRetentionSeconds", raw.historyRetentionSeconds, projectDefaults.historyRetentionSeconds, { min: 0, max: 2_592_000 }),
    allowedIps: read.textList("neon.allowedIps", raw.allowedIps, []),
    allowFlyEgress: read.flag("neon.allowFlyEgress", raw.allowFlyEgress, false),
    protectedBranchesOnly: read.flag("neon.protectedBranchesOnly", raw.protectedBranchesOnly, false),
    branchName: branchName ?? "",
    databases: { app: read.text("neon.databases.app", databasesRaw.app, "naluma_content"), prefect: read.text("neon.databases.prefect", databasesRaw.prefect, "prefect_server") },
    roles: { app: read.text("neon.roles.app", rolesRaw.app, "pipeline"), migrations: read.text("neon.roles.migrations", rolesRaw.migrations, "migrations") },
    compute: {
      minCu: read.number("neon.compute.minCu", computeRaw.minCu, 0.25, { integer: false }),
      maxCu: read.number("neon.compute.maxCu", computeRaw.maxCu, 2, { integer: false }),
      suspendTimeoutSeconds: read.number("neon.compute.suspendTimeoutSeconds", computeRaw.suspendTimeoutSeconds, 0),
    },
    adopt: read.flag("neon.adopt", raw.adopt, false),
  };
  const orgId = read.text("neon.orgId", raw.orgId);
  if (orgId !== undefined) neon.orgId = orgId;
  if (neon.allowFlyEgress && !ownsProject) {
    read.problems.add(
      "neon.allowFlyEgress",
      "only applies to the stack that owns the project (platform:neon.ownsProject true): the allowlist is project-wide, so list a branch stack's addresses in the owning stack's platform:neon.allowedIps",
      true,
    );
  }
  if (raw.protected !== undefined) {
    read.unknown("neon.protected", "was replaced by platform:protect, which protects every resource whose loss loses data or opens access (Neon's included); set that instead");
  }
  const resetFromParent = read.text("neon.resetFromParent", raw.resetFromParent);
  if (resetFromParent !== undefined) {
    if (ownsProject) read.problems.add("neon.resetFromParent", "only applies to a branch stack (platform:neon.ownsProject false): the project's own branch has no parent", resetFromParent);
    else neon.resetFromParent = resetFromParent;
  }

  read.match("neon.projectName", neon.projectName, patterns.neonProjectName, "1-64 characters, not starting or ending with a space");
  // The neon:IpAllowList provider's own rule: its check() cannot see these at preview, inside a list of egress IPs not known yet.
  neon.allowedIps.forEach((ip, index) => {
    if (!isAllowedIpEntry(ip)) read.problems.add(`neon.allowedIps[${index}]`, "must be an IP address, a CIDR (`10.0.0.0/8`) or a range (`a-b`) of one address family", ip);
  });
  // The providers' rules first (reserved role names such as `public` match the pattern), then this program's stricter one.
  const names: [string, string, (name: string) => string | undefined][] = [
    ["neon.databases.app", neon.databases.app, identifierProblem],
    ["neon.databases.prefect", neon.databases.prefect, identifierProblem],
    ["neon.roles.app", neon.roles.app, roleNameProblem],
    ["neon.roles.migrations", neon.roles.migrations, roleNameProblem],
  ];
  for (const [path, name, rule] of names) {
    const problem = rule(name);
    if (problem) read.problems.add(path, problem, name);
    else read.match(path, name, patterns.postgresName, "a PostgreSQL name: lowercase letters, digits and underscores, not starting with a digit, at most 63");
  }
  if (neon.databases.app === neon.databases.prefect) read.problems.add("neon.databases.prefect", "must differ from neon.databases.app (Prefect keeps its state in its own database)", neon.databases.prefect);
  if (neon.roles.app === neon.roles.migrations) read.problems.add("neon.roles.migrations", "must differ from neon.roles.app (the app role has no DDL)", neon.roles.migrations);
  // The same rules as the neon:Endpoint provider, so a config that parses also passes its check().
  const { minCu, maxCu, suspendTimeoutSeconds } = neon.compute;
  for (const [field, cu] of [["minCu", minCu], ["maxCu", maxCu]] as const) {
    if (!isComputeUnits(cu)) read.problems.add(`neon.compute.${field}`, computeUnitsRule, cu);
  }
  if (maxCu < minCu) read.problems.add("neon.compute.maxCu", `must be at least neon.compute.minCu (${minCu})`, maxCu);
  else if (maxCu - minCu > 8) read.problems.add("neon.compute.maxCu", `must be at most 8 compute units above neon.compute.minCu (${minCu})`, maxCu);
  if (!isSuspendTimeout(suspendTimeoutSeconds)) read.problems.add("neon.compute.suspendTimeoutSeconds", suspendTimeoutRule, suspendTimeoutSeconds);
  return neon;
}

function readPrefect(read: Reader, value: unknown, fly: FlyConfig, names: Naming, defaults: EnvironmentDefaults, environment: EnvironmentName): PrefectConfig {
  const raw = read.object("prefect", value, ["mode", "apiUrl", "server"]);
  const mode = read.oneOf("prefect.mode", raw.mode, prefectModes, "colocated");
  if (mode === "colocated") {
    if (raw.server !== undefined && raw.server !== null) {
      read.problems.add("prefect.server", "is only read when platform:prefect.mode is `standalone`; remove it or set the mode");
    }
    const apiUrl = read.text("prefect.apiUrl", raw.apiUrl, "http://localhost:4200/api");
    read.match("prefect.apiUrl", apiUrl, patterns.httpUrl, "an http(s) URL ending in `/api`");
    return { mode, apiUrl };
  }
  const serverRaw = read.object("prefect.server", raw.server, [...appFields, ...serviceFields]);
  names.refuseInPullRequest("prefect.server.appName", serverRaw.appName, names.appName("naluma-prefect"));
  const service = readService(read, "prefect.server", serverRaw, {
    internalPort: 4200,
    autostop: defaults.prefectAutostop,
    autostart: true,
    minMachinesRunning: defaults.prefectMinMachines,
    forceHttps: true,
    checks: [prefectHealthCheck],
  });
  const app = readApp(
    read,
    "prefect.server",
    serverRaw,
    {
      appName: names.appName("naluma-prefect"),
      // Prefect 3, to match the worker's client; seed 004's `prefecthq/prefect:2-python3.11` is Prefect 2.
      image: "prefecthq/prefect:3-python3.12",
      region: fly.region,
      guest: prefectServerGuest,
      env: { PREFECT_SERVER_API_HOST: "0.0.0.0", PREFECT_SERVER_API_PORT: String(service.internalPort) },
      secrets: [],
    },
    environment,
  );
  // The server keeps its state in PostgreSQL and gets its credentials from the platform, not from the user.
  if (serverRaw.volume !== undefined) read.problems.add("prefect.server.volume", "is not read: the Prefect server keeps its state in its PostgreSQL database");
  if (serverRaw.secrets !== undefined) read.problems.add("prefect.server.secrets", "is not read: the server's database URL and auth string are made by the platform");
  const apiUrl = read.text("prefect.apiUrl", raw.apiUrl, `https://${app.appName}.fly.dev/api`);
  read.match("prefect.apiUrl", apiUrl, patterns.httpUrl, "an http(s) URL ending in `/api`");
  return { mode, apiUrl, server: { ...app, ...service } };
}

/**
 * `github.enabled`: false makes nothing in GitHub (a stack without a repository, e.g. `local`): no Actions
 * environment, no deploy secrets and so no Fly deploy tokens. @default `true`
 */
function readGitHubEnabled(read: Reader, githubRaw: Record<string, unknown>): boolean {
  const enabled = read.flag("github.enabled", githubRaw.enabled, true);
  if (!enabled) {
    for (const key of ["repository", "environment", "branch"]) {
      if (githubRaw[key] !== undefined && githubRaw[key] !== null) read.problems.add(`github.${key}`, "is not read while platform:github.enabled is false; remove it");
    }
  }
  return enabled;
}

function readGitHub(read: Reader, githubRaw: Record<string, unknown>, environment: EnvironmentName): GitHubConfig {
  const repository = read.text("github.repository", githubRaw.repository, "");
  read.match("github.repository", repository, patterns.githubRepository, "a GitHub repository as `owner/name`, e.g. `naluma/content-pipeline`");
  const [owner = "", name = ""] = repository.split("/");
  const github: GitHubConfig = {
    repository,
    owner,
    name,
    environment: read.text("github.environment", githubRaw.environment, environment),
    branch: read.text("github.branch", githubRaw.branch, "main"),
  };
  read.match("github.environment", github.environment, /^[^\s/'"`][^'"`]{0,254}$/, "a GitHub Actions environment name such as `production`");
  read.match("github.branch", github.branch, patterns.gitBranch, "a branch name such as `main`");
  return github;
}

function readAccess(read: Reader, value: unknown): AccessConfig {
  const problems = read.problems;
  const accessRaw = read.object("dashboard.access", value, ["sessionDuration", "allowedEmails", "identityProviders", "googleClientId", "githubClientId"]);
  const access: AccessConfig = {
    sessionDuration: read.text("dashboard.access.sessionDuration", accessRaw.sessionDuration, "168h"),
    allowedEmails: read.textList("dashboard.access.allowedEmails", accessRaw.allowedEmails, []),
    identityProviders: read.textList("dashboard.access.identityProviders", accessRaw.identityProviders, [...identityProviders]) as IdentityProvider[],
  };
  const session = parseDuration(access.sessionDuration);
  if (session === undefined || session > 730 * 3_600_000) {
    problems.add("dashboard.access.sessionDuration", 'must be a duration up to one month (730h), such as "24h" or "168h"', access.sessionDuration);
  }
  if (access.allowedEmails.length === 0) problems.add("dashboard.access.allowedEmails", "is required: the email addresses the Access policy allows (a list)");
  access.allowedEmails.forEach((email, index) => read.match(`dashboard.access.allowedEmails[${index}]`, email, patterns.email, "an email address such as `admin@example.com`"));
  if (access.identityProviders.length === 0) problems.add("dashboard.access.identityProviders", `must name at least one of ${identityProviders.join(", ")}`);
  access.identityProviders.forEach((provider, index) => problems.oneOf(`dashboard.access.identityProviders[${index}]`, provider, identityProviders));
  for (const provider of identityProviders) {
    const field = provider === "google" ? "googleClientId" : "githubClientId";
    const clientId = read.text(`dashboard.access.${field}`, accessRaw[field]);
    if (access.identityProviders.includes(provider)) {
      read.match(`dashboard.access.${field}`, clientId, /^\S+$/, `the ${provider === "google" ? "Google" : "GitHub"} OAuth client id, needed while \`${provider}\` is an identity provider`);
    } else if (clientId !== undefined) {
      problems.add(`dashboard.access.${field}`, `is only read while \`${provider}\` is in dashboard.access.identityProviders; remove it or add the provider`);
    }
    if (clientId !== undefined) access[field] = clientId;
  }
  return access;
}

/**
 * Validates raw stack config and fills in the seeds' defaults; throws one ConfigError listing every problem.
 * `now` dates a pull-request preview's database expiry (previewExpiry).
 */
export function parseConfig(raw: RawConfig, now: Date = new Date()): PlatformConfig {
  const root = configFailures();
  const read = new Reader(root, "platform");
  const problems = read.problems;

  for (const key of Object.keys(raw.values)) {
    const known: readonly string[] = [...sectionKeys, ...textKeys, ...flagKeys];
    if (userSecretKeys.includes(key)) {
      problems.add(key, "is a secret and must be set with `--secret`, not in plain text");
    } else if (!known.includes(key)) {
      read.unknown(key, `is not a key this program reads (known: ${[...textKeys, ...flagKeys, ...sectionKeys, ...userSecretKeys].join(", ")})`);
    }
  }

  const environmentText = read.text("environment", raw.values.environment);
  problems.oneOf("environment", environmentText, environments, true);
  const environment: EnvironmentName = (environments as readonly unknown[]).includes(environmentText) ? (environmentText as EnvironmentName) : "staging";
  const defaults = environmentDefaults[environment];
  const protect = read.flag("protect", raw.values.protect, defaults.protect);
  const pullRequest = readPullRequest(read, raw.values.preview, environment, now);
  if (pullRequest && protect) {
    problems.add("protect", "must be false in a pull-request preview: the stack is destroyed when the pull request closes, and its Neon branch expires", true);
  }
  const names = naming(read, defaults.appSuffix, pullRequest);
  const cloudflareRaw = read.object("cloudflare", raw.values.cloudflare, ["enabled", "accountId", "zoneId", "domain"]);
  const cloudflareEnabled = read.flag("cloudflare.enabled", cloudflareRaw.enabled, true);
  // A pull-request preview's dashboard is private (Flycast, no public address) unless the stack gives it Access;
  // without Cloudflare (cloudflare.enabled false) every dashboard is.
  const dashboardAccess = typeof raw.values.dashboard === "object" && raw.values.dashboard !== null ? (raw.values.dashboard as Record<string, unknown>).access : undefined;
  const accessUnset = dashboardAccess === undefined || dashboardAccess === null;
  const privateDashboard = !cloudflareEnabled || (pullRequest !== undefined && accessUnset);
  if (!cloudflareEnabled && !accessUnset) {
    problems.add("dashboard.access", "is not read while platform:cloudflare.enabled is false: the dashboard is private (Flycast, reached with `fly proxy`); remove it");
  }

  const flyRaw = read.object("fly", raw.values.fly, ["org", "region", "deployTokenExpiry", "smokeChecks"]);
  const fly: FlyConfig = {
    org: read.text("fly.org", flyRaw.org, "personal"),
    region: read.text("fly.region", flyRaw.region, "fra"),
    deployTokenExpiry: read.text("fly.deployTokenExpiry", flyRaw.deployTokenExpiry, "999999h"),
    smokeChecks: read.flag("fly.smokeChecks", flyRaw.smokeChecks, true),
  };
  read.match("fly.org", fly.org, patterns.flyOrg, "a Fly organization slug such as `personal`");
  problems.oneOf("fly.region", fly.region, flyRegions);
  const expiry = parseDuration(fly.deployTokenExpiry);
  if (expiry === undefined || expiry <= 0) problems.add("fly.deployTokenExpiry", 'must be a positive duration such as "999999h" or "720h"', fly.deployTokenExpiry);

  const cloudflare: CloudflareConfig = {
    enabled: cloudflareEnabled,
    accountId: read.text("cloudflare.accountId", cloudflareRaw.accountId, ""),
    zoneId: read.text("cloudflare.zoneId", cloudflareRaw.zoneId, ""),
    domain: read.text("cloudflare.domain", cloudflareRaw.domain, "naluma.space"),
  };
  read.match("cloudflare.accountId", cloudflare.accountId, patterns.hex32, "the Cloudflare account id, 32 hex digits, shown on the dashboard's account Overview");
  // Only the dashboard's DNS records need the zone; a private preview dashboard has none.
  if (!privateDashboard || cloudflareRaw.zoneId !== undefined) {
    read.match("cloudflare.zoneId", cloudflare.zoneId, patterns.hex32, "the zone id of cloudflare.domain, 32 hex digits, shown on the domain's Overview");
  }
  read.match("cloudflare.domain", cloudflare.domain, patterns.domain, "a lowercase domain name such as `naluma.space`");

  const wordpressRaw = read.object("wordpress", raw.values.wordpress, ["baseUrl", "username"]);
  const wordpress: WordPressConfig = {
    baseUrl: read.text("wordpress.baseUrl", wordpressRaw.baseUrl, ""),
    username: read.text("wordpress.username", wordpressRaw.username, "content-pipeline"),
  };
  read.match("wordpress.baseUrl", wordpress.baseUrl, patterns.httpsUrl, "the WordPress site's https URL, WP_BASE_URL, e.g. `https://naluma.space`");
  read.match("wordpress.username", wordpress.username, /^\S+$/, "a WordPress user name without spaces");

  const r2Raw = read.object("r2", raw.values.r2, ["bucketName", "accountId"]);
  const r2: R2Config = {
    bucketName: read.text("r2.bucketName", r2Raw.bucketName, "naluma-wordpress"),
    accountId: read.text("r2.accountId", r2Raw.accountId, cloudflare.accountId),
  };
  read.match("r2.bucketName", r2.bucketName, patterns.r2Bucket, "an R2 bucket name: 3-63 lowercase letters, digits or dashes");
  if (r2Raw.accountId !== undefined) read.match("r2.accountId", r2.accountId, patterns.hex32, "a Cloudflare account id: 32 hex digits");

  const prefect = readPrefect(read, raw.values.prefect, fly, names, defaults, environment);

  const sharedEnv = {
    WP_BASE_URL: wordpress.baseUrl,
    WP_USERNAME: wordpress.username,
    R2_BUCKET_NAME: r2.bucketName,
    R2_ACCOUNT_ID: r2.accountId,
  };

  const workerRaw = read.object("worker", raw.values.worker, [...appFields, "processes", "cronMachines", "releaseCommand"]);
  names.refuseInPullRequest("worker.appName", workerRaw.appName, names.appName("naluma-content"));
  const workerApp = readApp(
    read,
    "worker",
    workerRaw,
    { appName: names.appName("naluma-content"), region: fly.region, guest: workerGuest, env: { ...sharedEnv, PREFECT_API_URL: prefect.apiUrl }, secrets: workerSecrets },
    environment,
  );
  const worker: WorkerConfig = {
    ...workerApp,
    processes: readProcesses(read, workerRaw.processes),
    cronMachines: readCronMachines(read, workerRaw.cronMachines, workerApp.region),
  };
  const releaseCommand = read.command("worker.releaseCommand", workerRaw.releaseCommand);
  if (releaseCommand) {
    if (releaseCommand.length === 0) problems.add("worker.releaseCommand", "must not be empty; remove it to run no release command");
    worker.releaseCommand = releaseCommand;
  }

  const dashboardRaw = read.object("dashboard", raw.values.dashboard, [...appFields, ...serviceFields, "hostname", "access"]);
  const access = privateDashboard ? undefined : readAccess(read, dashboardRaw.access);
  names.refuseInPullRequest("dashboard.appName", dashboardRaw.appName, names.appName("naluma-dashboard"));
  const dashboardApp = readApp(
    read,
    "dashboard",
    dashboardRaw,
    { appName: names.appName("naluma-dashboard"), region: fly.region, guest: dashboardGuest, env: sharedEnv, secrets: dashboardSecrets },
    environment,
  );
  const dashboardService = readService(read, "dashboard", dashboardRaw, {
    internalPort: 8501,
    autostop: "stop",
    autostart: true,
    minMachinesRunning: defaults.dashboardMinMachines,
    // Flycast speaks plain HTTP inside Fly's network: a redirect to https would lead `fly proxy` nowhere.
    forceHttps: !privateDashboard,
    checks: [dashboardHealthCheck],
  });
  const hostnameDefault = pullRequest
    ? pullRequestDashboardHostname(validNumber(pullRequest), cloudflare.domain)
    : defaults.appSuffix === undefined
      ? undefined
      : `dashboard${defaults.appSuffix}.${cloudflare.domain}`;
  if (privateDashboard && dashboardRaw.hostname !== undefined && dashboardRaw.hostname !== null) {
    const where = cloudflareEnabled ? "in a pull-request preview without platform:dashboard.access" : "while platform:cloudflare.enabled is false";
    problems.add("dashboard.hostname", `is not read ${where}: its dashboard is private (Flycast, reached with \`fly proxy\`); remove it`);
  } else {
    names.refuseInPullRequest("dashboard.hostname", dashboardRaw.hostname, hostnameDefault);
  }
  const hostname = privateDashboard ? undefined : read.text("dashboard.hostname", dashboardRaw.hostname, hostnameDefault);
  const domainValid = patterns.domain.test(cloudflare.domain);
  if (!privateDashboard && (dashboardRaw.hostname !== undefined || domainValid)) read.match("dashboard.hostname", hostname, patterns.domain, `a lowercase host name in cloudflare.domain (\`${cloudflare.domain}\`), e.g. \`dashboard.${cloudflare.domain}\``);
  if (domainValid && hostname !== undefined && patterns.domain.test(hostname) && !hostname.endsWith(`.${cloudflare.domain}`)) {
    // The dashboard is `<subdomain>.<domain>` (DashboardApp), so the apex is refused here rather than by index.ts.
    problems.add("dashboard.hostname", `must be in the zone cloudflare.domain (\`${cloudflare.domain}\`), which Cloudflare Access protects: a subdomain of it, not the apex`, hostname);
  }
  const dashboard: DashboardConfig = access === undefined ? { ...dashboardApp, ...dashboardService } : { ...dashboardApp, ...dashboardService, hostname: hostname ?? "", access };

  const neon = readNeon(read, raw.values.neon, defaults, environment, pullRequest);
  // The stack whose branch this one copies: staging's for a pull-request preview (by default), else production's main.
  const parentFromStaging = !neon.ownsProject && pullRequest?.databaseParent === "staging";
  // A pull-request preview may name both stacks, so that platform:preview.databaseParent alone picks the parent.
  const productionStack = read.text("productionStack", raw.values.productionStack);
  if (neon.ownsProject && productionStack !== undefined) {
    problems.add("productionStack", "must not be set while platform:neon.ownsProject is true (this stack owns the Neon project); remove it");
  } else if (!neon.ownsProject && !parentFromStaging) {
    read.match("productionStack", productionStack, patterns.stack, "the stack owning the Neon project this stack branches from, e.g. `organization/platform/production`, needed while platform:neon.ownsProject is false");
  } else if (productionStack !== undefined) {
    read.match("productionStack", productionStack, patterns.stack, "a stack name such as `organization/platform/production`");
  }
  const stagingStack = read.text("stagingStack", raw.values.stagingStack);
  if (parentFromStaging) {
    read.match("stagingStack", stagingStack, patterns.stack, "the staging stack whose Neon branch a pull-request preview's database copies, e.g. `organization/platform/staging`, needed while platform:preview.databaseParent is `staging`");
  } else if (pullRequest && stagingStack !== undefined) {
    read.match("stagingStack", stagingStack, patterns.stack, "a stack name such as `organization/platform/staging`");
  } else if (stagingStack !== undefined) {
    problems.add("stagingStack", "is only read by a pull-request preview (platform:preview.prNumber set); remove it");
  }

  const githubRaw = pullRequest ? {} : read.object("github", raw.values.github, ["enabled", "repository", "environment", "branch"]);
  const githubEnabled = pullRequest ? false : readGitHubEnabled(read, githubRaw);
  const github = githubEnabled ? readGitHub(read, githubRaw, environment) : undefined;
  if (pullRequest && raw.values.github !== undefined && raw.values.github !== null) {
    problems.add("github", "is not read in a pull-request preview: it makes no GitHub environment or deploy secrets (those are staging's and production's); remove it");
  }

  const docsRaw = read.object("docs", raw.values.docs, ["enabled", "projectName", "productionBranch"]);
  const docs: DocsConfig = {
    enabled: read.flag("docs.enabled", docsRaw.enabled, defaults.docsEnabled),
    projectName: read.text("docs.projectName", docsRaw.projectName, "naluma-content-automation"),
    productionBranch: read.text("docs.productionBranch", docsRaw.productionBranch, "main"),
  };
  read.match("docs.projectName", docs.projectName, patterns.pagesProject, "a Cloudflare Pages project name: 1-58 lowercase letters, digits or dashes");
  read.match("docs.productionBranch", docs.productionBranch, patterns.gitBranch, "a branch name such as `main`");
  if (pullRequest && docs.enabled) problems.add("docs.enabled", "must be false in a pull-request preview: one Pages project serves every branch, made by the stack that enables it", true);
  else if (docs.enabled && (!cloudflareEnabled || !githubEnabled)) {
    problems.add("docs.enabled", "must be false while platform:cloudflare.enabled or platform:github.enabled is false: the docs site is a Cloudflare Pages project deployed from GitHub", true);
  }

  const secrets = readSecrets(problems, raw.secrets, access?.identityProviders ?? []);

  if (root.list.length > 0) {
    const context = { unknownKeys: read.unknownKeys, secretKeys: userSecretKeys.map((key) => `platform:${key}`) };
    throw new ConfigError(root.list.map((problem) => explain(problem, context)));
  }
  const environmentConfig: EnvironmentConfig = { name: environment };
  if (productionStack !== undefined) environmentConfig.productionStack = productionStack;
  if (stagingStack !== undefined) environmentConfig.stagingStack = stagingStack;
  return {
    environment: environmentConfig,
    protect,
    fly,
    worker,
    dashboard,
    prefect,
    neon,
    cloudflare,
    github,
    docs,
    wordpress,
    r2,
    secrets,
    ...(pullRequest ? { preview: pullRequest } : {}),
  };
}

function readSecrets(problems: Failures, raw: RawConfig["secrets"], providers: readonly IdentityProvider[]): UserSecrets {
  const isSet = (key: UserSecretKey): boolean => {
    const value = raw[key];
    return value !== undefined && value !== "";
  };
  const langfuse = isSet("langfusePublicKey") || isSet("langfuseSecretKey");
  const found: Partial<Record<UserSecretKey, pulumi.Output<string>>> = {};
  for (const spec of userSecretSpecs) {
    const value = raw[spec.key];
    const required =
      spec.need === "always" || (spec.need === "langfuse pair" && langfuse) || ((spec.need === "google" || spec.need === "github") && providers.includes(spec.need));
    if (value === undefined || value === "") {
      if (required) {
        const why = spec.need === "langfuse pair" ? " (Langfuse needs both keys, or neither)" : spec.need === "always" ? "" : ` (while \`${spec.need}\` is an identity provider)`;
        problems.add(spec.key, `is required${why}: ${spec.what}${spec.env ? `, set on the apps as ${spec.env}` : ""}`);
      }
      continue;
    }
    found[spec.key] = pulumi.secret(value);
  }
  return found as UserSecrets;
}

/** The user's secrets an app receives, keyed by environment variable; optional ones that are unset are left out. */
export function secretEnv(secrets: UserSecrets, names: readonly SecretEnvName[]): Record<string, pulumi.Output<string>> {
  const env: Record<string, pulumi.Output<string>> = {};
  for (const spec of userSecretSpecs) {
    const value = secrets[spec.key];
    if (spec.env !== undefined && names.includes(spec.env) && value !== undefined) env[spec.env] = value;
  }
  return env;
}

/** Reads `platform:*` from the running stack (getObject for sections, getSecret for secrets) and parses it. */
export function loadConfig(): PlatformConfig {
  const config = new pulumi.Config("platform");
  const values: Record<string, unknown> = {};
  // Unknown keys are listed by name only: their value could be a secret set under a mistyped key.
  for (const key of namespaceKeys("platform")) if (!userSecretKeys.includes(key)) values[key] = null;
  for (const key of [...textKeys, ...flagKeys]) values[key] = config.get(key);
  for (const key of sectionKeys) values[key] = readSection(config, key);
  return parseConfig({ values, secrets: getSecrets(config, userSecretSpecs.map((spec) => spec.key)) });
}
