import { beforeAll, describe, expect, it } from "vitest";
import { EndpointType } from "@neondatabase/api-client";
import { Client } from "pg";
import { branchProvider, type BranchInputs, type BranchOutputs } from "../../dynamic-providers/neon/branch";
import { neonTimestamp } from "../../dynamic-providers/neon/check";
import { neonApi, waitForOperations } from "../../dynamic-providers/neon/client";
import { providerUnderTest } from "../support/provider";
import { useNeonEmulator } from "./support";

const { provider } = providerUnderTest(branchProvider);
const { emu, project } = useNeonEmulator({ project: { name: "naluma_content", region_id: "aws-eu-central-1", branch: { database_name: "naluma_content", role_name: "naluma_content_owner" } } });

let projectId: string;
let mainId: string;
let ownerPassword: string;

const writes = () => emu.calls.filter((call) => call.method !== "GET");
const day = 86_400_000;
/** A timestamp `days` from now in Neon's form (UTC, whole seconds, `Z`). */
const inDays = (days: number): string => neonTimestamp(Date.now() + days * day);
const callsTo = (operationId: string) => emu.calls.filter((call) => call.operationId === operationId);

async function checked(news: Partial<BranchInputs>, olds: Partial<BranchInputs> = {}): Promise<BranchInputs> {
  const result = await provider.check(olds as BranchInputs, { projectId, name: "staging", ...news } as BranchInputs);
  expect(result.failures ?? []).toEqual([]);
  return result.inputs as BranchInputs;
}

/** The owner's connection URI for a branch, from getConnectionUri, with the password create returned. */
async function ownerUri(branchId: string): Promise<string> {
  const { data } = await neonApi().getConnectionUri({ projectId, branch_id: branchId, database_name: "naluma_content", role_name: "naluma_content_owner" });
  const url = new URL(data.uri);
  url.password = ownerPassword;
  return url.toString();
}

async function query<T>(uri: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: uri });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

beforeAll(() => {
  projectId = project.project.id;
  mainId = project.branch.id;
  ownerPassword = project.roles[0].password ?? "";
});

describe("check", () => {
  it.each([
    { case: "empty name", news: { name: "" }, field: "name", text: "is required" },
    { case: "blank name", news: { name: "   " }, field: "name", text: "not blank" },
    { case: "a name with a newline", news: { name: "preview\nx" }, field: "name", text: "must not contain control characters" },
    { case: "a name with a tab", news: { name: "preview\tx" }, field: "name", text: "must not contain control characters" },
    { case: "a name with a NUL", news: { name: "preview\u0000x" }, field: "name", text: "must not contain control characters" },
    { case: "a 257-character name", news: { name: "b".repeat(257) }, field: "name", text: "1 to 256 characters" },
    { case: "bad projectId", news: { projectId: "Not An Id" }, field: "projectId", text: "Neon id" },
    { case: "bad parentId", news: { parentId: "br_main!" }, field: "parentId", text: "Neon id" },
    { case: "protected 'yes'", news: { protected: "yes" }, field: "protected", text: "true or false" },
    { case: "resetFromParent 3", news: { resetFromParent: 3 }, field: "resetFromParent", text: "must be a string" },
    { case: "a claim with a space", news: { claim: "my claim" }, field: "claim", text: "1 to 128 letters" },
    { case: "an empty claim", news: { claim: "" }, field: "claim", text: "is required" },
  ])("refuses $case naming the field", async ({ news, field, text }) => {
    const result = await provider.check({} as BranchInputs, { projectId: "p-1", name: "staging", ...news } as unknown as BranchInputs);
    expect(result.failures).toHaveLength(1);
    const [failure] = result.failures ?? [];
    expect(failure.property).toBe(field);
    expect(failure.reason).toMatch(/^neon branch/);
    expect(failure.reason).toContain(field);
    expect(failure.reason).toContain(text);
  });

  it.each([
    { case: "a date without a time", expiresAt: "2026-07-01", text: "must be an RFC 3339 timestamp with seconds and a time zone" },
    { case: "a time without a zone", expiresAt: "2026-07-01T00:00:00", text: "must be an RFC 3339 timestamp" },
    { case: "no seconds", expiresAt: "2026-07-01T00:00Z", text: "must be an RFC 3339 timestamp" },
    { case: "30 February", expiresAt: "2026-02-30T00:00:00Z", text: "must be an RFC 3339 timestamp" },
    { case: "a number", expiresAt: 1782864000, text: "must be an RFC 3339 timestamp" },
    { case: "a past time", expiresAt: "2020-01-01T00:00:00Z", text: "must be in the future (it is " },
    { case: "31 days ahead", expiresAt: "31 days", text: "must be at most 30 days ahead, Neon's limit" },
  ])("refuses expiresAt $case, naming expiresAt", async ({ expiresAt, text }) => {
    const value = expiresAt === "31 days" ? inDays(31) : expiresAt;
    const result = await provider.check({} as BranchInputs, { projectId: "p-1", name: "preview", expiresAt: value } as unknown as BranchInputs);
    expect(result.failures?.map((failure) => failure.property)).toEqual(["expiresAt"]);
    expect(result.failures?.[0].reason).toContain(`neon branch 'preview': expiresAt ${text}`);
  });

  it("refuses an expiry on a protected branch, which Neon refuses too", async () => {
    const result = await provider.check({} as BranchInputs, { projectId: "p-1", name: "preview", protected: true, expiresAt: inDays(7) });
    expect(result.failures?.map((failure) => failure.reason)).toEqual([expect.stringContaining("expiresAt cannot be set on a protected branch")]);
  });

  it("writes expiresAt in Neon's form: UTC, whole seconds, Z", async () => {
    const at = Date.parse(inDays(3));
    const offset = new Date(at + 2 * 3_600_000).toISOString().replace(/\.000Z$/, ".750+02:00");
    const result = await provider.check({} as BranchInputs, { projectId: "p-1", name: "preview", expiresAt: offset });
    expect(result.failures).toEqual([]);
    expect(result.inputs).toMatchObject({ expiresAt: neonTimestamp(at) });
  });

  it("keeps an unchanged expiry that has come closer or passed (only a new one must lie ahead)", async () => {
    const olds = { projectId: "p-1", name: "preview", protected: false, expiresAt: "2020-01-01T00:00:00Z" };
    expect((await provider.check(olds, { projectId: "p-1", name: "preview", expiresAt: "2020-01-01T00:00:00Z" })).failures).toEqual([]);
    expect((await provider.check(olds, { projectId: "p-1", name: "preview", expiresAt: "2020-01-02T00:00:00Z" })).failures).toHaveLength(1);
  });

  it("defaults protected to false", async () => {
    expect((await provider.check({} as BranchInputs, { projectId: "p-1", name: "staging" })).inputs).toMatchObject({ protected: false });
  });
});

describe("diff (pure)", () => {
  const olds = { projectId: "p-1", name: "staging", parentId: "br-main", protected: false, branchId: "br-s", isDefault: false, adopted: false } as BranchOutputs;
  const news = { projectId: "p-1", name: "staging", protected: false } as BranchInputs;

  it("projectId and an explicit different parentId replace, deleting first (names are unique)", async () => {
    expect(await provider.diff("br-s", olds, { ...news, projectId: "p-2" })).toMatchObject({ changes: true, replaces: ["projectId"], deleteBeforeReplace: true });
    expect(await provider.diff("br-s", olds, { ...news, parentId: "br-other" })).toMatchObject({ replaces: ["parentId"], deleteBeforeReplace: true });
  });

  it("an unset parentId keeps the parent create() resolved", async () => {
    expect(await provider.diff("br-s", olds, news)).toMatchObject({ changes: false, replaces: [] });
    expect(await provider.diff("br-s", olds, { ...news, parentId: "br-main" })).toMatchObject({ changes: false });
  });

  it("name, protected and a new reset trigger update in place", async () => {
    for (const change of [{ name: "stage" }, { protected: true }, { resetFromParent: "2026-01-01" }]) {
      expect(await provider.diff("br-s", olds, { ...news, ...change })).toMatchObject({ changes: true, replaces: [] });
    }
  });

  it("a new or removed expiresAt updates in place", async () => {
    const expiring = { ...olds, expiresAt: "2030-01-01T00:00:00Z" };
    expect(await provider.diff("br-s", expiring, { ...news, expiresAt: "2030-01-02T00:00:00Z" })).toMatchObject({ changes: true, replaces: [] });
    expect(await provider.diff("br-s", expiring, news)).toMatchObject({ changes: true, replaces: [] });
    expect(await provider.diff("br-s", olds, { ...news, expiresAt: "2030-01-01T00:00:00Z" })).toMatchObject({ changes: true, replaces: [] });
    expect(await provider.diff("br-s", expiring, { ...news, expiresAt: "2030-01-01T00:00:00Z" })).toMatchObject({ changes: false });
  });

  it("a claim is read only at create: a new one, or one added to an older state, is no change", async () => {
    expect(await provider.diff("br-s", { ...olds, claim: "old" }, { ...news, claim: "new" })).toMatchObject({ changes: false, replaces: [] });
    expect(await provider.diff("br-s", olds, { ...news, claim: "added" })).toMatchObject({ changes: false, replaces: [] });
  });

  it("an unchanged or removed reset trigger is no change", async () => {
    const withTrigger = { ...olds, resetFromParent: "1" };
    expect(await provider.diff("br-s", withTrigger, { ...news, resetFromParent: "1" })).toMatchObject({ changes: false });
    expect(await provider.diff("br-s", withTrigger, news)).toMatchObject({ changes: false });
  });
});

describe("lifecycle against the emulator", () => {
  let inputs: BranchInputs;
  let outs: BranchOutputs;

  it("creates a branch off the default branch, without an endpoint, after its operations finish", async () => {
    emu.resetCalls();
    inputs = await checked({});
    const created = await provider.create(inputs);
    outs = created.outs as BranchOutputs;
    expect(writes().map((call) => call.operationId)).toEqual(["createProjectBranch"]);
    expect(callsTo("createProjectBranch")[0].requestBody).toEqual({ branch: { name: "staging", protected: false } });
    expect(callsTo("getProjectOperation").length).toBeGreaterThan(0);
    const ops = emu.state.operations(projectId).filter((op) => op.branch_id === created.id);
    expect(ops.map((op) => [op.action, op.status])).toEqual([["create_branch", "finished"]]);
    expect(emu.state.branch(projectId, created.id)).toMatchObject({ name: "staging", parent_id: mainId, protected: false, default: false });
    expect(emu.state.endpoints(projectId).filter((endpoint) => endpoint.branch_id === created.id)).toEqual([]);
    expect(outs).toMatchObject({ branchId: created.id, parentId: mainId, protected: false, isDefault: false, adopted: false });
    expect(outs.resetAt).toBeUndefined();
  });

  it("reads the live state back, and drift shows", async () => {
    expect((await provider.read(outs.branchId, outs)).props).toEqual(outs);
    await neonApi().updateProjectBranch(projectId, outs.branchId, { branch: { protected: true } });
    const drifted = await provider.read(outs.branchId, outs);
    expect(drifted.props).toMatchObject({ protected: true });
    expect(await provider.diff(outs.branchId, drifted.props as BranchOutputs, inputs)).toMatchObject({ changes: true, replaces: [] });
    const back = await neonApi().updateProjectBranch(projectId, outs.branchId, { branch: { protected: false } });
    await waitForOperations(neonApi(), projectId, back.data.operations);
  });

  it("a second apply with no change is a no-op diff and makes no write call", async () => {
    emu.resetCalls();
    const again = await checked({}, inputs);
    expect(await provider.diff(outs.branchId, outs, again)).toMatchObject({ changes: false });
    expect(writes()).toEqual([]);
  });

  it("protects and renames in place, sending only the changed field", async () => {
    emu.resetCalls();
    const protect = await checked({ protected: true }, inputs);
    const updated = await provider.update(outs.branchId, outs, protect);
    expect(callsTo("updateProjectBranch").map((call) => call.requestBody)).toEqual([{ branch: { protected: true } }]);
    expect(emu.state.branch(projectId, outs.branchId)?.protected).toBe(true);
    expect(updated.outs).toMatchObject({ protected: true, branchId: outs.branchId });

    emu.resetCalls();
    const renamed = await provider.update(outs.branchId, updated.outs as BranchOutputs, { ...protect, name: "stage", protected: false });
    expect(callsTo("updateProjectBranch").map((call) => call.requestBody)).toEqual([{ branch: { name: "stage", protected: false } }]);
    emu.resetCalls();
    const back = await provider.update(outs.branchId, renamed.outs as BranchOutputs, inputs);
    expect(callsTo("updateProjectBranch").map((call) => call.requestBody)).toEqual([{ branch: { name: "staging" } }]);
    outs = back.outs as BranchOutputs;
  });

  it("resetFromParent brings staging back to main's data, keeping the branch id and endpoint", async () => {
    const api = neonApi();
    await query(await ownerUri(mainId), "CREATE TABLE articles (id int PRIMARY KEY, title text)");
    await query(await ownerUri(mainId), "INSERT INTO articles VALUES (1, 'from main')");
    const endpoint = await api.createProjectEndpoint(projectId, { endpoint: { branch_id: outs.branchId, type: EndpointType.ReadWrite } });
    await waitForOperations(api, projectId, endpoint.data.operations);
    const stagingUri = await ownerUri(outs.branchId);
    // staging was branched before the table existed; give it its own diverging data.
    await query(stagingUri, "CREATE TABLE articles (id int PRIMARY KEY, title text)");
    await query(stagingUri, "INSERT INTO articles VALUES (2, 'staging only')");
    expect(await query(stagingUri, "SELECT id, title FROM articles ORDER BY id")).toEqual([{ id: 2, title: "staging only" }]);

    emu.resetCalls();
    const reset = await checked({ resetFromParent: "2026-11-23" }, inputs);
    expect(await provider.diff(outs.branchId, outs, reset)).toMatchObject({ changes: true, replaces: [] });
    const updated = await provider.update(outs.branchId, outs, reset);
    expect(writes().map((call) => call.operationId)).toEqual(["restoreProjectBranch"]);
    expect(callsTo("restoreProjectBranch")[0].requestBody).toEqual({ source_branch_id: mainId });
    expect(emu.state.operations(projectId).every((op) => op.status === "finished")).toBe(true);

    expect(await ownerUri(outs.branchId)).toBe(stagingUri);
    expect(await query(stagingUri, "SELECT id, title FROM articles ORDER BY id")).toEqual(
      await query(await ownerUri(mainId), "SELECT id, title FROM articles ORDER BY id"),
    );
    const after = updated.outs as BranchOutputs;
    expect(after).toMatchObject({ branchId: outs.branchId, resetFromParent: "2026-11-23" });
    expect(after.resetAt).toEqual(expect.any(String));

    emu.resetCalls();
    expect(await provider.diff(outs.branchId, after, await checked({ resetFromParent: "2026-11-23" }, reset))).toMatchObject({ changes: false });
    expect(writes()).toEqual([]);
    outs = after;
    inputs = reset;
  });

  it("refuses to reset a protected branch before making any call", async () => {
    emu.resetCalls();
    const protectedOuts = { ...outs, protected: true };
    await expect(provider.update(outs.branchId, protectedOuts, { ...inputs, protected: true, resetFromParent: "again" })).rejects.toThrow(/protected/);
    expect(emu.calls).toEqual([]);
  });

  it("rides out 423 on create: two refusals, third call succeeds", async () => {
    emu.resetCalls();
    emu.faults.failNext("createProjectBranch", 2, { kind: "status", status: 423 });
    const created = await provider.create(await checked({ name: "preview", parentId: mainId }));
    expect(callsTo("createProjectBranch").map((call) => call.status)).toEqual([423, 423, 201]);
    expect(emu.state.branch(projectId, created.id)).toMatchObject({ name: "preview", parent_id: mainId });
    await provider.delete(created.id, created.outs as BranchOutputs);
  });

  it("refuses a duplicate name without adopt, and adopts with it (no create call)", async () => {
    await expect(provider.create(await checked({}))).rejects.toThrow(/adopt: true/);
    const api = neonApi();
    const { data } = await api.createProjectBranch(projectId, { branch: { name: "hand-made" } });
    await waitForOperations(api, projectId, data.operations);
    emu.resetCalls();
    const adopted = await provider.create(await checked({ name: "hand-made", protected: true, adopt: true }));
    expect(adopted.id).toBe(data.branch.id);
    expect(callsTo("createProjectBranch")).toEqual([]);
    expect(callsTo("updateProjectBranch").map((call) => call.requestBody)).toEqual([{ branch: { protected: true } }]);
    expect(adopted.outs).toMatchObject({ adopted: true, protected: true, parentId: mainId });

    // A protected branch is not deleted: the error names `protected`, and nothing was written.
    emu.resetCalls();
    await expect(provider.delete(adopted.id, adopted.outs as BranchOutputs)).rejects.toThrow(/protected: false/);
    expect(writes()).toEqual([]);
    const released = await provider.update(adopted.id, adopted.outs as BranchOutputs, await checked({ name: "hand-made", adopt: true }));
    await provider.delete(adopted.id, released.outs as BranchOutputs);
    expect(emu.state.branch(projectId, adopted.id)).toBeUndefined();
  });

  it("sends its claim as the branch's annotation", async () => {
    emu.resetCalls();
    const created = await provider.create(await checked({ name: "claimed", claim: "claim-of-claimed" }));
    expect(callsTo("createProjectBranch")[0].requestBody).toEqual({ branch: { name: "claimed", protected: false }, annotation_value: { "pulumi-claim": "claim-of-claimed" } });
    expect(emu.state.branch(projectId, created.id)?.annotation).toEqual({ "pulumi-claim": "claim-of-claimed" });
    await provider.delete(created.id, created.outs as BranchOutputs);
  });

  it("a same-name branch carrying this claim is taken over with the declared settings; one without it, or with another claim, is refused", async () => {
    const api = neonApi();
    const left = await api.createProjectBranch(projectId, { branch: { name: "left-by-crash" }, annotation_value: { "pulumi-claim": "claim-a" } });
    await waitForOperations(api, projectId, left.data.operations);
    for (const claim of [undefined, "claim-b"]) {
      emu.resetCalls();
      await expect(provider.create(await checked({ name: "left-by-crash", claim }))).rejects.toThrow(/was not made by this resource; set `adopt: true`/);
      expect(callsTo("updateProjectBranch")).toEqual([]);
    }
    emu.resetCalls();
    const taken = await provider.create(await checked({ name: "left-by-crash", claim: "claim-a", protected: true }));
    expect(taken.id).toBe(left.data.branch.id);
    expect(callsTo("createProjectBranch").map((call) => call.status)).toEqual([409]);
    expect(callsTo("updateProjectBranch").map((call) => call.requestBody)).toEqual([{ branch: { protected: true } }]);
    expect(taken.outs).toMatchObject({ branchId: left.data.branch.id, parentId: mainId, protected: true, adopted: false, claim: "claim-a" });
    await expect(provider.create(await checked({ name: "left-by-crash", claim: "claim-a", parentId: left.data.branch.id }))).rejects.toThrow(/parentId/);
    const released = await provider.update(taken.id, taken.outs as BranchOutputs, await checked({ name: "left-by-crash", claim: "claim-a" }));
    await provider.delete(taken.id, released.outs as BranchOutputs);
    expect(emu.state.branch(projectId, taken.id)).toBeUndefined();
  });

  it("a create whose connection dropped before Neon acted is sent once more: one call, one branch with its claim, two create calls", async () => {
    emu.resetCalls();
    emu.faults.failNext("createProjectBranch", 1, { kind: "drop" });
    const created = await provider.create(await checked({ name: "dropped", claim: "claim-of-dropped" }));
    // The dropped one is recorded with status 0 (no answer), then the lookup finds nothing, then the resend.
    expect(callsTo("createProjectBranch").map((call) => call.status)).toEqual([0, 201]);
    const live = emu.state.branches(projectId).filter((branch) => branch.name === "dropped");
    expect(live).toHaveLength(1);
    expect(live[0].annotation).toEqual({ "pulumi-claim": "claim-of-dropped" });
    expect(created.id).toBe(live[0].id);
    expect(created.outs).toMatchObject({ branchId: live[0].id, parentId: mainId, adopted: false });
    await provider.delete(created.id, created.outs as BranchOutputs);
  });

  it("after a dropped create, a same-name branch without this claim is not taken: the resend is refused as someone else's name", async () => {
    const api = neonApi();
    const other = await api.createProjectBranch(projectId, { branch: { name: "someone-elses" } });
    await waitForOperations(api, projectId, other.data.operations);
    emu.resetCalls();
    emu.faults.failNext("createProjectBranch", 1, { kind: "drop" });
    await expect(provider.create(await checked({ name: "someone-elses", claim: "claim-mine" }))).rejects.toThrow(/was not made by this resource; set `adopt: true`/);
    expect(callsTo("createProjectBranch").map((call) => call.status)).toEqual([0, 409]);
    expect(callsTo("updateProjectBranch")).toEqual([]);
    expect(emu.state.branches(projectId).filter((branch) => branch.name === "someone-elses").map((branch) => branch.id)).toEqual([other.data.branch.id]);
    const removed = await api.deleteProjectBranch({ projectId, branchId: other.data.branch.id });
    await waitForOperations(api, projectId, removed.data.operations);
  });

  it("deletes after its operations, and deleting again is fine", async () => {
    emu.resetCalls();
    await provider.delete(outs.branchId, outs);
    expect(emu.state.branch(projectId, outs.branchId)).toBeUndefined();
    expect(emu.state.operations(projectId).every((op) => op.status === "finished")).toBe(true);
    await provider.delete(outs.branchId, outs);
    // Neon answers 204 to deleting a branch that is already gone [spec]; a 404 (project gone) is tolerated too.
    expect(callsTo("deleteProjectBranch").map((call) => call.status)).toEqual([200, 204]);
    expect(await provider.read(outs.branchId, outs)).toEqual({ id: "" });
  });
});

describe("expiresAt against the emulator (a preview's safety net)", () => {
  let inputs: BranchInputs;
  let outs: BranchOutputs;

  it("creates the branch with expires_at and reads it back", async () => {
    emu.resetCalls();
    inputs = await checked({ name: "preview/pr-12", parentId: mainId, expiresAt: inDays(7) });
    const created = await provider.create(inputs);
    outs = created.outs as BranchOutputs;
    expect(callsTo("createProjectBranch")[0].requestBody).toEqual({ branch: { name: "preview/pr-12", parent_id: mainId, protected: false, expires_at: inputs.expiresAt } });
    expect(emu.state.branch(projectId, created.id)?.expires_at).toBe(inputs.expiresAt);
    expect(outs.expiresAt).toBe(inputs.expiresAt);
    expect((await provider.read(outs.branchId, outs)).props).toEqual(outs);
  });

  it("an expiry removed by hand shows on refresh, and the next update puts it back", async () => {
    await neonApi().updateProjectBranch(projectId, outs.branchId, { branch: { expires_at: null } });
    const drifted = (await provider.read(outs.branchId, outs)).props as BranchOutputs;
    expect(drifted.expiresAt).toBeUndefined();
    expect(await provider.diff(outs.branchId, drifted, inputs)).toMatchObject({ changes: true, replaces: [] });
    emu.resetCalls();
    const updated = await provider.update(outs.branchId, drifted, inputs);
    expect(callsTo("updateProjectBranch").map((call) => call.requestBody)).toEqual([{ branch: { expires_at: inputs.expiresAt } }]);
    expect((updated.outs as BranchOutputs).expiresAt).toBe(inputs.expiresAt);
    outs = updated.outs as BranchOutputs;
  });

  it("a later expiry moves it in place, sending only expires_at", async () => {
    emu.resetCalls();
    const later = await checked({ ...inputs, expiresAt: inDays(8) }, inputs);
    expect(await provider.diff(outs.branchId, outs, later)).toMatchObject({ changes: true, replaces: [] });
    const updated = await provider.update(outs.branchId, outs, later);
    expect(writes().map((call) => [call.operationId, call.requestBody])).toEqual([["updateProjectBranch", { branch: { expires_at: later.expiresAt } }]]);
    expect(emu.state.branch(projectId, outs.branchId)?.expires_at).toBe(later.expiresAt);
    outs = updated.outs as BranchOutputs;
    inputs = later;
  });

  it("a reset keeps the wanted expiry: Neon restarts the countdown, update() sets it back", async () => {
    emu.resetCalls();
    // One second later, so Neon's restarted countdown (reset time + the interval) differs from the wanted expiry.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const reset = await checked({ ...inputs, resetFromParent: "2026-11-23" }, inputs);
    const updated = await provider.update(outs.branchId, outs, reset);
    const patches = callsTo("updateProjectBranch");
    expect(writes().map((call) => call.operationId)).toEqual(["restoreProjectBranch", "updateProjectBranch"]);
    expect(patches.map((call) => call.requestBody)).toEqual([{ branch: { expires_at: inputs.expiresAt } }]);
    expect((callsTo("restoreProjectBranch")[0].responseBody as { branch: { expires_at: string } }).branch.expires_at).not.toBe(inputs.expiresAt);
    expect(emu.state.branch(projectId, outs.branchId)?.expires_at).toBe(inputs.expiresAt);
    expect((updated.outs as BranchOutputs).expiresAt).toBe(inputs.expiresAt);
    outs = updated.outs as BranchOutputs;
    inputs = reset;
  });

  it("removing expiresAt removes the expiry (PATCH expires_at: null)", async () => {
    emu.resetCalls();
    const { expiresAt: _dropped, ...rest } = inputs;
    const without = await checked(rest, inputs);
    expect(await provider.diff(outs.branchId, outs, without)).toMatchObject({ changes: true, replaces: [] });
    const updated = await provider.update(outs.branchId, outs, without);
    expect(callsTo("updateProjectBranch").map((call) => call.requestBody)).toEqual([{ branch: { expires_at: null } }]);
    expect(emu.state.branch(projectId, outs.branchId)?.expires_at).toBeUndefined();
    expect((updated.outs as BranchOutputs).expiresAt).toBeUndefined();
    const back = await provider.update(outs.branchId, updated.outs as BranchOutputs, inputs);
    outs = back.outs as BranchOutputs;
  });

  it("once Neon's job deletes the expired branch, refresh sees it gone and delete is a no-op", async () => {
    expect(await emu.expireBranches(new Date(Date.parse(inputs.expiresAt ?? "") + 1000))).toEqual([outs.branchId]);
    expect(await provider.read(outs.branchId, outs)).toEqual({ id: "" });
    emu.resetCalls();
    await provider.delete(outs.branchId, outs);
    // The job's own delete_timeline may still run (423, ridden out); then Neon answers 204: already gone.
    const statuses = callsTo("deleteProjectBranch").map((call) => call.status);
    expect(statuses.at(-1)).toBe(204);
    expect(statuses.filter((status) => status !== 423 && status !== 204)).toEqual([]);
  });
});
