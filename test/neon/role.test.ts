import { beforeAll, describe, expect, it } from "vitest";
import { Client } from "pg";
import { roleProvider, type RoleInputs, type RoleOutputs } from "../../dynamic-providers/neon/role";
import { assertNoSecrets } from "../harness/secrets-scan";
import { serializeProviders } from "../harness/serialize";
import { providerUnderTest } from "../support/provider";
import { useNeonEmulator } from "./support";

const { provider } = providerUnderTest(roleProvider);
const { emu, project } = useNeonEmulator({ project: { name: "naluma_content" } });

let projectId: string;
let branchId: string;
let ownerPassword: string;

const writes = () => emu.calls.filter((call) => call.method !== "GET");
const allOperationsFinished = () => emu.state.operations(projectId).every((op) => op.status === "finished");

/** Logs in through the branch's endpoint (its loopback forwarder) as `role`; returns the error text on failure. */
async function login(role: string, password: string): Promise<string> {
  const endpoint = emu.state.endpoints(projectId).find((e) => e.branch_id === branchId && e.type === "read_write");
  if (!endpoint) throw new Error("no read_write endpoint");
  const client = new Client({ host: "127.0.0.1", port: endpoint.direct.port, user: role, password, database: "neondb" });
  try {
    await client.connect();
    const result = await client.query<{ current_user: string }>("SELECT current_user");
    return `ok as ${result.rows[0].current_user}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Everything an error carries (message, stack, own properties), to scan for secrets. */
function everything(error: unknown): string {
  return error instanceof Error ? `${error.stack}\n${JSON.stringify(error, Object.getOwnPropertyNames(error))}` : String(error);
}

beforeAll(() => {
  projectId = project.project.id;
  branchId = project.branch.id;
  ownerPassword = project.roles[0].password ?? "";
});

function inputs(overrides: Partial<RoleInputs> = {}): RoleInputs {
  return { projectId, branchId, name: "app_admin", ...overrides };
}

describe("check", () => {
  it.each([
    { case: "an empty name", news: { name: "" }, field: "name", text: "is required" },
    { case: "a 64-byte name", news: { name: "r".repeat(64) }, field: "name", text: "at most 63 bytes" },
    { case: "a pg_ name", news: { name: "pg_admin" }, field: "name", text: "must not start with pg_" },
    { case: "a PG_ name", news: { name: "PG_admin" }, field: "name", text: "must not start with pg_" },
    // PostgreSQL's reserved role names, in any case: GRANT ... TO "PUBLIC" would grant to everyone.
    ...["PUBLIC", "public", "None", "current_user", "SESSION_USER", "current_role"].map((name) => ({
      case: `the reserved name ${name}`,
      news: { name },
      field: "name",
      text: "must not be one of public, none, current_user, current_role, session_user (in any case)",
    })),
    { case: "a name with a NUL", news: { name: "app\u0000admin" }, field: "name", text: "must not contain a NUL character" },
    { case: "a name with a newline", news: { name: "app\nadmin" }, field: "name", text: "must not contain control characters" },
    { case: "a numeric rotatePassword", news: { rotatePassword: 2 }, field: "rotatePassword", text: "must be a string" },
    { case: "no project", news: { projectId: undefined }, field: "projectId", text: "is required" },
  ])("refuses $case naming the field", async ({ news, field, text }) => {
    const result = await provider.check({} as RoleInputs, { ...inputs({ projectId: "p", branchId: "b" }), ...news } as unknown as RoleInputs);
    expect(result.failures).toHaveLength(1);
    const [failure] = result.failures ?? [];
    expect(failure.property).toBe(field);
    expect(failure.reason).toMatch(/^neon role/);
    expect(failure.reason).toContain(field);
    expect(failure.reason).toContain(text);
  });
});

describe("diff (pure)", () => {
  const base = inputs({ projectId: "p", branchId: "b", rotatePassword: "1" });
  const olds: RoleOutputs = { ...base, password: "secret", adopted: false };
  it.each([
    { change: {}, changes: false, replaces: [] },
    { change: { rotatePassword: "2" }, changes: true, replaces: [] },
    { change: { name: "app_admin2" }, changes: true, replaces: ["name"] },
    { change: { branchId: "b2" }, changes: true, replaces: ["branchId"] },
    { change: { projectId: "p2" }, changes: true, replaces: ["projectId"] },
  ])("$change → changes $changes, replaces $replaces", async ({ change, changes, replaces }) => {
    expect(await provider.diff("b/app_admin", olds, { ...base, ...change })).toMatchObject({ changes, replaces, deleteBeforeReplace: true });
  });
});

describe("the Neon resources as Pulumi serializes them", () => {
  it("declare their secret outputs, carry readable type names and capture no credential", async () => {
    const ids = { projectId: "p", branchId: "b" };
    const serialized = await serializeProviders(
      [
        { module: "dynamic-providers/neon/role", exportName: "Role", name: "admin", props: { ...ids, name: "app_admin" } },
        {
          module: "dynamic-providers/neon/connection-uri",
          exportName: "ConnectionUri",
          name: "app",
          props: { ...ids, endpointId: "ep-1", databaseName: "naluma_content", roleName: "app_admin" },
        },
        { module: "dynamic-providers/neon/endpoint", exportName: "Endpoint", name: "compute", props: { ...ids, adopt: true } },
        { module: "dynamic-providers/neon/database", exportName: "Database", name: "prefect", props: { ...ids, name: "prefect_server", ownerName: "app_admin" } },
      ],
      { env: { NEON_API_KEY: "napi_serialization_probe_key", NEON_API_URL: "http://127.0.0.1:9/api/v2" } },
    );
    expect(serialized.admin.type).toBe("pulumi-nodejs:dynamic/neon:Role");
    expect(serialized.admin.additionalSecretOutputs).toEqual(["password"]);
    expect(serialized.app.type).toBe("pulumi-nodejs:dynamic/neon:ConnectionUri");
    expect([...serialized.app.additionalSecretOutputs].sort()).toEqual(["pooledUri", "uri"]);
    expect(serialized.compute.type).toBe("pulumi-nodejs:dynamic/neon:Endpoint");
    expect(serialized.prefect.type).toBe("pulumi-nodejs:dynamic/neon:Database");
    for (const resource of Object.values(serialized)) {
      assertNoSecrets(resource.provider, ["napi_serialization_probe_key"]);
      expect(resource.providerIsSecret).toBe(false);
    }
  }, 120_000);
});

describe("lifecycle against the emulator", () => {
  it("create, read, no-op diff, rotatePassword, replace diff, delete twice", async () => {
    emu.resetCalls();
    const created = await provider.create(inputs({ rotatePassword: "1" }));
    expect(allOperationsFinished()).toBe(true);
    expect(writes().map((call) => [call.operationId, call.requestBody])).toEqual([["createProjectBranchRole", { role: { name: "app_admin" } }]]);
    expect(emu.calls.map((call) => call.operationId)).toContain("getProjectOperation");
    const outs = created.outs as RoleOutputs;
    expect(created.id).toBe(`${branchId}/app_admin`);
    expect(outs).toMatchObject({ name: "app_admin", adopted: false });
    expect(outs.password).toBe(emu.state.roles(projectId, branchId).find((r) => r.name === "app_admin")?.password);
    expect(await login("app_admin", outs.password)).toBe("ok as app_admin");

    emu.resetCalls();
    expect(await provider.read(created.id, outs)).toEqual({ id: created.id, props: outs });
    expect(emu.calls.map((call) => call.operationId)).toEqual(["getProjectBranchRole"]);
    expect((await provider.diff(created.id, outs, inputs({ rotatePassword: "1" }))).changes).toBe(false);

    const rotated = inputs({ rotatePassword: "2" });
    expect(await provider.diff(created.id, outs, rotated)).toMatchObject({ changes: true, replaces: [] });
    emu.resetCalls();
    const updated = await provider.update(created.id, outs, rotated);
    expect(allOperationsFinished()).toBe(true);
    expect(writes().map((call) => call.operationId)).toEqual(["resetProjectBranchRolePassword"]);
    const newPassword = (updated.outs as RoleOutputs).password;
    expect(newPassword).not.toBe(outs.password);
    expect(await login("app_admin", newPassword)).toBe("ok as app_admin");
    expect(await login("app_admin", outs.password)).toMatch(/password authentication failed/);

    expect(await provider.diff(created.id, updated.outs as RoleOutputs, inputs({ rotatePassword: "2", name: "app_admin2" }))).toMatchObject({
      replaces: ["name"],
      deleteBeforeReplace: true,
    });

    emu.resetCalls();
    await provider.delete(created.id, updated.outs as RoleOutputs);
    expect(allOperationsFinished()).toBe(true);
    await provider.delete(created.id, updated.outs as RoleOutputs);
    expect(writes().map((call) => [call.operationId, call.status])).toEqual([
      ["deleteProjectBranchRole", 200],
      ["deleteProjectBranchRole", 204],
    ]);
    expect(emu.state.roles(projectId, branchId).some((r) => r.name === "app_admin")).toBe(false);
    expect(await provider.read(created.id, updated.outs as RoleOutputs)).toEqual({ id: "" });

    // A failing call carries neither the password nor the API key.
    const error = await provider.update(created.id, updated.outs as RoleOutputs, inputs({ rotatePassword: "3" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/404/);
    assertNoSecrets(everything(error), [newPassword, outs.password, emu.apiKey]);
  });

  it("adopt takes over the project's owner role and reveals its password, without a create call", async () => {
    emu.resetCalls();
    const created = await provider.create(inputs({ name: "neondb_owner", adopt: true }));
    expect(emu.calls.map((call) => call.operationId)).toEqual(["getProjectBranchRole", "getProjectBranchRolePassword"]);
    expect(created.outs).toMatchObject({ name: "neondb_owner", adopted: true, password: ownerPassword });
    expect(await login("neondb_owner", ownerPassword)).toBe("ok as neondb_owner");
  });

  it("adopt with rotatePassword gives an adopted role its own password (a branch's copy of its parent's owner)", async () => {
    const before = await provider.create(inputs({ name: "neondb_owner", adopt: true }));
    emu.resetCalls();
    const created = await provider.create(inputs({ name: "neondb_owner", adopt: true, rotatePassword: "branch" }));
    expect(emu.calls.map((call) => call.operationId)).toContain("resetProjectBranchRolePassword");
    expect(emu.calls.some((call) => call.operationId === "createProjectBranchRole")).toBe(false);
    const password = (created.outs as RoleOutputs).password;
    expect(password).not.toBe((before.outs as RoleOutputs).password);
    expect(await login("neondb_owner", password)).toBe("ok as neondb_owner");
    ownerPassword = password;
  });

  it("an existing role without adopt fails with a hint to adopt, and no secret in the error", async () => {
    const error = await provider.create(inputs({ name: "neondb_owner" })).catch((e: unknown) => e);
    const message = (error as Error).message;
    expect(message).toMatch(/^neon role 'neondb_owner' \(branch '.*'\) already exists \(/);
    expect(message).toContain("interrupted `pulumi up`");
    expect(message).toContain("Set `adopt: true` on this resource");
    expect(message).toContain(`\`neon roles delete neondb_owner --project-id ${projectId} --branch ${branchId}\``);
    assertNoSecrets(everything(error), [ownerPassword, emu.apiKey]);
  });

  it("a 500 on reset is reported without secrets", async () => {
    const created = await provider.create(inputs({ name: "fault_admin" }));
    const outs = created.outs as RoleOutputs;
    emu.faults.failNext("resetProjectBranchRolePassword", 1, { kind: "status", status: 500 });
    const error = await provider.update(created.id, outs, { ...inputs({ name: "fault_admin" }), rotatePassword: "x" }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/500/);
    assertNoSecrets(everything(error), [outs.password, emu.apiKey]);
    await provider.delete(created.id, outs);
  });

  it("a create whose connection dropped before Neon acted is sent once more: one call, one role, two create calls", async () => {
    emu.faults.failNext("createProjectBranchRole", 1, { kind: "drop" });
    emu.resetCalls();
    const created = await provider.create(inputs({ name: "dropped_admin" }));
    const outs = created.outs as RoleOutputs;
    // The dropped one is recorded with status 0 (no answer), then the lookup finds nothing, then the resend.
    expect(emu.calls.filter((call) => call.operationId === "createProjectBranchRole").map((call) => call.status)).toEqual([0, 201]);
    expect(emu.state.roles(projectId, branchId).filter((role) => role.name === "dropped_admin")).toHaveLength(1);
    expect(outs.adopted).toBe(false);
    expect(await login("dropped_admin", outs.password)).toBe("ok as dropped_admin");
    await provider.delete(created.id, outs);
  });

  it("a dropped create of a name already on the branch is refused, never taken over: no create sent", async () => {
    const [existing] = emu.state.roles(projectId, branchId);
    emu.faults.failNext("createProjectBranchRole", 1, { kind: "drop" });
    emu.resetCalls();
    const error = await provider.create(inputs({ name: existing.name })).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(new RegExp(`already exists .*Set \`adopt: true\` on this resource`));
    expect(emu.calls.filter((call) => call.operationId === "createProjectBranchRole")).toEqual([]);
    emu.faults.clear();
  });

  it("a resend whose answer is lost too finds the role it made: still one role, two create calls", async () => {
    emu.faults.failNext("createProjectBranchRole", 1, { kind: "drop" });
    emu.faults.failNext("createProjectBranchRole", 1, { kind: "actThenDrop" });
    emu.resetCalls();
    const created = await provider.create(inputs({ name: "twice_lost_admin" }));
    const outs = created.outs as RoleOutputs;
    expect(emu.calls.filter((call) => call.operationId === "createProjectBranchRole")).toHaveLength(2);
    expect(emu.state.roles(projectId, branchId).filter((role) => role.name === "twice_lost_admin")).toHaveLength(1);
    expect(await login("twice_lost_admin", outs.password)).toBe("ok as twice_lost_admin");
    await provider.delete(created.id, outs);
  });

  it("a create dropped twice fails naming the call, after exactly two create calls and no role", async () => {
    emu.faults.failNext("createProjectBranchRole", 2, { kind: "drop" });
    emu.resetCalls();
    const error = await provider.create(inputs({ name: "never_admin" })).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/POST \/projects\/[^/]+\/branches\/[^/]+\/roles failed: connection error/);
    expect(emu.calls.filter((call) => call.operationId === "createProjectBranchRole")).toHaveLength(2);
    expect(emu.state.roles(projectId, branchId).filter((role) => role.name === "never_admin")).toHaveLength(0);
  });

  it("retries 423 Locked and still creates", async () => {
    emu.faults.failNext("createProjectBranchRole", 2, { kind: "status", status: 423 });
    emu.resetCalls();
    const created = await provider.create(inputs({ name: "locked_admin" }));
    expect(emu.calls.filter((call) => call.operationId === "createProjectBranchRole").map((call) => call.status)).toEqual([423, 423, 201]);
    expect(await login("locked_admin", (created.outs as RoleOutputs).password)).toBe("ok as locked_admin");
    await provider.delete(created.id, created.outs as RoleOutputs);
  });
});
