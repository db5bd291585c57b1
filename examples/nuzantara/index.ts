/**
 * NUZANTARA (deployment guide v5.2.0): one stack per environment, `production` and `staging`. Read top to bottom
 * like the guide: the Fly.io backends, their secrets, the Cloudflare Worker in front of them, the Pages frontend,
 * the R2 bucket for ChromaDB backups and the deploy tokens CI uses. Fly Postgres and Redis stay outside the platform:
 * their URLs are secrets from stack config.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import * as github from "@pulumi/github";
import { CloudflareWorker, DocsSite, FlyApp, GitHubRepositoryGuardrails, R2Bucket, type FlyAppArgs, type FlyProcessGroupArgs } from "../../components";
import { loadConfig, type AppConfig, type BackupSecretName, type NuzantaraConfig } from "./config";

type Secrets = Record<string, pulumi.Input<string>>;

const config = loadConfig();

/** The user's secrets an app receives, by environment variable. */
function userSecretsFor(app: AppConfig, secrets: NuzantaraConfig["secrets"]): Secrets {
  return Object.fromEntries(
    app.secrets.map((name) => {
      const value = secrets[name];
      if (value === undefined) throw new Error(`nuzantara: ${name} is listed for ${app.appName} but its secret is not set`);
      return [name, value];
    }),
  );
}

/** The guide's fly.toml as one process group, `app` (`processes = ['app']`). */
function appGroup(app: AppConfig, mounts?: Record<string, string>): FlyProcessGroupArgs {
  return {
    count: app.count,
    guest: app.guest,
    killSignal: app.killSignal,
    killTimeout: app.killTimeout,
    mounts,
    httpService: {
      internalPort: app.port,
      forceHttps: true,
      autostop: app.autostop,
      autostart: app.autostart,
      minMachinesRunning: app.minMachinesRunning,
      checks: app.checks,
    },
  };
}

function flyApp(app: AppConfig, extra: Pick<FlyAppArgs, "env" | "secrets" | "volumes"> & { mounts?: Record<string, string> }): FlyAppArgs {
  return {
    appName: app.appName,
    orgSlug: config.fly.org,
    primaryRegion: config.fly.region,
    image: app.image,
    processGroups: { app: appGroup(app, extra.mounts) },
    env: extra.env,
    secrets: extra.secrets,
    volumes: extra.volumes,
    // CI's FLY_API_TOKEN (below): a token for this app only.
    deployToken: {},
    adopt: config.fly.adopt,
  };
}

/** The RAG app's S3 settings for the backup bucket: its bucket-scoped token as an access key pair. */
function backupSecretsOf(bucket: R2Bucket): Record<BackupSecretName, pulumi.Input<string>> {
  const { accessKeyId, secretAccessKey } = bucket;
  if (accessKeyId === undefined || secretAccessKey === undefined) throw new Error("nuzantara: the backup bucket made no access token");
  return { R2_ACCESS_KEY_ID: accessKeyId, R2_SECRET_ACCESS_KEY: secretAccessKey, R2_ENDPOINT: bucket.endpoint, R2_BUCKET_NAME: bucket.bucketName };
}

/** The staging frontend is a branch of the owning stack's project: its URL comes from that stack's outputs. */
function branchUrlFromOwner(owner: Extract<NuzantaraConfig["frontend"], { ownsProject: false }>): pulumi.Output<string> {
  const reference = new pulumi.StackReference(owner.ownerStack, { name: owner.ownerStack });
  return reference.requireOutput("frontendBranchUrls").apply((urls) => {
    const url = (urls as Record<string, unknown> | undefined)?.[owner.branch];
    if (typeof url !== "string") {
      throw new Error(`nuzantara:frontend.branch '${owner.branch}' is not a preview branch of ${owner.ownerStack}; add it to that stack's frontend.previewBranches`);
    }
    return url;
  });
}

// Cloudflare R2: the bucket ChromaDB backups are uploaded to (`aws s3 cp … s3://nuzantara-backups/chromadb/`), with
// a token for that bucket only; its S3 credentials go to the RAG app and to the stack outputs.
const backups = config.backups.enabled
  ? new R2Bucket("backups", {
      accountId: config.cloudflare.accountId,
      name: config.backups.bucketName,
      location: config.backups.location,
      accessToken: { access: "read-write" },
    })
  : undefined;
const backupSecrets: Secrets = backups ? backupSecretsOf(backups) : {};

// Fly.io: Backend-TS, nuzantara-backend (sin, port 8080, 1 GB, 1 CPU).
const backend = new FlyApp(
  "backend",
  flyApp(config.backend, {
    env: { ...config.backend.env, PORT: String(config.backend.port) },
    secrets: userSecretsFor(config.backend, config.secrets),
  }),
);

// Fly.io: Backend-RAG, the guide's fly.toml: kill_signal/kill_timeout, [env], [[mounts]] of the ChromaDB volume,
// [http_service] with its /health check, [[vm]] 2 GB on 2 shared CPUs; [deploy] strategy 'rolling' is how FlyApp
// rolls a process group, one machine at a time. Secrets: `fly secrets set … -a nuzantara-rag`.
const volume = config.rag.volume;
const rag = new FlyApp(
  "rag",
  flyApp(config.rag, {
    env: { ...config.rag.env, CHROMA_DB_PATH: volume.path, PORT: String(config.rag.port) },
    secrets: { ...userSecretsFor(config.rag, config.secrets), ...backupSecrets },
    volumes: { [volume.name]: { sizeGb: volume.sizeGb } },
    mounts: { [volume.name]: volume.path },
  }),
);

// Cloudflare Workers (Proxy): wrangler.toml's nuzantara-proxy, its vars wired from the apps' URLs, its route in the
// zone; the script sets the guide's security headers.
const proxyScript = path.join(__dirname, "proxy", "index.js");
const proxy = new CloudflareWorker("proxy", {
  accountId: config.cloudflare.accountId,
  name: config.proxy.name,
  scriptPath: proxyScript,
  compatibilityDate: config.proxy.compatibilityDate,
  vars: { BACKEND_TS_URL: backend.url, BACKEND_RAG_URL: rag.url },
  routes: [{ pattern: `${config.proxy.hostname}/*`, zoneId: config.cloudflare.zoneId }],
});
if (config.proxy.dnsRecord) {
  // A route runs only for proxied traffic: the host needs a proxied record, and the Worker is its only origin.
  new cloudflare.DnsRecord("proxy-dns", {
    zoneId: config.cloudflare.zoneId,
    name: config.proxy.hostname,
    type: "AAAA",
    content: "100::",
    proxied: true,
    ttl: 1,
    comment: `Worker route only (${config.proxy.name})`,
  });
}

// Cloudflare Pages (Frontend): one project, `nuzantara`, serving production from main and staging from its
// `staging` branch; only the owning stack makes it and the CF_API_TOKEN the workflow deploys with.
const githubProvider = new github.Provider("github", { owner: config.github.owner });
function createFrontend(frontend: NuzantaraConfig["frontend"]): { site?: DocsSite; url: pulumi.Output<string> } {
  if (!frontend.ownsProject) return { url: branchUrlFromOwner(frontend) };
  const site = new DocsSite(
    "frontend",
    {
      accountId: config.cloudflare.accountId,
      projectName: frontend.projectName,
      productionBranch: frontend.productionBranch,
      previewBranches: frontend.previewBranches,
      // wrangler needs the account id beside a token that may only deploy Pages.
      githubSecrets: { repository: config.github.name, apiTokenName: "CF_API_TOKEN", accountIdName: "CF_ACCOUNT_ID" },
    },
    { providers: { github: githubProvider } },
  );
  return { site, url: site.url };
}
const frontend = createFrontend(config.frontend);

// CI/CD: the deploy jobs' FLY_API_TOKEN as a secret of this stack's GitHub environment (deploy tokens made per app,
// never pasted): FLY_API_TOKEN for nuzantara-rag as the guide's workflow uses it, FLY_API_TOKEN_BACKEND for Backend-TS.
const deployTokens: Secrets = {};
for (const [secretName, token] of [
  ["FLY_API_TOKEN", rag.deployToken],
  ["FLY_API_TOKEN_BACKEND", backend.deployToken],
] as const) {
  if (token === undefined) throw new Error(`nuzantara: ${secretName}: the app made no deploy token`);
  deployTokens[secretName] = token;
}
const ci = new GitHubRepositoryGuardrails(
  "github",
  {
    repository: config.github.name,
    environments: { [config.github.environment]: { branches: config.github.deployBranches, secrets: deployTokens } },
  },
  { providers: { github: githubProvider } },
);

/** Backend-TS's Fly app, e.g. `nuzantara-backend`. */
export const backendAppName = backend.appName;
/** `https://nuzantara-backend.fly.dev` (staging: `…-staging.fly.dev`). */
export const backendUrl = backend.url;
/** Backend-RAG's Fly app, e.g. `nuzantara-rag`. */
export const ragAppName = rag.appName;
/** `https://nuzantara-rag.fly.dev`. */
export const ragUrl = rag.url;
/** `<app>.internal`, for apps of the organization on the private network. */
export const ragPrivateHostname = rag.privateHostname;
/** The Worker's name and its route. */
export const proxyName = proxy.scriptName;
export const proxyRoutes = proxy.routes;
/** `https://api.nuzantara.com`, the proxy in front of both backends. */
export const apiUrl = `https://${config.proxy.hostname}`;
/** This stack's frontend: `https://nuzantara.pages.dev`, or the branch URL read from the owning stack. */
export const frontendUrl = frontend.url;
/** The owning stack's branch URLs (`staging` → `https://staging.nuzantara.pages.dev`), which the other stack reads. */
export const frontendBranchUrls = frontend.site?.branchUrls;
/** The backup bucket and its S3 endpoint; the credentials are secret. */
export const backupsBucket = backups?.bucketName;
export const backupsEndpoint = backups?.endpoint;
export const backupsAccessKeyId = backups?.accessKeyId ? pulumi.secret(backups.accessKeyId) : undefined;
export const backupsSecretAccessKey = backups?.secretAccessKey ? pulumi.secret(backups.secretAccessKey) : undefined;
/** The GitHub Actions environment holding this stack's deploy tokens. */
export const githubEnvironment = ci.environments.apply((names) => names[0]);
