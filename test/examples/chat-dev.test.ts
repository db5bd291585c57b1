/**
 * Seed 003 (chat-dev, "Deployment Guardrails"), element by element, for each stack file of examples/chat-dev:
 * production, staging and the preview of feature/addabutton. Production runs first; the preview reads the
 * values production's guardrails generated, as a preview stack does through its StackReference.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { appNamePattern } from "../../dynamic-providers/fly/app";
import { pullRequestKeys } from "../../examples/chat-dev/config";
import { chatDevNames, maxSlugLength, previewBranchProblem, previewSlug, pullRequestSlug } from "../../examples/chat-dev/naming";
import {
  dependsOn,
  expectConfigError,
  exported,
  exportValue,
  flySecrets,
  isSecret,
  type Json,
  plainStrings,
  type ProgramRunOptions,
  type Registration,
  resource,
  resourcesOf,
  reveal,
  runProgram,
  stackNames,
  type StackRun,
} from "../programs/program-harness";
import { generatedSecrets, types } from "../programs/provider-mocks";
import { pathValue, workflowConfig, workflowConfigSets } from "../stacks/pull-request-workflow";

const dir = "examples/chat-dev";
const guardrailsStack = "organization/chat-dev/production";
const flyVolume = types.flyVolume;
const randomBytes = types.randomBytes;
const ruleset = types.repositoryRuleset;
const branchPolicy = "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy";
const githubProvider = "pulumi:providers:github";
const getUser = "github:index/getUser:getUser";

/** What the user sets with `pulumi config set --secret`; none may show outside a secret. */
const dummy = {
  productionFlyApiToken: "FlyV1 dummy-org-token-production-7q",
  stagingFlyApiToken: "FlyV1 dummy-org-token-staging-2x",
  previewFlyApiToken: "FlyV1 dummy-org-token-preview-9c",
  encryptionKey: "existing-encryption-key-production-5w",
};
/** What the mocked random.RandomBytes makes: its resource name then `-hex-generated`. */
const generatedHex = (name: string): string => `${name}-hex-generated`;

const outputsFor = (type: string, name: string): Json | undefined => {
  if (type === randomBytes) return { hex: generatedHex(name), base64: `${name}-b64-generated` };
  if (type === ruleset) return { rulesetId: 7 };
  return undefined;
};
const calls = (args: { token: string; inputs: Json }): Json | undefined =>
  args.token === getUser ? { id: "1001", login: String(args.inputs.username) } : undefined;

const productionOptions: Omit<ProgramRunOptions, "dir" | "stack"> = {
  provided: { github: { repository: "chat-dev-team/chat-dev", productionReviewers: ["chat-dev-owner"] } },
  secrets: { ...dummy },
  outputsFor,
  calls,
};

type Stack = "production" | "staging" | "preview";

interface Expected {
  worker: string;
  server: string;
  web: string;
  volume: string;
  minMachines: number;
  mixpanel: string | undefined;
  workerSecret: string;
  encryptionKey: string;
}

const previewWorkerSecret = generatedHex("guardrails-generated-WORKER_SECRET");
const previewEncryptionKey = generatedHex("guardrails-generated-CHAT_DEV_ENCRYPTION_KEY");

const expectations: Record<Stack, Expected> = {
  production: {
    worker: "chat-dev-worker",
    server: "chat-dev-server",
    web: "chat-dev-web",
    volume: "chat_dev_data",
    minMachines: 1,
    mixpanel: undefined,
    workerSecret: generatedHex("worker-secret"),
    encryptionKey: dummy.encryptionKey,
  },
  staging: {
    worker: "chat-dev-worker-dev",
    server: "chat-dev-server-dev",
    web: "chat-dev-web-dev",
    volume: "chat_dev_data_dev",
    minMachines: 0,
    mixpanel: "0",
    workerSecret: generatedHex("worker-secret"),
    encryptionKey: generatedHex("encryption-key"),
  },
  preview: {
    worker: "addabutton-chat-dev-worker-dev",
    server: "addabutton-chat-dev-server-dev",
    web: "addabutton-chat-dev-web-dev",
    volume: "chat_dev_data_dev",
    minMachines: 0,
    mixpanel: "0",
    workerSecret: previewWorkerSecret,
    encryptionKey: previewEncryptionKey,
  },
};

const runs: Partial<Record<Stack, StackRun>> = {};
/** The production stack's outputs as a StackReference hands them to a preview. */
const productionOutputs: Json = {};

beforeAll(async () => {
  runs.production = await runProgram({ dir, stack: "production", ...productionOptions });
  for (const name of ["previewWorkerSecret", "previewEncryptionKey"]) productionOutputs[name] = (await exported(runs.production, name)).value;
  runs.staging = await runProgram({ dir, stack: "staging", outputsFor });
  runs.preview = await runProgram({ dir, stack: "preview", outputsFor, stackReferences: { [guardrailsStack]: productionOutputs } });
});

function runOf(stack: Stack): StackRun {
  const run = runs[stack];
  if (!run) throw new Error(`stack ${stack} did not run`);
  return run;
}



function machinesOf(run: StackRun, appName: string): Registration[] {
  return resourcesOf(run, types.flyMachine).filter((machine) => machine.inputs.appName === appName);
}

function envOf(run: StackRun, machine: string): Record<string, unknown> {
  const env = resource(run, types.flyMachine, machine).inputs.env;
  expect(isSecret(env)).toBe(false);
  return env as Record<string, unknown>;
}


describe("examples/chat-dev", () => {
  it("has one stack file per environment of the guide: production, staging, preview", () => {
    expect(stackNames(dir)).toEqual(["preview", "production", "staging"]);
  });
});

describe.each(["production", "staging", "preview"] as const)("%s: seed 003", (stack) => {
  const expected = expectations[stack];

  it(`Fly apps: ${expected.worker}, ${expected.server}, ${expected.web} in org personal`, async () => {
    const run = runOf(stack);
    for (const [name, appName] of [["worker", expected.worker], ["server", expected.server], ["web", expected.web]]) {
      expect(resource(run, types.flyApp, name).inputs).toMatchObject({ name: appName, orgSlug: "personal" });
    }
    expect([await exportValue(run, "workerAppName"), await exportValue(run, "serverAppName"), await exportValue(run, "webAppName")]).toEqual([
      expected.worker,
      expected.server,
      expected.web,
    ]);
  });

  it("region: iad (the program's default; the guide names none)", () => {
    const run = runOf(stack);
    expect([...machinesOf(run, expected.server), ...machinesOf(run, expected.web)].map((machine) => machine.inputs.region)).toEqual(["iad", "iad"]);
  });

  it("guest: shared, 1 cpu, 512 MB on the server and the web (the program's default)", () => {
    const run = runOf(stack);
    for (const machine of ["server-app-0", "web-app-0"]) {
      expect(resource(run, types.flyMachine, machine).inputs.guest).toEqual({ cpuKind: "shared", cpus: 1, memoryMb: 512 });
    }
  });

  it("ports and services: server on 8080, web (Next.js) on 3000, each behind Fly's HTTP service (80 → HTTPS, 443 TLS)", () => {
    const run = runOf(stack);
    for (const [machine, port] of [["server-app-0", 8080], ["web-app-0", 3000]] as const) {
      const services = resource(run, types.flyMachine, machine).inputs.services as Json[];
      expect(services).toHaveLength(1);
      expect(services[0]).toMatchObject({
        protocol: "tcp",
        internalPort: port,
        ports: [
          { port: 80, handlers: ["http"], forceHttps: true },
          { port: 443, handlers: ["tls", "http"] },
        ],
      });
    }
  });

  it(`autostop: stop when idle, started on a request, min machines running ${expected.minMachines}`, () => {
    const run = runOf(stack);
    for (const machine of ["server-app-0", "web-app-0"]) {
      const [service] = resource(run, types.flyMachine, machine).inputs.services as Json[];
      expect(service).toMatchObject({ autostop: "stop", autostart: true, minMachinesRunning: expected.minMachines });
    }
  });

  it("one server Machine and one web Machine; no standing worker Machine (the server creates them from FLY_WORKER_IMAGE)", () => {
    const run = runOf(stack);
    expect(machinesOf(run, expected.server).map((machine) => machine.name)).toEqual(["server-app-0"]);
    expect(machinesOf(run, expected.web).map((machine) => machine.name)).toEqual(["web-app-0"]);
    expect(machinesOf(run, expected.worker)).toEqual([]);
  });

  it("no health checks, release command or cron machines (the guide has none)", () => {
    const run = runOf(stack);
    expect(resourcesOf(run, "pulumi-nodejs:dynamic/fly:ReleaseCommand")).toEqual([]);
    for (const machine of resourcesOf(run, types.flyMachine)) {
      expect(machine.inputs.schedule).toBeUndefined();
      expect(machine.inputs.checks).toBeUndefined();
    }
  });

  it(`the server keeps SQLite on its own volume ${expected.volume}, mounted at /data`, async () => {
    const run = runOf(stack);
    const volume = resource(run, flyVolume, `server-${expected.volume}-app-0`);
    expect(volume.inputs).toMatchObject({ appName: expected.server, name: expected.volume, region: "iad", sizeGb: 1 });
    expect(resourcesOf(run, flyVolume)).toHaveLength(1);
    expect(resource(run, types.flyMachine, "server-app-0").inputs.mounts).toEqual([{ volume: `vol_server${expected.volume.replace(/_/g, "")}app0`, path: "/data" }]);
    expect(await exportValue(run, "serverVolume")).toBe(expected.volume);
  });

  it("secrets: the server gets FLY_API_TOKEN, WORKER_SECRET, CHAT_DEV_ENCRYPTION_KEY; the worker WORKER_SECRET; all secret", () => {
    const run = runOf(stack);
    expect(Object.keys(flySecrets(run, "server-secrets")).sort()).toEqual(["CHAT_DEV_ENCRYPTION_KEY", "FLY_API_TOKEN", "WORKER_SECRET"]);
    expect(Object.keys(flySecrets(run, "worker-secrets"))).toEqual(["WORKER_SECRET"]);
    expect(resourcesOf(run, types.flySecrets).map((secrets) => secrets.name).sort()).toEqual(["server-secrets", "worker-secrets"]);
    for (const machine of resourcesOf(run, types.flyMachine)) {
      expect(Object.keys(machine.inputs.env as Json)).not.toEqual(expect.arrayContaining(["FLY_API_TOKEN"]));
    }
  });

  it("FLY_WORKER_APP: the server is wired to this environment's worker app by name", async () => {
    const run = runOf(stack);
    expect(envOf(run, "server-app-0").FLY_WORKER_APP).toBe(await exportValue(run, "workerAppName"));
    expect(envOf(run, "server-app-0").FLY_WORKER_APP).toBe(expected.worker);
  });

  it("FLY_WORKER_IMAGE equals the worker's image output", async () => {
    const run = runOf(stack);
    const image = await exportValue(run, "workerImage");
    expect(image).toBe(`registry.fly.io/${expected.worker}:latest`);
    expect(envOf(run, "server-app-0").FLY_WORKER_IMAGE).toBe(image);
  });

  it("WORKER_CALLBACK_URL is the server's own URL", async () => {
    const run = runOf(stack);
    const url = await exportValue(run, "serverUrl");
    expect(url).toBe(`https://${expected.server}.fly.dev`);
    expect(envOf(run, "server-app-0").WORKER_CALLBACK_URL).toBe(url);
  });

  it("FLY_API_TOKEN (server-side worker Machine creation) is the worker app's deploy token", () => {
    const run = runOf(stack);
    expect(resource(run, types.flyDeployToken, "worker-deploy-token").inputs).toMatchObject({ appName: expected.worker });
    expect(resourcesOf(run, types.flyDeployToken)).toHaveLength(1);
    expect(flySecrets(run, "server-secrets").FLY_API_TOKEN).toBe(generatedSecrets.deployToken("worker-deploy-token"));
    expect(dependsOn(resource(run, types.flySecrets, "server-secrets"), "worker-deploy-token")).toBe(true);
  });

  it("WORKER_SECRET: one value, shared by the server and the worker", () => {
    const run = runOf(stack);
    expect(flySecrets(run, "server-secrets").WORKER_SECRET).toBe(expected.workerSecret);
    expect(flySecrets(run, "worker-secrets").WORKER_SECRET).toBe(expected.workerSecret);
  });

  it("CHAT_DEV_ENCRYPTION_KEY on the server", () => {
    expect(flySecrets(runOf(stack), "server-secrets").CHAT_DEV_ENCRYPTION_KEY).toBe(expected.encryptionKey);
  });

  it(`Staging analytics: NEXT_PUBLIC_ENABLE_MIXPANEL ${expected.mixpanel === undefined ? "unset (Mixpanel on)" : "=0"} on the web`, () => {
    expect(envOf(runOf(stack), "web-app-0").NEXT_PUBLIC_ENABLE_MIXPANEL).toBe(expected.mixpanel);
  });

  it(`URLs: web https://${expected.web}.fly.dev, API https://${expected.server}.fly.dev`, async () => {
    const run = runOf(stack);
    expect(await exported(run, "webUrl")).toEqual({ value: `https://${expected.web}.fly.dev`, secret: false });
    expect(await exported(run, "serverUrl")).toEqual({ value: `https://${expected.server}.fly.dev`, secret: false });
  });

  it("no user-provided or generated secret appears outside a secret, in any input or export", async () => {
    const run = runOf(stack);
    const values = [
      ...Object.values(dummy),
      generatedSecrets.deployToken("worker-deploy-token"),
      generatedHex("worker-secret"),
      generatedHex("encryption-key"),
      previewWorkerSecret,
      previewEncryptionKey,
    ];
    for (const registration of run.registrations) {
      const plain = plainStrings(registration.inputs).map((entry) => entry.value);
      for (const value of values) expect(plain, `${registration.type} ${registration.name}`).not.toContain(value);
    }
    for (const name of Object.keys(run.exports)) {
      const { value, secret } = await exported(run, name);
      if (!secret) for (const candidate of values) expect(JSON.stringify(value ?? null)).not.toContain(candidate);
    }
  });
});

describe("production: the repository's guardrails (this stack alone owns them)", () => {
  it("the github provider is for the repository's owner", () => {
    expect(resource(runOf("production"), githubProvider, "github").inputs).toMatchObject({ owner: "chat-dev-team" });
  });

  it.each([
    ["staging", ["staging"]],
    ["production", ["main", "master"]],
    ["preview", ["feature/*", "features/*"]],
  ])("Settings > Environments: %s, deployable from %j only", (environment, branches) => {
    const run = runOf("production");
    expect(resource(run, types.repositoryEnvironment, `guardrails-${environment}`).inputs).toMatchObject({
      repository: "chat-dev",
      environment,
      deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
    });
    const policies = resourcesOf(run, branchPolicy).filter((policy) => policy.inputs.environment === environment);
    expect(policies.map((policy) => policy.inputs.branchPattern)).toEqual(branches);
  });

  it("production approval: the reviewers from config (chat-dev:github.productionReviewers), looked up by login", () => {
    const run = runOf("production");
    expect(resource(run, types.repositoryEnvironment, "guardrails-production").inputs.reviewers).toEqual([{ users: [1001] }]);
    expect(run.calls.filter((call) => call.token === getUser).map((call) => call.inputs.username)).toEqual(["chat-dev-owner"]);
    for (const environment of ["staging", "preview"]) {
      expect(resource(run, types.repositoryEnvironment, `guardrails-${environment}`).inputs.reviewers).toBeUndefined();
    }
  });

  it("Required checks: a ruleset requiring `CI / Lint and build` (context `Lint and build`, from GitHub Actions) on the default branch", () => {
    const inputs = resource(runOf("production"), ruleset, "guardrails-required-checks").inputs;
    expect(inputs).toMatchObject({
      repository: "chat-dev",
      target: "branch",
      enforcement: "active",
      conditions: { refName: { includes: ["~DEFAULT_BRANCH"] } },
      rules: { requiredStatusChecks: { requiredChecks: [{ context: "Lint and build", integrationId: 15368 }] } },
    });
  });

  it.each(["staging", "production", "preview"])("FLY_API_TOKEN in the %s environment: the token the user set, secret", (environment) => {
    const secret = resource(runOf("production"), types.actionsEnvironmentSecret, `guardrails-${environment}-secret-FLY_API_TOKEN`);
    expect(isSecret(secret.inputs.value)).toBe(true);
    expect(reveal(secret.inputs)).toMatchObject({ repository: "chat-dev", environment, secretName: "FLY_API_TOKEN", value: dummy[`${environment}FlyApiToken` as keyof typeof dummy] });
  });

  it.each([
    ["WORKER_SECRET", previewWorkerSecret, "previewWorkerSecret"],
    ["CHAT_DEV_ENCRYPTION_KEY", previewEncryptionKey, "previewEncryptionKey"],
  ])("%s: generated with @pulumi/random (32 bytes, hex) into the preview environment, exported secret for preview stacks", async (name, value, output) => {
    const run = runOf("production");
    expect(resource(run, randomBytes, `guardrails-generated-${name}`).inputs).toMatchObject({ length: 32 });
    const secret = resource(run, types.actionsEnvironmentSecret, `guardrails-preview-secret-${name}`);
    expect(isSecret(secret.inputs.value)).toBe(true);
    expect(reveal(secret.inputs)).toMatchObject({ environment: "preview", secretName: name, value });
    expect(await exported(run, output)).toEqual({ value, secret: true });
  });

  it("no repository-wide secret: every deploy secret is an environment's", () => {
    expect(resourcesOf(runOf("production"), types.actionsSecret)).toEqual([]);
    expect(resourcesOf(runOf("production"), types.actionsEnvironmentSecret)).toHaveLength(5);
  });
});

describe.each(["staging", "preview"] as const)("%s: no repository guardrails", (stack) => {
  it("makes no GitHub resource and exports no preview secrets", async () => {
    const run = runOf(stack);
    expect(run.registrations.filter((registration) => registration.type.startsWith("github:") || registration.type === githubProvider)).toEqual([]);
    expect(await exportValue(run, "previewWorkerSecret")).toBeUndefined();
  });
});

describe("preview: feature/addabutton", () => {
  it("the slug comes from the branch in config", async () => {
    const run = runOf("preview");
    expect(await exportValue(run, "previewBranch")).toBe("feature/addabutton");
    expect(await exportValue(run, "previewSlug")).toBe("addabutton");
  });

  it("WORKER_SECRET and CHAT_DEV_ENCRYPTION_KEY are the values the guardrails stack put in the GitHub preview environment", () => {
    const run = runOf("preview");
    const reference = resourcesOf(run, types.stackReference);
    expect(reference.map((r) => [r.name, r.inputs.name, r.read])).toEqual([["guardrails", guardrailsStack, true]]);
    expect(productionOutputs).toEqual({ previewWorkerSecret, previewEncryptionKey });
    expect(flySecrets(run, "server-secrets")).toMatchObject({ WORKER_SECRET: previewWorkerSecret, CHAT_DEV_ENCRYPTION_KEY: previewEncryptionKey });
    expect(resourcesOf(run, randomBytes)).toEqual([]);
  });

  it("another branch makes other apps: features/Fix_Login.Page → fix-login-page-chat-dev-*-dev", async () => {
    const run = await runProgram({
      dir,
      stack: "preview",
      outputsFor,
      stackReferences: { [guardrailsStack]: productionOutputs },
      overrides: { branch: "features/Fix_Login.Page" },
    });
    expect(resource(run, types.flyApp, "server").inputs.name).toBe("fix-login-page-chat-dev-server-dev");
    expect(envOf(run, "server-app-0")).toMatchObject({
      FLY_WORKER_APP: "fix-login-page-chat-dev-worker-dev",
      WORKER_CALLBACK_URL: "https://fix-login-page-chat-dev-server-dev.fly.dev",
    });
  });
});

describe("pull-request previews: the preview-environment workflow's keys over Pulumi.preview.yaml", () => {
  /** The stack `pr-<number>` the workflow makes: the template, then its keys. */
  const runPullRequest = (prNumber: number, branch: string, extra: Json = {}): Promise<StackRun> =>
    runProgram({ dir, stack: "preview", outputsFor, stackReferences: { [guardrailsStack]: productionOutputs }, overrides: { ...workflowConfig(prNumber, branch), ...extra } });

  it("the workflow sets exactly the keys this program reads for a pull request", () => {
    expect(workflowConfigSets().map((set) => set.key)).toEqual(Object.values(pullRequestKeys));
  });

  it("a feature/<slug> branch keeps the guide's names; the template's chat-dev:branch is superseded", async () => {
    const run = await runPullRequest(12, "feature/make-it-blue");
    for (const [name, appName] of [["worker", "make-it-blue-chat-dev-worker-dev"], ["server", "make-it-blue-chat-dev-server-dev"], ["web", "make-it-blue-chat-dev-web-dev"]]) {
      expect(resource(run, types.flyApp, name).inputs.name).toBe(appName);
    }
    expect([await exportValue(run, "previewBranch"), await exportValue(run, "previewSlug"), await exportValue(run, "previewPrNumber")]).toEqual(["feature/make-it-blue", "make-it-blue", 12]);
  });

  it("any other branch gets pr-<number>: pr-12-chat-dev-*-dev, wired to each other, stopped when idle, with the preview secrets", async () => {
    const run = await runPullRequest(12, "fix/login");
    expect(resourcesOf(run, types.flyApp).map((app) => app.inputs.name)).toEqual(["pr-12-chat-dev-worker-dev", "pr-12-chat-dev-server-dev", "pr-12-chat-dev-web-dev"]);
    expect(envOf(run, "server-app-0")).toMatchObject({
      FLY_WORKER_APP: "pr-12-chat-dev-worker-dev",
      FLY_WORKER_IMAGE: "registry.fly.io/pr-12-chat-dev-worker-dev:latest",
      WORKER_CALLBACK_URL: "https://pr-12-chat-dev-server-dev.fly.dev",
    });
    expect(resource(run, flyVolume, "server-chat_dev_data_dev-app-0").inputs).toMatchObject({ appName: "pr-12-chat-dev-server-dev", name: "chat_dev_data_dev" });
    for (const machine of ["server-app-0", "web-app-0"]) {
      const [service] = resource(run, types.flyMachine, machine).inputs.services as Json[];
      expect(service).toMatchObject({ autostop: "stop", autostart: true, minMachinesRunning: 0 });
    }
    expect(flySecrets(run, "server-secrets")).toMatchObject({ WORKER_SECRET: previewWorkerSecret, CHAT_DEV_ENCRYPTION_KEY: previewEncryptionKey });
    expect(run.registrations.filter((registration) => registration.type.startsWith("github:"))).toEqual([]);
    expect(await exported(run, "webUrl")).toEqual({ value: "https://pr-12-chat-dev-web-dev.fly.dev", secret: false });
    expect([await exportValue(run, "previewBranch"), await exportValue(run, "previewSlug")]).toEqual(["fix/login", "pr-12"]);
  });

  it("a branch named 123, which Pulumi stores as a number, is a branch like any other", async () => {
    const run = await runPullRequest(7, "123");
    expect(workflowConfig(7, "123")).toMatchObject({ preview: { prNumber: 7, branch: 123 } });
    expect(resource(run, types.flyApp, "web").inputs.name).toBe("pr-7-chat-dev-web-dev");
    expect(await exportValue(run, "previewBranch")).toBe("123");
  });

  it.each([
    ["PR number 0", { preview: { prNumber: 0 } }, "preview.prNumber", "must be at least 1"],
    ["no branch", { preview: { prNumber: 3, branch: null } }, "preview.branch", "is required"],
  ] as [string, Json, string, string][])("refuses %s, naming the key", async (_label, extra, key, rule) => {
    const problem = await expectConfigError(runPullRequest(3, "feature/x", extra), key);
    expect(problem).toContain(rule);
  });

  it("refuses the pull request's keys outside a preview stack", async () => {
    const problem = await expectConfigError(runProgram({ dir, stack: "staging", outputsFor, overrides: { preview: { prNumber: 3, branch: "feature/x" } } }), "preview");
    expect(problem).toContain("is not a key this program reads");
  });
});

describe("pullRequestSlug (naming.ts): the guide's slug for its branches, pr-<number> for the rest", () => {
  it.each([
    ["feature/addabutton", "addabutton"],
    ["features/Fix_Login.Page", "fix-login-page"],
    ["feature/émoji-ünïcode", "moji-n-code"],
    ["main", "pr-12"],
    ["fix/login", "pr-12"],
    ["feature/a/b", "pr-12"],
    ["feature/___", "pr-12"],
    ["Feature/x", "pr-12"],
    ["dependabot/npm_and_yarn/axios-1.7.4", "pr-12"],
    ["", "pr-12"],
  ])("%j → %s", (branch, slug) => {
    expect(pullRequestSlug(branch, 12)).toBe(slug);
    for (const name of Object.values(chatDevNames("preview", slug)).slice(0, 3)) expect(name).toMatch(appNamePattern);
  });

  it("keeps a long feature slug's cut and hash, and fits the largest number in Fly's 63 characters", () => {
    const long = `feature/${"make-the-button-bigger-".repeat(4)}now`;
    expect(pullRequestSlug(long, 12)).toBe(previewSlug(long));
    const widest = chatDevNames("preview", pullRequestSlug("main", Number.MAX_SAFE_INTEGER)).worker;
    expect(widest).toBe(`pr-${Number.MAX_SAFE_INTEGER}-chat-dev-worker-dev`);
    expect(widest.length).toBeLessThanOrEqual(63);
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses pull request number %s", (prNumber) => {
    expect(() => pullRequestSlug("main", prNumber)).toThrow("pull request number must be a whole number from 1");
  });

  it("reads a typed branch value as Pulumi stores it", () => {
    expect([pathValue("123"), pathValue("true"), pathValue("0123"), pathValue("feature/x")]).toEqual([123, true, "0123", "feature/x"]);
  });
});

describe("staging: web.serverUrlEnv", () => {
  it("hands the server's URL to the web under the name the stack gives", async () => {
    const run = await runProgram({ dir, stack: "staging", outputsFor, overrides: { web: { serverUrlEnv: "NEXT_PUBLIC_API_URL" } } });
    expect(envOf(run, "web-app-0").NEXT_PUBLIC_API_URL).toBe("https://chat-dev-server-dev.fly.dev");
  });
});

describe("the preview slug rule (naming.ts)", () => {
  it.each([
    ["feature/addabutton", "addabutton"],
    ["features/addabutton", "addabutton"],
    ["feature/AddAButton", "addabutton"],
    ["feature/fix.login.page", "fix-login-page"],
    ["feature/fix_login__page", "fix-login-page"],
    ["feature/-leading-and-trailing-", "leading-and-trailing"],
    ["feature/..v1.2--beta__", "v1-2-beta"],
    ["feature/émoji-ünïcode", "moji-n-code"],
  ])("%s → %s", (branch, slug) => {
    expect(previewBranchProblem(branch)).toBeUndefined();
    expect(previewSlug(branch)).toBe(slug);
  });

  it("a slug too long for Fly's 63-character app names is cut to 43 and ends with a hash of the whole slug", () => {
    const long = `feature/${"make-the-button-bigger-".repeat(4)}now`;
    const slug = previewSlug(long);
    expect(maxSlugLength).toBe(43);
    expect(slug.length).toBeLessThanOrEqual(maxSlugLength);
    expect(slug).toMatch(/^make-the-button-bigger-make-the-butt-[0-9a-f]{6}$/);
    expect(previewSlug(long.replace(/now$/, "later"))).not.toBe(slug);
    for (const name of Object.values(chatDevNames("preview", slug)).slice(0, 3)) {
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(appNamePattern);
    }
  });

  it("a slug of exactly 43 characters is kept whole", () => {
    const slug = "a".repeat(maxSlugLength);
    expect(previewSlug(`feature/${slug}`)).toBe(slug);
    expect(chatDevNames("preview", slug).server).toHaveLength(63);
  });

  it.each([
    ["main", "must start with feature/ or features/"],
    ["staging", "must start with feature/ or features/"],
    ["feat/x", "must start with feature/ or features/"],
    ["Feature/x", "must start with feature/ or features/"],
    ["bugfix/feature/x", "must start with feature/ or features/"],
    ["feature/", "must have a letter or digit after feature/"],
    ["feature/___", "must have a letter or digit after feature/"],
    ["feature/a/b", "must have one level below feature/"],
  ])("refuses %s (%s)", (branch, problem) => {
    expect(previewBranchProblem(branch)).toContain(problem);
    expect(() => previewSlug(branch)).toThrow(`preview branch '${branch}' ${problem}`);
  });

  it("names per environment", () => {
    expect(chatDevNames("production")).toEqual({ worker: "chat-dev-worker", server: "chat-dev-server", web: "chat-dev-web", volume: "chat_dev_data" });
    expect(chatDevNames("staging")).toEqual({ worker: "chat-dev-worker-dev", server: "chat-dev-server-dev", web: "chat-dev-web-dev", volume: "chat_dev_data_dev" });
    expect(() => chatDevNames("preview")).toThrow("a preview needs its branch's slug");
  });
});

describe("wrong config is refused, naming the key", () => {
  const preview = { outputsFor, stackReferences: { [guardrailsStack]: productionOutputs } };
  const cases: [string, Stack, Omit<ProgramRunOptions, "dir" | "stack">, string, string][] = [
    ["an unknown environment", "staging", { overrides: { environment: "prod" } }, "environment", "must be one of production, staging, preview"],
    ["a preview of main", "preview", { ...preview, overrides: { branch: "main" } }, "branch", "must start with feature/ or features/"],
    ["a nested feature branch", "preview", { ...preview, overrides: { branch: "feature/a/b" } }, "branch", "must have one level below feature/"],
    ["a branch with nothing to name apps by", "preview", { ...preview, overrides: { branch: "feature/__" } }, "branch", "must have a letter or digit"],
    ["a preview without its branch", "staging", { overrides: { environment: "preview" } }, "branch", "is required"],
    ["a preview without the guardrails stack", "staging", { overrides: { environment: "preview" } }, "guardrailsStack", "is required"],
    ["a branch outside a preview", "staging", { overrides: { branch: "feature/x" } }, "branch", "is not a key this program reads"],
    ["guardrails in a preview", "preview", { ...preview, overrides: { github: { guardrails: true } } }, "github.guardrails", "must be false in a preview stack"],
    ["an encryption key in a preview", "preview", { ...preview, secrets: { encryptionKey: "x" } }, "encryptionKey", "is not a key this program reads"],
    ["a missing FLY_API_TOKEN for production", "production", { ...productionOptions, secrets: { ...dummy, productionFlyApiToken: "" } }, "productionFlyApiToken", "is required"],
    ["a missing repository", "production", { ...productionOptions, provided: { github: { productionReviewers: ["x"] } } }, "github.repository", "is required"],
    ["a reviewer with @", "production", { ...productionOptions, overrides: { github: { productionReviewers: ["@octocat"] } } }, "github.productionReviewers[0]", "must be a GitHub login"],
    ["no production reviewer", "production", { ...productionOptions, provided: { github: { repository: "o/chat-dev" } } }, "github.productionReviewers", "is required"],
    ["a wired name in server.env", "staging", { overrides: { server: { env: { FLY_WORKER_IMAGE: "x" } } } }, "server.env.FLY_WORKER_IMAGE", "is set by the program"],
    ["an unknown region", "staging", { overrides: { fly: { region: "mars" } } }, "fly.region", "must be one of"],
    ["port 0", "staging", { overrides: { server: { internalPort: 0 } } }, "server.internalPort", "must be between 1 and 65535"],
    ["an invalid volume name", "staging", { overrides: { server: { volume: { name: "Chat-Data" } } } }, "server.volume.name", "must be 1-30 lowercase letters"],
    ["a relative mount path", "staging", { overrides: { server: { volume: { path: "data" } } } }, "server.volume.path", "must be an absolute path"],
    ["an autostop Fly does not know", "staging", { overrides: { web: { autostop: "sometimes" } } }, "web.autostop", "must be one of off, stop, suspend"],
    ["a negative worker count", "staging", { overrides: { worker: { count: -1 } } }, "worker.count", "must be at least 0"],
    ["a bad serverUrlEnv", "staging", { overrides: { web: { serverUrlEnv: "1BAD" } } }, "web.serverUrlEnv", "must be an environment variable name"],
    ["a bad image", "staging", { overrides: { web: { image: "Not An Image" } } }, "web.image", "must be a container image reference"],
    ["a misspelt setting", "staging", { overrides: { server: { minMachineRunning: 1 } } }, "server.minMachineRunning", "is not a setting this program reads"],
  ];

  it.each(cases)("%s", async (_label, stack, options, key, rule) => {
    const problem = await expectConfigError(runProgram({ dir, stack, outputsFor, ...options }), key);
    expect(problem).toContain(rule);
    expect(problem).toMatch(/(set it with|remove it with) `pulumi config /);
  });
});
