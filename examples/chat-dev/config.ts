/**
 * chat-dev's stack config (namespace `chat-dev`), read with the config kit. The defaults are this team's: the
 * guide's names come from `naming.ts`; what the guide leaves open (region, sizes, ports, mount path) is a
 * plain choice made here, changeable per stack. One reading reports every problem, each naming its key.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { FlyAppArgs, GitHubEnvironmentReviewers } from "../../components";
import { patterns, readProgramConfig, type ProgramReader } from "../../config-kit";
import type { Autostop, MachineGuest } from "../../dynamic-providers/fly/machine-types";
import { chatDevNames, environments, previewBranchProblem, previewSlug, pullRequestSlug, type ChatDevNames, type Environment } from "./naming";

export const namespace = "chat-dev";

/** Environment variables index.ts sets on the server; a stack's `server.env` may not shadow them. */
export const serverWiredNames = ["FLY_WORKER_APP", "FLY_WORKER_IMAGE", "WORKER_CALLBACK_URL", "FLY_API_TOKEN", "WORKER_SECRET", "CHAT_DEV_ENCRYPTION_KEY"];

/** The CI job's check name: the UI's `CI / Lint and build` is the context `Lint and build` (see GitHubRequiredChecksArgs). */
const lintAndBuild = "Lint and build";
const autostops: readonly Autostop[] = ["off", "stop", "suspend"];
const smallGuest: MachineGuest = { cpuKind: "shared", cpus: 1, memoryMb: 512 };
const githubLogin = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const githubTeamSlug = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A FlyApp as this stack's config gives it; index.ts adds the wiring (env and secrets). */
export interface AppConfig {
  app: Omit<FlyAppArgs, "env" | "secrets">;
  /** Plain environment from the stack file (`<app>.env`). */
  env: Record<string, string>;
}

export interface WebConfig extends AppConfig {
  /** The web env variable that gets the server's URL, e.g. `NEXT_PUBLIC_API_URL`; the guide does not name one. */
  serverUrlEnv?: string;
}

/** Where this stack's WORKER_SECRET and CHAT_DEV_ENCRYPTION_KEY come from. */
export type AppSecretsSource =
  /** Staging and production: made in this stack; `encryptionKey` keeps an existing key (stored credentials stay readable). */
  | { from: "stack"; encryptionKey?: pulumi.Output<string> }
  /** A preview: the values the guardrails stack generated for the GitHub `preview` environment. */
  | { from: "guardrails"; stack: string };

export interface GuardrailsConfig {
  owner: string;
  repository: string;
  productionReviewers: GitHubEnvironmentReviewers;
  requiredChecks: string[];
  /** FLY_API_TOKEN per GitHub environment. */
  flyApiTokens: Record<Environment, pulumi.Output<string>>;
}

/**
 * The keys the preview-environment workflow sets on each `pr-<number>` stack (`pulumi config set --path
 * chat-dev:<key>`), after copying the `preview` template stack's config.
 */
export const pullRequestKeys = { environment: "environment", prNumber: "preview.prNumber", branch: "preview.branch" } as const;

export interface ChatDevConfig {
  environment: Environment;
  /** A preview's branch, e.g. `feature/addabutton`: `preview.branch` in a pull request's stack, else `branch`. */
  branch?: string;
  /** A pull request's number (`preview.prNumber`), in its preview stack only. */
  prNumber?: number;
  /** A preview's app prefix, e.g. `addabutton`. */
  slug?: string;
  names: ChatDevNames;
  worker: AppConfig;
  server: AppConfig;
  web: WebConfig;
  appSecrets: AppSecretsSource;
  /** Only the stack that owns the repository's guardrails (one per repository). */
  guardrails?: GuardrailsConfig;
}

function readFly(read: ProgramReader) {
  const fly = read.section("fly");
  return {
    orgSlug: fly.text("org", { default: "personal", pattern: patterns.flyOrg, rule: "a Fly organization slug", example: "personal" }),
    /** Not in the guide: Fly's Ashburn region as a plain default. */
    primaryRegion: fly.flyRegion("region", { default: "iad" }),
    adopt: fly.boolean("adopt", { default: false }),
  };
}

function readHttp(section: ProgramReader, internalPort: number) {
  return {
    internalPort: section.integer("internalPort", { default: internalPort, min: 1, max: 65535, example: String(internalPort) }),
    autostop: section.oneOf("autostop", autostops, { default: "stop" }),
    minMachinesRunning: section.integer("minMachinesRunning", { default: 0, min: 0, example: "1" }),
  };
}

/** fly.worker.toml: the worker app. Its Machines are made by the server (FLY_WORKER_IMAGE), so none stand by default. */
function readWorker(read: ProgramReader, names: ChatDevNames, fly: ReturnType<typeof readFly>): AppConfig {
  const worker = read.section("worker");
  return {
    app: {
      appName: names.worker,
      ...fly,
      image: worker.image("image", { default: `registry.fly.io/${names.worker}:latest` }),
      processGroups: { app: { count: worker.integer("count", { default: 0, min: 0, example: "1" }), guest: worker.flyGuest("guest", { default: smallGuest }) } },
      // The server creates worker Machines with this token ("server-side worker Machine creation").
      deployToken: {},
    },
    // App env reaches only the Machines FlyApp makes; the server's Machines get what the server gives them.
    env: {},
  };
}

/** fly.server.toml: one Machine (SQLite on its volume) behind Fly's HTTP service. */
function readServer(read: ProgramReader, names: ChatDevNames, fly: ReturnType<typeof readFly>): AppConfig {
  const server = read.section("server");
  const volume = server.section("volume");
  const volumeName = volume.text("name", { default: names.volume, pattern: patterns.volumeName, rule: "1-30 lowercase letters, digits or _" });
  return {
    app: {
      appName: names.server,
      ...fly,
      image: server.image("image", { default: `registry.fly.io/${names.server}:latest` }),
      processGroups: {
        app: {
          count: 1,
          guest: server.flyGuest("guest", { default: smallGuest }),
          httpService: readHttp(server, 8080),
          mounts: { [volumeName]: volume.text("path", { default: "/data", pattern: patterns.absolutePath, rule: "an absolute path" }) },
        },
      },
      volumes: { [volumeName]: { sizeGb: volume.integer("sizeGb", { default: 1, min: 1, max: 500, example: "1" }) } },
    },
    env: server.env("env", { default: {}, reserved: { names: serverWiredNames, rule: "is set by the program (the guide's wiring); remove it" } }),
  };
}

/** fly.web.toml: the Next.js web app. */
function readWeb(read: ProgramReader, names: ChatDevNames, fly: ReturnType<typeof readFly>): WebConfig {
  const web = read.section("web");
  return {
    app: {
      appName: names.web,
      ...fly,
      image: web.image("image", { default: `registry.fly.io/${names.web}:latest` }),
      processGroups: { app: { count: web.integer("count", { default: 1, min: 1, example: "1" }), guest: web.flyGuest("guest", { default: smallGuest }), httpService: readHttp(web, 3000) } },
    },
    env: web.env("env", { default: {} }),
    serverUrlEnv: web.optionalText("serverUrlEnv", { pattern: patterns.envName, rule: "an environment variable name", example: "NEXT_PUBLIC_API_URL" }),
  };
}

function readGuardrails(read: ProgramReader, environment: Environment): GuardrailsConfig | undefined {
  const github = read.section("github");
  if (!github.boolean("guardrails", { default: false })) return undefined;
  if (environment === "preview") {
    github.problem("guardrails", "must be false in a preview stack: previews come and go per branch, and the repository's guardrails would go with them", true);
  }
  const repository = github.text("repository", { pattern: patterns.githubRepository, rule: "`owner/name` of the GitHub repository", example: "my-org/chat-dev" });
  const users = github.list("productionReviewers", { pattern: githubLogin, rule: "a GitHub login without @", example: "octocat" });
  if (github.has("productionReviewers") && users.length === 0) github.problem("productionReviewers", "must name at least one GitHub login (the guide's production approval)", users);
  const teams = github.list("productionReviewerTeams", { default: [], pattern: githubTeamSlug, rule: "a team slug of the repository's organization", example: "release-managers" });
  const [owner, name] = repository.split("/");
  const token = (key: string, environmentName: Environment) =>
    read.secret(key, { what: `FLY_API_TOKEN of the GitHub \`${environmentName}\` environment (\`fly tokens create org\`)`, example: "FlyV1 …" });
  return {
    owner: owner ?? "",
    repository: name ?? "",
    productionReviewers: { users, teams: teams.length > 0 ? teams : undefined },
    requiredChecks: github.list("requiredChecks", { default: [lintAndBuild], example: lintAndBuild }),
    flyApiTokens: {
      production: token("productionFlyApiToken", "production"),
      staging: token("stagingFlyApiToken", "staging"),
      preview: token("previewFlyApiToken", "preview"),
    },
  };
}

/** The schema: every key of the `chat-dev` namespace. */
export function schema(read: ProgramReader): ChatDevConfig {
  const environment = read.oneOf("environment", environments, { example: "staging" });
  let branch: string | undefined;
  let slug: string | undefined;
  let prNumber: number | undefined;
  if (environment === "preview" && read.has("preview")) {
    // A pull request's stack: the workflow's keys decide. `branch`, copied from the template with the rest, is
    // the template's example for stacks made by hand and is superseded here.
    read.optionalText("branch");
    const pullRequest = read.section("preview");
    prNumber = pullRequest.integer("prNumber", { min: 1, example: "12" });
    branch = pullRequest.text("branch", { scalar: true, example: "feature/addabutton" });
    // A stand-in while prNumber is wrong; the ConfigError is thrown before anything uses it.
    slug = pullRequestSlug(branch, prNumber >= 1 && Number.isSafeInteger(prNumber) ? prNumber : 1);
  } else if (environment === "preview") {
    branch = read.text("branch", { example: "feature/addabutton" });
    const problem = branch === "" ? undefined : previewBranchProblem(branch);
    if (problem !== undefined) read.problem("branch", problem, branch);
    else if (branch !== "") slug = previewSlug(branch);
  }
  // A stand-in while the branch is wrong; the ConfigError is thrown before anything uses it.
  const names = chatDevNames(environment, slug ?? "preview");
  const fly = readFly(read);
  const appSecrets: AppSecretsSource =
    environment === "preview"
      ? { from: "guardrails", stack: read.text("guardrailsStack", { pattern: patterns.stack, rule: "the guardrails stack as `organization/chat-dev/production`", example: "organization/chat-dev/production" }) }
      : { from: "stack", encryptionKey: read.optionalSecret("encryptionKey", { what: "an existing CHAT_DEV_ENCRYPTION_KEY to keep" }) };
  return {
    environment,
    branch,
    prNumber,
    slug,
    names,
    worker: readWorker(read, names, fly),
    server: readServer(read, names, fly),
    web: readWeb(read, names, fly),
    appSecrets,
    guardrails: readGuardrails(read, environment),
  };
}

export const loadConfig = (): ChatDevConfig => readProgramConfig(namespace, schema);
