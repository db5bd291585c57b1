import { describe, expect, it } from "vitest";
import { unknownValue } from "../../dynamic-providers/core/check";
import { neonApi } from "../../dynamic-providers/neon/client";
import { ipAllowListProvider, type IpAllowListInputs, type IpAllowListOutputs } from "../../dynamic-providers/neon/ip-allow-list";
import { projectProvider, type ProjectInputs, type ProjectOutputs } from "../../dynamic-providers/neon/project";
import { providerUnderTest } from "../support/provider";
import { useNeonEmulator } from "./support";

const { provider, checked, reasons } = providerUnderTest<IpAllowListInputs, IpAllowListOutputs, Partial<IpAllowListInputs>>(ipAllowListProvider);
const { emu, project } = useNeonEmulator({ project: { name: "naluma_content", region_id: "aws-eu-central-1" } });

const projectId = (): string => project.project.id;
const writes = () => emu.calls.filter((call) => call.method !== "GET");
const liveList = () => emu.state.project(projectId())?.settings.allowed_ips;
/** Egress addresses as FlyApp reports them, plus a configured office address. */
const egress = ["192.0.2.10", "192.0.2.20"];
const office = "203.0.113.7";

describe("ip allow list check()", () => {
  it("fills in protectedBranchesOnly, drops repeated addresses and accepts unknowns", async () => {
    expect(await checked({ projectId: "misty-sound-1", ips: [office, ...egress, office] })).toEqual({
      projectId: "misty-sound-1",
      ips: [office, ...egress],
      protectedBranchesOnly: false,
    });
    expect(await checked({ projectId: unknownValue, ips: [office, unknownValue, office], protectedBranchesOnly: true })).toEqual({
      projectId: unknownValue,
      ips: [office, unknownValue, office],
      protectedBranchesOnly: true,
    });
    await checked({ projectId: "misty-sound-1", ips: unknownValue as unknown as string[] });
  });

  it.each<[string, unknown, string]>([
    ["no project", { ips: [office] }, "projectId is required"],
    ["a bad address", { projectId: "misty-sound-1", ips: [office, "office"] }, "neon ip allow list 'misty-sound-1': ips[1] must be an IP address"],
    ["a bad CIDR", { projectId: "misty-sound-1", ips: ["10.0.0.0/33"] }, 'ips[0] must be an IP address (203.0.113.7), a CIDR (203.0.113.0/24) or a range (203.0.113.1-203.0.113.9), got "10.0.0.0/33"'],
    ["a list that is not one", { projectId: "misty-sound-1", ips: office }, "ips must be a list"],
    ["a flag that is not one", { projectId: "misty-sound-1", ips: [], protectedBranchesOnly: "yes" }, "protectedBranchesOnly must be true or false"],
  ])("rejects %s, naming the field", async (_case, news, reason) => {
    expect((await reasons(news)).join("\n")).toContain(reason);
  });
});

describe("ip allow list diff()", () => {
  const olds: IpAllowListOutputs = { projectId: "misty-sound-1", ips: [office, ...egress], protectedBranchesOnly: false };

  it("sees no change for the same addresses in another order, and makes no call", async () => {
    emu.resetCalls();
    expect(await provider.diff(olds.projectId, olds, { ...olds, ips: [...egress, office] })).toMatchObject({ changes: false, replaces: [] });
    expect(emu.calls).toEqual([]);
  });

  it.each<[Partial<IpAllowListInputs>, string[]]>([
    [{ ips: [office] }, []],
    [{ protectedBranchesOnly: true }, []],
    [{ projectId: "other-project-2" }, ["projectId"]],
    // In a preview, before the Fly apps' egress addresses are allocated.
    [{ ips: unknownValue as unknown as string[] }, []],
  ])("changes %j in place unless it is another project", async (change, replaces) => {
    expect(await provider.diff(olds.projectId, olds, { ...olds, ...change })).toMatchObject({ changes: true, replaces });
  });
});

describe("ip allow list lifecycle against the emulator", () => {
  let outs: IpAllowListOutputs;

  it("writes the project's settings.allowed_ips with one PATCH, riding out a 423", async () => {
    emu.resetCalls();
    emu.faults.failNext("updateProject", 1, { kind: "status", status: 423 });
    const created = await provider.create(await checked({ projectId: projectId(), ips: [office, ...egress] }));
    outs = created.outs as IpAllowListOutputs;
    expect(created.id).toBe(projectId());
    expect(writes().map((call) => [call.operationId, call.status])).toEqual([
      ["updateProject", 423],
      ["updateProject", 200],
    ]);
    expect(writes()[1].requestBody).toEqual({ project: { settings: { allowed_ips: { ips: [office, ...egress], protected_branches_only: false } } } });
    expect(liveList()).toEqual({ ips: [office, ...egress], protected_branches_only: false });
  });

  it("reads the live list back, and drift made in the console shows", async () => {
    expect(await provider.read(outs.projectId, outs)).toEqual({ id: outs.projectId, props: outs });
    await neonApi().updateProject(projectId(), { project: { settings: { allowed_ips: { ips: [office], protected_branches_only: true } } } });
    const drifted = (await provider.read(outs.projectId, outs)).props as IpAllowListOutputs;
    expect(drifted).toEqual({ projectId: projectId(), ips: [office], protectedBranchesOnly: true });
    expect(await provider.diff(outs.projectId, drifted, await checked({ projectId: projectId(), ips: [office, ...egress] }))).toMatchObject({ changes: true });
  });

  it("updates to a new egress address and protected branches only", async () => {
    emu.resetCalls();
    const news = await checked({ projectId: projectId(), ips: [office, "192.0.2.30"], protectedBranchesOnly: true });
    const updated = await provider.update(outs.projectId, outs, news);
    expect(writes()).toHaveLength(1);
    expect(liveList()).toEqual({ ips: [office, "192.0.2.30"], protected_branches_only: true });
    outs = updated.outs as IpAllowListOutputs;
    expect(outs).toEqual({ projectId: projectId(), ips: [office, "192.0.2.30"], protectedBranchesOnly: true });
  });

  it("leaves other project settings alone", async () => {
    expect(emu.state.project(projectId())).toMatchObject({ name: "naluma_content", history_retention_seconds: 86_400 });
  });

  it("delete allows every IP again", async () => {
    emu.resetCalls();
    await provider.delete(outs.projectId, outs);
    expect(liveList()).toEqual({ ips: [], protected_branches_only: false });
    expect((await provider.read(outs.projectId, outs)).props).toEqual({ projectId: projectId(), ips: [], protectedBranchesOnly: false });
  });

  it("delete and read tolerate a project that is gone", async () => {
    const api = neonApi();
    const { data } = await api.createProject({ project: { name: "short_lived", region_id: "aws-eu-central-1" } });
    const list = (await provider.create(await checked({ projectId: data.project.id, ips: [office] }))).outs as IpAllowListOutputs;
    await api.deleteProject(data.project.id);
    await provider.delete(list.projectId, list);
    expect(await provider.read(list.projectId, list)).toEqual({ id: "" });
  });
});

describe("a neon:Project without allowedIps leaves the list to the IpAllowList", () => {
  const project = providerUnderTest(projectProvider);
  const seed: ProjectInputs = { name: "naluma_owned_list", regionId: "aws-eu-central-1", defaultDatabaseName: "naluma_content" };

  it("neither sends, reads nor diffs settings.allowed_ips", async () => {
    const inputs = (await projectProvider.check!({} as ProjectInputs, seed)).inputs as ProjectInputs;
    emu.resetCalls();
    const created = (await project.created(inputs)) as ProjectOutputs;
    const createBody = emu.calls.find((call) => call.operationId === "createProject")?.requestBody as { project: Record<string, unknown> };
    expect(createBody.project.settings).toBeUndefined();

    const list = (await provider.create(await checked({ projectId: created.projectId, ips: egress }))).outs as IpAllowListOutputs;
    const read = (await project.provider.read(created.projectId, created)).props as ProjectOutputs;
    expect(read.allowedIps).toBeUndefined();
    expect(read.protectedBranchesOnly).toBeUndefined();
    expect(await project.provider.diff(created.projectId, read, inputs)).toMatchObject({ changes: false });

    emu.resetCalls();
    await project.provider.update(created.projectId, read, { ...inputs, historyRetentionSeconds: 3600 });
    expect(emu.calls.find((call) => call.operationId === "updateProject")?.requestBody).toEqual({ project: { history_retention_seconds: 3600 } });
    expect(emu.state.project(created.projectId)?.settings.allowed_ips).toEqual({ ips: egress, protected_branches_only: false });
    expect((await provider.read(list.projectId, list)).props).toEqual(list);
  });

  it("hands a list it managed over without clearing it: dropping allowedIps sends nothing for it", async () => {
    const inputs = (await projectProvider.check!({} as ProjectInputs, { ...seed, name: "naluma_handover", allowedIps: [office] })).inputs as ProjectInputs;
    const created = (await project.created(inputs)) as ProjectOutputs;
    const news = { ...inputs };
    delete news.allowedIps;
    expect(await project.provider.diff(created.projectId, created, news)).toMatchObject({ changes: true, replaces: [] });
    emu.resetCalls();
    const updated = (await project.provider.update(created.projectId, created, news)).outs as ProjectOutputs;
    expect(emu.calls.filter((call) => call.operationId === "updateProject")).toEqual([]);
    expect(updated.allowedIps).toBeUndefined();
    expect(emu.state.project(created.projectId)?.settings.allowed_ips).toEqual({ ips: [office], protected_branches_only: false });
  });
});
