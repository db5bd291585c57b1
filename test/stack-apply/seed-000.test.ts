/**
 * Seed 000's `local` stack (Pulumi.local.yaml) applied whole against the Fly and Neon emulators: every dynamic
 * resource runs through its serialized provider (stack-apply.ts), Cloudflare and GitHub are off. Apply, apply again
 * (no write call), destroy (nothing left), then an apply killed (SIGKILL) twice mid-call, once after Neon made
 * the project and once after Fly made a machine, resumed from the partial state (no duplicates), and its destroy. The emulators are shared by the file's tests, which run in order.
 */
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFlyEmulator, type FlyEmulator } from "../emulators/fly/server";
import { startNeonEmulator, type NeonEmulator } from "../emulators/neon/emulator";
import { stopAllClusters } from "../emulators/postgres/cluster";
import type { RecordedCall } from "../emulators/recorded-call";
import { stackFile } from "../programs/program-harness";
import { stackApply, type ApplyReport, type StackApply, type StackState } from "./stack-apply";

const secretSignatureKey = "4dabf18193072939515e22adb298388d";
const mutating = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const writes = (calls: readonly RecordedCall[]): string[] => calls.filter((call) => mutating.has(call.method)).map((call) => `${call.method} ${call.path}`);

/** What `pulumi config set --secret` would hold for the seven required keys; nothing leaves the machine. */
const secrets = Object.fromEntries(
  ["anthropicApiKey", "openaiApiKey", "wpAppPassword", "ncbiApiKey", "braveApiKey", "r2AccessKeyId", "r2SecretAccessKey"].map((key) => [key, `local-${key}`]),
);

const local = stackFile(".", "local") as Record<string, { appName?: string } | undefined>;
const appNames = [local["platform:worker"]?.appName, local["platform:dashboard"]?.appName].map(String);

let fly: FlyEmulator;
let neon: NeonEmulator;
let stack: StackApply;
const timings: Record<string, { seconds: number; startup: number; flyWrites: number; neonWrites: number; resources: number }> = {};

function env(): Record<string, string> {
  return { FLY_API_URL: fly.url, FLY_GRAPHQL_URL: fly.graphqlUrl, FLY_API_TOKEN: fly.token, NEON_API_URL: neon.url, NEON_API_KEY: neon.apiKey };
}

/** Counts in both emulators, by what a duplicate would add to. */
function inventory(): Record<string, number> {
  const apps = [...fly.state.apps.values()];
  const projects = neon.state.projects();
  const branches = projects.flatMap((project) => neon.state.branches(project.id).map((branch) => ({ project: project.id, branch: branch.id })));
  return {
    apps: apps.length,
    machines: apps.reduce((sum, app) => sum + [...app.machines.values()].filter((machine) => machine.state !== "destroyed").length, 0),
    volumes: apps.reduce((sum, app) => sum + [...app.volumes.values()].filter((volume) => volume.state !== "destroyed").length, 0),
    ips: apps.reduce((sum, app) => sum + app.ips.length, 0),
    projects: projects.length,
    branches: branches.length,
    endpoints: projects.reduce((sum, project) => sum + neon.state.endpoints(project.id).length, 0),
    databases: branches.reduce((sum, { project, branch }) => sum + neon.state.databases(project, branch).length, 0),
    neonRoles: branches.reduce((sum, { project, branch }) => sum + neon.state.roles(project, branch).length, 0),
  };
}

/** The login roles PostgreSQL itself holds on the project's branch (postgres:Role makes `pipeline` and `migrations`). */
async function postgresRoles(): Promise<string[]> {
  const [project] = neon.state.projects();
  const [branch] = neon.state.branches(project.id);
  const cluster = neon.state.cluster(project.id, branch.id);
  if (!cluster) throw new Error("no cluster behind the branch");
  const client = new Client({ connectionString: cluster.adminUri() });
  await client.connect();
  try {
    const result = await client.query<{ rolname: string }>("select rolname from pg_roles where rolcanlogin and rolname not like 'pg\\_%' order by rolname");
    return result.rows.map((row) => row.rolname);
  } finally {
    await client.end();
  }
}

async function timed(label: string, run: () => Promise<ApplyReport>): Promise<ApplyReport> {
  fly.resetCalls();
  neon.resetCalls();
  const report = await run();
  timings[label] = { seconds: report.seconds, startup: report.startupSeconds ?? 0, flyWrites: writes(fly.calls).length, neonWrites: writes(neon.calls).length, resources: stack.state().resources.length };
  return report;
}

function containsSecretMarker(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(containsSecretMarker);
  if (typeof value === "object" && value !== null) return secretSignatureKey in value || Object.values(value).some(containsSecretMarker);
  return false;
}

beforeAll(async () => {
  fly = await startFlyEmulator();
  neon = await startNeonEmulator({ operationMs: 10 });
});

afterAll(async () => {
  stack?.dispose();
  // The contract is asserted by close(); a violation fails the file.
  await fly?.close();
  await neon?.close();
  await stopAllClusters();
  console.log(`seed 000 local stack against the emulators:\n${Object.entries(timings).map(([label, t]) => `  ${label}: ${t.seconds.toFixed(1)} s (${t.startup.toFixed(1)} s start-up), ${t.flyWrites} Fly + ${t.neonWrites} Neon write calls, ${t.resources} resources in state`).join("\n")}`);
});

describe("seed 000's local stack, applied against the emulators", () => {
  let firstInventory: Record<string, number>;
  let firstState: StackState;

  it("apply creates every resource in the emulators; the apps' secrets hold working Neon URLs; machines started", async () => {
    stack = stackApply({ stack: "local", secrets, env: env() });
    const report = await timed("apply", () => stack.up());
    expect(report.error).toBeUndefined();
    firstState = stack.state();
    const types = firstState.resources.map((entry) => entry.type.replace("pulumi-nodejs:dynamic/", ""));
    expect(report.created).toEqual(firstState.resources.map((entry) => entry.urn));
    expect(new Set(types)).toEqual(
      new Set([
        "fly:App", "fly:IpAddress", "fly:Secrets", "fly:Machine", "fly:MachineExec",
        "neon:Project", "neon:Branch", "neon:Database", "neon:Endpoint", "neon:ConnectionUri", "neon:IpAllowList",
        "postgres:Role", "postgres:Grant", "postgres:DatabaseLockdown",
      ]),
    );
    // The engine's dynamic host gets plain values: no secret marker in any stored input or output.
    expect(firstState.resources.filter((entry) => containsSecretMarker(entry.inputs) || containsSecretMarker(entry.outputs)).map((entry) => entry.urn)).toEqual([]);
    expect(firstState.resources.find((entry) => entry.type.endsWith("neon:ConnectionUri"))?.secretOutputs).toEqual(expect.arrayContaining(["uri"]));

    // Fly: both apps, each machine started, the dashboard private (Flycast only).
    expect([...fly.state.apps.keys()].sort()).toEqual([...appNames].sort());
    for (const name of appNames) {
      const machines = [...(fly.state.apps.get(name)?.machines.values() ?? [])];
      expect(machines.map((machine) => machine.state), name).toEqual(["started"]);
    }
    expect(fly.state.apps.get(appNames[1])?.ips.map((ip) => ip.type)).toEqual(["private_v6"]);

    // The worker's DATABASE_URL: the emulator's pooler host of the project's endpoint, and it logs in as `pipeline`.
    const [project] = neon.state.projects();
    const [endpoint] = neon.state.endpoints(project.id);
    const databaseUrl = fly.state.apps.get(appNames[0])?.secrets.get("DATABASE_URL")?.value ?? "";
    const url = new URL(databaseUrl.replace(/^postgresql\+asyncpg:/, "postgresql:"));
    expect(url.hostname).toBe(`${endpoint.id}-pooler.${endpoint.region_id.replace(/^aws-/, "")}.aws.neon.tech`);
    expect(url.username).toBe("pipeline");
    const listening = neon.resolveHost(url.hostname);
    expect(listening).toBeDefined();
    const client = new Client({ host: listening?.host, port: listening?.port, user: url.username, password: decodeURIComponent(url.password), database: url.pathname.slice(1) });
    await client.connect();
    try {
      expect((await client.query<{ user: string }>("select current_user as user")).rows[0].user).toBe("pipeline");
    } finally {
      await client.end();
    }
    expect(fly.state.apps.get(appNames[1])?.secrets.get("DATABASE_URL")?.value).toBe(databaseUrl);
    expect(fly.state.apps.get(appNames[0])?.secrets.get("ANTHROPIC_API_KEY")?.value).toBe(secrets.anthropicApiKey);
    firstInventory = inventory();
    expect(await postgresRoles()).toEqual(expect.arrayContaining(["migrations", "pipeline"]));
  });

  it("apply again makes no write call to either emulator", async () => {
    const report = await timed("apply again", () => stack.up());
    expect(report.error).toBeUndefined();
    expect({ created: report.created, updated: report.updated, replaced: report.replaced, deleted: report.deleted }).toEqual({ created: [], updated: [], replaced: [], deleted: [] });
    expect(report.unchanged.sort()).toEqual(firstState.resources.map((entry) => entry.urn).sort());
    expect({ fly: writes(fly.calls), neon: writes(neon.calls) }).toEqual({ fly: [], neon: [] });
    expect(inventory()).toEqual(firstInventory);
  });

  it("destroy leaves nothing in either emulator", async () => {
    const report = await timed("destroy", () => stack.destroy());
    expect(report.error).toBeUndefined();
    expect(report.deleted).toEqual(firstState.resources.map((entry) => entry.urn).reverse());
    expect(stack.state().resources).toEqual([]);
    expect([...fly.state.apps.keys()]).toEqual([]);
    expect(neon.state.projects()).toEqual([]);
    stack.dispose();
  });

  it("an apply killed while Neon's project create had acted, then again while a Fly machine create had, resumes with no duplicate; destroy leaves nothing", async () => {
    stack = stackApply({ stack: "local", secrets, env: env() });
    // SIGKILL the moment the emulator has carried out the call and holds back its answer: what it made is in no state.
    const actedUnanswered = (calls: readonly RecordedCall[], operationId: string) => () => calls.some((call) => call.operationId === operationId && call.status === 0);

    neon.faults.failNext("createProject", 1, { kind: "actThenHang" });
    const first = await timed("apply killed in the project create", () => stack.up({ killWhen: actedUnanswered(neon.calls, "createProject") }));
    expect(first.killed).toBe(true);
    expect(neon.state.projects()).toHaveLength(1);
    expect(stack.state().resources.filter((entry) => entry.type.endsWith("neon:Project"))).toEqual([]);

    fly.faults.failNext("Machines_create", 1, { kind: "actThenHang" });
    const second = await timed("apply killed in a machine create", () => stack.up({ killWhen: actedUnanswered(fly.calls, "Machines_create") }));
    expect(second.killed).toBe(true);
    const partial = stack.state().resources.map((entry) => entry.urn);
    // The project the first run made was taken over (its claim), not made again.
    expect(neon.state.projects()).toHaveLength(1);
    expect(stack.state().resources.filter((entry) => entry.type.endsWith("neon:Project")).map((entry) => entry.id)).toEqual(neon.state.projects().map((project) => project.id));
    expect(partial.length).toBeLessThan(firstState.resources.length);

    const resumed = await timed("apply after the kills", () => stack.up());
    expect(resumed.error).toBeUndefined();
    expect(resumed.unchanged.sort()).toEqual([...partial].sort());
    expect([...resumed.created, ...partial].sort()).toEqual(firstState.resources.map((entry) => entry.urn).sort());
    expect(inventory()).toEqual(firstInventory);
    expect((await postgresRoles()).filter((role) => role === "pipeline" || role === "migrations")).toEqual(["migrations", "pipeline"]);
    for (const name of appNames) expect([...(fly.state.apps.get(name)?.machines.values() ?? [])].map((machine) => machine.state), name).toEqual(["started"]);

    const destroyed = await timed("destroy after the resumed apply", () => stack.destroy());
    expect(destroyed.error).toBeUndefined();
    expect([...fly.state.apps.keys()]).toEqual([]);
    expect(neon.state.projects()).toEqual([]);
  });
});
