import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiClient, EndpointType, type Api } from "@neondatabase/api-client";
import { Client } from "pg";
import { isAxiosError } from "axios";
import { readFileSync } from "node:fs";
import { isPortClosed, stopAllClusters } from "../postgres/cluster";
import { LOCKED_MESSAGE, startNeonEmulator, type NeonEmulator } from "./emulator";

type NeonApi = Api<unknown>;

async function query<T>(uri: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: uri });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Polls the operations API as the providers will, until nothing in the project is unfinished. */
async function waitForOperations(api: NeonApi, projectId: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { data } = await api.listProjectOperations({ projectId });
    if (data.operations.every((op) => op.status === "finished")) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`operations of ${projectId} did not finish within ${timeoutMs} ms`);
}

async function errorOf(call: Promise<unknown>): Promise<{ status?: number; message?: string; code?: string }> {
  try {
    await call;
  } catch (error) {
    if (isAxiosError(error)) {
      const data = error.response?.data as { message?: string } | undefined;
      return { status: error.response?.status, message: data?.message, code: error.code };
    }
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe("Neon emulator with the real @neondatabase/api-client", () => {
  let emulator: NeonEmulator;
  let api: NeonApi;
  let projectId: string;
  let ownerUri: string;
  let mainBranchId: string;

  beforeAll(async () => {
    emulator = await startNeonEmulator({ operationMs: 30 });
    api = createApiClient({ apiKey: emulator.apiKey, baseURL: emulator.url });
    const { data, status } = await api.createProject({ project: { name: "naluma_content", region_id: "aws-eu-central-1" } });
    expect(status).toBe(201);
    projectId = data.project.id;
    mainBranchId = data.branch.id;
    ownerUri = data.connection_uris[0].connection_uri;
    await waitForOperations(api, projectId);
  });

  afterAll(async () => {
    await emulator?.close();
    await stopAllClusters();
  });

  it("creates a project with Neon's defaults", async () => {
    const { data } = await api.getProject(projectId);
    expect(data.project.name).toBe("naluma_content");
    expect(data.project.region_id).toBe("aws-eu-central-1");
    const branches = (await api.listProjectBranches({ projectId })).data.branches;
    expect(branches.map((b) => [b.name, b.default])).toEqual([["main", true]]);
    expect((await api.listProjectBranchDatabases(projectId, mainBranchId)).data.databases.map((d) => [d.name, d.owner_name])).toEqual([
      ["neondb", "neondb_owner"],
    ]);
    const endpoints = (await api.listProjectEndpoints(projectId)).data.endpoints;
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0].type).toBe("read_write");
    expect(endpoints[0].host).toMatch(/^ep-[a-z]+-[a-z]+-[a-z0-9]{8}\.eu-central-1\.aws\.neon\.tech$/);
    const [row] = await query<{ current_user: string; db: string }>(ownerUri, "SELECT current_user, current_database() AS db");
    expect(row).toEqual({ current_user: "neondb_owner", db: "neondb" });
    const [ops] = [(await api.listProjectOperations({ projectId })).data.operations.map((o) => o.action).sort()];
    expect(ops).toEqual(["create_timeline", "start_compute"]);
  });

  it("creates a branch with an endpoint, a database and a role, and the connection URI really connects", async () => {
    const created = await api.createProjectBranch(projectId, { branch: { name: "staging" }, endpoints: [{ type: EndpointType.ReadWrite }] });
    expect(created.status).toBe(201);
    const branchId = created.data.branch.id;
    expect(created.data.branch.parent_id).toBe(mainBranchId);
    expect(created.data.endpoints).toHaveLength(1);
    expect(created.data.operations.map((o) => o.action)).toEqual(["create_branch", "start_compute"]);
    expect(created.data.operations.every((o) => o.status !== "finished")).toBe(true);
    await waitForOperations(api, projectId);

    await api.createProjectBranchDatabase(projectId, branchId, { database: { name: "prefect_server", owner_name: "neondb_owner" } });
    await waitForOperations(api, projectId);
    const role = await api.createProjectBranchRole(projectId, branchId, { role: { name: "pipeline" } });
    expect(role.data.role.password).toMatch(/.{8,}/);
    await waitForOperations(api, projectId);
    const revealed = await api.getProjectBranchRolePassword(projectId, branchId, "pipeline");
    expect(revealed.data.password).toBe(role.data.role.password);

    const direct = await api.getConnectionUri({ projectId, branch_id: branchId, database_name: "prefect_server", role_name: "pipeline" });
    const pooled = await api.getConnectionUri({ projectId, branch_id: branchId, database_name: "prefect_server", role_name: "pipeline", pooled: true });
    expect(direct.data.uri).not.toBe(pooled.data.uri);
    for (const uri of [direct.data.uri, pooled.data.uri]) {
      const [row] = await query<{ current_user: string; db: string }>(uri, "SELECT current_user, current_database() AS db");
      expect(row).toEqual({ current_user: "pipeline", db: "prefect_server" });
    }
    const endpointHostName = created.data.endpoints[0].host;
    expect(emulator.resolveHost(endpointHostName)).toEqual({ host: "127.0.0.1", port: Number(new URL(direct.data.uri).port) });
    expect(emulator.resolveHost(endpointHostName.replace(/^(ep-[^.]+)/, "$1-pooler"))).toEqual({ host: "127.0.0.1", port: Number(new URL(pooled.data.uri).port) });
    expect(emulator.resolveHost("ep-unknown-host-00000000.eu-central-1.aws.neon.tech")).toBeUndefined();

    // The URIs say sslmode=disable, but the server speaks TLS as well, with a certificate a client can verify.
    const caCertFile = emulator.state.cluster(projectId, branchId)?.caCertFile;
    expect(caCertFile).toBeDefined();
    const tlsUri = new URL(direct.data.uri);
    tlsUri.searchParams.delete("sslmode");
    const tlsClient = new Client({ connectionString: tlsUri.toString(), ssl: { ca: readFileSync(caCertFile ?? "") } });
    await tlsClient.connect();
    const tlsRow = await tlsClient.query<{ ssl: boolean }>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    await tlsClient.end();
    expect(tlsRow.rows).toEqual([{ ssl: true }]);
    // The role exists on the new branch only: branches are separate clusters.
    expect((await errorOf(api.getProjectBranchRole(projectId, mainBranchId, "pipeline"))).status).toBe(404);

    const patched = await errorOf(api.updateProjectBranch(projectId, branchId, { branch: { name: "staging" } }));
    expect(patched).toMatchObject({ status: 400, message: "cannot set branch to the same name" });

    const endpointId = created.data.endpoints[0].id;
    const port = Number(new URL(direct.data.uri).port);
    expect((await api.deleteProjectBranch({ projectId, branchId })).status).toBe(200);
    expect(await isPortClosed(port)).toBe(true);
    await waitForOperations(api, projectId);
    expect((await api.deleteProjectBranch({ projectId, branchId })).status).toBe(204);
    expect((await errorOf(api.getProjectBranch(projectId, branchId))).message).toBe("branch not found");
    expect((await errorOf(api.getProjectEndpoint(projectId, endpointId))).status).toBe(404);
    expect(emulator.violations).toEqual([]);
  });

  it("makes API roles members of neon_superuser, so they read the owner's tables while SQL roles cannot", async () => {
    await query(ownerUri, "CREATE TABLE articles (id int PRIMARY KEY, title text); INSERT INTO articles VALUES (1, 'hello')");
    await query(ownerUri, "CREATE ROLE sql_made LOGIN PASSWORD 'sql-made-pw'");
    await api.createProjectBranchRole(projectId, mainBranchId, { role: { name: "reader" } });
    await waitForOperations(api, projectId);
    const { data } = await api.getConnectionUri({ projectId, database_name: "neondb", role_name: "reader" });

    const [membership] = await query<{ api: boolean; sql: boolean }>(
      ownerUri,
      "SELECT pg_has_role('reader', 'neon_superuser', 'member') AS api, pg_has_role('sql_made', 'neon_superuser', 'member') AS sql",
    );
    expect(membership).toEqual({ api: true, sql: false });
    expect(await query(data.uri, "SELECT id, title FROM articles")).toEqual([{ id: 1, title: "hello" }]);
    await query(data.uri, "INSERT INTO articles VALUES (2, 'written by an API role')");

    const sqlUri = new URL(data.uri);
    sqlUri.username = "sql_made";
    sqlUri.password = "sql-made-pw";
    await expect(query(sqlUri.toString(), "SELECT * FROM articles")).rejects.toThrow(/permission denied/);
    const [who] = await query<{ neon_superuser_login: boolean }>(ownerUri, "SELECT rolcanlogin AS neon_superuser_login FROM pg_roles WHERE rolname = 'neon_superuser'");
    expect(who.neon_superuser_login).toBe(false);
  });

  it("branches copy the parent's data; restore from the parent brings back the parent's current state", async () => {
    await query(ownerUri, "CREATE TABLE stock (sku text PRIMARY KEY, qty int); INSERT INTO stock VALUES ('a', 1), ('b', 2)");
    const { data } = await api.createProjectBranch(projectId, { branch: { name: "preview" }, endpoints: [{ type: EndpointType.ReadWrite }] });
    await waitForOperations(api, projectId);
    const childId = data.branch.id;
    const childUri = (await api.getConnectionUri({ projectId, branch_id: childId, database_name: "neondb", role_name: "neondb_owner" })).data.uri;
    expect(await query(childUri, "SELECT sku, qty FROM stock ORDER BY sku")).toEqual([
      { sku: "a", qty: 1 },
      { sku: "b", qty: 2 },
    ]);

    await query(childUri, "DELETE FROM stock WHERE sku = 'a'; UPDATE stock SET qty = 99; CREATE TABLE scratch (x int)");
    await query(ownerUri, "INSERT INTO stock VALUES ('c', 3)");
    expect(await query(ownerUri, "SELECT count(*)::int AS n FROM stock")).toEqual([{ n: 3 }]);

    const restored = await api.restoreProjectBranch(projectId, childId, { source_branch_id: mainBranchId });
    expect(restored.status).toBe(200);
    expect(restored.data.branch.last_reset_at).toBeDefined();
    await waitForOperations(api, projectId);
    // Same endpoint, same URI: only the data behind it changed.
    expect(await query(childUri, "SELECT sku, qty FROM stock ORDER BY sku")).toEqual([
      { sku: "a", qty: 1 },
      { sku: "b", qty: 2 },
      { sku: "c", qty: 3 },
    ]);
    expect(await query(childUri, "SELECT to_regclass('scratch') AS t")).toEqual([{ t: null }]);
    expect(emulator.violations).toEqual([]);
  });

  it("serves the remaining operations within the spec: settings, endpoints, databases, roles, protection", async () => {
    const settled = async <T>(call: Promise<T>): Promise<T> => {
      const result = await call;
      await waitForOperations(api, projectId);
      return result;
    };
    const allowed = { ips: ["203.0.113.0/24", "198.51.100.7"], protected_branches_only: true };
    await api.updateProject(projectId, { project: { settings: { allowed_ips: allowed }, history_retention_seconds: 3600 } });
    const project = (await api.getProject(projectId)).data.project;
    expect(project.settings?.allowed_ips).toEqual(allowed);
    expect(project.history_retention_seconds).toBe(3600);
    expect((await errorOf(api.updateProject(projectId, { project: { settings: { allowed_ips: { ips: ["not an ip"] } } } }))).status).toBe(400);
    expect((await api.listProjects({ search: "naluma" })).data.projects.map((p) => p.id)).toEqual([projectId]);
    expect((await api.listProjects({ search: "nothing-like-it" })).data.projects).toEqual([]);

    const readOnly = await settled(api.createProjectEndpoint(projectId, { endpoint: { branch_id: mainBranchId, type: EndpointType.ReadOnly } }));
    const endpointId = readOnly.data.endpoint.id;
    await settled(api.updateProjectEndpoint(projectId, endpointId, { endpoint: { autoscaling_limit_min_cu: 0.25, autoscaling_limit_max_cu: 4, suspend_timeout_seconds: 300 } }));
    const endpoint = (await api.getProjectEndpoint(projectId, endpointId)).data.endpoint;
    expect([endpoint.autoscaling_limit_min_cu, endpoint.autoscaling_limit_max_cu, endpoint.suspend_timeout_seconds]).toEqual([0.25, 4, 300]);
    expect((await errorOf(api.updateProjectEndpoint(projectId, endpointId, { endpoint: { autoscaling_limit_max_cu: 12 } }))).status).toBe(400);
    expect((await errorOf(api.createProjectEndpoint(projectId, { endpoint: { branch_id: mainBranchId, type: EndpointType.ReadWrite } }))).status).toBe(409);
    expect((await settled(api.deleteProjectEndpoint(projectId, endpointId))).status).toBe(200);
    expect((await api.deleteProjectEndpoint(projectId, endpointId)).status).toBe(204);

    await settled(api.createProjectBranchRole(projectId, mainBranchId, { role: { name: "migrations" } }));
    await settled(api.createProjectBranchDatabase(projectId, mainBranchId, { database: { name: "scratch_db", owner_name: "neondb_owner" } }));
    await settled(api.updateProjectBranchDatabase(projectId, mainBranchId, "scratch_db", { database: { name: "renamed_db", owner_name: "migrations" } }));
    expect((await api.getProjectBranchDatabase(projectId, mainBranchId, "renamed_db")).data.database.owner_name).toBe("migrations");
    expect(await query(ownerUri, "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'renamed_db'")).toEqual([{ owner: "migrations" }]);
    expect((await errorOf(api.deleteProjectBranchRole(projectId, mainBranchId, "migrations"))).status).toBe(409);
    expect((await settled(api.deleteProjectBranchDatabase(projectId, mainBranchId, "renamed_db"))).status).toBe(200);
    expect((await api.deleteProjectBranchDatabase(projectId, mainBranchId, "renamed_db")).status).toBe(204);
    expect(await query(ownerUri, "SELECT count(*)::int AS n FROM pg_database WHERE datname = 'renamed_db'")).toEqual([{ n: 0 }]);

    const before = (await api.getConnectionUri({ projectId, database_name: "neondb", role_name: "migrations" })).data.uri;
    const reset = await settled(api.resetProjectBranchRolePassword(projectId, mainBranchId, "migrations"));
    const after = (await api.getConnectionUri({ projectId, database_name: "neondb", role_name: "migrations" })).data.uri;
    expect(new URL(after).password).toBe(encodeURIComponent(reset.data.role.password ?? ""));
    await expect(query(before, "SELECT 1")).rejects.toThrow(/password authentication failed/);
    expect(await query(after, "SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
    expect((await settled(api.deleteProjectBranchRole(projectId, mainBranchId, "migrations"))).status).toBe(200);
    expect((await api.deleteProjectBranchRole(projectId, mainBranchId, "migrations")).status).toBe(204);
    expect(await query(ownerUri, "SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'migrations'")).toEqual([{ n: 0 }]);

    const branch = await settled(api.createProjectBranch(projectId, { branch: { name: "guarded" } }));
    const guardedId = branch.data.branch.id;
    await settled(api.updateProjectBranch(projectId, guardedId, { branch: { protected: true } }));
    expect((await errorOf(api.deleteProjectBranch({ projectId, branchId: guardedId }))).status).toBe(400);
    expect((await errorOf(api.restoreProjectBranch(projectId, guardedId, { source_branch_id: mainBranchId }))).status).toBe(400);
    expect((await errorOf(api.deleteProjectBranch({ projectId, branchId: mainBranchId }))).status).toBe(400);
    const listed = (await api.listProjectBranches({ projectId, sort_by: "name", sort_order: "asc" })).data.branches.map((b) => b.name);
    expect(listed).toEqual(["guarded", "main", "preview"]);
    expect(emulator.violations).toEqual([]);
  });

  it("branch expiration: keeps expires_at in Neon's form with its TTL, refuses Neon's restrictions, restarts the TTL on a reset, and its job deletes the branch", async () => {
    const settled = async <T>(call: Promise<T>): Promise<T> => {
      const result = await call;
      await waitForOperations(api, projectId);
      return result;
    };
    const day = 86_400_000;
    const utc = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    // Two days ahead, written at +02:00 with a fraction: Neon keeps UTC and whole seconds.
    const at = Date.now() + 2 * day;
    const written = new Date(at + 2 * 3_600_000).toISOString().replace(/Z$/, "+02:00");
    const created = await settled(api.createProjectBranch(projectId, { branch: { name: "expiring", expires_at: written }, endpoints: [{ type: EndpointType.ReadWrite }] }));
    const expiringId = created.data.branch.id;
    expect(created.data.branch.expires_at).toBe(utc(at));
    expect(Math.abs((created.data.branch.ttl_interval_seconds ?? 0) - 2 * 86_400)).toBeLessThanOrEqual(2);
    expect((await api.getProjectBranch(projectId, expiringId)).data.branch.expires_at).toBe(utc(at));

    const preview = (await api.listProjectBranches({ projectId, search: "preview" })).data.branches.find((b) => b.name === "preview");
    const child = await settled(api.createProjectBranch(projectId, { branch: { name: "preview-child", parent_id: preview?.id } }));
    const refusals: [string, Promise<unknown>][] = [
      ["a past expiry", api.createProjectBranch(projectId, { branch: { name: "late", expires_at: utc(Date.now() - 60_000) } })],
      ["an expiry over 30 days ahead", api.createProjectBranch(projectId, { branch: { name: "far", expires_at: utc(Date.now() + 31 * day) } })],
      ["a protected branch with an expiry", api.createProjectBranch(projectId, { branch: { name: "both", protected: true, expires_at: utc(at) } })],
      ["a child of an expiring branch", api.createProjectBranch(projectId, { branch: { name: "grandchild", parent_id: expiringId } })],
      ["protecting an expiring branch", api.updateProjectBranch(projectId, expiringId, { branch: { protected: true } })],
      ["an expiry on the default branch", api.updateProjectBranch(projectId, mainBranchId, { branch: { expires_at: utc(at) } })],
      ["an expiry on a branch with children", api.updateProjectBranch(projectId, preview?.id ?? "", { branch: { expires_at: utc(at) } })],
    ];
    for (const [what, call] of refusals) expect((await errorOf(call)).status, what).toBe(400);
    expect((await api.getProjectBranch(projectId, expiringId)).data.branch).toMatchObject({ protected: false, expires_at: utc(at) });
    await settled(api.deleteProjectBranch({ projectId, branchId: child.data.branch.id }));

    const later = Date.now() + 5 * day;
    const moved = await api.updateProjectBranch(projectId, expiringId, { branch: { expires_at: utc(later) } });
    expect(moved.data.branch.expires_at).toBe(utc(later));
    const ttl = moved.data.branch.ttl_interval_seconds ?? 0;
    expect(Math.abs(ttl - 5 * 86_400)).toBeLessThanOrEqual(2);
    // A reset restarts the countdown with the same interval, from the reset.
    const beforeReset = Date.now();
    const restored = await settled(api.restoreProjectBranch(projectId, expiringId, { source_branch_id: mainBranchId }));
    const restarted = Date.parse(restored.data.branch.expires_at ?? "");
    expect(restored.data.branch.ttl_interval_seconds).toBe(ttl);
    expect(restarted).toBeGreaterThanOrEqual(Math.floor(beforeReset / 1000) * 1000 + ttl * 1000);
    expect(restarted).toBeLessThanOrEqual(Date.now() + ttl * 1000);

    const removed = await api.updateProjectBranch(projectId, expiringId, { branch: { expires_at: null } });
    expect(removed.data.branch.expires_at).toBeUndefined();
    expect(removed.data.branch.ttl_interval_seconds).toBeUndefined();
    expect(await emulator.expireBranches(new Date(Date.now() + 40 * day))).toEqual([]);

    await api.updateProjectBranch(projectId, expiringId, { branch: { expires_at: utc(Date.now() + day) } });
    const port = emulator.state.cluster(projectId, expiringId)?.port ?? 0;
    expect(await emulator.expireBranches()).toEqual([]);
    expect(await emulator.expireBranches(new Date(Date.now() + 2 * day))).toEqual([expiringId]);
    expect((await errorOf(api.getProjectBranch(projectId, expiringId))).status).toBe(404);
    expect(emulator.state.endpoints(projectId).filter((e) => e.branch_id === expiringId)).toEqual([]);
    expect(await isPortClosed(port)).toBe(true);
    expect(emulator.violations).toEqual([]);
  });

  it("annotations: a project's default branch keeps project.branch.annotations, a branch its annotation_value, both read back where the spec says", async () => {
    const made = await api.createProject({ project: { name: "annotated", region_id: "aws-eu-central-1", branch: { annotations: { "pulumi-claim": "c-project" } } } });
    const annotatedId = made.data.project.id;
    await waitForOperations(api, annotatedId);
    const child = await api.createProjectBranch(annotatedId, { branch: { name: "claimed" }, annotation_value: { "pulumi-claim": "c-branch" } });
    await waitForOperations(api, annotatedId);
    const plain = await api.createProjectBranch(annotatedId, { branch: { name: "plain" } });
    await waitForOperations(api, annotatedId);

    const listed = (await api.listProjectBranches({ projectId: annotatedId })).data.annotations;
    expect(listed[made.data.branch.id]).toMatchObject({ object: { type: "console/branch", id: made.data.branch.id }, value: { "pulumi-claim": "c-project" } });
    expect(listed[child.data.branch.id].value).toEqual({ "pulumi-claim": "c-branch" });
    expect(listed[plain.data.branch.id]?.value ?? {}).toEqual({});
    expect((await api.getProjectBranch(annotatedId, made.data.branch.id)).data.annotation.value).toEqual({ "pulumi-claim": "c-project" });
    expect((await api.getProjectBranch(annotatedId, child.data.branch.id)).data.annotation.value).toEqual({ "pulumi-claim": "c-branch" });
    await api.deleteProject(annotatedId);
    expect(emulator.violations).toEqual([]);
  });
});

describe("Neon emulator operations and faults", () => {
  let emulator: NeonEmulator;
  let api: NeonApi;

  beforeAll(async () => {
    emulator = await startNeonEmulator({ operationMs: 200 });
    api = createApiClient({ apiKey: emulator.apiKey, baseURL: emulator.url });
  });

  afterAll(async () => {
    await emulator?.close();
    await stopAllClusters();
  });

  it("answers 423 while operations run, then accepts the call", async () => {
    const { data } = await api.createProject({ project: { name: "locked" } });
    const projectId = data.project.id;
    expect(data.operations.map((o) => o.status)).toEqual(["scheduling", "scheduling"]);
    const locked = await errorOf(api.createProjectBranch(projectId, { branch: { name: "too-early" } }));
    expect(locked).toEqual({ status: 423, message: LOCKED_MESSAGE, code: "ERR_BAD_REQUEST" });
    // Reads are never locked.
    expect((await api.getProject(projectId)).status).toBe(200);

    await new Promise((r) => setTimeout(r, 120));
    const midway = (await api.getProjectOperation(projectId, data.operations[0].id)).data.operation.status;
    expect(midway).toBe("running");
    await waitForOperations(api, projectId);
    const branch = await api.createProjectBranch(projectId, { branch: { name: "in-time" } });
    expect(branch.status).toBe(201);
    expect(emulator.state.branches(projectId).map((b) => b.name).sort()).toEqual(["in-time", "main"]);
    await waitForOperations(api, projectId);
  });

  it("injects faults with failNext", async () => {
    const [project] = emulator.state.projects();
    const main = emulator.state.branches(project.id).find((b) => b.default);
    if (!main) throw new Error("no default branch");
    emulator.resetCalls();
    emulator.faults.failNext("createProjectBranchRole", 2, { kind: "status", status: 503 });
    for (let i = 0; i < 2; i++) {
      expect((await errorOf(api.createProjectBranchRole(project.id, main.id, { role: { name: "migrations" } }))).status).toBe(503);
    }
    expect(emulator.state.roles(project.id, main.id).map((r) => r.name)).toEqual(["neondb_owner"]);
    expect((await api.createProjectBranchRole(project.id, main.id, { role: { name: "migrations" } })).status).toBe(201);
    expect(emulator.state.roles(project.id, main.id).map((r) => r.name).sort()).toEqual(["migrations", "neondb_owner"]);

    emulator.faults.failNext("getProject", 1, { kind: "drop" });
    const dropped = await errorOf(api.getProject(project.id));
    expect(dropped.status).toBeUndefined();
    expect(dropped.code).toBe("ECONNRESET");
    expect((await api.getProject(project.id)).status).toBe(200);
    expect(emulator.calls.map((c) => [c.operationId, c.status])).toEqual([
      ["createProjectBranchRole", 503],
      ["createProjectBranchRole", 503],
      ["createProjectBranchRole", 201],
      ["getProject", 0],
      ["getProject", 200],
    ]);
    expect(() => emulator.faults.failNext("noSuchOperation", 1, { kind: "drop" })).toThrow(/not an operationId/);
    expect((await errorOf(createApiClient({ apiKey: "wrong", baseURL: emulator.url }).getProject(project.id))).status).toBe(401);
  });

  it("deletes a project with every cluster behind it", async () => {
    const [project] = emulator.state.projects();
    await waitForOperations(api, project.id);
    const ports = emulator.state.branches(project.id).map((b) => b.cluster.port);
    expect(ports).toHaveLength(2);
    expect((await api.deleteProject(project.id)).status).toBe(200);
    for (const port of ports) expect(await isPortClosed(port)).toBe(true);
    expect((await errorOf(api.getProject(project.id))).message).toBe("project not found");
    expect(emulator.violations).toEqual([]);
  });
});

describe("Neon emulator contract check", () => {
  afterAll(stopAllClusters);

  it("records a request that breaks the spec and fails close()", async () => {
    const emulator = await startNeonEmulator();
    try {
      const api = createApiClient({ apiKey: emulator.apiKey, baseURL: emulator.url });
      const { data } = await api.createProject({ project: {} });
      expect(data.project.name).toBe(data.project.id);
      expect(emulator.violations).toEqual([]);
      emulator.assertContract();

      const response = await fetch(`${emulator.url}/projects/${data.project.id}/branches/${data.branch.id}/roles`, {
        method: "POST",
        headers: { authorization: `Bearer ${emulator.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ role: { no_login: "yes" } }),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { code: string }).code).toBe("");
      expect(emulator.state.roles(data.project.id, data.branch.id).map((r) => r.name)).toEqual(["neondb_owner"]);
      expect(emulator.violations.join("\n")).toMatch(/\(createProjectBranchRole\) request: request body\/role must have required property .name./);
      expect(() => emulator.assertContract()).toThrow(/contract violation/);

      const port = Number(new URL(data.connection_uris[0].connection_uri).port);
      await expect(emulator.close()).rejects.toThrow(/contract violation/);
      expect(emulator.state.projects()).toEqual([]);
      expect(await isPortClosed(port)).toBe(true);
    } finally {
      await emulator.close().catch(() => undefined);
    }
  });
});
