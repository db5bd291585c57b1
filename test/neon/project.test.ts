import { describe, expect, it } from "vitest";
import { neonApi, waitForOperations } from "../../dynamic-providers/neon/client";
import { isAllowedIpEntry, projectProvider, type ProjectInputs, type ProjectOutputs } from "../../dynamic-providers/neon/project";
import { assertNoSecrets } from "../harness/secrets-scan";
import { serializeProviders } from "../harness/serialize";
import { providerUnderTest } from "../support/provider";
import { useNeonEmulator } from "./support";

const { provider } = providerUnderTest(projectProvider);
const { emu } = useNeonEmulator();

const writes = () => emu.calls.filter((call) => call.method !== "GET");
const operationIds = () => emu.calls.map((call) => call.operationId);

const seed: ProjectInputs = {
  name: "naluma_content",
  regionId: "aws-eu-central-1",
  defaultDatabaseName: "naluma_content",
  defaultRoleName: "naluma_content_owner",
};

async function checked(news: Partial<ProjectInputs>, olds: Partial<ProjectInputs> = {}): Promise<ProjectInputs> {
  const result = await provider.check(olds as ProjectInputs, { ...seed, ...news } as ProjectInputs);
  expect(result.failures ?? []).toEqual([]);
  return result.inputs as ProjectInputs;
}

describe("check", () => {
  it.each([
    { case: "bad region", news: { regionId: "eu-central-1" }, field: "regionId", text: "aws-eu-central-1" },
    { case: "missing region", news: { regionId: undefined }, field: "regionId", text: "is required" },
    { case: "pgVersion 13", news: { pgVersion: 13 }, field: "pgVersion", text: "between 14 and 18, got 13" },
    { case: "retention 31 days", news: { historyRetentionSeconds: 2_678_400 }, field: "historyRetentionSeconds", text: "2592000" },
    { case: "bad CIDR", news: { allowedIps: ["10.0.0.0/33"] }, field: "allowedIps[0]", text: '"10.0.0.0/33"' },
    { case: "not an IP", news: { allowedIps: ["203.0.113.7", "office"] }, field: "allowedIps[1]", text: "CIDR" },
    { case: "mixed-family range", news: { allowedIps: ["10.0.0.1-::1"] }, field: "allowedIps[0]", text: "range" },
    { case: "empty name", news: { name: "" }, field: "name", text: "is required" },
    { case: "role name > 63 bytes", news: { defaultRoleName: "r".repeat(64) }, field: "defaultRoleName", text: "63 bytes" },
    { case: "role name PUBLIC", news: { defaultRoleName: "PUBLIC" }, field: "defaultRoleName", text: "must not be one of public" },
    { case: "database name with a NUL", news: { defaultDatabaseName: "app\u0000x" }, field: "defaultDatabaseName", text: "NUL" },
    { case: "branch name with a newline", news: { defaultBranchName: "main\n" }, field: "defaultBranchName", text: "control characters" },
    { case: "adopt 'yes'", news: { adopt: "yes" }, field: "adopt", text: "true or false" },
    { case: "a claim with a slash", news: { claim: "a/b" }, field: "claim", text: "1 to 128 letters" },
    { case: "a 129-character claim", news: { claim: "c".repeat(129) }, field: "claim", text: "1 to 128 letters" },
  ])("refuses $case naming the field", async ({ news, field, text }) => {
    const result = await provider.check({} as ProjectInputs, { ...seed, ...news } as unknown as ProjectInputs);
    expect(result.failures).toHaveLength(1);
    const [failure] = result.failures ?? [];
    expect(failure.property).toBe(field);
    expect(failure.reason).toMatch(/^neon project/);
    expect(failure.reason).toContain(field);
    expect(failure.reason).toContain(text);
  });

  it("accepts IPs, CIDRs and ranges of both families", () => {
    for (const entry of ["203.0.113.7", "203.0.113.0/24", "203.0.113.1-203.0.113.9", "2001:db8::1", "2001:db8::/32", "0.0.0.0/0"]) {
      expect(isAllowedIpEntry(entry), entry).toBe(true);
    }
    for (const entry of ["203.0.113.256", "10.0.0.0/8/8", "10.0.0.0/", "1.2.3.4-", "", "::1/129"]) expect(isAllowedIpEntry(entry), entry).toBe(false);
  });

  it("fills in Neon's defaults so diff sees them", async () => {
    const inputs = await checked({ defaultDatabaseName: undefined, defaultRoleName: undefined });
    expect(inputs).toMatchObject({ pgVersion: 17, historyRetentionSeconds: 86_400, defaultBranchName: "main", defaultDatabaseName: "neondb", defaultRoleName: "neondb_owner" });
  });
});

describe("diff (pure)", () => {
  const olds = { ...seed, pgVersion: 17, historyRetentionSeconds: 86_400, defaultBranchName: "main", projectId: "p-1" } as ProjectOutputs;

  it.each([
    { field: "regionId", value: "aws-us-east-2" },
    { field: "pgVersion", value: 16 },
    { field: "orgId", value: "org-1" },
    { field: "defaultDatabaseName", value: "other" },
  ])("$field replaces, deleting first", async ({ field, value }) => {
    const result = await provider.diff("p-1", olds, { ...olds, [field]: value });
    expect(result).toMatchObject({ changes: true, replaces: [field], deleteBeforeReplace: true });
  });

  it.each([
    { field: "name", value: "renamed" },
    { field: "historyRetentionSeconds", value: 3600 },
    { field: "allowedIps", value: ["203.0.113.0/24"] },
    { field: "protectedBranchesOnly", value: true },
  ])("$field updates in place", async ({ field, value }) => {
    const result = await provider.diff("p-1", olds, { ...olds, [field]: value });
    expect(result).toMatchObject({ changes: true, replaces: [] });
  });

  it("a claim is read only at create: a new one, or one added to an older state, is no change", async () => {
    expect(await provider.diff("p-1", { ...olds, claim: "old" }, { ...seed, claim: "new" })).toMatchObject({ changes: false, replaces: [] });
    expect(await provider.diff("p-1", olds, { ...seed, claim: "added" })).toMatchObject({ changes: false, replaces: [] });
  });

  it("says nothing changed when nothing did", async () => {
    expect(await provider.diff("p-1", olds, { ...seed })).toMatchObject({ changes: false, replaces: [] });
  });
});

describe("lifecycle against the emulator", () => {
  let outs: ProjectOutputs;
  let inputs: ProjectInputs;

  it("creates the project with the seed's database and owner role, waiting for its operations", async () => {
    emu.resetCalls();
    inputs = await checked({ allowedIps: ["203.0.113.0/24"], claim: "claim-content" });
    const created = await provider.create(inputs);
    outs = created.outs as ProjectOutputs;
    expect(created.id).toBe(outs.projectId);
    expect(operationIds().filter((id) => id !== "getProjectOperation")).toEqual(["listProjects", "createProject"]);
    expect(operationIds()).toContain("getProjectOperation");
    const ops = emu.state.operations(created.id);
    expect(ops.map((op) => op.action).sort()).toEqual(["create_timeline", "start_compute"]);
    expect(ops.every((op) => op.status === "finished")).toBe(true);

    const project = emu.state.project(created.id);
    expect(project).toMatchObject({ name: "naluma_content", region_id: "aws-eu-central-1", pg_version: 17, history_retention_seconds: 86_400 });
    expect(project?.settings.allowed_ips).toEqual({ ips: ["203.0.113.0/24"], protected_branches_only: false });
    const [main] = emu.state.branches(created.id);
    expect(main).toMatchObject({ id: outs.defaultBranchId, name: "main", default: true, annotation: { "pulumi-claim": "claim-content" } });
    const body = emu.calls.find((call) => call.operationId === "createProject")?.requestBody as { project: { branch: unknown } };
    expect(body.project.branch).toEqual({
      name: "main",
      database_name: "naluma_content",
      role_name: "naluma_content_owner",
      annotations: { "pulumi-claim": "claim-content" },
    });
    expect(emu.state.databases(created.id, main.id).map((db) => [db.name, db.owner_name])).toEqual([["naluma_content", "naluma_content_owner"]]);
    const owner = emu.state.roles(created.id, main.id).find((role) => role.name === "naluma_content_owner");
    expect(outs.ownerPassword).toBe(owner?.password);
    const [endpoint] = emu.state.endpoints(created.id);
    expect(outs).toMatchObject({ defaultEndpointId: endpoint.id, defaultDatabaseName: "naluma_content", defaultRoleName: "naluma_content_owner", adopted: false });
    expect(outs.defaultEndpointHost).toBeTruthy();
    expect(outs.proxyHost).toBeTruthy();
  });

  it("reads the live state back, and drift shows", async () => {
    const read = await provider.read(outs.projectId, outs);
    expect(read.id).toBe(outs.projectId);
    expect(read.props).toEqual(outs);
    await neonApi().updateProject(outs.projectId, { project: { history_retention_seconds: 3600 } });
    const drifted = await provider.read(outs.projectId, outs);
    expect(drifted.props).toMatchObject({ historyRetentionSeconds: 3600 });
    expect(await provider.diff(outs.projectId, drifted.props as ProjectOutputs, inputs)).toMatchObject({ changes: true, replaces: [] });
    await neonApi().updateProject(outs.projectId, { project: { history_retention_seconds: 86_400 } });
  });

  it("a second apply with no change is a no-op diff and makes no write call", async () => {
    emu.resetCalls();
    const again = await checked({ allowedIps: ["203.0.113.0/24"], claim: "claim-content" }, inputs);
    expect(await provider.diff(outs.projectId, outs, again)).toMatchObject({ changes: false });
    expect(writes()).toEqual([]);
  });

  it("updates the IP allow list with one PATCH, riding out a 423", async () => {
    emu.resetCalls();
    emu.faults.failNext("updateProject", 1, { kind: "status", status: 423 });
    const news = await checked({ allowedIps: ["203.0.113.0/24", "198.51.100.7"], protectedBranchesOnly: true }, inputs);
    expect(await provider.diff(outs.projectId, outs, news)).toMatchObject({ changes: true, replaces: [] });
    const updated = await provider.update(outs.projectId, outs, news);
    const patches = emu.calls.filter((call) => call.operationId === "updateProject");
    expect(patches.map((call) => call.status)).toEqual([423, 200]);
    expect(patches[1].requestBody).toEqual({
      project: { settings: { allowed_ips: { ips: ["203.0.113.0/24", "198.51.100.7"], protected_branches_only: true } } },
    });
    expect(writes().filter((call) => call.status < 400)).toHaveLength(1);
    expect(emu.state.project(outs.projectId)?.settings.allowed_ips).toEqual({ ips: ["203.0.113.0/24", "198.51.100.7"], protected_branches_only: true });
    expect(updated.outs).toMatchObject({ allowedIps: ["203.0.113.0/24", "198.51.100.7"], protectedBranchesOnly: true, ownerPassword: outs.ownerPassword });
    outs = updated.outs as ProjectOutputs;
    inputs = news;
  });

  it("renames the implicit default branch in place (a PATCH of the branch, not a new one)", async () => {
    emu.resetCalls();
    const news = await checked({ ...inputs, defaultBranchName: "production" }, inputs);
    expect(await provider.diff(outs.projectId, outs, news)).toMatchObject({ changes: true, replaces: [] });
    const renamed = await provider.update(outs.projectId, outs, news);
    expect(writes().map((call) => [call.operationId, call.requestBody])).toEqual([["updateProjectBranch", { branch: { name: "production" } }]]);
    expect(emu.state.branch(outs.projectId, outs.defaultBranchId)?.name).toBe("production");
    const back = await provider.update(outs.projectId, renamed.outs as ProjectOutputs, inputs);
    expect((back.outs as ProjectOutputs).defaultBranchName).toBe("main");
    outs = back.outs as ProjectOutputs;
  });

  it("refuses to create a second project of the same name without adopt or this resource's claim", async () => {
    for (const claim of [undefined, "claim-other"]) {
      emu.resetCalls();
      await expect(provider.create({ ...inputs, claim })).rejects.toThrow(/already exists \(.*\) and was not made by this resource; set `adopt: true`/);
      expect(writes()).toEqual([]);
    }
  });

  it("takes over a same-name project carrying its claim (left by a crash): waits for its operations, reveals the owner password", async () => {
    const api = neonApi();
    const { data } = await api.createProject({
      project: { name: "left_by_crash", region_id: "aws-eu-central-1", branch: { database_name: "app", role_name: "app_owner", annotations: { "pulumi-claim": "claim-left" } } },
    });
    emu.resetCalls();
    const claimInputs = await checked({ name: "left_by_crash", defaultDatabaseName: "app", defaultRoleName: "app_owner", claim: "claim-left" });
    const taken = await provider.create(claimInputs);
    expect(taken.id).toBe(data.project.id);
    expect(writes()).toEqual([]);
    // Its create_timeline and start_compute were still running: the takeover polled them to the end.
    expect(operationIds()).toContain("listProjectOperations");
    expect(operationIds()).toContain("getProjectOperation");
    expect(emu.state.operations(data.project.id).every((op) => op.status === "finished")).toBe(true);
    expect(taken.outs).toMatchObject({
      adopted: false,
      claim: "claim-left",
      defaultBranchId: data.branch.id,
      defaultEndpointId: data.endpoints[0].id,
      defaultEndpointHost: data.endpoints[0].host,
      ownerPassword: data.roles[0].password,
      proxyHost: data.project.proxy_host,
    });
    // Taken over only as declared: a claimed project in another region is refused as adopt refuses it.
    await expect(provider.create({ ...claimInputs, regionId: "aws-us-east-2" })).rejects.toThrow(/made by an interrupted create in region 'aws-eu-central-1', but regionId is 'aws-us-east-2'/);
    await provider.delete(taken.id, taken.outs as ProjectOutputs);
  });

  it("adopts a hand-made project: no create call, settings applied, password revealed", async () => {
    const api = neonApi();
    const { data } = await api.createProject({
      project: { name: "hand_made", region_id: "aws-eu-central-1", branch: { database_name: "app", role_name: "app_owner" } },
    });
    await waitForOperations(api, data.project.id, data.operations);
    emu.resetCalls();
    const adoptInputs = await checked({ name: "hand_made", defaultDatabaseName: "app", defaultRoleName: "app_owner", historyRetentionSeconds: 7200, adopt: true });
    const adopted = await provider.create(adoptInputs);
    expect(adopted.id).toBe(data.project.id);
    expect(operationIds()).not.toContain("createProject");
    expect(operationIds()).toContain("getProjectBranchRolePassword");
    expect(emu.calls.filter((call) => call.operationId === "updateProject").map((call) => call.requestBody)).toEqual([
      { project: { history_retention_seconds: 7200 } },
    ]);
    expect(adopted.outs).toMatchObject({
      adopted: true,
      defaultBranchId: data.branch.id,
      defaultEndpointId: data.endpoints[0].id,
      ownerPassword: data.roles[0].password,
    });
    await expect(provider.create({ ...adoptInputs, regionId: "aws-us-east-2" })).rejects.toThrow(/regionId/);
    await provider.delete(adopted.id, adopted.outs as ProjectOutputs);
  });

  it("deletes, and deleting again is fine", async () => {
    emu.resetCalls();
    await provider.delete(outs.projectId, outs);
    expect(emu.state.project(outs.projectId)).toBeUndefined();
    await provider.delete(outs.projectId, outs);
    expect(emu.calls.filter((call) => call.operationId === "deleteProject").map((call) => call.status)).toEqual([200, 404]);
    expect(await provider.read(outs.projectId, outs)).toEqual({ id: "" });
  });
});

describe("Project and Branch as Pulumi serializes them", () => {
  it("carry readable type names, mark ownerPassword secret and capture no credential", async () => {
    const serialized = await serializeProviders(
      [
        { module: "dynamic-providers/neon/project", exportName: "Project", name: "content", props: { ...seed } },
        { module: "dynamic-providers/neon/branch", exportName: "Branch", name: "staging", props: { projectId: "p-1", name: "staging" } },
      ],
      { env: { NEON_API_KEY: "napi_serialization_probe_key", NEON_API_URL: "http://127.0.0.1:9/api/v2" } },
    );
    expect(serialized.content.type).toBe("pulumi-nodejs:dynamic/neon:Project");
    expect(serialized.content.additionalSecretOutputs).toEqual(["ownerPassword"]);
    expect(serialized.staging.type).toBe("pulumi-nodejs:dynamic/neon:Branch");
    for (const resource of Object.values(serialized)) {
      assertNoSecrets(resource.provider, ["napi_serialization_probe_key"]);
      expect(resource.providerIsSecret).toBe(false);
    }
  }, 120_000);
});
