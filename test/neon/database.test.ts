import { beforeAll, describe, expect, it } from "vitest";
import { Client } from "pg";
import { databaseProvider, type DatabaseInputs, type DatabaseOutputs } from "../../dynamic-providers/neon/database";
import { mutate, neonApi } from "../../dynamic-providers/neon/client";
import { providerUnderTest } from "../support/provider";
import { useNeonEmulator } from "./support";

const { provider } = providerUnderTest(databaseProvider);
const { emu, project } = useNeonEmulator({ project: { name: "naluma_content", branch: { database_name: "naluma_content" } } });

let projectId: string;
let branchId: string;

const writes = () => emu.calls.filter((call) => call.method !== "GET");
const allOperationsFinished = () => emu.state.operations(projectId).every((op) => op.status === "finished");

/** The owner PostgreSQL itself records, read as the control-plane superuser behind the API. */
async function pgOwner(database: string): Promise<string | undefined> {
  const cluster = emu.state.cluster(projectId, branchId);
  if (!cluster) throw new Error("no cluster for the branch");
  const client = new Client({ connectionString: cluster.adminUri("postgres") });
  await client.connect();
  try {
    const result = await client.query<{ owner: string }>(
      "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1",
      [database],
    );
    return result.rows[0]?.owner;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  projectId = project.project.id;
  branchId = project.branch.id;
  const api = neonApi();
  for (const name of ["prefect_owner", "other_owner"]) {
    await mutate(api, projectId, () => api.createProjectBranchRole(projectId, branchId, { role: { name } }));
  }
});

function inputs(overrides: Partial<DatabaseInputs> = {}): DatabaseInputs {
  return { projectId, branchId, name: "prefect_server", ownerName: "prefect_owner", ...overrides };
}

describe("check", () => {
  it.each([
    { case: "a 64-byte name", news: { name: "d".repeat(64) }, field: "name", text: "at most 63 bytes" },
    { case: "a 32-character name of 2-byte letters", news: { name: "é".repeat(32) }, field: "name", text: "got 64 bytes" },
    { case: "a name with a NUL", news: { name: "prefect\u0000server" }, field: "name", text: "must not contain a NUL character" },
    { case: "a name with a newline", news: { name: "prefect\nserver" }, field: "name", text: "must not contain control characters" },
    { case: "the owner PUBLIC", news: { ownerName: "PUBLIC" }, field: "ownerName", text: "must not be one of public" },
    { case: "an empty name", news: { name: "" }, field: "name", text: "is required" },
    { case: "no owner", news: { ownerName: undefined }, field: "ownerName", text: "is required" },
    { case: "a bad branch id", news: { branchId: "Main Branch" }, field: "branchId", text: "a Neon id" },
  ])("refuses $case naming the field", async ({ news, field, text }) => {
    const result = await provider.check({} as DatabaseInputs, { ...inputs(), ...news } as DatabaseInputs);
    expect(result.failures).toHaveLength(1);
    const [failure] = result.failures ?? [];
    expect(failure.property).toBe(field);
    expect(failure.reason).toMatch(/^neon database/);
    expect(failure.reason).toContain(field);
    expect(failure.reason).toContain(text);
  });

  it("accepts a 63-byte name", async () => {
    expect((await provider.check({} as DatabaseInputs, inputs({ name: "d".repeat(63) }))).failures).toEqual([]);
  });

  // PostgreSQL and Neon take any name of printable characters; the postgres providers connect to it by name, not
  // through a URI path, so `a+b` works end to end (test/postgres/grant.test.ts).
  it.each(["a+b", "my-db", "a/b", "Ünïcode db"])("accepts %j, a name a URI has to encode", async (name) => {
    expect((await provider.check({} as DatabaseInputs, inputs({ name }))).failures).toEqual([]);
  });
});

describe("diff (pure)", () => {
  const olds: DatabaseOutputs = { ...inputs({ projectId: "p", branchId: "b" }), databaseId: 1, adopted: false };
  it.each([
    { change: {}, changes: false, replaces: [] },
    { change: { ownerName: "other_owner" }, changes: true, replaces: [] },
    { change: { name: "prefect" }, changes: true, replaces: ["name"] },
    { change: { branchId: "b2" }, changes: true, replaces: ["branchId"] },
    { change: { projectId: "p2" }, changes: true, replaces: ["projectId"] },
  ])("$change → changes $changes, replaces $replaces", async ({ change, changes, replaces }) => {
    const result = await provider.diff("1", olds, { ...inputs({ projectId: "p", branchId: "b" }), ...change });
    expect(result).toMatchObject({ changes, replaces, deleteBeforeReplace: true });
  });
});

describe("lifecycle against the emulator", () => {
  it("create, read, no-op diff, update owner, replace diff, delete twice", async () => {
    const news = (await provider.check({} as DatabaseInputs, inputs())).inputs as DatabaseInputs;
    emu.resetCalls();
    const created = await provider.create(news);
    expect(allOperationsFinished()).toBe(true);
    expect(writes().map((call) => [call.operationId, call.requestBody])).toEqual([
      ["createProjectBranchDatabase", { database: { name: "prefect_server", owner_name: "prefect_owner" } }],
    ]);
    expect(emu.calls.map((call) => call.operationId)).toContain("getProjectOperation");
    const outs = created.outs as DatabaseOutputs;
    expect(outs).toMatchObject({ name: "prefect_server", ownerName: "prefect_owner", adopted: false });
    expect(created.id).toBe(String(outs.databaseId));
    expect(emu.state.databases(projectId, branchId).find((d) => d.name === "prefect_server")).toMatchObject({ owner_name: "prefect_owner" });
    expect(await pgOwner("prefect_server")).toBe("prefect_owner");

    emu.resetCalls();
    expect(await provider.read(created.id, outs)).toEqual({ id: created.id, props: outs });
    expect((await provider.diff(created.id, outs, news)).changes).toBe(false);
    expect(writes()).toEqual([]);

    const changed = inputs({ ownerName: "other_owner" });
    expect(await provider.diff(created.id, outs, changed)).toMatchObject({ changes: true, replaces: [] });
    emu.resetCalls();
    const updated = await provider.update(created.id, outs, changed);
    expect(allOperationsFinished()).toBe(true);
    expect(writes().map((call) => [call.operationId, call.requestBody])).toEqual([["updateProjectBranchDatabase", { database: { owner_name: "other_owner" } }]]);
    expect(updated.outs).toMatchObject({ ownerName: "other_owner", databaseId: outs.databaseId });
    expect(await pgOwner("prefect_server")).toBe("other_owner");

    expect(await provider.diff(created.id, updated.outs as DatabaseOutputs, inputs({ ownerName: "other_owner", name: "prefect" }))).toMatchObject({
      replaces: ["name"],
      deleteBeforeReplace: true,
    });

    emu.resetCalls();
    await provider.delete(created.id, updated.outs as DatabaseOutputs);
    expect(allOperationsFinished()).toBe(true);
    await provider.delete(created.id, updated.outs as DatabaseOutputs);
    expect(writes().map((call) => [call.operationId, call.status])).toEqual([
      ["deleteProjectBranchDatabase", 200],
      ["deleteProjectBranchDatabase", 204],
    ]);
    expect(emu.state.databases(projectId, branchId).some((d) => d.name === "prefect_server")).toBe(false);
    expect(await pgOwner("prefect_server")).toBeUndefined();
    expect(await provider.read(created.id, updated.outs as DatabaseOutputs)).toEqual({ id: "" });
  });

  it("adopt takes over the database the project made, without a create call", async () => {
    emu.resetCalls();
    const created = await provider.create(inputs({ name: "naluma_content", ownerName: "naluma_content_owner", adopt: true }));
    expect(created.outs).toMatchObject({ name: "naluma_content", ownerName: "naluma_content_owner", adopted: true });
    expect(emu.calls.map((call) => call.operationId)).toEqual(["getProjectBranchDatabase"]);
  });

  it("adopt with another owner changes the owner", async () => {
    emu.resetCalls();
    const created = await provider.create(inputs({ name: "naluma_content", ownerName: "other_owner", adopt: true }));
    expect(writes().map((call) => call.operationId)).toEqual(["updateProjectBranchDatabase"]);
    expect(await pgOwner("naluma_content")).toBe("other_owner");
    await provider.update(created.id, created.outs as DatabaseOutputs, inputs({ name: "naluma_content", ownerName: "naluma_content_owner", adopt: true }));
    expect(await pgOwner("naluma_content")).toBe("naluma_content_owner");
  });

  it("an existing database without adopt fails naming it, saying a crash may have left it, and how to adopt or delete it", async () => {
    const error = await provider.create(inputs({ name: "naluma_content", ownerName: "naluma_content_owner" })).catch((e: unknown) => e);
    const message = (error as Error).message;
    expect(message).toMatch(/^neon database 'naluma_content' \(branch '.*'\) already exists \(/);
    expect(message).toContain("interrupted `pulumi up`");
    expect(message).toContain("Set `adopt: true` on this resource");
    expect(message).toContain(`\`neon databases delete naluma_content --project-id ${projectId} --branch ${branchId}\``);
  });

  it("a create whose connection dropped before Neon acted is sent once more: one call, one database, two create calls", async () => {
    emu.faults.failNext("createProjectBranchDatabase", 1, { kind: "drop" });
    emu.resetCalls();
    const created = await provider.create(inputs({ name: "dropped_db" }));
    const outs = created.outs as DatabaseOutputs;
    // The dropped one is recorded with status 0 (no answer), then the lookup finds nothing, then the resend.
    expect(emu.calls.filter((call) => call.operationId === "createProjectBranchDatabase").map((call) => call.status)).toEqual([0, 201]);
    const live = emu.state.databases(projectId, branchId).filter((database) => database.name === "dropped_db");
    expect(live).toHaveLength(1);
    expect(outs).toMatchObject({ name: "dropped_db", ownerName: "prefect_owner", databaseId: live[0].id, adopted: false });
    expect(created.id).toBe(String(live[0].id));
    expect(await pgOwner("dropped_db")).toBe("prefect_owner");
    await provider.delete(created.id, outs);
  });

  it("a dropped create of a name already on the branch is refused, never taken over: no create sent", async () => {
    const [existing] = emu.state.databases(projectId, branchId);
    emu.faults.failNext("createProjectBranchDatabase", 1, { kind: "drop" });
    emu.resetCalls();
    const error = await provider.create(inputs({ name: existing.name })).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(new RegExp(`already exists .*Set \`adopt: true\` on this resource`));
    expect(emu.calls.filter((call) => call.operationId === "createProjectBranchDatabase")).toEqual([]);
    emu.faults.clear();
  });

  it("a resend whose answer is lost too finds the database it made: still one database, two create calls", async () => {
    emu.faults.failNext("createProjectBranchDatabase", 1, { kind: "drop" });
    emu.faults.failNext("createProjectBranchDatabase", 1, { kind: "actThenDrop" });
    emu.resetCalls();
    const created = await provider.create(inputs({ name: "lost_twice_db" }));
    expect(emu.calls.filter((call) => call.operationId === "createProjectBranchDatabase")).toHaveLength(2);
    expect(emu.state.databases(projectId, branchId).filter((database) => database.name === "lost_twice_db")).toHaveLength(1);
    expect(created.outs).toMatchObject({ name: "lost_twice_db", adopted: false });
    await provider.delete(created.id, created.outs as DatabaseOutputs);
  });

  it("retries 423 Locked and still creates", async () => {
    emu.faults.failNext("createProjectBranchDatabase", 2, { kind: "status", status: 423 });
    emu.resetCalls();
    const created = await provider.create(inputs({ name: "locked_db" }));
    expect(emu.calls.filter((call) => call.operationId === "createProjectBranchDatabase").map((call) => call.status)).toEqual([423, 423, 201]);
    expect(await pgOwner("locked_db")).toBe("prefect_owner");
    await provider.delete(created.id, created.outs as DatabaseOutputs);
  });
});
