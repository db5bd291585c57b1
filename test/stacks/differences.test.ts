/**
 * Staging and production differ exactly where their config differs. Both stacks run; every recorded resource
 * (type, name, inputs with secrets revealed, protect) and every export is flattened to `path → value` and the
 * two are compared. Values that follow a config difference everywhere they appear (app names, the dashboard
 * hostname, the Neon branch) are mapped back first, each mapping named after its config key; what remains must
 * be exactly the list below, each line again named after the config key that causes it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { exported, productionOutputs, reveal, runStack, stackValues, type StackRun } from "./stack-harness";

/** Staging's value → production's, for config values that flow into many inputs, with the keys that set them. */
const renames: [configKeys: string[], staging: string, production: string][] = [
  [["worker.appName"], "naluma-content-staging", "naluma-content"],
  [["dashboard.appName"], "naluma-dashboard-staging", "naluma-dashboard"],
  [["dashboard.hostname"], "dashboard-staging.naluma.space", "dashboard.naluma.space"],
  // The stack's own branch: production works on main, staging on the branch it makes.
  [["neon.ownsProject", "neon.branchName"], "br-staging-2", productionOutputs.neonMainBranchId],
];

/** Not config: the stack's own name, in the names of its deploy tokens (`pulumi/<org>/<project>/<stack>/<resource>#…`). */
const stackNameRename: [staging: string, production: string] = ["/platform/staging/", "/platform/production/"];

/**
 * Every remaining difference, by the config keys behind it: `<type>::<name> <input path>`, `<type>::<name>` alone
 * for a resource only one stack has, `... (protect)` for the protect option, `exports <name>` for an output.
 */
const expectedDifferences: [configKeys: string[], differences: string[]][] = [
  [["dashboard.minMachinesRunning"], ["pulumi-nodejs:dynamic/fly:Machine::dashboard-fly-app-0 services[0].minMachinesRunning"]],
  [
    ["docs.enabled"],
    [
      "platform:index:DocsSite::docs",
      "cloudflare:index/pagesProject:PagesProject::docs-pages",
      "cloudflare:index/accountToken:AccountToken::docs-deploy-token",
      "github:index/actionsSecret:ActionsSecret::docs-account-id",
      "github:index/actionsSecret:ActionsSecret::docs-api-token",
      "exports docsUrl",
    ],
  ],
  [["environment"], ["exports environment"]],
  [
    ["github.environment"],
    [
      "github:index/repositoryEnvironment:RepositoryEnvironment::deploy-environment environment",
      "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret::worker-fly-api-token environment",
      "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret::dashboard-fly-api-token environment",
      "exports githubEnvironment",
    ],
  ],
  [
    // Owner: the project, its main branch and its IP allowlist. Branch: a StackReference to the owner, the branch, its own owner
    // password, and the databases and roles the branch copied from main are adopted rather than created.
    ["neon.ownsProject", "productionStack"],
    [
      "pulumi-nodejs:dynamic/neon:Project::neon-project",
      "pulumi-nodejs:dynamic/neon:Branch::neon-main",
      // The IP allowlist is project-wide: only the owner writes it.
      "pulumi-nodejs:dynamic/neon:IpAllowList::neon-ip-allow-list",
      "pulumi:pulumi:StackReference::organization/platform/production",
      "pulumi-nodejs:dynamic/neon:Branch::neon-branch",
      "pulumi-nodejs:dynamic/neon:Role::neon-owner",
      "pulumi-nodejs:dynamic/neon:Database::neon-prefect_server adopt",
      "pulumi-nodejs:dynamic/postgres:Role::neon-migrations adopt",
      "pulumi-nodejs:dynamic/postgres:Role::neon-pipeline adopt",
    ],
  ],
  [
    // Production protects what holds data or guards access; of those, both stacks have the databases, their
    // lockdowns and the dashboard's Access application and policy (the project, main and the allowlist are production's alone).
    ["protect"],
    [
      "pulumi-nodejs:dynamic/neon:Database::neon-naluma_content (protect)",
      "pulumi-nodejs:dynamic/neon:Database::neon-prefect_server (protect)",
      "pulumi-nodejs:dynamic/postgres:DatabaseLockdown::neon-naluma_content (protect)",
      "pulumi-nodejs:dynamic/postgres:DatabaseLockdown::neon-prefect_server (protect)",
      "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication::dashboard-access (protect)",
      "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy::dashboard-allow (protect)",
    ],
  ],
  [
    // Production feeds its apps' Fly egress IPs to the allowlist (whose protectedBranchesOnly only it writes).
    ["neon.allowFlyEgress", "neon.protectedBranchesOnly"],
    ["pulumi-nodejs:dynamic/fly:IpAddress::worker-ip-egress_v4", "pulumi-nodejs:dynamic/fly:IpAddress::dashboard-fly-ip-egress_v4"],
  ],
];

function rename(text: string): string {
  const renamed = renames.reduce((out, [, staging, production]) => out.split(staging).join(production), text);
  return renamed.split(stackNameRename[0]).join(stackNameRename[1]);
}

function flatten(value: unknown, path: string, out: Map<string, string>): void {
  if (Array.isArray(value)) value.forEach((item, index) => flatten(item, `${path}[${index}]`, out));
  else if (typeof value === "object" && value !== null) for (const [key, item] of Object.entries(value)) flatten(item, path ? `${path}.${key}` : key, out);
  else out.set(path, JSON.stringify(value) ?? "undefined");
}

/** resource key → (input path → value); `exports` holds the stack outputs. */
async function shape(run: StackRun, renamed: boolean): Promise<Map<string, Map<string, string>>> {
  const map = (text: string): string => (renamed ? rename(text) : text);
  const resources = new Map<string, Map<string, string>>();
  for (const registration of run.registrations) {
    const leaves = new Map<string, string>();
    flatten(reveal(registration.inputs), "", leaves);
    leaves.set("(protect)", String(registration.protect));
    resources.set(map(`${registration.type}::${registration.name}`), new Map([...leaves].map(([path, value]) => [path, map(value)])));
  }
  const exports = new Map<string, string>();
  for (const name of Object.keys(run.exports)) {
    const leaves = new Map<string, string>();
    flatten((await exported(run, name)).value, name, leaves);
    if (leaves.size === 0) exports.set(name, "undefined");
    for (const [path, value] of leaves) exports.set(path, map(value));
  }
  resources.set("exports", exports);
  return resources;
}

function differences(staging: Map<string, Map<string, string>>, production: Map<string, Map<string, string>>): string[] {
  const found: string[] = [];
  for (const key of new Set([...staging.keys(), ...production.keys()])) {
    const left = staging.get(key);
    const right = production.get(key);
    if (!left || !right) {
      found.push(key);
      continue;
    }
    for (const path of new Set([...left.keys(), ...right.keys()])) {
      if (left.get(path) !== right.get(path)) found.push(key === "exports" ? `exports ${path}` : `${key} ${path}`);
    }
  }
  return found.sort();
}

let production: StackRun;
let staging: StackRun;

beforeAll(async () => {
  production = await runStack("production");
  staging = await runStack("staging");
});

describe("staging vs production", () => {
  it("every key the stack files differ in is accounted for, and nothing else is", () => {
    const left = new Map<string, string>();
    const right = new Map<string, string>();
    flatten(stackValues("staging"), "", left);
    flatten(stackValues("production"), "", right);
    const differing = [...new Set([...left.keys(), ...right.keys()])].filter((key) => left.get(key) !== right.get(key));
    const accountedFor = [...renames.map(([keys]) => keys), ...expectedDifferences.map(([keys]) => keys)].flat();
    expect([...new Set(accountedFor)].sort()).toEqual(differing.sort());
  });

  it.each(renames)("%j: staging's %s stands where production has %s", (_keys, stagingValue, productionValue) => {
    const text = (run: StackRun): string => JSON.stringify(run.registrations.map((registration) => [registration.name, reveal(registration.inputs)]));
    expect(text(staging)).toContain(stagingValue);
    expect(text(production)).not.toContain(stagingValue);
    expect(text(production)).toContain(productionValue);
  });

  it("after the renames, the resources, inputs, protect flags and exports differ exactly where the config does", async () => {
    const found = differences(await shape(staging, true), await shape(production, true));
    expect(found).toEqual(expectedDifferences.flatMap(([, lines]) => lines).sort());
  });
});
