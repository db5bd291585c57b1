import { beforeAll, describe, expect, it } from "vitest";
import { Client } from "pg";
import { connectionUriProvider, type ConnectionUriInputs, type ConnectionUriOutputs } from "../../dynamic-providers/neon/connection-uri";
import { mutate, neonApi } from "../../dynamic-providers/neon/client";
import { providerUnderTest } from "../support/provider";
import { useNeonEmulator } from "./support";

const { provider } = providerUnderTest(connectionUriProvider);
const { emu, project } = useNeonEmulator({ project: { name: "naluma_content", region_id: "aws-eu-central-1", branch: { database_name: "naluma_content" } } });

let projectId: string;
let branchId: string;
let endpointId: string;

async function whoAmI(uri: string): Promise<{ current_user: string; current_database: string }> {
  const client = new Client({ connectionString: uri });
  await client.connect();
  try {
    return (await client.query<{ current_user: string; current_database: string }>("select current_user, current_database()")).rows[0];
  } finally {
    await client.end();
  }
}

beforeAll(() => {
  projectId = project.project.id;
  branchId = project.branch.id;
  endpointId = project.endpoints[0].id;
});

function inputs(overrides: Partial<ConnectionUriInputs> = {}): ConnectionUriInputs {
  return { projectId, branchId, endpointId, databaseName: "naluma_content", roleName: "naluma_content_owner", ...overrides };
}

describe("check", () => {
  it.each([
    { case: "a 64-byte database name", news: { databaseName: "d".repeat(64) }, field: "databaseName", text: "at most 63 bytes" },
    { case: "an empty role name", news: { roleName: "" }, field: "roleName", text: "is required" },
    { case: "a database name with a NUL", news: { databaseName: "d\u0000b" }, field: "databaseName", text: "NUL" },
    { case: "the role name PUBLIC", news: { roleName: "PUBLIC" }, field: "roleName", text: "must not be one of public" },
    { case: "a bad endpoint id", news: { endpointId: "EP_1" }, field: "endpointId", text: "a Neon id" },
  ])("refuses $case naming the field", async ({ news, field, text }) => {
    const result = await provider.check({} as ConnectionUriInputs, { ...inputs(), ...news });
    expect(result.failures).toHaveLength(1);
    const [failure] = result.failures ?? [];
    expect(failure.property).toBe(field);
    expect(failure.reason).toMatch(/^neon connection uri/);
    expect(failure.reason).toContain(field);
    expect(failure.reason).toContain(text);
  });
});

describe("diff (pure)", () => {
  const base = inputs({ projectId: "p", branchId: "b", endpointId: "ep-1" });
  const olds: ConnectionUriOutputs = { ...base, uri: "postgresql://x", pooledUri: "postgresql://y", host: "ep-1.h", poolerHost: "ep-1-pooler.h" };
  it.each([
    { change: {}, changes: false, replaces: [] },
    { change: { refreshTrigger: "2" }, changes: true, replaces: [] },
    { change: { roleName: "other" }, changes: true, replaces: ["roleName"] },
    { change: { databaseName: "prefect_server" }, changes: true, replaces: ["databaseName"] },
    { change: { endpointId: "ep-2" }, changes: true, replaces: ["endpointId"] },
    { change: { branchId: "b2" }, changes: true, replaces: ["branchId"] },
  ])("$change → changes $changes, replaces $replaces", async ({ change, changes, replaces }) => {
    expect(await provider.diff("id", olds, { ...base, ...change })).toMatchObject({ changes, replaces });
  });
});

describe("lifecycle against the emulator", () => {
  it("create: both URIs connect; the pooled one goes through the pooler", async () => {
    emu.resetCalls();
    const created = await provider.create(inputs());
    const outs = created.outs as ConnectionUriOutputs;
    expect(emu.calls.map((call) => [call.operationId, call.query.pooled])).toEqual([
      ["getProjectEndpoint", undefined],
      ["getConnectionURI", "false"],
      ["getConnectionURI", "true"],
    ]);
    expect(emu.calls[1].query).toMatchObject({ branch_id: branchId, endpoint_id: endpointId, database_name: "naluma_content", role_name: "naluma_content_owner" });
    expect(outs.host).toBe(`${endpointId}.eu-central-1.aws.neon.tech`);
    expect(outs.poolerHost).toBe(`${endpointId}-pooler.eu-central-1.aws.neon.tech`);
    for (const uri of [outs.uri, outs.pooledUri]) {
      expect(await whoAmI(uri)).toEqual({ current_user: "naluma_content_owner", current_database: "naluma_content" });
    }
    // Neon names `<ep-id>-pooler.<region>…`; the emulator serves the pooler on its own loopback port instead
    // (test/emulators/neon/model.ts localConnectionUri), so the URIs differ by port there.
    const endpoint = emu.state.endpoints(projectId).find((e) => e.id === endpointId);
    expect(new URL(outs.uri).port).toBe(String(endpoint?.direct.port));
    expect(new URL(outs.pooledUri).port).toBe(String(endpoint?.pooler.port));
    expect(outs.pooledUri).not.toBe(outs.uri);

    // A second `pulumi up` with nothing changed makes no call at all; delete is a no-op too.
    emu.resetCalls();
    expect((await provider.diff(created.id, outs, inputs())).changes).toBe(false);
    await provider.delete(created.id, outs);
    expect(emu.calls).toEqual([]);
  });

  it("read picks up a reset password; a refreshTrigger update fetches again", async () => {
    const api = neonApi();
    const created = await provider.create(inputs());
    const before = created.outs as ConnectionUriOutputs;
    await mutate(api, projectId, () => api.resetProjectBranchRolePassword(projectId, branchId, "naluma_content_owner"));
    await expect(whoAmI(before.uri)).rejects.toThrow(/password authentication failed/);

    const read = await provider.read(created.id, before);
    const after = read.props as ConnectionUriOutputs;
    expect(read.id).toBe(created.id);
    expect(after.uri).not.toBe(before.uri);
    expect((await whoAmI(after.uri)).current_user).toBe("naluma_content_owner");
    expect((await whoAmI(after.pooledUri)).current_user).toBe("naluma_content_owner");

    emu.resetCalls();
    const updated = await provider.update(created.id, after, inputs({ refreshTrigger: "2" }));
    expect(emu.calls.every((call) => call.method === "GET")).toBe(true);
    expect(updated.outs).toMatchObject({ uri: after.uri, refreshTrigger: "2" });
  });

  it("read reports gone when the role is gone", async () => {
    const api = neonApi();
    await mutate(api, projectId, () => api.createProjectBranchRole(projectId, branchId, { role: { name: "temporary" } }));
    const created = await provider.create(inputs({ roleName: "temporary" }));
    expect((await whoAmI((created.outs as ConnectionUriOutputs).uri)).current_user).toBe("temporary");
    await mutate(api, projectId, () => api.deleteProjectBranchRole(projectId, branchId, "temporary"));
    expect(await provider.read(created.id, created.outs as ConnectionUriOutputs)).toEqual({ id: "" });
  });

  it("retries a 423, a 503 and a dropped connection on these GETs", async () => {
    emu.faults.failNext("getConnectionURI", 1, { kind: "status", status: 423 });
    emu.faults.failNext("getConnectionURI", 1, { kind: "status", status: 503 });
    emu.faults.failNext("getConnectionURI", 1, { kind: "drop" });
    emu.resetCalls();
    const created = await provider.create(inputs());
    expect(emu.calls.filter((call) => call.operationId === "getConnectionURI").map((call) => call.status)).toEqual([423, 503, 0, 200, 200]);
    expect((await whoAmI((created.outs as ConnectionUriOutputs).pooledUri)).current_database).toBe("naluma_content");
  });
});
