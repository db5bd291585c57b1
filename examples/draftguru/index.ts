/**
 * DraftGuru's "Fly.io Infrastructure" guide as a program: `pulumi up -s staging` builds `draft-app`,
 * `pulumi up -s production` builds `draft-app-prod`. It reads top to bottom like the guide: the app, its web
 * machines and release command, the news-ingestion cron machine, the secrets, and the deploy token CI uses.
 * The database lives outside the platform: DATABASE_URL is the user's secret, handed to the app as given.
 */
import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import * as random from "@pulumi/random";
import { FlyApp, GitHubRepositoryGuardrails } from "../../components";
import { checkDatabaseUrl, loadConfig } from "./config";

/** The GitHub Actions secret the deploy workflows read (`FLY_API_TOKEN`). */
const deployTokenSecretName = "FLY_API_TOKEN";

/** SECRET_KEY's length when generated: 64 letters and digits (about 380 bits), safe in any shell or URL. */
const generatedSecretKeyLength = 64;

const config = loadConfig();

// "DATABASE_URL: PostgreSQL async connection string (asyncpg driver)": checked once its secret value is known.
const databaseUrl = config.secrets.databaseUrl.apply(checkDatabaseUrl);

// "Environment Variables": SECRET_KEY. Given with `pulumi config set --secret draftguru:secretKey` it is carried
// over from the running app (a new key would end every session it signed); otherwise it is generated once and
// kept in the stack's state, so no one pastes it and every `pulumi up` keeps the same value.
const secretKey =
  config.secrets.secretKey ?? pulumi.secret(new random.RandomPassword("secret-key", { length: generatedSecretKeyLength, special: false }).result);

// "Environment Variables": the required secrets, then the optional ones that were given. The guide sets all of them
// with `flyctl secrets set`, ENV, LOG_LEVEL and ACCESS_LOG included, so the app keeps exactly its secret list.
const optionalSecrets: Record<string, pulumi.Output<string> | undefined> = {
  GEMINI_API_KEY: config.secrets.geminiApiKey,
  GEMINI_SUMMARIZATION_API_KEY: config.secrets.geminiSummarizationApiKey,
  S3_ACCESS_KEY_ID: config.secrets.s3AccessKeyId,
  S3_SECRET_ACCESS_KEY: config.secrets.s3SecretAccessKey,
};
const appSecrets: Record<string, pulumi.Input<string>> = {
  DATABASE_URL: databaseUrl,
  SECRET_KEY: secretKey,
  ENV: config.app.env,
  LOG_LEVEL: config.app.logLevel,
  ACCESS_LOG: String(config.app.accessLog),
  ...Object.fromEntries(Object.entries(optionalSecrets).filter((entry): entry is [string, pulumi.Output<string>] => entry[1] !== undefined)),
};

// "Apps Overview" and "Machine Types": one Fly app per environment (fly.toml / fly.prod.toml), its web machines,
// the release command, and the cron machine (fly.cron.stage.toml / fly.cron.toml) on the same image.
const app = new FlyApp("app", {
  appName: config.app.appName,
  orgSlug: config.fly.org,
  primaryRegion: config.app.region,
  // "CI/CD Workflows" step "Deploy via flyctl deploy": CI builds and pushes the image, this rolls it out.
  image: config.image,
  processGroups: {
    // "Web Application Machines": FastAPI on 8080 inside, HTTPS outside; autostop and min machines per environment.
    app: {
      count: config.app.count,
      guest: config.app.guest,
      httpService: {
        internalPort: config.app.internalPort,
        autostop: config.app.autostop,
        minMachinesRunning: config.app.minMachinesRunning,
        checks: config.app.checks,
      },
    },
  },
  // "Release command: Runs `alembic upgrade head` on deploy" (and the workflows' "Run Alembic migrations" step),
  // once per new image before any machine rolls.
  releaseCommand: { command: config.app.releaseCommand },
  // "Cron Machines (news-ingestion-cron)": on the app's image, so "Update cron machine with latest app image"
  // happens with every deploy instead of by hand.
  scheduledMachines: {
    [config.cron.name]: {
      schedule: config.cron.schedule,
      guest: config.cron.guest,
      entrypoint: config.cron.entrypoint,
      command: config.cron.command,
      region: config.cron.region,
    },
  },
  // "CI/CD Workflows" step "Set secrets" and "Secrets Management": one `flyctl secrets set` the program owns.
  secrets: appSecrets,
  // The FLY_API_TOKEN the deploy workflows use, scoped to this app only.
  deployToken: {},
  adopt: config.fly.adopt,
});

// "CI/CD Workflows": the deploy job's FLY_API_TOKEN as a secret of its GitHub Actions environment, so staging's and
// production's tokens never overwrite each other and nobody copies a token by hand.
const deployToken = app.deployToken;
if (deployToken === undefined) throw new Error("FlyApp 'app' made no deploy token");
const githubProvider = new github.Provider("github", { owner: config.github.owner });
new GitHubRepositoryGuardrails(
  "ci",
  {
    repository: config.github.name,
    environments: { [config.github.environment]: { secrets: { [deployTokenSecretName]: deployToken } } },
  },
  { providers: { github: githubProvider } },
);

/** The Fly app name: `draft-app` or `draft-app-prod`. */
export const appName = app.appName;
/** `https://<app>.fly.dev`, the guide's URL column. */
export const url = app.url;
/** `<app>.fly.dev` */
export const hostname = app.hostname;
/** `<app>.internal`, for other apps in the organization. */
export const privateHostname = app.privateHostname;
/** The image every machine runs once the deploy has rolled: what `flyctl machine list … | jq .config.image` read. */
export const image = app.image;
/** The web machines' ids (`flyctl machine list`, process group `app`). */
export const machineIds = app.machineIds;
/** The cron machine's id by name (what the guide's `CRON_ID=$(flyctl machine list … | jq …)` looked up). */
export const cronMachineIds = app.scheduledMachineIds;
/** The Fly secret names on the app (`flyctl secrets list`); their values stay in the stack, encrypted. */
export const secretNames = Object.keys(appSecrets).sort();
/** The GitHub Actions environment holding this stack's FLY_API_TOKEN. */
export const githubEnvironment = config.github.environment;
