/**
 * chat-dev (seed 003, "Deployment Guardrails"): the worker, server and web Fly apps of one environment
 * (production, staging, or the preview of one feature branch), wired to each other, and, in the one stack that
 * owns them, the GitHub repository's guardrails: environments, production approval, the required check and the
 * deploy secrets.
 */
import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import * as random from "@pulumi/random";
import { FlyApp, GitHubRepositoryGuardrails } from "../../components";
import { loadConfig, type GuardrailsConfig } from "./config";

const config = loadConfig();

// "GitHub secret setup": WORKER_SECRET (shared server/worker callback secret) and CHAT_DEV_ENCRYPTION_KEY
// (stored credentials). Staging and production make their own; a preview takes the values the guardrails stack
// generated for the GitHub `preview` environment, so CI and the preview apps hold the same ones.
function appSecrets(): { workerSecret: pulumi.Output<string>; encryptionKey: pulumi.Output<string> } {
  const source = config.appSecrets;
  if (source.from === "guardrails") {
    const guardrails = new pulumi.StackReference("guardrails", { name: source.stack });
    return {
      workerSecret: pulumi.secret(guardrails.requireOutput("previewWorkerSecret").apply(String)),
      encryptionKey: pulumi.secret(guardrails.requireOutput("previewEncryptionKey").apply(String)),
    };
  }
  const workerSecret = new random.RandomBytes("worker-secret", { length: 32 });
  const encryptionKey = source.encryptionKey ?? new random.RandomBytes("encryption-key", { length: 32 }).hex;
  return { workerSecret: pulumi.secret(workerSecret.hex), encryptionKey: pulumi.secret(encryptionKey) };
}
const { workerSecret, encryptionKey } = appSecrets();

// fly.worker.toml → chat-dev-worker (-dev, or <slug>-…-dev): the image the server starts worker Machines from,
// and the deploy token it starts them with.
const worker = new FlyApp("worker", { ...config.worker.app, env: config.worker.env, secrets: { WORKER_SECRET: workerSecret } });
const workerToken = worker.deployToken;
if (workerToken === undefined) throw new Error("worker: FlyApp made no deploy token for the server's FLY_API_TOKEN");

// fly.server.toml → chat-dev-server: SQLite on its own volume (chat_dev_data_dev outside production), wired to
// this environment's worker by value: "the workflow wires the preview server to the preview worker app with
// FLY_WORKER_APP, FLY_WORKER_IMAGE, and WORKER_CALLBACK_URL". A new worker image changes FLY_WORKER_IMAGE and so
// rolls the server, as "deploys the server so new Machines use the new worker image" did. The callback URL is
// derived from the server's own name (its Fly hostname), so the server's inputs never wait on the server.
const callbackUrl = `https://${config.names.server}.fly.dev`;
const server = new FlyApp("server", {
  ...config.server.app,
  env: { ...config.server.env, FLY_WORKER_APP: worker.appName, FLY_WORKER_IMAGE: worker.image, WORKER_CALLBACK_URL: callbackUrl },
  secrets: {
    // "FLY_API_TOKEN: Fly deploy authentication and server-side worker Machine creation": the worker app's token.
    FLY_API_TOKEN: workerToken,
    WORKER_SECRET: workerSecret,
    CHAT_DEV_ENCRYPTION_KEY: encryptionKey,
  },
});

// fly.web.toml → chat-dev-web. "Staging web builds set NEXT_PUBLIC_ENABLE_MIXPANEL=0" comes from the stack file.
const serverUrlEnv = config.web.serverUrlEnv;
const web = new FlyApp("web", { ...config.web.app, env: { ...config.web.env, ...(serverUrlEnv ? { [serverUrlEnv]: server.url } : {}) } });

// "Recommended repository settings": per repository, so only the stack with chat-dev:github.guardrails makes
// them (production's stack file says so).
function repositoryGuardrails(settings: GuardrailsConfig): GitHubRepositoryGuardrails {
  const provider = new github.Provider("github", { owner: settings.owner });
  return new GitHubRepositoryGuardrails(
    "guardrails",
    {
      repository: settings.repository,
      // 2. "create staging and production environments", production deploys from main or master only, after
      // approval; 3. "a preview environment" for feature/<slug> and features/<slug>; 4. deploy secrets per environment.
      environments: {
        staging: { branches: ["staging"], secrets: { FLY_API_TOKEN: settings.flyApiTokens.staging } },
        production: { reviewers: settings.productionReviewers, branches: ["main", "master"], secrets: { FLY_API_TOKEN: settings.flyApiTokens.production } },
        preview: { branches: ["feature/*", "features/*"], secrets: { FLY_API_TOKEN: settings.flyApiTokens.preview } },
      },
      // 1. "require the CI / Lint and build status check before merging to the protected branch"; only GitHub
      // Actions (app 15368) may report it.
      requiredChecks: { contexts: settings.requiredChecks, integrationId: 15368 },
      // "WORKER_SECRET … CHAT_DEV_ENCRYPTION_KEY … for preview apps": made here, read by every preview stack.
      generatedSecrets: {
        WORKER_SECRET: { encoding: "hex", environments: ["preview"] },
        CHAT_DEV_ENCRYPTION_KEY: { encoding: "hex", environments: ["preview"] },
      },
    },
    { providers: { github: provider } },
  );
}
const guardrails = config.guardrails ? repositoryGuardrails(config.guardrails) : undefined;

/** `production`, `staging` or `preview`. */
export const environment = config.environment;
/** A preview's branch and the prefix of its app names (`feature/addabutton` → `addabutton`; a pull request from another branch → `pr-<n>`). */
export const previewBranch = config.branch;
export const previewSlug = config.slug;
/** A pull request's number, in its preview stack (`pr-<number>`) only. */
export const previewPrNumber = config.prNumber;
export const workerAppName = worker.appName;
export const serverAppName = server.appName;
export const webAppName = web.appName;
/** The image the server starts worker Machines from (its FLY_WORKER_IMAGE). */
export const workerImage = worker.image;
/** The API URL, e.g. `https://addabutton-chat-dev-server-dev.fly.dev` (the server's WORKER_CALLBACK_URL). */
export const serverUrl = server.url;
/** The web URL, e.g. `https://addabutton-chat-dev-web-dev.fly.dev`. */
export const webUrl = web.url;
/** The server's SQLite volume. */
export const serverVolume = Object.keys(config.server.app.volumes ?? {})[0];
/** The GitHub environments, from the guardrails stack only. */
export const githubEnvironments = guardrails?.environments;
/** The preview environment's WORKER_SECRET (secret), which every preview stack reads. */
export const previewWorkerSecret = guardrails ? pulumi.secret(guardrails.generated.WORKER_SECRET) : undefined;
/** The preview environment's CHAT_DEV_ENCRYPTION_KEY (secret), which every preview stack reads. */
export const previewEncryptionKey = guardrails ? pulumi.secret(guardrails.generated.CHAT_DEV_ENCRYPTION_KEY) : undefined;
