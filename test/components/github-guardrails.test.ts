import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { GitHubRepositoryGuardrails as GuardrailsClass, GitHubRepositoryGuardrailsArgs } from "../../components/github-guardrails";
import { rulesetRefPattern } from "../../components/github-guardrails";
import { isSecretValue, valueOf } from "./fly-mocks";
import { constructRecording, recordingMocks } from "./recording-mocks";

const environmentType = "github:index/repositoryEnvironment:RepositoryEnvironment";
const policyType = "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy";
const rulesetType = "github:index/repositoryRuleset:RepositoryRuleset";
const secretType = "github:index/actionsSecret:ActionsSecret";
const environmentSecretType = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret";
const variableType = "github:index/actionsVariable:ActionsVariable";
const environmentVariableType = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable";
const bytesType = "random:index/randomBytes:RandomBytes";
const passwordType = "random:index/randomPassword:RandomPassword";
const getUserToken = "github:index/getUser:getUser";
const getTeamToken = "github:index/getTeam:getTeam";

/** The ids GitHub would answer (as strings, as the lookups return them). */
const userIds: Record<string, string> = { "chat-dev-owner": "1001", "second-approver": "1002" };
const teamIds: Record<string, string> = { "release-managers": "42" };

const { registered, calls, install } = recordingMocks({
  outputsFor: (type, name) => {
    if (type === bytesType) return { base64: `b64-${name}`, hex: `hex-${name}` };
    if (type === passwordType) return { result: `pw-${name}` };
    if (type === rulesetType) return { rulesetId: 7 };
    return {};
  },
  call: (args) => {
    if (args.token === getUserToken) {
      const username = String(args.inputs.username);
      return username in userIds ? { id: userIds[username], login: username } : undefined;
    }
    if (args.token === getTeamToken) {
      const slug = String(args.inputs.slug);
      return slug in teamIds ? { id: teamIds[slug], slug } : undefined;
    }
    return undefined;
  },
});

let GitHubRepositoryGuardrails: typeof GuardrailsClass;

beforeAll(async () => {
  await install();
  ({ GitHubRepositoryGuardrails } = await import("../../components/github-guardrails"));
});

interface Built {
  component: GuardrailsClass;
  children: { resource: pulumi.Resource; type: string; name: string }[];
}

async function build(name: string, args: GitHubRepositoryGuardrailsArgs): Promise<Built> {
  const built = await constructRecording((opts) => new GitHubRepositoryGuardrails(name, args, opts));
  await valueOf(built.component.environments);
  return built;
}

function inputsOf(type: string, name: string): Record<string, unknown> {
  const found = registered.get(`${type}::${name}`);
  if (!found) throw new Error(`no ${type} '${name}' was registered (have: ${[...registered.keys()].join(", ")})`);
  return found.inputs;
}

/** Every string in `value` that is not inside a secret. */
function plainStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (isSecretValue(value) || typeof value !== "object" || value === null) return [];
  return Object.values(value).flatMap(plainStrings);
}

/** The value of a secret input, failing when it is not a secret. */
function secretValue(inputs: Record<string, unknown>, key: string): unknown {
  const value = inputs[key];
  expect(isSecretValue(value), `${key} is a secret`).toBe(true);
  return (value as { value: unknown }).value;
}

/** Seed 003 (chat-dev): staging, production behind a reviewer on main, feature previews, CI's lint-and-build check. */
const chatDev: GitHubRepositoryGuardrailsArgs = {
  repository: "chat-dev",
  environments: {
    staging: { branches: ["staging"], secrets: { FLY_API_TOKEN: "fly-token-staging" } },
    production: { reviewers: { users: ["chat-dev-owner"] }, branches: ["main"], secrets: { FLY_API_TOKEN: "fly-token-production" } },
    preview: { branches: ["feature/*", "features/*"], secrets: { FLY_API_TOKEN: "fly-token-preview" } },
  },
  requiredChecks: { contexts: ["Lint and build"] },
  generatedSecrets: {
    WORKER_SECRET: { encoding: "hex", environments: ["preview"] },
    CHAT_DEV_ENCRYPTION_KEY: { environments: ["preview"] },
  },
};

describe("GitHubRepositoryGuardrails with seed 003's deployment guardrails", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("chat", chatDev);
  });

  it("makes three environments, four branch policies, one ruleset, five environment secrets and two random keys, all under the component", async () => {
    const count = (type: string) => built.children.filter((child) => child.type === type).length;
    expect(count(environmentType)).toBe(3);
    expect(count(policyType)).toBe(4);
    expect(count(rulesetType)).toBe(1);
    expect(count(environmentSecretType)).toBe(5);
    expect(count(bytesType)).toBe(2);
    expect(count(secretType) + count(passwordType) + count(variableType) + count(environmentVariableType)).toBe(0);
    expect(built.children).toHaveLength(15);
    for (const child of built.children) {
      expect(await valueOf(child.resource.urn)).toContain(`platform:index:GitHubRepositoryGuardrails$${child.type}::`);
    }
  });

  it("gives production its reviewer by numeric user id, looked up from the login", () => {
    expect(inputsOf(environmentType, "chat-production")).toMatchObject({
      repository: "chat-dev",
      environment: "production",
      reviewers: [{ users: [1001] }],
      deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
    });
    const lookups = calls.filter((call) => call.token === getUserToken);
    expect(lookups.map((call) => call.inputs.username)).toEqual(["chat-dev-owner"]);
  });

  it("leaves staging and preview without reviewers, each limited to its branches", () => {
    for (const environment of ["staging", "preview"]) {
      const inputs = inputsOf(environmentType, `chat-${environment}`);
      expect(inputs).toMatchObject({ repository: "chat-dev", environment, deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true } });
      expect(inputs.reviewers).toBeUndefined();
    }
  });

  it("adds one deployment branch policy per pattern: main for production, staging, feature/* and features/* for previews", () => {
    const policies = [...registered.values()].filter((resource) => resource.type === policyType && resource.name.startsWith("chat-"));
    expect(policies.map((policy) => [policy.inputs.environment, policy.inputs.branchPattern]).sort()).toEqual([
      ["preview", "feature/*"],
      ["preview", "features/*"],
      ["production", "main"],
      ["staging", "staging"],
    ]);
    for (const policy of policies) expect(policy.inputs.repository).toBe("chat-dev");
  });

  it("requires the `Lint and build` check on the default branch, without deletion or force-push, through an active branch ruleset", () => {
    const ruleset = inputsOf(rulesetType, "chat-required-checks");
    expect(ruleset).toMatchObject({
      repository: "chat-dev",
      name: "Required checks",
      target: "branch",
      enforcement: "active",
      conditions: { refName: { includes: ["~DEFAULT_BRANCH"], excludes: [] } },
      rules: {
        requiredStatusChecks: { requiredChecks: [{ context: "Lint and build" }], strictRequiredStatusChecksPolicy: false },
        deletion: true,
        nonFastForward: true,
      },
    });
    expect((ruleset.rules as Record<string, unknown>).pullRequest).toBeUndefined();
    expect(ruleset.bypassActors).toBeUndefined();
  });

  it("stores FLY_API_TOKEN in each environment as a secret", () => {
    for (const environment of ["staging", "production", "preview"]) {
      const inputs = inputsOf(environmentSecretType, `chat-${environment}-secret-FLY_API_TOKEN`);
      expect(inputs).toMatchObject({ repository: "chat-dev", environment, secretName: "FLY_API_TOKEN" });
      expect(secretValue(inputs, "value")).toBe(`fly-token-${environment}`);
    }
  });

  it("generates WORKER_SECRET (hex) and CHAT_DEV_ENCRYPTION_KEY (base64) from 32 random bytes and stores them in preview", () => {
    expect(inputsOf(bytesType, "chat-generated-WORKER_SECRET")).toMatchObject({ length: 32 });
    expect(inputsOf(bytesType, "chat-generated-CHAT_DEV_ENCRYPTION_KEY")).toMatchObject({ length: 32 });
    const worker = inputsOf(environmentSecretType, "chat-preview-secret-WORKER_SECRET");
    expect(worker).toMatchObject({ repository: "chat-dev", environment: "preview", secretName: "WORKER_SECRET" });
    expect(secretValue(worker, "value")).toBe("hex-chat-generated-WORKER_SECRET");
    const key = inputsOf(environmentSecretType, "chat-preview-secret-CHAT_DEV_ENCRYPTION_KEY");
    expect(key).toMatchObject({ environment: "preview", secretName: "CHAT_DEV_ENCRYPTION_KEY" });
    expect(secretValue(key, "value")).toBe("b64-chat-generated-CHAT_DEV_ENCRYPTION_KEY");
  });

  it("outputs the generated values as secrets, the same values the environment got", async () => {
    expect(Object.keys(built.component.generated).sort()).toEqual(["CHAT_DEV_ENCRYPTION_KEY", "WORKER_SECRET"]);
    expect(await valueOf(built.component.generated.WORKER_SECRET)).toBe("hex-chat-generated-WORKER_SECRET");
    expect(await pulumi.isSecret(built.component.generated.WORKER_SECRET)).toBe(true);
    expect(await valueOf(built.component.generated.CHAT_DEV_ENCRYPTION_KEY)).toBe("b64-chat-generated-CHAT_DEV_ENCRYPTION_KEY");
    expect(await pulumi.isSecret(built.component.generated.CHAT_DEV_ENCRYPTION_KEY)).toBe(true);
  });

  it("never hands a token or generated value to any resource outside a secret", () => {
    const plain = [...registered.values()].filter((resource) => resource.name.startsWith("chat-")).flatMap((resource) => plainStrings(resource.inputs));
    for (const value of ["fly-token-staging", "fly-token-production", "fly-token-preview", "hex-chat-generated-WORKER_SECRET"]) {
      expect(plain).not.toContain(value);
    }
  });

  it("outputs the environment names and the ruleset id, neither secret", async () => {
    expect(await valueOf(built.component.environments)).toEqual(["staging", "production", "preview"]);
    expect(built.component.rulesetId).toBeDefined();
    const rulesetId = built.component.rulesetId as pulumi.Output<number>;
    expect(await valueOf(rulesetId)).toBe(7);
    expect(await pulumi.isSecret(built.component.environments)).toBe(false);
  });
});

describe("GitHubRepositoryGuardrails with the other options", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("other", {
      repository: "api",
      environments: {
        production: {
          reviewers: { users: ["chat-dev-owner", "second-approver"], teams: ["release-managers"] },
          preventSelfReview: true,
          waitTimerMinutes: 10,
          adminsCanBypass: false,
          branches: "protected",
          variables: { REGION: "fra" },
        },
        qa: { reviewers: { users: ["chat-dev-owner"] } },
      },
      requiredChecks: {
        contexts: ["Lint and build", "test (20)"],
        branches: ["~DEFAULT_BRANCH", "staging", "release/*", "refs/heads/hotfix"],
        integrationId: 15368,
        requireUpToDate: true,
        requirePullRequest: true,
        requiredApprovals: 1,
        preventForcePush: false,
        adminsCanBypass: true,
        name: "Merge gate",
      },
      secrets: { SENTRY_DSN: "https://key@sentry.example/1" },
      variables: { NODE_VERSION: "20" },
      generatedSecrets: { SESSION_SECRET: { encoding: "password", length: 40, rotate: "2026-01" } },
    });
  });

  it("looks each login and team up once, however many environments name it, and passes the ids", () => {
    expect(inputsOf(environmentType, "other-production")).toMatchObject({
      environment: "production",
      reviewers: [{ users: [1001, 1002], teams: [42] }],
      preventSelfReview: true,
      waitTimer: 10,
      canAdminsBypass: false,
      deploymentBranchPolicy: { protectedBranches: true, customBranchPolicies: false },
    });
    expect(inputsOf(environmentType, "other-qa")).toMatchObject({ reviewers: [{ users: [1001] }] });
    expect(inputsOf(environmentType, "other-qa").deploymentBranchPolicy).toBeUndefined();
    const users = calls.filter((call) => call.token === getUserToken).map((call) => call.inputs.username);
    expect(users.filter((login) => login === "second-approver")).toHaveLength(1);
    // Both environments of this build name chat-dev-owner; the seed 003 build looked it up once more.
    expect(users.filter((login) => login === "chat-dev-owner")).toHaveLength(2);
    expect(calls.filter((call) => call.token === getTeamToken).map((call) => call.inputs)).toEqual([{ slug: "release-managers", summaryOnly: true }]);
  });

  it("makes no branch policies for protected-branches-only or any-branch environments", () => {
    expect(built.children.filter((child) => child.type === policyType)).toHaveLength(0);
  });

  it("turns branch names into refs and sets the pull request, bypass and strictness options", () => {
    expect(inputsOf(rulesetType, "other-required-checks")).toMatchObject({
      name: "Merge gate",
      conditions: { refName: { includes: ["~DEFAULT_BRANCH", "refs/heads/staging", "refs/heads/release/*", "refs/heads/hotfix"] } },
      bypassActors: [{ actorType: "RepositoryRole", actorId: 5, bypassMode: "always" }],
      rules: {
        requiredStatusChecks: {
          requiredChecks: [
            { context: "Lint and build", integrationId: 15368 },
            { context: "test (20)", integrationId: 15368 },
          ],
          strictRequiredStatusChecksPolicy: true,
        },
        pullRequest: { requiredApprovingReviewCount: 1 },
        deletion: true,
        nonFastForward: false,
      },
    });
  });

  it("stores repository secrets and variables, and environment variables in plain", () => {
    const dsn = inputsOf(secretType, "other-secret-SENTRY_DSN");
    expect(dsn).toMatchObject({ repository: "api", secretName: "SENTRY_DSN" });
    expect(secretValue(dsn, "value")).toBe("https://key@sentry.example/1");
    expect(inputsOf(variableType, "other-variable-NODE_VERSION")).toEqual({ repository: "api", variableName: "NODE_VERSION", value: "20" });
    expect(inputsOf(environmentVariableType, "other-production-variable-REGION")).toEqual({
      repository: "api",
      environment: "production",
      variableName: "REGION",
      value: "fra",
    });
  });

  it("makes a password secret as an alphanumeric RandomPassword kept by `rotate`, stored at repository level", async () => {
    expect(inputsOf(passwordType, "other-generated-SESSION_SECRET")).toMatchObject({ length: 40, special: false, keepers: { rotate: "2026-01" } });
    const stored = inputsOf(secretType, "other-secret-SESSION_SECRET");
    expect(stored).toMatchObject({ repository: "api", secretName: "SESSION_SECRET" });
    expect(secretValue(stored, "value")).toBe("pw-other-generated-SESSION_SECRET");
    expect(await pulumi.isSecret(built.component.generated.SESSION_SECRET)).toBe(true);
  });
});

describe("GitHubRepositoryGuardrails without a ruleset", () => {
  it("has no rulesetId and nothing generated", async () => {
    const built = await build("bare", { repository: "bare", secrets: { TOKEN: "t" } });
    expect(built.component.rulesetId).toBeUndefined();
    expect(built.component.generated).toEqual({});
    expect(await valueOf(built.component.environments)).toEqual([]);
    expect(built.children.map((child) => child.type)).toEqual([secretType]);
  });
});

describe("rulesetRefPattern", () => {
  it.each([
    ["main", "refs/heads/main"],
    ["feature/*", "refs/heads/feature/*"],
    ["~DEFAULT_BRANCH", "~DEFAULT_BRANCH"],
    ["~ALL", "~ALL"],
    ["refs/heads/main", "refs/heads/main"],
  ])("%s → %s", (branch, ref) => {
    expect(rulesetRefPattern(branch)).toBe(ref);
  });
});

describe("GitHubRepositoryGuardrails refuses args GitHub would refuse or that protect nothing", () => {
  const base: GitHubRepositoryGuardrailsArgs = { repository: "chat-dev", environments: { preview: {} } };
  const sixUsers = ["a1", "a2", "a3", "a4", "a5"];
  it.each<[string, Partial<GitHubRepositoryGuardrailsArgs>, string]>([
    ["seven reviewers", { environments: { production: { reviewers: { users: sixUsers, teams: ["t1", "t2"] } } } }, "GitHubRepositoryGuardrails 'bad': environments.production.reviewers names 7 users and teams; GitHub allows at most 6"],
    ["a reviewer with @", { environments: { production: { reviewers: { users: ["@octocat"] } } } }, "environments.production.reviewers.users: give the login without '@'"],
    ["an org/team slug", { environments: { production: { reviewers: { teams: ["acme/release"] } } } }, "environments.production.reviewers.teams: give the team's slug without the organization"],
    ["a reviewer twice", { environments: { production: { reviewers: { users: ["octocat", "OctoCat"] } } } }, "environments.production.reviewers.users lists a name twice"],
    ["preventSelfReview without reviewers", { environments: { production: { preventSelfReview: true } } }, "environments.production.preventSelfReview needs reviewers"],
    ["a 31-day wait timer", { environments: { production: { waitTimerMinutes: 44640 } } }, "environments.production.waitTimerMinutes must be a whole number from 0 to 43200, got 44640"],
    ["empty branches", { environments: { production: { branches: [] } } }, "environments.production.branches is empty, so no branch could deploy"],
    ["a ref as branch pattern", { environments: { production: { branches: ["refs/heads/main"] } } }, "environments.production.branches: 'refs/heads/main' must be a branch name pattern"],
    ["environments differing in case", { environments: { Production: {}, production: {} } }, "environments 'Production' and 'production' are the same environment to GitHub"],
    ["a padded environment name", { environments: { " production": {} } }, "environment name ' production' must be 1-255 characters without leading or trailing spaces"],
    ["a secret name with a dash", { secrets: { "FLY-TOKEN": "x" } }, "secrets: secret name 'FLY-TOKEN' must be letters, digits or _"],
    ["a GITHUB_ secret", { environments: { preview: { secrets: { GITHUB_TOKEN: "x" } } } }, "environments.preview.secrets: secret name 'GITHUB_TOKEN' may not start with GITHUB_"],
    ["a variable starting with a digit", { variables: { "1ST": "x" } }, "variables: variable name '1ST' must be letters, digits or _, not starting with a digit"],
    ["no required check", { requiredChecks: { contexts: [] } }, "requiredChecks.contexts must name at least one check"],
    ["a check twice", { requiredChecks: { contexts: ["Lint and build", "Lint and build"] } }, "requiredChecks.contexts lists a check twice"],
    ["no ruleset branch", { requiredChecks: { contexts: ["Lint and build"], branches: [] } }, "requiredChecks.branches is empty, so the ruleset applies nowhere"],
    ["an unknown special branch", { requiredChecks: { contexts: ["Lint and build"], branches: ["~DEFAULT"] } }, "requiredChecks.branches: '~DEFAULT' is not one of GitHub's special values"],
    ["approvals without pull requests", { requiredChecks: { contexts: ["Lint and build"], requiredApprovals: 1 } }, "requiredChecks.requiredApprovals needs requiredChecks.requirePullRequest: true"],
    ["eleven approvals", { requiredChecks: { contexts: ["c"], requirePullRequest: true, requiredApprovals: 11 } }, "requiredChecks.requiredApprovals must be a whole number from 0 to 10, got 11"],
    ["a short generated key", { generatedSecrets: { WORKER_SECRET: { length: 8 } } }, "generatedSecrets.WORKER_SECRET.length must be a whole number >= 16, got 8"],
    ["an unknown encoding", { generatedSecrets: { WORKER_SECRET: { encoding: "base32" as "hex" } } }, "generatedSecrets.WORKER_SECRET.encoding must be one of base64, hex, password, got 'base32'"],
    ["a generated secret for a missing environment", { generatedSecrets: { WORKER_SECRET: { environments: ["staging"] } } }, "generatedSecrets.WORKER_SECRET.environments names 'staging', which is not in `environments` (have: preview)"],
    ["a generated secret with no environment", { generatedSecrets: { WORKER_SECRET: { environments: [] } } }, "generatedSecrets.WORKER_SECRET.environments is empty; leave it out for a repository secret"],
    ["a generated and a given repository secret", { secrets: { worker_secret: "x" }, generatedSecrets: { WORKER_SECRET: {} } }, "generatedSecrets.WORKER_SECRET is a repository secret and secrets.worker_secret is too"],
    [
      "a generated and a given environment secret",
      { environments: { preview: { secrets: { WORKER_SECRET: "x" } } }, generatedSecrets: { WORKER_SECRET: { environments: ["preview"] } } },
      "generatedSecrets.WORKER_SECRET goes to environment 'preview', whose secrets.WORKER_SECRET is given too",
    ],
  ])("refuses %s", (_title, change, message) => {
    const before = registered.size;
    expect(() => new GitHubRepositoryGuardrails("bad", { ...base, ...change })).toThrow(message);
    expect(registered.size).toBe(before);
  });

  it("allows the same name generated for the repository and given in an environment (the environment's wins in its jobs)", () => {
    expect(
      () =>
        new GitHubRepositoryGuardrails("ok", {
          repository: "chat-dev",
          environments: { preview: { secrets: { WORKER_SECRET: "x" } } },
          generatedSecrets: { WORKER_SECRET: {} },
        }),
    ).not.toThrow();
  });
});
