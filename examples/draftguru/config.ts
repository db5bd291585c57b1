/**
 * DraftGuru's stack config (namespace `draftguru`), read with the config kit. The defaults here are the
 * guide's values for both environments (region ewr, 1 shared CPU / 1 GB on port 8080, `alembic upgrade head`,
 * the cron machine's size and command); a stack file sets only what its environment decides: the app name,
 * ENV, autostop and min machines, the cron schedule and the GitHub environment.
 */
import { patterns, readProgramConfig, type ProgramReader } from "../../config-kit";

/** The guide's "Environment identifier (`dev`, `stage`, `prod`)", the ENV secret. */
export const envIdentifiers = ["dev", "stage", "prod"] as const;
/** Python's logging levels, LOG_LEVEL. */
export const logLevels = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] as const;
/** fly.toml `auto_stop_machines`. */
export const autostopModes = ["off", "stop", "suspend"] as const;
/** `flyctl machine run --schedule`. */
export const schedules = ["hourly", "daily", "weekly", "monthly"] as const;

/** "Web Application Machines": 1 shared CPU, 1GB RAM. */
const webGuest = { cpuKind: "shared" as const, cpus: 1, memoryMb: 1024 };
/** "Cron Machines (news-ingestion-cron)": 1 shared CPU, 512MB RAM. */
const cronGuest = { cpuKind: "shared" as const, cpus: 1, memoryMb: 512 };

const commandRule = "a command as a list of arguments, e.g. `[alembic, upgrade, head]`";

/** A command list; an empty one would run the image's default instead of the guide's command. */
function command(read: ProgramReader, key: string, fallback: string[]): string[] {
  const list = read.list(key, { default: fallback, rule: commandRule });
  if (list.length === 0) read.problem(key, "must not be empty; remove it to run the guide's command");
  return list;
}

/** The schema; `loadConfig` runs it against the stack, the tests against plain data. */
export function schema(read: ProgramReader) {
  const fly = read.section("fly");
  const app = read.section("app");
  const cron = read.section("cron");
  const github = read.section("github");

  const repository = github.text("repository", { pattern: patterns.githubRepository, rule: "a GitHub repository as `owner/name`", example: "my-org/draftguru" });
  const [owner = "", name = ""] = repository.split("/");

  const secrets = {
    /** DATABASE_URL: "PostgreSQL async connection string (asyncpg driver)"; the database lives outside this program. */
    databaseUrl: read.secret("databaseUrl", { what: "the PostgreSQL URL for the asyncpg driver (DATABASE_URL)", example: "postgresql+asyncpg://user:password@host:5432/draftguru" }),
    /** SECRET_KEY to carry over from the running app; without it the program generates one (index.ts). */
    secretKey: read.optionalSecret("secretKey", { what: "the application's SECRET_KEY" }),
    geminiApiKey: read.optionalSecret("geminiApiKey", { what: "the Gemini API key for image generation (GEMINI_API_KEY)" }),
    geminiSummarizationApiKey: read.optionalSecret("geminiSummarizationApiKey", { what: "the Gemini API key for RSS summarization (GEMINI_SUMMARIZATION_API_KEY)" }),
    s3AccessKeyId: read.optionalSecret("s3AccessKeyId", { what: "the S3 access key id for image storage (S3_ACCESS_KEY_ID)" }),
    s3SecretAccessKey: read.optionalSecret("s3SecretAccessKey", { what: "the S3 secret access key for image storage (S3_SECRET_ACCESS_KEY)" }),
  };
  // One S3 key without the other can sign nothing: refuse the half pair rather than set one secret.
  if ((secrets.s3AccessKeyId === undefined) !== (secrets.s3SecretAccessKey === undefined)) {
    const missing = secrets.s3AccessKeyId === undefined ? "s3AccessKeyId" : "s3SecretAccessKey";
    read.problem(missing, "is required while the other S3 key is set: S3 credentials are a pair (set both, or neither)");
  }

  return {
    /**
     * The image CI built and pushed (what `flyctl deploy --remote-only` built before); a new value is a deploy.
     * Not committed: CI passes it on each `pulumi up`.
     */
    image: read.image("image", { example: "registry.fly.io/draft-app:deployment-01J2ABCDEF" }),
    fly: {
      /** Fly organization slug; the guide names none, so flyctl's default organization. */
      org: fly.text("org", { default: "personal", pattern: patterns.flyOrg, rule: "a Fly organization slug (lowercase letters, digits, dashes)" }),
      /** Take over `draft-app` / `draft-app-prod` and `news-ingestion-cron` as they were made by hand. */
      adopt: fly.boolean("adopt", { default: false }),
    },
    app: {
      /** Apps Overview: `draft-app` (staging), `draft-app-prod` (production). */
      appName: app.flyAppName("name", { example: "draft-app" }),
      /** "Region: `ewr` (Newark)". */
      region: app.flyRegion("region", { default: "ewr" }),
      guest: app.flyGuest("guest", { default: webGuest }),
      /** Web machines in the process group; FlyApp's own default (1) when unset. */
      count: app.optional("count", (key) => app.integer(key, { min: 1, max: 20 })),
      /** "Port: 8080 (internal), HTTPS exposed externally". */
      internalPort: app.integer("internalPort", { default: 8080, min: 1, max: 65535 }),
      /** Staging: auto-stop disabled; production: enabled (stops when idle, resumes on request). */
      autostop: app.oneOf("autostop", autostopModes, { example: "stop" }),
      /** Staging 0, production 1. */
      minMachinesRunning: app.integer("minMachinesRunning", { min: 0, max: 20, example: "1" }),
      /** The guide names no health check; a stack may add fly.toml `[[http_service.checks]]`. */
      checks: app.optional("checks", (key) => app.healthChecks(key)),
      /** "Release command: Runs `alembic upgrade head` on deploy". */
      releaseCommand: command(app, "releaseCommand", ["alembic", "upgrade", "head"]),
      /** ENV: `stage` in staging, `prod` in production. */
      env: app.oneOf("env", envIdentifiers, { example: "stage" }),
      /** LOG_LEVEL: "Logging level (default: `INFO`)". */
      logLevel: app.oneOf("logLevel", logLevels, { default: "INFO" }),
      /** ACCESS_LOG: "Enable/disable HTTP access logs"; the guide gives no value, so on, as uvicorn has it. */
      accessLog: app.boolean("accessLog", { default: true }),
    },
    cron: {
      /** The machine's name (`flyctl machine run --name`). */
      name: cron.text("name", { default: "news-ingestion-cron", pattern: /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, rule: "a machine name: lowercase letters, digits or dashes" }),
      /** Staging daily, production hourly. */
      schedule: cron.oneOf("schedule", schedules, { example: "daily" }),
      guest: cron.flyGuest("guest", { default: cronGuest }),
      /** `--entrypoint "/app/.venv/bin/python"`. */
      entrypoint: command(cron, "entrypoint", ["/app/.venv/bin/python"]),
      /** `-- -m app.cli.cron_runner`. */
      command: command(cron, "command", ["-m", "app.cli.cron_runner"]),
      /** "Region: `ewr` (Newark)"; the app's region when unset. */
      region: cron.optional("region", (key) => cron.flyRegion(key)),
    },
    github: {
      /** The app repository whose workflows deploy (`owner/name`). */
      repository,
      owner,
      name,
      /** The GitHub Actions environment the deploy job runs in; it holds this stack's FLY_API_TOKEN. */
      environment: github.text("environment", { pattern: /^[^\s/'"`][^'"`]{0,254}$/, rule: "a GitHub Actions environment name such as `production`", example: "staging" }),
    },
    secrets,
  };
}

export type DraftGuruConfig = ReturnType<typeof schema>;
export type DraftGuruSecrets = DraftGuruConfig["secrets"];

/**
 * DATABASE_URL must be for SQLAlchemy's asyncpg driver. The database lives outside this program and its URL is a
 * secret the schema cannot read, so the program checks it once the value is known: another driver's URL would
 * otherwise show up mid-deploy, when the release command (alembic) or the app first connects. The message never
 * quotes the value.
 */
export function checkDatabaseUrl(url: string): string {
  if (!/^postgresql\+asyncpg:\/\/\S+$/.test(url)) {
    throw new Error(
      "draftguru:databaseUrl must be a `postgresql+asyncpg://` URL (SQLAlchemy's asyncpg driver); " +
        "set it with `pulumi config set --secret draftguru:databaseUrl 'postgresql+asyncpg://<user>:<password>@<host>:5432/<db>'`",
    );
  }
  return url;
}

/** Reads `draftguru:*` from the running stack; throws one ConfigError listing every problem. */
export function loadConfig(): DraftGuruConfig {
  return readProgramConfig("draftguru", schema);
}
