import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import * as random from "@pulumi/random";

/** Secret or variable values by name. */
export type GitHubValues = Record<string, pulumi.Input<string>>;

/**
 * Who may approve a deployment job, by name; the component looks each one up (`github.getUser` /
 * `github.getTeam`) for the numeric id GitHub wants. At most 6 users and teams together (GitHub's limit);
 * any one of them approving lets the job run.
 */
export interface GitHubEnvironmentReviewers {
  /** GitHub logins, without `@`. @example `["octocat"]` */
  users?: string[];
  /**
   * Team slugs of the organization that owns the repository, without the organization (a repository
   * owned by a user has no teams). @example `["release-managers"]`
   */
  teams?: string[];
}

/** One deployment environment (Settings > Environments), with its protection rules, secrets and variables. */
export interface GitHubEnvironmentArgs {
  /** Required reviewers. @default none: jobs run without approval */
  reviewers?: GitHubEnvironmentReviewers;
  /** Whoever triggered the job may not approve it; needs `reviewers`. @default GitHub's (`false`) */
  preventSelfReview?: pulumi.Input<boolean>;
  /** Minutes a job waits before it starts, 0 to 43200 (30 days). @default GitHub's (`0`) */
  waitTimerMinutes?: pulumi.Input<number>;
  /** Repository admins may deploy without passing the protection rules. @default GitHub's (`true`) */
  adminsCanBypass?: pulumi.Input<boolean>;
  /**
   * Which branches may deploy here (the deployment branch policy): `"protected"` for branches with branch
   * protection rules, or name patterns (GitHub's fnmatch syntax, where `*` stops at `/`). Prefer patterns:
   * `"protected"` admits whatever the protection rules happen to cover, and moves when they change.
   * @default any branch
   * @example `["main"]`, `["feature/*", "features/*"]`
   */
  branches?: "protected" | string[];
  /** Environment secrets (stored as Pulumi secrets), e.g. `{ FLY_API_TOKEN: flyToken }`. @default `{}` */
  secrets?: GitHubValues;
  /** Environment variables (`vars.X` in workflows): plain values. @default `{}` */
  variables?: GitHubValues;
}

/**
 * A repository ruleset on branches requiring status checks (Settings > Rules; it replaces a classic branch
 * protection rule of Settings > Branches), plus the guardrails a protected branch usually has.
 */
export interface GitHubRequiredChecksArgs {
  /**
   * Check names that must pass. For a GitHub Actions job the check run's name, and so the context, is the
   * job's `name:` (its id when it has none), NOT the `workflow / job` label the pull request page shows:
   * a UI's `CI / Lint and build` is the context `Lint and build` (github/docs#33436,
   * dbt-labs/dbt-adapters#58). A matrix job reports one check per combination, `Lint and build (20)`; a
   * job of a reusable workflow reports `<calling job id> / <called job name>`. A context that never
   * reports blocks every merge, so rename jobs and contexts together. Job names should be unique across
   * workflows: any check of that name satisfies the rule.
   * @example `["Lint and build"]`
   */
  contexts: string[];
  /**
   * Branch names or fnmatch patterns the ruleset applies to; `~DEFAULT_BRANCH` and `~ALL` are GitHub's
   * special values. Names get the `refs/heads/` prefix rulesets need (GitHub refuses a bare `main`).
   * @default `["~DEFAULT_BRANCH"]`
   * @example `["~DEFAULT_BRANCH", "staging"]`
   */
  branches?: string[];
  /** Only a check from this GitHub App counts. @default any source @example `15368` (GitHub Actions) */
  integrationId?: pulumi.Input<number>;
  /** A pull request's branch must be up to date with the target before merging. @default `false` */
  requireUpToDate?: pulumi.Input<boolean>;
  /** Changes reach the branches only through pull requests. @default `false` */
  requirePullRequest?: boolean;
  /** Approving reviews a pull request needs, 0 to 10; needs `requirePullRequest`. @default `0` */
  requiredApprovals?: pulumi.Input<number>;
  /** Nobody without bypass may delete the branches. @default `true`, as a classic protection rule does */
  preventDeletion?: pulumi.Input<boolean>;
  /** Nobody without bypass may force-push to the branches. @default `true`, as a classic protection rule does */
  preventForcePush?: pulumi.Input<boolean>;
  /** Repository admins may bypass the ruleset (e.g. push a hotfix straight to the branch). @default `false` */
  adminsCanBypass?: boolean;
  /** The ruleset's name, unique in the repository. @default `"Required checks"` */
  name?: pulumi.Input<string>;
  /** `active`, or `disabled` to keep it without enforcing (`evaluate` needs an organization). @default `"active"` */
  enforcement?: pulumi.Input<"active" | "evaluate" | "disabled">;
}

/** How a generated value is spelled: random bytes as base64 or hex, or an alphanumeric password. */
export type GeneratedSecretEncoding = "base64" | "hex" | "password";

/** A secret whose value the component makes (@pulumi/random) instead of someone pasting one. */
export interface GitHubGeneratedSecretArgs {
  /** Bytes for `base64`/`hex`, characters for `password`; at least 16. @default `32` */
  length?: number;
  /** @default `"base64"` */
  encoding?: GeneratedSecretEncoding;
  /**
   * Environments (keys of `environments`) that get it as an environment secret; the same value in each.
   * @default the repository (one repository secret)
   * @example `["preview"]`
   */
  environments?: string[];
  /** A new value of this makes a new secret. @default none */
  rotate?: pulumi.Input<string>;
}

export interface GitHubRepositoryGuardrailsArgs {
  /** Repository name; the owner comes from the github provider. @example `"acme-app"` */
  repository: pulumi.Input<string>;
  /**
   * Deployment environments by name (as the workflow's `environment:` says it; GitHub compares names
   * without case). @default `{}`
   * @example `{ production: { reviewers: { users: ["octocat"] }, branches: ["main"] } }`
   */
  environments?: Record<string, GitHubEnvironmentArgs>;
  /** A ruleset requiring these checks. @default none */
  requiredChecks?: GitHubRequiredChecksArgs;
  /** Repository secrets (stored as Pulumi secrets). @default `{}` */
  secrets?: GitHubValues;
  /** Repository variables: plain values. @default `{}` */
  variables?: GitHubValues;
  /**
   * Secrets made here by name; their values are in the `generated` output, so a program can hand the same
   * value to its apps. A name may not also be in `secrets` at the same scope.
   * @default `{}`
   * @example `{ CALLBACK_SECRET: { encoding: "hex", environments: ["preview"] } }`
   */
  generatedSecrets?: Record<string, GitHubGeneratedSecretArgs>;
}

const defaultGeneratedLength = 32;
const minimumGeneratedLength = 16;
const defaultRulesetName = "Required checks";
/** GitHub's limit, users and teams together. */
const maxReviewers = 6;
const maxWaitTimerMinutes = 43200;
const maxRequiredApprovals = 10;
/** The built-in "Admin" repository role's id for ruleset bypass actors (GitHub returns it, its docs do not list it). */
const repositoryAdminRoleId = 5;
const secretNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
const encodings: readonly GeneratedSecretEncoding[] = ["base64", "hex", "password"];

/** What a ruleset's `ref_name.include` needs: GitHub matches full refs, so `main` must be `refs/heads/main`. */
export function rulesetRefPattern(branch: string): string {
  if (branch.startsWith("~") || branch.startsWith("refs/")) return branch;
  return `refs/heads/${branch}`;
}

/**
 * A repository's deployment guardrails (seed 003): environments with required reviewers and branch
 * policies, a ruleset requiring named status checks, repository and environment secrets and variables,
 * and generated secrets.
 */
export class GitHubRepositoryGuardrails extends pulumi.ComponentResource {
  /** The environments' names. */
  readonly environments: pulumi.Output<string[]>;
  /** The ruleset's id, when `requiredChecks` was given. */
  readonly rulesetId: pulumi.Output<number> | undefined;
  /** Generated secret values (each a secret) by secret name. */
  readonly generated: Record<string, pulumi.Output<string>>;

  private readonly userIds = new Map<string, pulumi.Output<number>>();
  private readonly teamIds = new Map<string, pulumi.Output<number>>();

  constructor(name: string, args: GitHubRepositoryGuardrailsArgs, opts?: pulumi.ComponentResourceOptions) {
    validate(name, args);
    super("platform:index:GitHubRepositoryGuardrails", name, {}, opts);

    const environments = this.createEnvironments(name, args);
    const ruleset = this.createRuleset(name, args);
    this.createValues(name, args.repository, undefined, args.secrets, args.variables);
    for (const [environment, spec] of Object.entries(args.environments ?? {})) {
      this.createValues(`${name}-${environment}`, args.repository, environments[environment].environment, spec.secrets, spec.variables);
    }
    this.generated = this.createGeneratedSecrets(name, args, environments);

    this.environments = pulumi.all(Object.values(environments).map((environment) => environment.environment));
    this.rulesetId = ruleset?.rulesetId;
    this.registerOutputs({ environments: this.environments, rulesetId: this.rulesetId, generated: this.generated });
  }

  private createEnvironments(name: string, args: GitHubRepositoryGuardrailsArgs): Record<string, github.RepositoryEnvironment> {
    const made: Record<string, github.RepositoryEnvironment> = {};
    for (const [environment, spec] of Object.entries(args.environments ?? {})) {
      const branches = spec.branches;
      made[environment] = new github.RepositoryEnvironment(
        `${name}-${environment}`,
        {
          repository: args.repository,
          environment,
          reviewers: this.reviewersOf(spec.reviewers),
          preventSelfReview: spec.preventSelfReview,
          waitTimer: spec.waitTimerMinutes,
          canAdminsBypass: spec.adminsCanBypass,
          deploymentBranchPolicy:
            branches === undefined ? undefined : { protectedBranches: branches === "protected", customBranchPolicies: branches !== "protected" },
        },
        { parent: this },
      );
      if (Array.isArray(branches)) {
        for (const pattern of branches) {
          new github.RepositoryEnvironmentDeploymentPolicy(
            `${name}-${environment}-branch-${pattern}`,
            { repository: args.repository, environment: made[environment].environment, branchPattern: pattern },
            { parent: this },
          );
        }
      }
    }
    return made;
  }

  private reviewersOf(reviewers: GitHubEnvironmentReviewers | undefined): github.types.input.RepositoryEnvironmentReviewer[] | undefined {
    const users = (reviewers?.users ?? []).map((login) => this.userId(login));
    const teams = (reviewers?.teams ?? []).map((slug) => this.teamId(slug));
    if (users.length === 0 && teams.length === 0) return undefined;
    return [{ users: users.length > 0 ? users : undefined, teams: teams.length > 0 ? teams : undefined }];
  }

  /** One lookup per login, however many environments name it. */
  private userId(login: string): pulumi.Output<number> {
    let id = this.userIds.get(login);
    if (!id) {
      id = github.getUserOutput({ username: login }, { parent: this }).id.apply((value) => numericId(value, `user '${login}'`));
      this.userIds.set(login, id);
    }
    return id;
  }

  private teamId(slug: string): pulumi.Output<number> {
    let id = this.teamIds.get(slug);
    if (!id) {
      // summaryOnly: the id is all that is needed, not the members and repositories.
      id = github.getTeamOutput({ slug, summaryOnly: true }, { parent: this }).id.apply((value) => numericId(value, `team '${slug}'`));
      this.teamIds.set(slug, id);
    }
    return id;
  }

  private createRuleset(name: string, args: GitHubRepositoryGuardrailsArgs): github.RepositoryRuleset | undefined {
    const checks = args.requiredChecks;
    if (!checks) return undefined;
    return new github.RepositoryRuleset(
      `${name}-required-checks`,
      {
        repository: args.repository,
        name: checks.name ?? defaultRulesetName,
        target: "branch",
        enforcement: checks.enforcement ?? "active",
        conditions: { refName: { includes: (checks.branches ?? ["~DEFAULT_BRANCH"]).map(rulesetRefPattern), excludes: [] } },
        bypassActors: checks.adminsCanBypass
          ? [{ actorType: "RepositoryRole", actorId: repositoryAdminRoleId, bypassMode: "always" }]
          : undefined,
        rules: {
          requiredStatusChecks: {
            requiredChecks: checks.contexts.map((context) => ({ context, integrationId: checks.integrationId })),
            strictRequiredStatusChecksPolicy: checks.requireUpToDate ?? false,
          },
          pullRequest: checks.requirePullRequest ? { requiredApprovingReviewCount: checks.requiredApprovals ?? 0 } : undefined,
          deletion: checks.preventDeletion ?? true,
          nonFastForward: checks.preventForcePush ?? true,
        },
      },
      { parent: this },
    );
  }

  /** Secrets and variables of the repository (`environment` undefined) or of one environment. */
  private createValues(
    prefix: string,
    repository: pulumi.Input<string>,
    environment: pulumi.Input<string> | undefined,
    secrets: GitHubValues | undefined,
    variables: GitHubValues | undefined,
  ): void {
    for (const [secretName, value] of Object.entries(secrets ?? {})) {
      this.createSecret(`${prefix}-secret-${secretName}`, repository, environment, secretName, value);
    }
    for (const [variableName, value] of Object.entries(variables ?? {})) {
      const resourceName = `${prefix}-variable-${variableName}`;
      if (environment === undefined) {
        new github.ActionsVariable(resourceName, { repository, variableName, value }, { parent: this });
      } else {
        new github.ActionsEnvironmentVariable(resourceName, { repository, environment, variableName, value }, { parent: this });
      }
    }
  }

  private createSecret(
    resourceName: string,
    repository: pulumi.Input<string>,
    environment: pulumi.Input<string> | undefined,
    secretName: string,
    value: pulumi.Input<string>,
  ): void {
    const secretValue = pulumi.secret(value);
    if (environment === undefined) {
      new github.ActionsSecret(resourceName, { repository, secretName, value: secretValue }, { parent: this });
    } else {
      new github.ActionsEnvironmentSecret(resourceName, { repository, environment, secretName, value: secretValue }, { parent: this });
    }
  }

  private createGeneratedSecrets(
    name: string,
    args: GitHubRepositoryGuardrailsArgs,
    environments: Record<string, github.RepositoryEnvironment>,
  ): Record<string, pulumi.Output<string>> {
    const generated: Record<string, pulumi.Output<string>> = {};
    for (const [secretName, spec] of Object.entries(args.generatedSecrets ?? {})) {
      const value = this.generate(`${name}-generated-${secretName}`, spec);
      generated[secretName] = value;
      if (spec.environments === undefined) {
        this.createSecret(`${name}-secret-${secretName}`, args.repository, undefined, secretName, value);
      } else {
        for (const environment of spec.environments) {
          this.createSecret(`${name}-${environment}-secret-${secretName}`, args.repository, environments[environment].environment, secretName, value);
        }
      }
    }
    return generated;
  }

  /**
   * Keys come from RandomBytes; passwords are alphanumeric so the value survives shells, URLs and TOML
   * without quoting. Secret outright: under the engine `additionalSecretOutputs` covers it too.
   */
  private generate(resourceName: string, spec: GitHubGeneratedSecretArgs): pulumi.Output<string> {
    const length = spec.length ?? defaultGeneratedLength;
    const keepers = spec.rotate === undefined ? undefined : { rotate: spec.rotate };
    const encoding = spec.encoding ?? "base64";
    if (encoding === "password") {
      const password = new random.RandomPassword(resourceName, { length, special: false, keepers }, { parent: this });
      return pulumi.secret(password.result);
    }
    const bytes = new random.RandomBytes(resourceName, { length, keepers }, { parent: this });
    return pulumi.secret(encoding === "hex" ? bytes.hex : bytes.base64);
  }
}

/** GitHub's lookups give the numeric id as a string; reviewers need the number. */
function numericId(value: string, who: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`GitHub returned no numeric id for ${who}, got '${value}'`);
  return id;
}

/** Checks what decides which resources exist, and the plain values GitHub would refuse, before any is made. */
function validate(name: string, args: GitHubRepositoryGuardrailsArgs): void {
  const fail = (message: string): never => {
    throw new Error(`GitHubRepositoryGuardrails '${name}': ${message}`);
  };
  const environments = args.environments ?? {};
  const seenEnvironments = new Map<string, string>();
  for (const [environment, spec] of Object.entries(environments)) {
    const field = `environments.${environment}`;
    if (environment.length === 0 || environment.length > 255 || environment.trim() !== environment) {
      fail(`environment name '${environment}' must be 1-255 characters without leading or trailing spaces`);
    }
    const clash = seenEnvironments.get(environment.toLowerCase());
    if (clash !== undefined) fail(`environments '${clash}' and '${environment}' are the same environment to GitHub (names ignore case)`);
    seenEnvironments.set(environment.toLowerCase(), environment);
    validateReviewers(`${field}.reviewers`, spec.reviewers, fail);
    const reviewerCount = (spec.reviewers?.users?.length ?? 0) + (spec.reviewers?.teams?.length ?? 0);
    if (spec.preventSelfReview !== undefined && reviewerCount === 0) fail(`${field}.preventSelfReview needs reviewers; add ${field}.reviewers`);
    const timer = spec.waitTimerMinutes;
    if (typeof timer === "number" && (!Number.isInteger(timer) || timer < 0 || timer > maxWaitTimerMinutes)) {
      fail(`${field}.waitTimerMinutes must be a whole number from 0 to ${maxWaitTimerMinutes}, got ${timer}`);
    }
    validateBranches(field, spec.branches, fail);
    validateNames(`${field}.secrets`, Object.keys(spec.secrets ?? {}), "secret", fail);
    validateNames(`${field}.variables`, Object.keys(spec.variables ?? {}), "variable", fail);
  }
  validateNames("secrets", Object.keys(args.secrets ?? {}), "secret", fail);
  validateNames("variables", Object.keys(args.variables ?? {}), "variable", fail);
  if (args.requiredChecks) validateRequiredChecks(args.requiredChecks, fail);
  validateGeneratedSecrets(args, fail);
}

type Fail = (message: string) => never;

function validateReviewers(field: string, reviewers: GitHubEnvironmentReviewers | undefined, fail: Fail): void {
  const users = reviewers?.users ?? [];
  const teams = reviewers?.teams ?? [];
  if (users.length + teams.length > maxReviewers) {
    fail(`${field} names ${users.length + teams.length} users and teams; GitHub allows at most ${maxReviewers} per environment`);
  }
  for (const [list, kind] of [
    [users, "users"],
    [teams, "teams"],
  ] as const) {
    if (new Set(list.map((entry) => entry.toLowerCase())).size !== list.length) fail(`${field}.${kind} lists a name twice: ${list.join(", ")}`);
    for (const entry of list) {
      if (kind === "users" && entry.startsWith("@")) fail(`${field}.users: give the login without '@', got '${entry}'`);
      if (kind === "teams" && entry.includes("/")) fail(`${field}.teams: give the team's slug without the organization, got '${entry}'`);
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(entry)) fail(`${field}.${kind}: '${entry}' is not a GitHub ${kind === "users" ? "login" : "team slug"}`);
    }
  }
}

function validateBranches(field: string, branches: GitHubEnvironmentArgs["branches"], fail: Fail): void {
  if (branches === undefined || branches === "protected") return;
  if (!Array.isArray(branches)) fail(`${field}.branches must be "protected" or a list of branch name patterns, got ${JSON.stringify(branches)}`);
  if (branches.length === 0) fail(`${field}.branches is empty, so no branch could deploy; list patterns such as ["main"], "protected", or leave it out for any branch`);
  if (new Set(branches).size !== branches.length) fail(`${field}.branches lists a pattern twice: ${branches.join(", ")}`);
  for (const pattern of branches) {
    if (pattern.trim() === "" || pattern.startsWith("refs/")) fail(`${field}.branches: '${pattern}' must be a branch name pattern such as 'main' or 'feature/*'`);
  }
}

/** GitHub's rules for secret and variable names; names ignore case, so two spellings are one name. */
function validateNames(field: string, names: string[], kind: "secret" | "variable", fail: Fail): void {
  const seen = new Map<string, string>();
  for (const secretName of names) {
    if (!secretNamePattern.test(secretName)) fail(`${field}: ${kind} name '${secretName}' must be letters, digits or _, not starting with a digit`);
    if (secretName.toUpperCase().startsWith("GITHUB_")) fail(`${field}: ${kind} name '${secretName}' may not start with GITHUB_ (reserved by GitHub)`);
    const clash = seen.get(secretName.toUpperCase());
    if (clash !== undefined) fail(`${field}: '${clash}' and '${secretName}' are the same ${kind} to GitHub (names ignore case)`);
    seen.set(secretName.toUpperCase(), secretName);
  }
}

function validateRequiredChecks(checks: GitHubRequiredChecksArgs, fail: Fail): void {
  if (checks.contexts.length === 0) fail('requiredChecks.contexts must name at least one check, e.g. ["Lint and build"]');
  if (new Set(checks.contexts).size !== checks.contexts.length) fail(`requiredChecks.contexts lists a check twice: ${checks.contexts.join(", ")}`);
  for (const context of checks.contexts) {
    if (context.trim() === "") fail("requiredChecks.contexts: a check name is empty");
  }
  const branches = checks.branches;
  if (branches !== undefined) {
    if (branches.length === 0) fail('requiredChecks.branches is empty, so the ruleset applies nowhere; leave it out for ["~DEFAULT_BRANCH"]');
    if (new Set(branches).size !== branches.length) fail(`requiredChecks.branches lists a branch twice: ${branches.join(", ")}`);
    for (const branch of branches) {
      if (branch.startsWith("~") && branch !== "~DEFAULT_BRANCH" && branch !== "~ALL") {
        fail(`requiredChecks.branches: '${branch}' is not one of GitHub's special values ~DEFAULT_BRANCH or ~ALL`);
      }
      if (branch.trim() === "") fail("requiredChecks.branches: a branch name is empty");
    }
  }
  const approvals = checks.requiredApprovals;
  if (approvals !== undefined && !checks.requirePullRequest) fail("requiredChecks.requiredApprovals needs requiredChecks.requirePullRequest: true");
  if (typeof approvals === "number" && (!Number.isInteger(approvals) || approvals < 0 || approvals > maxRequiredApprovals)) {
    fail(`requiredChecks.requiredApprovals must be a whole number from 0 to ${maxRequiredApprovals}, got ${approvals}`);
  }
}

function validateGeneratedSecrets(args: GitHubRepositoryGuardrailsArgs, fail: Fail): void {
  const generated = Object.entries(args.generatedSecrets ?? {});
  validateNames("generatedSecrets", generated.map(([secretName]) => secretName), "secret", fail);
  const environments = args.environments ?? {};
  const given = (names: string[] | undefined, secretName: string) => (names ?? []).find((other) => other.toUpperCase() === secretName.toUpperCase());
  for (const [secretName, spec] of generated) {
    const field = `generatedSecrets.${secretName}`;
    const length = spec.length ?? defaultGeneratedLength;
    if (!Number.isInteger(length) || length < minimumGeneratedLength) fail(`${field}.length must be a whole number >= ${minimumGeneratedLength}, got ${length}`);
    const encoding = spec.encoding ?? "base64";
    if (!encodings.includes(encoding)) fail(`${field}.encoding must be one of ${encodings.join(", ")}, got '${String(encoding)}'`);
    if (spec.environments === undefined) {
      const clash = given(Object.keys(args.secrets ?? {}), secretName);
      if (clash !== undefined) fail(`${field} is a repository secret and secrets.${clash} is too; keep one of them`);
      continue;
    }
    if (spec.environments.length === 0) fail(`${field}.environments is empty; leave it out for a repository secret`);
    if (new Set(spec.environments).size !== spec.environments.length) fail(`${field}.environments lists an environment twice: ${spec.environments.join(", ")}`);
    for (const environment of spec.environments) {
      const target = environments[environment];
      if (!target) {
        fail(`${field}.environments names '${environment}', which is not in \`environments\` (have: ${Object.keys(environments).join(", ") || "none"})`);
      }
      const clash = given(Object.keys(target.secrets ?? {}), secretName);
      if (clash !== undefined) fail(`${field} goes to environment '${environment}', whose secrets.${clash} is given too; keep one of them`);
    }
  }
}
