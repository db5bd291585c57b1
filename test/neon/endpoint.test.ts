import { beforeAll, describe, expect, it } from "vitest";
import { endpointProvider, poolerHostOf, type EndpointInputs, type EndpointOutputs } from "../../dynamic-providers/neon/endpoint";
import { neonApi, neonCall, waitForOperations } from "../../dynamic-providers/neon/client";
import { defaultRetryPolicy } from "../../dynamic-providers/core/retry";
import { providerUnderTest } from "../support/provider";
import { useNeonEmulator } from "./support";

const { provider } = providerUnderTest(endpointProvider);
const { emu, project } = useNeonEmulator({ project: { name: "naluma_content", region_id: "aws-eu-central-1" } });

let projectId: string;
let mainBranchId: string;
let mainEndpointId: string;
let devBranchId: string;

const writes = () => emu.calls.filter((call) => call.method !== "GET");
const operationIds = () => emu.calls.map((call) => call.operationId);
const allOperationsFinished = () => emu.state.operations(projectId).every((op) => op.status === "finished");

beforeAll(async () => {
  projectId = project.project.id;
  mainBranchId = project.branch.id;
  mainEndpointId = project.endpoints[0].id;
  const api = neonApi();
  const branch = await api.createProjectBranch(projectId, { branch: { name: "dev" } });
  devBranchId = branch.data.branch.id;
  await waitForOperations(api, projectId, branch.data.operations);
});

async function checked(news: Partial<EndpointInputs>): Promise<EndpointInputs> {
  const result = await provider.check({} as EndpointInputs, { projectId, branchId: devBranchId, ...news } as EndpointInputs);
  expect(result.failures ?? []).toEqual([]);
  return result.inputs as EndpointInputs;
}

describe("check", () => {
  it.each([
    { case: "minCu 0.3", news: { minCu: 0.3 }, field: "minCu", text: "0.3" },
    { case: "maxCu 17", news: { maxCu: 17 }, field: "maxCu", text: "17" },
    { case: "max − min > 8", news: { minCu: 1, maxCu: 10 }, field: "maxCu", text: "at most 8 compute units above minCu" },
    { case: "max < min", news: { minCu: 4, maxCu: 2 }, field: "maxCu", text: "at least minCu" },
    { case: "suspend 30", news: { suspendTimeoutSeconds: 30 }, field: "suspendTimeoutSeconds", text: "60..604800" },
    { case: "type primary", news: { type: "primary" }, field: "type", text: "read_write, read_only" },
    { case: "projectId missing", news: { projectId: undefined }, field: "projectId", text: "is required" },
    { case: "adopt 'yes'", news: { adopt: "yes" }, field: "adopt", text: "true or false" },
  ])("refuses $case naming the field", async ({ news, field, text }) => {
    const result = await provider.check({} as EndpointInputs, { projectId: "p-1", branchId: "br-1", ...news } as unknown as EndpointInputs);
    expect(result.failures).toHaveLength(1);
    const [failure] = result.failures ?? [];
    expect(failure.property).toBe(field);
    expect(failure.reason).toMatch(/^neon endpoint 'br-1': /);
    expect(failure.reason).toContain(field);
    expect(failure.reason).toContain(text);
  });

  it("accepts Neon's limits and defaults type to read_write", async () => {
    const result = await provider.check({} as EndpointInputs, { projectId: "p-1", branchId: "br-1", minCu: 0.25, maxCu: 8.25 - 0.25, suspendTimeoutSeconds: -1 });
    expect(result.failures).toEqual([]);
    expect(result.inputs).toMatchObject({ type: "read_write" });
    // Neon's compute sizes: 0.25, 0.5 and whole numbers of CU (neon.com/docs/connect/connection-pooling).
    expect((await provider.check({} as EndpointInputs, { projectId: "p", branchId: "b", minCu: 0.5, maxCu: 2 })).failures).toEqual([]);
    expect((await provider.check({} as EndpointInputs, { projectId: "p", branchId: "b", minCu: 0.25, maxCu: 0.5 })).failures).toEqual([]);
    for (const suspendTimeoutSeconds of [0, 60, 604_800]) {
      expect((await provider.check({} as EndpointInputs, { projectId: "p", branchId: "b", suspendTimeoutSeconds })).failures).toEqual([]);
    }
  });

  it("skips values unknown during preview", async () => {
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const result = await provider.check({} as EndpointInputs, { projectId: unknown, branchId: unknown, minCu: unknown } as unknown as EndpointInputs);
    expect(result.failures).toEqual([]);
  });
});

describe("diff (pure)", () => {
  const olds: EndpointOutputs = {
    projectId: "p",
    branchId: "b",
    type: "read_write",
    minCu: 0.25,
    maxCu: 1,
    endpointId: "ep-x",
    host: "ep-x.eu-central-1.aws.neon.tech",
    poolerHost: "ep-x-pooler.eu-central-1.aws.neon.tech",
    regionId: "aws-eu-central-1",
    currentState: "active",
    adopted: false,
  };
  const inputs: EndpointInputs = { projectId: "p", branchId: "b", type: "read_write", minCu: 0.25, maxCu: 1 };
  it.each([
    { change: {}, changes: false, replaces: [] },
    { change: { maxCu: 2 }, changes: true, replaces: [] },
    { change: { suspendTimeoutSeconds: -1 }, changes: true, replaces: [] },
    { change: { branchId: "b2" }, changes: true, replaces: ["branchId"] },
    { change: { projectId: "p2" }, changes: true, replaces: ["projectId"] },
    { change: { type: "read_only" }, changes: true, replaces: ["type"] },
  ])("$change → changes $changes, replaces $replaces", async ({ change, changes, replaces }) => {
    const result = await provider.diff("ep-x", olds, { ...inputs, ...change } as EndpointInputs);
    expect(result).toMatchObject({ changes, replaces });
  });
});

describe("poolerHostOf", () => {
  it("inserts -pooler after the endpoint id", () => {
    expect(poolerHostOf("ep-cool-darkness-a1b2c3d4.us-east-2.aws.neon.tech")).toBe("ep-cool-darkness-a1b2c3d4-pooler.us-east-2.aws.neon.tech");
  });
});

describe("lifecycle against the emulator", () => {
  it("create, read, no-op diff, update max_cu, replace diff, delete twice", async () => {
    const inputs = await checked({ minCu: 0.25, maxCu: 1, suspendTimeoutSeconds: 300 });
    emu.resetCalls();
    const created = await provider.create(inputs);
    expect(allOperationsFinished()).toBe(true);
    const outs = created.outs as EndpointOutputs;
    expect(writes().map((call) => call.operationId)).toEqual(["createProjectEndpoint"]);
    expect(writes()[0].requestBody).toEqual({
      endpoint: { branch_id: devBranchId, type: "read_write", autoscaling_limit_min_cu: 0.25, autoscaling_limit_max_cu: 1, suspend_timeout_seconds: 300 },
    });
    expect(operationIds()).toContain("getProjectOperation");
    const live = emu.state.endpoints(projectId).find((endpoint) => endpoint.id === created.id);
    expect(live).toMatchObject({ branch_id: devBranchId, type: "read_write", autoscaling_limit_min_cu: 0.25, autoscaling_limit_max_cu: 1 });
    expect(outs).toMatchObject({ endpointId: created.id, currentState: "active", adopted: false, regionId: "aws-eu-central-1" });
    expect(outs.host).toBe(`${created.id}.eu-central-1.aws.neon.tech`);
    expect(outs.poolerHost).toBe(`${created.id}-pooler.eu-central-1.aws.neon.tech`);
    expect(outs.proxyHost).toBe("eu-central-1.aws.neon.tech");

    emu.resetCalls();
    const read = await provider.read(created.id, outs);
    expect(read).toEqual({ id: created.id, props: outs });
    expect(writes()).toEqual([]);

    // A second `pulumi up` with nothing changed: check and diff, no write.
    emu.resetCalls();
    const again = await provider.check(inputs, { ...inputs });
    expect((await provider.diff(created.id, outs, again.inputs as EndpointInputs)).changes).toBe(false);
    expect(emu.calls).toEqual([]);

    const news = await checked({ minCu: 0.25, maxCu: 2, suspendTimeoutSeconds: 300 });
    expect(await provider.diff(created.id, outs, news)).toMatchObject({ changes: true, replaces: [] });
    emu.resetCalls();
    const updated = await provider.update(created.id, outs, news);
    expect(allOperationsFinished()).toBe(true);
    expect(writes().map((call) => [call.operationId, call.requestBody])).toEqual([["updateProjectEndpoint", { endpoint: { autoscaling_limit_max_cu: 2 } }]]);
    expect(emu.state.endpoints(projectId).find((endpoint) => endpoint.id === created.id)?.autoscaling_limit_max_cu).toBe(2);
    expect(updated.outs).toMatchObject({ maxCu: 2, endpointId: created.id });

    // Drift made outside Pulumi shows on refresh.
    const drift = await neonApi().updateProjectEndpoint(projectId, created.id, { endpoint: { autoscaling_limit_max_cu: 3 } });
    await waitForOperations(neonApi(), projectId, drift.data.operations);
    const drifted = await provider.read(created.id, updated.outs as EndpointOutputs);
    expect(drifted.props).toMatchObject({ maxCu: 3 });

    expect(await provider.diff(created.id, updated.outs as EndpointOutputs, { ...news, branchId: mainBranchId })).toMatchObject({
      changes: true,
      replaces: ["branchId"],
    });

    emu.resetCalls();
    await provider.delete(created.id, updated.outs as EndpointOutputs);
    expect(allOperationsFinished()).toBe(true);
    expect(emu.state.endpoints(projectId).some((endpoint) => endpoint.id === created.id)).toBe(false);
    await provider.delete(created.id, updated.outs as EndpointOutputs);
    expect(writes().map((call) => [call.operationId, call.status])).toEqual([
      ["deleteProjectEndpoint", 200],
      ["deleteProjectEndpoint", 204],
    ]);
    expect(await provider.read(created.id, updated.outs as EndpointOutputs)).toEqual({ id: "" });
  });

  it("adopt takes over the project's own read_write endpoint by type, configures it and leaves it on delete", async () => {
    expect(emu.state.endpoints(projectId).find((endpoint) => endpoint.id === mainEndpointId)?.autoscaling_limit_max_cu).not.toBe(3);
    const inputs = await checked({ branchId: mainBranchId, maxCu: 3, adopt: true });
    emu.resetCalls();
    const created = await provider.create(inputs);
    expect(created.id).toBe(mainEndpointId);
    expect(created.outs).toMatchObject({ adopted: true, type: "read_write" });
    expect(operationIds()).not.toContain("createProjectEndpoint");
    expect(writes().map((call) => [call.operationId, call.requestBody])).toEqual([["updateProjectEndpoint", { endpoint: { autoscaling_limit_max_cu: 3 } }]]);
    expect(allOperationsFinished()).toBe(true);

    emu.resetCalls();
    await provider.delete(created.id, created.outs as EndpointOutputs);
    expect(emu.calls).toEqual([]);
    expect(emu.state.endpoints(projectId).some((endpoint) => endpoint.id === mainEndpointId)).toBe(true);
  });

  it("adopt picks the endpoint by type, not the first one listed", async () => {
    const readOnly = await provider.create(await checked({ branchId: mainBranchId, type: "read_only" }));
    emu.resetCalls();
    const adopted = await provider.create(await checked({ branchId: mainBranchId, type: "read_only", adopt: true }));
    expect(adopted.id).toBe(readOnly.id);
    const adoptedWrite = await provider.create(await checked({ branchId: mainBranchId, type: "read_write", adopt: true }));
    expect(adoptedWrite.id).toBe(mainEndpointId);
    expect(writes()).toEqual([]);
    await provider.delete(readOnly.id, readOnly.outs as EndpointOutputs);
  });

  it("a second read_write endpoint without adopt fails with a hint to adopt", async () => {
    await expect(provider.create(await checked({ branchId: mainBranchId }))).rejects.toThrow(/set `adopt: true`/);
  });

  it("a named create finds the endpoint an earlier, unrecorded create of it left and takes it over", async () => {
    const inputs = await checked({ type: "read_only", name: "reporting-replica" });
    const first = await provider.create(inputs);
    expect(emu.state.endpoints(projectId).find((endpoint) => endpoint.id === first.id)?.name).toBe("reporting-replica");
    // The first result was never recorded (a crash): the next `pulumi up` creates again.
    const second = await provider.create(inputs);
    expect(second.id).toBe(first.id);
    expect((second.outs as EndpointOutputs).adopted).toBe(false);
    expect(emu.state.endpoints(projectId).filter((endpoint) => endpoint.name === "reporting-replica")).toHaveLength(1);
    await provider.delete(second.id, second.outs as EndpointOutputs);
    expect(emu.state.endpoints(projectId).some((endpoint) => endpoint.id === first.id)).toBe(false);
  });

  it("a read_write create whose connection dropped before Neon acted is sent once more: one call, one endpoint, two create calls", async () => {
    const readWrite = () => emu.state.endpoints(projectId).filter((endpoint) => endpoint.branch_id === devBranchId && endpoint.type === "read_write");
    expect(readWrite()).toEqual([]);
    emu.faults.failNext("createProjectEndpoint", 1, { kind: "drop" });
    emu.resetCalls();
    const created = await provider.create(await checked({ type: "read_write", name: "dev-primary" }));
    // The dropped one is recorded with status 0 (no answer), then the lookup finds nothing, then the resend.
    expect(emu.calls.filter((call) => call.operationId === "createProjectEndpoint").map((call) => call.status)).toEqual([0, 201]);
    expect(readWrite().map((endpoint) => endpoint.id)).toEqual([created.id]);
    expect(created.outs).toMatchObject({ type: "read_write", endpointId: created.id, name: "dev-primary", adopted: false });
    await provider.delete(created.id, created.outs as EndpointOutputs);
    expect(readWrite()).toEqual([]);
  });

  it("a read_only create whose connection dropped is not sent again (no uniqueness keeps a late first from making two): it fails naming the call", async () => {
    const readOnly = () => emu.state.endpoints(projectId).filter((endpoint) => endpoint.branch_id === devBranchId && endpoint.type === "read_only");
    expect(readOnly()).toEqual([]);
    emu.faults.failNext("createProjectEndpoint", 1, { kind: "drop" });
    emu.resetCalls();
    const inputs = await checked({ type: "read_only", name: "dev-replica" });
    await expect(provider.create(inputs)).rejects.toThrow(/POST \/projects\/[^/]+\/endpoints failed: connection error/);
    expect(emu.calls.filter((call) => call.operationId === "createProjectEndpoint")).toHaveLength(1);
    expect(readOnly()).toEqual([]);
    // The next `pulumi up` creates it.
    const created = await provider.create(inputs);
    expect(readOnly().map((endpoint) => endpoint.id)).toEqual([created.id]);
    await provider.delete(created.id, created.outs as EndpointOutputs);
  });

  it("refuses a name Neon would refuse, naming the field", async () => {
    const result = await provider.check({} as EndpointInputs, { projectId, branchId: devBranchId, name: "x".repeat(65) } as EndpointInputs);
    expect(result.failures?.map((failure) => failure.property)).toEqual(["name"]);
    expect(result.failures?.[0]?.reason).toContain("1 to 64 characters");
  });

  it("retries 423 Locked and still creates", async () => {
    emu.faults.failNext("createProjectEndpoint", 2, { kind: "status", status: 423 });
    emu.resetCalls();
    const created = await provider.create(await checked({ type: "read_only" }));
    expect(emu.calls.filter((call) => call.operationId === "createProjectEndpoint").map((call) => call.status)).toEqual([423, 423, 201]);
    expect(emu.state.endpoints(projectId).some((endpoint) => endpoint.id === created.id)).toBe(true);
    await provider.delete(created.id, created.outs as EndpointOutputs);
  });

  it("429s go through the rate-limited path: more refusals than maxAttempts still succeed, each after Retry-After", async () => {
    emu.faults.failNext("listProjectBranchEndpoints", 3, { kind: "status", status: 429, retryAfterSeconds: 0.1 });
    emu.resetCalls();
    const started = Date.now();
    const api = neonApi();
    const listed = await neonCall(() => api.listProjectBranchEndpoints(projectId, mainBranchId), {
      idempotent: true,
      policy: { ...defaultRetryPolicy, maxAttempts: 2, budgetMs: 5_000 },
    });
    const elapsed = Date.now() - started;
    expect(listed.endpoints.map((endpoint) => endpoint.id)).toContain(mainEndpointId);
    expect(emu.calls.filter((call) => call.operationId === "listProjectBranchEndpoints").map((call) => call.status)).toEqual([429, 429, 429, 200]);
    // Three waits of at least Retry-After (100 ms) each, plus jitter; never earlier.
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(5_000);
  });

  it("a 429 is not retried past the call's budget", async () => {
    emu.faults.failNext("listProjectBranchEndpoints", 4, { kind: "status", status: 429, retryAfterSeconds: 0.1 });
    const api = neonApi();
    const before = emu.calls.length;
    const error = await neonCall(() => api.listProjectBranchEndpoints(projectId, mainBranchId), {
      idempotent: true,
      policy: { ...defaultRetryPolicy, maxAttempts: 20, budgetMs: 250 },
    }).catch((thrown: unknown) => thrown);
    expect((error as Error).message).toMatch(/429/);
    // Waits of at least 100 ms each: a 250 ms budget holds the first call and at most two retries, never the fourth.
    const attempts = emu.calls.slice(before).filter((call) => call.operationId === "listProjectBranchEndpoints").map((call) => call.status);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.length).toBeLessThanOrEqual(3);
    expect(attempts.every((status) => status === 429)).toBe(true);
    // The refusals left over are waited out by a call with the default budget.
    await neonCall(() => api.listProjectBranchEndpoints(projectId, mainBranchId), { idempotent: true });
  });
});
