/**
 * NUZANTARA's stack config (`nuzantara:*`), read with the config kit. The defaults are the team's values from its
 * deployment guide (v5.2.0); a stack file holds only what differs per environment, and each user sets the
 * account-specific keys and the secrets listed at the top of the stack files.
 */
import * as pulumi from "@pulumi/pulumi";
import { patterns, readProgramConfig, type ProgramReader } from "../../config-kit";
import { stopSignals } from "../../dynamic-providers/fly/machine-types";
import { r2Locations } from "../../components";

export const namespace = "nuzantara";

/**
 * The secrets the user provides, by the environment variable the apps read. DATABASE_URL (Fly Postgres
 * `nuzantara-postgres`) and REDIS_URL (Upstash or Fly Redis) are kept outside the platform: the program hands them
 * to the apps and manages neither database.
 */
export const userSecrets = {
  ANTHROPIC_API_KEY: { key: "anthropicApiKey", what: "the Anthropic API key the RAG backend calls Claude with", example: "sk-ant-…" },
  OPENAI_API_KEY: { key: "openaiApiKey", what: "the OpenAI API key for text-embedding-3-small", example: "sk-…" },
  DATABASE_URL: {
    key: "databaseUrl",
    what: "the Fly Postgres (nuzantara-postgres) connection URL, as `fly postgres attach` prints it",
    example: "postgres://nuzantara_rag:…@nuzantara-postgres.flycast:5432/nuzantara_rag?sslmode=disable",
  },
  REDIS_URL: { key: "redisUrl", what: "the Redis URL (Upstash or Fly Redis)", example: "rediss://default:…@….upstash.io:6379" },
} as const;
export type UserSecretName = keyof typeof userSecrets;
const userSecretNames = Object.keys(userSecrets) as UserSecretName[];

/** The RAG app's secrets that hold the backup bucket's S3 settings (made by the platform, never set by hand). */
export const backupSecretNames = ["R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY", "R2_ENDPOINT", "R2_BUCKET_NAME"] as const;
export type BackupSecretName = (typeof backupSecretNames)[number];

const autostops = ["off", "stop", "suspend"] as const;
const goDuration = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const githubEnvironmentName = /^[^\s/](?:[^/]{0,253}[^\s/])?$/;

/** Fly health checks of the guide: `GET /health` every 30s, 5s timeout, a minute's grace after start. */
const healthCheck = { type: "http" as const, method: "GET", path: "/health", interval: "30s", timeout: "5s", gracePeriod: "1m0s" };

export interface AppDefaults {
  appName: string;
  port: number;
  guest: { cpuKind: "shared" | "performance"; cpus: number; memoryMb: number };
  env: Record<string, string>;
  secrets: UserSecretName[];
  killSignal?: (typeof stopSignals)[number];
  killTimeout?: string;
}

/** Backend-TS: port 8080, 1 GB, 1 CPU (the guide's overview). */
const backendDefaults: AppDefaults = {
  appName: "nuzantara-backend",
  port: 8080,
  guest: { cpuKind: "shared", cpus: 1, memoryMb: 1024 },
  env: { NODE_ENV: "production" },
  // Its /health reports the database and Redis as connected.
  secrets: ["DATABASE_URL", "REDIS_URL"],
};

/** Backend-RAG: the guide's fly.toml. */
const ragDefaults: AppDefaults = {
  appName: "nuzantara-rag",
  port: 8000,
  guest: { cpuKind: "shared", cpus: 2, memoryMb: 2048 },
  env: { EMBEDDING_DIMENSIONS: "1536", EMBEDDING_MODEL: "text-embedding-3-small", EMBEDDING_PROVIDER: "openai", NODE_ENV: "production" },
  // `fly secrets set … -a nuzantara-rag` (ANTHROPIC, OPENAI, DATABASE_URL) and Redis, which its /health reports.
  secrets: ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "DATABASE_URL", "REDIS_URL"],
  killSignal: "SIGTERM",
  killTimeout: "30s",
};

function readApp(read: ProgramReader, key: string, defaults: AppDefaults, reservedEnv: readonly string[]) {
  const app = read.section(key);
  const appName = app.flyAppName("appName", { default: defaults.appName, example: defaults.appName });
  const port = app.integer("port", { default: defaults.port, min: 1, max: 65535, example: String(defaults.port) });
  const secrets = app.list("secrets", {
    default: defaults.secrets,
    pattern: new RegExp(`^(?:${userSecretNames.join("|")})$`),
    rule: `one of ${userSecretNames.join(", ")} (each set with \`pulumi config set --secret\`)`,
    example: "DATABASE_URL",
  }) as UserSecretName[];
  if (new Set(secrets).size !== secrets.length) app.problem("secrets", "must not name a secret twice", secrets);
  return {
    appName,
    /** The image CI built and pushed; a new value is a deploy. */
    image: app.image("image", { default: `registry.fly.io/${appName}:latest`, example: `registry.fly.io/${appName}:deployment-01J…` }),
    port,
    guest: app.flyGuest("guest", { default: defaults.guest }),
    /** `fly scale count`: Fly runs at most the machines that exist, so this is also the guide's "max machines". */
    count: app.integer("count", { default: 1, min: 0, max: 20, example: "1" }),
    autostop: app.oneOf("autostop", autostops, { default: "off" }),
    autostart: app.boolean("autostart", { default: true }),
    minMachinesRunning: app.integer("minMachinesRunning", { default: 1, min: 0, example: "1" }),
    checks: app.healthChecks("checks", { default: [healthCheck] }),
    killSignal: app.optional("killSignal", (k) => app.oneOf(k, stopSignals)) ?? defaults.killSignal,
    killTimeout: app.optionalText("killTimeout", { pattern: goDuration, rule: 'a duration such as "30s" (fly.toml kill_timeout)', example: "30s" }) ?? defaults.killTimeout,
    env: app.env("env", {
      default: defaults.env,
      reserved: { names: reservedEnv, rule: "is set by the program (PORT from `port`, CHROMA_DB_PATH from the volume, secrets from `secrets`); remove it from env" },
    }),
    secrets,
  };
}

export function schema(read: ProgramReader, stack: string) {
  const reserved = ["PORT", "CHROMA_DB_PATH", ...userSecretNames, ...backupSecretNames];
  const fly = read.section("fly");
  const backend = readApp(read, "backend", backendDefaults, reserved);
  const rag = readApp(read, "rag", ragDefaults, reserved);
  const volume = read.section("rag.volume");
  const ragVolume = {
    /** `[[mounts]] source`: the Fly volume holding ChromaDB. */
    name: volume.text("name", { default: "chroma_data_complete", pattern: patterns.volumeName, rule: "1-30 lowercase letters, digits or _" }),
    /** `[[mounts]] destination`, also the app's CHROMA_DB_PATH. */
    path: volume.text("path", { default: "/data/chroma_db_FULL_deploy", pattern: patterns.absolutePath, rule: "an absolute path" }),
    sizeGb: volume.optional("sizeGb", (k) => volume.integer(k, { min: 1, max: 500, example: "10" })),
  };

  const needed = new Set<UserSecretName>([...backend.secrets, ...rag.secrets]);
  const secrets: Partial<Record<UserSecretName, pulumi.Output<string>>> = {};
  for (const name of userSecretNames) {
    const spec = userSecrets[name];
    const options = { what: spec.what, example: spec.example };
    // A secret no app receives is not required.
    secrets[name] = needed.has(name) ? read.secret(spec.key, options) : read.optionalSecret(spec.key, options);
  }

  const cloudflare = read.section("cloudflare");
  const frontend = read.section("frontend");
  const ownsProject = frontend.boolean("ownsProject", { default: false });
  const proxy = read.section("proxy");
  const backups = read.section("backups");
  const github = read.section("github");
  return {
    fly: {
      org: fly.text("org", { default: "personal", pattern: patterns.flyOrg, rule: "a Fly organization slug", example: "personal" }),
      region: fly.flyRegion("region", { default: "sin" }),
      /** Take over the apps, machines and volumes made by hand (the live `nuzantara-rag` and its ChromaDB volume). */
      adopt: fly.boolean("adopt", { default: false }),
    },
    backend,
    rag: { ...rag, volume: ragVolume },
    secrets,
    cloudflare: {
      accountId: cloudflare.text("accountId", { pattern: patterns.hex32, rule: "a Cloudflare account id (32 hex digits)", example: "0123456789abcdef0123456789abcdef" }),
      /** The zone of nuzantara.com, where the proxy's route lives. */
      zoneId: cloudflare.text("zoneId", { pattern: patterns.hex32, rule: "the Cloudflare zone id of the proxy's domain (32 hex digits)", example: "fedcba9876543210fedcba9876543210" }),
    },
    frontend: ownsProject
      ? {
          ownsProject: true as const,
          projectName: frontend.text("projectName", { default: "nuzantara", pattern: patterns.pagesProject, rule: "a Pages project name (lowercase letters, digits, dashes)" }),
          productionBranch: frontend.text("productionBranch", { default: "main", pattern: patterns.gitBranch, rule: "a git branch name" }),
          /** Branches the workflow deploys besides production, each at `https://<branch>.<project>.pages.dev`. */
          previewBranches: frontend.list("previewBranches", { default: ["staging"], pattern: patterns.gitBranch, rule: "git branch names", example: "staging" }),
        }
      : {
          ownsProject: false as const,
          /** The project's branch this stack's frontend is, read from the owning stack's `frontendBranchUrls`. */
          branch: frontend.text("branch", { pattern: patterns.gitBranch, rule: "a branch the owning stack lists in frontend.previewBranches", example: "staging" }),
          ownerStack: read.text("productionStack", {
            pattern: patterns.stack,
            rule: "the stack that owns the Pages project, `organization/nuzantara/production`",
            example: "organization/nuzantara/production",
          }),
        },
    proxy: {
      /** wrangler `name`. */
      name: proxy.text("name", { default: "nuzantara-proxy", pattern: /^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$/, rule: "a Worker name (lowercase letters, digits, - or _)" }),
      /** The host of the route `<hostname>/*` in the zone `cloudflare.zoneId`. */
      hostname: proxy.text("hostname", { default: "api.nuzantara.com", pattern: patterns.domain, rule: "a hostname in the zone, such as api.nuzantara.com" }),
      compatibilityDate: proxy.text("compatibilityDate", { default: "2025-01-01", pattern: /^\d{4}-\d{2}-\d{2}$/, rule: "a date as YYYY-MM-DD" }),
      /**
       * Make the proxied DNS record the route needs (`AAAA 100::`, no origin behind it). Off by default: production's
       * api.nuzantara.com already has its record; a new host (staging's) needs one.
       */
      dnsRecord: proxy.boolean("dnsRecord", { default: false }),
    },
    backups: {
      /** The R2 bucket for ChromaDB backups, with an object read/write token for it. */
      enabled: backups.boolean("enabled", { default: true }),
      bucketName: backups.text("bucketName", { default: "nuzantara-backups", pattern: patterns.r2Bucket, rule: "an R2 bucket name (3-63 lowercase letters, digits or -)" }),
      location: backups.optional("location", (k) => backups.oneOf(k, r2Locations)),
    },
    github: (() => {
      const repository = github.text("repository", { pattern: patterns.githubRepository, rule: "`owner/name` of the repository CI deploys from", example: "balizero/nuzantara" });
      const [owner, name] = repository.split("/");
      return {
        owner,
        name: name ?? "",
        /** The GitHub Actions environment holding this stack's FLY_API_TOKEN. */
        environment: github.text("environment", { default: stack, pattern: githubEnvironmentName, rule: "a GitHub environment name" }),
        /** Branches allowed to deploy to the environment. @default any branch */
        deployBranches: github.optional("deployBranches", (k) => github.list(k, { pattern: patterns.gitBranch, rule: "branch name patterns", example: "main" })),
      };
    })(),
  };
}

export type NuzantaraConfig = ReturnType<typeof schema>;
export type AppConfig = NuzantaraConfig["backend"];

/** Reads `nuzantara:*` for the running stack; throws one ConfigError listing every problem. */
export function loadConfig(): NuzantaraConfig {
  return readProgramConfig(namespace, (read) => schema(read, pulumi.getStack()));
}
