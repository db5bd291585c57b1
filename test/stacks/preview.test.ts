/**
 * Seed 000's pull-request preview, stack `pr-<number>`: Pulumi.preview.yaml (the template the workflow copies)
 * plus the keys .github/workflows/preview-environment.yml sets, read from the workflow itself. For a given number
 * and branch the program builds the expected app names, a Neon branch of staging's with its expiry, a private
 * dashboard, no GitHub or docs resources, and the apps' secrets from the new branch.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError, parseConfig, type PlatformConfig } from "../../config";
import { appNamePattern } from "../../dynamic-providers/fly/app";
import { branchExpiryProblem } from "../../dynamic-providers/neon/check";
import { previewExpiry, pullRequestAppName, pullRequestBranchName, pullRequestKeys } from "../../preview-environment";
import { merge, runProgram, stackValues, type Json } from "../programs/program-harness";
import { pathValue, previewPrograms, templateStack, workflowConfig, workflowConfigSets } from "./pull-request-workflow";
import { dummySecrets, exported, exportValue, flySecrets, productionOutputs, resource, resourcesOf, type StackRun, types } from "./stack-harness";

const repositoryRoot = join(__dirname, "..", "..");
const stagingStack = "organization/platform/staging";
const productionStack = "organization/platform/production";
/** What the staging stack exports, as a preview's StackReference reads it (index.ts exports these from every stack). */
const stagingOutputs = {
  neonProjectId: productionOutputs.neonProjectId,
  neonBranchId: "br-staging-2",
  neonMainBranchId: productionOutputs.neonMainBranchId,
  neonOwnerRoleName: productionOutputs.neonOwnerRoleName,
};
/** What the template's owner sets on it once and commits (Pulumi.preview.yaml's comments). */
const templateProvided: Json = {
  cloudflare: { accountId: "0123456789abcdef0123456789abcdef" },
  wordpress: { baseUrl: "https://naluma.space" },
};
const pushedAt = new Date("2026-05-04T17:30:00Z");
const expiresAt = "2026-05-11T00:00:00Z";

/** Runs index.ts as the workflow's `pr-<number>` stack: template, workflow keys, then `extra`, at `at`. */
async function runPreview(prNumber: number, branch: string, extra: Json = {}, at = pushedAt): Promise<StackRun> {
  vi.setSystemTime(at);
  return runProgram({
    dir: ".",
    stack: templateStack(),
    namespace: "platform",
    provided: templateProvided,
    overrides: merge(workflowConfig(prNumber, branch), extra),
    secrets: dummySecrets,
    stackReferences: { [stagingStack]: stagingOutputs, [productionStack]: productionOutputs },
  });
}



beforeAll(() => {
  // Only Date: the harness waits with real timers.
  vi.useFakeTimers({ toFake: ["Date"] });
});

afterAll(() => {
  vi.useRealTimers();
});

describe("the workflow and the programs agree on the keys", () => {
  it("preview-environment.yml sets exactly environment, preview.prNumber and preview.branch, the keys seed 000 reads", () => {
    expect(workflowConfigSets()).toEqual([
      { key: pullRequestKeys.environment, path: false, value: "preview" },
      { key: pullRequestKeys.prNumber, path: true, value: "$PR_NUMBER" },
      { key: pullRequestKeys.branch, path: true, value: "$BRANCH" },
    ]);
  });

  it("copies the `preview` template stack, which every program it deploys has", () => {
    expect(templateStack()).toBe("preview");
    expect(previewPrograms()).toEqual([".", "examples/chat-dev"]);
    for (const dir of previewPrograms()) expect(existsSync(join(repositoryRoot, dir, `Pulumi.${templateStack()}.yaml`)), dir).toBe(true);
  });

  it("hands the program the number as a number, as `pulumi config set --path` stores it", () => {
    expect(workflowConfig(12, "feature/add-button")).toEqual({ environment: "preview", preview: { prNumber: 12, branch: "feature/add-button" } });
  });
});

describe("seed 000's preview for pull request 12 from feature/add-button", () => {
  let run: StackRun;
  beforeAll(async () => {
    run = await runPreview(12, "feature/add-button");
  });

  it("names the apps after the number: naluma-content-pr-12, naluma-dashboard-pr-12", async () => {
    expect(resource(run, types.flyApp, "worker").inputs).toMatchObject({ name: "naluma-content-pr-12", orgSlug: "personal" });
    expect(resource(run, types.flyApp, "dashboard").inputs).toMatchObject({ name: "naluma-dashboard-pr-12", orgSlug: "personal" });
    expect(resourcesOf(run, types.flyApp)).toHaveLength(2);
    expect([await exportValue(run, "workerAppName"), await exportValue(run, "dashboardAppName")]).toEqual(["naluma-content-pr-12", "naluma-dashboard-pr-12"]);
    expect([await exportValue(run, "environment"), await exportValue(run, "previewPrNumber"), await exportValue(run, "previewBranch")]).toEqual(["preview", 12, "feature/add-button"]);
  });

  it("branches the database from staging's Neon branch, read from the staging stack, as preview/pr-12", async () => {
    expect(resourcesOf(run, types.stackReference).map((reference) => [reference.name, reference.inputs.name, reference.read])).toEqual([[stagingStack, stagingStack, true]]);
    expect(resourcesOf(run, types.neonProject)).toEqual([]);
    expect(resource(run, types.neonBranch, "neon-branch").inputs).toMatchObject({
      projectId: stagingOutputs.neonProjectId,
      name: "preview/pr-12",
      parentId: stagingOutputs.neonBranchId,
      expiresAt,
    });
    expect(resource(run, types.neonBranch, "neon-branch").inputs.protected).not.toBe(true);
    expect(resource(run, types.neonEndpoint, "neon-endpoint").inputs.branchId).toBe("br-preview/pr-12-2");
    expect(resource(run, types.neonRole, "neon-owner").inputs).toMatchObject({ name: "naluma_content_owner", adopt: true });
    expect([await exportValue(run, "neonBranchId"), await exportValue(run, "neonMainBranchId")]).toEqual(["br-preview/pr-12-2", stagingOutputs.neonMainBranchId]);
  });

  it(`expires the branch at ${expiresAt}: midnight UTC of the push's day plus 7 days, which Neon takes`, async () => {
    expect(await exportValue(run, "neonBranchExpiresAt")).toBe(expiresAt);
    expect(branchExpiryProblem(expiresAt, pushedAt.getTime())).toBeUndefined();
  });

  it("stops the dashboard when idle and keeps no machine running; the worker has no service to stop it by", () => {
    const [service] = resource(run, types.flyMachine, "dashboard-app-0").inputs.services as Json[];
    expect(service).toMatchObject({ internalPort: 8501, autostop: "stop", autostart: true, minMachinesRunning: 0 });
    expect(resource(run, types.flyMachine, "worker-app-0").inputs.services).toBeUndefined();
  });

  it("keeps the dashboard private: a Flycast address only, plain HTTP inside Fly's network, no certificate, DNS or Access", async () => {
    expect(resourcesOf(run, types.flyIpAddress).map((ip) => [ip.inputs.appName, ip.inputs.type])).toEqual([["naluma-dashboard-pr-12", "private_v6"]]);
    const [service] = resource(run, types.flyMachine, "dashboard-app-0").inputs.services as Json[];
    expect(service.ports).toEqual([
      { port: 80, handlers: ["http"], forceHttps: false },
      { port: 443, handlers: ["tls", "http"] },
    ]);
    expect(resourcesOf(run, types.flyCertificate)).toEqual([]);
    expect(run.registrations.filter((registration) => registration.type.startsWith("cloudflare:") || registration.type === "platform:index:DashboardApp")).toEqual([]);
    expect(await exported(run, "dashboardUrl")).toEqual({ value: "http://naluma-dashboard-pr-12.flycast", secret: false });
    expect(await exportValue(run, "dashboardProxyCommand")).toBe("fly proxy 8501:80 naluma-dashboard-pr-12.flycast -a naluma-dashboard-pr-12");
    expect([await exportValue(run, "dashboardAccessAud"), await exportValue(run, "dashboardTeamDomain")]).toEqual([undefined, undefined]);
  });

  it("makes no GitHub environment, deploy secret, deploy token or docs site", async () => {
    expect(run.registrations.filter((registration) => registration.type.startsWith("github:") || registration.type === "pulumi:providers:github")).toEqual([]);
    expect(resourcesOf(run, types.flyDeployToken)).toEqual([]);
    expect(resourcesOf(run, types.pagesProject)).toEqual([]);
    expect([await exportValue(run, "githubEnvironment"), await exportValue(run, "docsUrl")]).toEqual([undefined, undefined]);
  });

  it("wires the apps' database secrets from the new branch, and every machine waits for that secrets version", async () => {
    const poolerHost = String(await exportValue(run, "neonPoolerHost"));
    const host = String(await exportValue(run, "neonHost"));
    expect(poolerHost).toBe("ep-br-preview/pr-12-2-pooler.eu-central-1.aws.neon.tech");
    const worker = flySecrets(run, "worker-secrets");
    expect(worker.DATABASE_URL).toMatch(new RegExp(`^postgresql\\+asyncpg://pipeline:[^@]+@${poolerHost.replace(/[.+/]/g, "\\$&")}/naluma_content\\?ssl=require$`));
    expect(worker.DATABASE_URL_MIGRATIONS).toContain(`@${host}/naluma_content`);
    expect(worker.PREFECT_API_DATABASE_CONNECTION_URL).toContain(`@${host}/prefect_server`);
    expect(flySecrets(run, "dashboard-secrets").DATABASE_URL).toBe(worker.DATABASE_URL);
    expect(worker.ANTHROPIC_API_KEY).toBe(dummySecrets.anthropicApiKey);
    // A reset or a new URL changes the Secrets resource; its new version is what each machine then waits for.
    for (const machine of resourcesOf(run, types.flyMachine)) expect(machine.inputs.minSecretsVersion, machine.name).toBe(4);
    expect(await exported(run, "databaseUrl")).toMatchObject({ secret: true });
  });
});

describe("pushes to the same pull request", () => {
  it("on the same day leave the expiry as it was; a reset of the branch keeps it too", async () => {
    const later = await runPreview(12, "feature/add-button", { neon: { resetFromParent: "2026-05-04" } }, new Date("2026-05-04T23:59:59Z"));
    expect(resource(later, types.neonBranch, "neon-branch").inputs).toMatchObject({ name: "preview/pr-12", expiresAt, resetFromParent: "2026-05-04" });
    expect(resource(later, types.neonConnectionUri, "neon-owner").inputs.refreshTrigger).toBe("2026-05-04");
    expect(resource(later, types.flyApp, "worker").inputs.name).toBe("naluma-content-pr-12");
  });

  it.each([
    ["2026-05-04T00:00:00Z", 7, "2026-05-11T00:00:00Z"],
    ["2026-05-04T17:30:00Z", 7, "2026-05-11T00:00:00Z"],
    ["2026-05-04T23:59:59.999Z", 7, "2026-05-11T00:00:00Z"],
    ["2026-05-05T00:00:00Z", 7, "2026-05-12T00:00:00Z"],
    ["2026-12-28T10:00:00Z", 7, "2027-01-04T00:00:00Z"],
    ["2028-02-27T12:00:00Z", 2, "2028-02-29T00:00:00Z"],
    ["2026-05-04T17:30:00Z", 1, "2026-05-05T00:00:00Z"],
    ["2026-05-04T17:30:00Z", 30, "2026-06-03T00:00:00Z"],
  ] as const)("previewExpiry at %s for %i days is %s (a later day moves it on)", (at, days, expected) => {
    expect(previewExpiry(new Date(at), days)).toBe(expected);
  });

  it("is always ahead and within Neon's 30 days, for every lifetime and time of day", () => {
    for (let days = 1; days <= 30; days++) {
      for (const time of ["00:00:00.000", "00:00:01.000", "12:00:00.000", "23:59:59.999"]) {
        const now = new Date(`2026-05-04T${time}Z`);
        expect(branchExpiryProblem(previewExpiry(now, days), now.getTime()), `${days} days at ${time}`).toBeUndefined();
      }
    }
  });

  it.each([0, 31, 1.5])("refuses a lifetime of %s days", (days) => {
    expect(() => previewExpiry(pushedAt, days)).toThrow("preview database lifetime must be 1-30 days (Neon's limit)");
  });
});

describe("pull request 12 with platform:preview.databaseParent main", () => {
  it("branches from production's main instead, read from the production stack", async () => {
    const run = await runPreview(12, "feature/add-button", { preview: { databaseParent: "main" } });
    expect(resourcesOf(run, types.stackReference).map((reference) => reference.inputs.name)).toEqual([productionStack]);
    expect(resource(run, types.neonBranch, "neon-branch").inputs).toMatchObject({ name: "preview/pr-12", parentId: productionOutputs.neonMainBranchId, expiresAt });
  });
});

describe("pull request 12 whose template gives the dashboard Access", () => {
  it("serves it at dashboard-pr-12.naluma.space behind Cloudflare Access, and still makes no GitHub resource", async () => {
    const run = await runPreview(12, "feature/add-button", {
      cloudflare: { zoneId: "fedcba9876543210fedcba9876543210" },
      dashboard: { access: { allowedEmails: ["admin@example.com"], googleClientId: "google-client-id", githubClientId: "Iv1.0123456789abcdef" } },
    });
    expect(resource(run, "platform:index:DashboardApp", "dashboard")).toBeDefined();
    expect(resource(run, types.flyApp, "dashboard-fly").inputs.name).toBe("naluma-dashboard-pr-12");
    expect(resource(run, types.accessApplication, "dashboard-access").inputs.domain).toBe("dashboard-pr-12.naluma.space");
    expect(await exportValue(run, "dashboardUrl")).toBe("https://dashboard-pr-12.naluma.space");
    expect(run.registrations.filter((registration) => registration.type.startsWith("github:"))).toEqual([]);
  });
});

/** The template, the workflow's keys for pull request `prNumber` from `branch`, then `extra`, parsed at pushedAt. */
function parsePreview(prNumber: unknown, branch: string, extra: Json = {}): PlatformConfig {
  const workflowKeys = merge(workflowConfig(1, branch), { preview: { prNumber } });
  return parseConfig({ values: merge(merge(merge(templateProvided, stackValues(".", "preview", "platform")), workflowKeys), extra), secrets: dummySecrets }, pushedAt);
}

function problemsOf(parse: () => unknown): readonly string[] {
  try {
    parse();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("the config was accepted");
}

describe("awkward branches: recorded as text, the names come from the number alone", () => {
  it.each([
    ["feature/add-button", "feature/add-button"],
    ["123", "123"],
    ["true", "true"],
    ["0123", "0123"],
    ["dependabot/npm_and_yarn/axios-1.7.4", "dependabot/npm_and_yarn/axios-1.7.4"],
    ["Feature/ÜBER..Wichtig__", "Feature/ÜBER..Wichtig__"],
    ["-leading-dash", "-leading-dash"],
  ])("%s", (branch, recorded) => {
    // As `pulumi config set --path` stores it: `123` a number, `true` a boolean.
    const config = parsePreview(12, "placeholder", { preview: { branch: pathValue(branch) } });
    expect(config.preview?.branch).toBe(recorded);
    expect([config.worker.appName, config.dashboard.appName, config.neon.branchName]).toEqual(["naluma-content-pr-12", "naluma-dashboard-pr-12", "preview/pr-12"]);
  });
});

describe("what a pull-request preview refuses, naming the key", () => {
  const cases: [string, unknown, Json, string, string][] = [
    ["PR number 0", 0, {}, "platform:preview.prNumber", "must be at least 1"],
    ["a PR number that is text", "abc", {}, "platform:preview.prNumber", "must be a number"],
    ["a fractional PR number", 1.5, {}, "platform:preview.prNumber", "must be a whole number"],
    ["no PR number", null, {}, "platform:preview.prNumber", "is required: the pull request's number"],
    ["no branch", 12, { preview: { branch: "" } }, "platform:preview.branch", "is required: the pull request's head branch"],
    ["a lifetime over Neon's 30 days", 12, { preview: { databaseLifetimeDays: 31 } }, "platform:preview.databaseLifetimeDays", "must be between 1 and 30"],
    ["an unknown parent", 12, { preview: { databaseParent: "production" } }, "platform:preview.databaseParent", "must be one of staging, main"],
    ["a worker name every PR would share", 12, { worker: { appName: "my-preview" } }, "platform:worker.appName", "is derived from platform:preview.prNumber in a pull-request preview (`naluma-content-pr-12`)"],
    ["a dashboard name", 12, { dashboard: { appName: "my-dashboard" } }, "platform:dashboard.appName", "is derived from platform:preview.prNumber"],
    ["a Prefect server name", 12, { prefect: { mode: "standalone", server: { appName: "my-prefect" } } }, "platform:prefect.server.appName", "(`naluma-prefect-pr-12`)"],
    ["a Neon branch name", 12, { neon: { branchName: "preview" } }, "platform:neon.branchName", "(`preview/pr-12`)"],
    ["a hostname on a private dashboard", 12, { dashboard: { hostname: "dashboard-x.naluma.space" } }, "platform:dashboard.hostname", "its dashboard is private"],
    [
      "a hostname with Access",
      12,
      { cloudflare: { zoneId: "fedcba9876543210fedcba9876543210" }, dashboard: { hostname: "x.naluma.space", access: { allowedEmails: ["a@example.com"], identityProviders: ["google"], googleClientId: "g" } } },
      "platform:dashboard.hostname",
      "(`dashboard-pr-12.naluma.space`)",
    ],
    ["GitHub settings", 12, { github: { repository: "naluma/content-pipeline" } }, "platform:github", "is not read in a pull-request preview"],
    ["the docs site", 12, { docs: { enabled: true } }, "platform:docs.enabled", "must be false in a pull-request preview"],
    ["protection, for a stack destroyed with its pull request", 12, { protect: true }, "platform:protect", "must be false in a pull-request preview"],
    ["owning the project", 12, { neon: { ownsProject: true } }, "platform:neon.ownsProject", "must be false in a pull-request preview"],
  ];

  it.each(cases)("%s", (_label, prNumber, extra, key, rule) => {
    const problems = problemsOf(() => parsePreview(prNumber, "feature/add-button", extra));
    const named = problems.filter((problem) => problem.startsWith(`${key} `));
    expect(named, problems.join("\n")).toHaveLength(1);
    expect(named[0]).toContain(rule);
  });

  it("needs the staging stack while the parent is staging, and the production stack while it is main", () => {
    const values = merge(merge(templateProvided, { environment: "preview" }), workflowConfig(12, "feature/x"));
    const parse = (extra: Json) => () => parseConfig({ values: merge(values, extra), secrets: dummySecrets }, pushedAt);
    expect(problemsOf(parse({}))).toEqual([expect.stringMatching(/^platform:stagingStack is required \(the staging stack whose Neon branch/)]);
    expect(problemsOf(parse({ preview: { databaseParent: "main" } }))).toEqual([expect.stringMatching(/^platform:productionStack is required/)]);
  });

  it("is a preview stack's section only, and stagingStack a pull-request preview's key", () => {
    const staging = merge(stackValues(".", "staging", "platform"), {
      cloudflare: { accountId: "0123456789abcdef0123456789abcdef", zoneId: "fedcba9876543210fedcba9876543210" },
      github: { repository: "naluma/content-pipeline" },
      wordpress: { baseUrl: "https://naluma.space" },
      dashboard: { access: { googleClientId: "g", githubClientId: "h" } },
    });
    const problems = problemsOf(() => parseConfig({ values: merge(staging, { preview: { prNumber: 12, branch: "x" }, stagingStack }), secrets: dummySecrets }));
    expect(problems).toEqual([
      expect.stringMatching(/^platform:preview is only read in a preview stack/),
      expect.stringMatching(/^platform:stagingStack is only read by a pull-request preview/),
    ]);
  });
});

describe("pullRequestAppName: a valid Fly app name for any base and number", () => {
  it.each([
    ["naluma-content", 12, "naluma-content-pr-12"],
    ["naluma-dashboard", 1, "naluma-dashboard-pr-1"],
    ["Naluma_Content", 7, "naluma-content-pr-7"],
    ["--naluma..content--", 3, "naluma-content-pr-3"],
    ["naluma content ünïcode", 5, "naluma-content-n-code-pr-5"],
    ["a".repeat(70), 12, `${"a".repeat(57)}-pr-12`],
    // The cut lands just after a dash, which is trimmed rather than doubled.
    [`${"a".repeat(56)}-bcd`, 12, `${"a".repeat(56)}-pr-12`],
    ["naluma-content", Number.MAX_SAFE_INTEGER, `naluma-content-pr-${Number.MAX_SAFE_INTEGER}`],
    ["x".repeat(63), Number.MAX_SAFE_INTEGER, `${"x".repeat(43)}-pr-${Number.MAX_SAFE_INTEGER}`],
  ])("%s, %i → %s", (base, prNumber, name) => {
    expect(pullRequestAppName(base, prNumber)).toBe(name);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(appNamePattern);
  });

  it.each([
    ["naluma-content", 0, "pull request number must be a pull request's number: a whole number from 1, got 0"],
    ["naluma-content", -4, "got -4"],
    ["naluma-content", 1.5, "got 1.5"],
    ["naluma-content", Number.NaN, "got null"],
    ["naluma-content", 2 ** 53, `got ${2 ** 53}`],
    ["---", 1, 'base "---" has no letter or digit'],
    ["", 1, 'base "" has no letter or digit'],
  ])("refuses %j with %s", (base, prNumber, message) => {
    expect(() => pullRequestAppName(base, prNumber)).toThrow(message);
  });

  it("names the Neon branch preview/pr-<n>", () => {
    expect(pullRequestBranchName(12)).toBe("preview/pr-12");
    expect(() => pullRequestBranchName(0)).toThrow("pull request number must be");
  });
});
