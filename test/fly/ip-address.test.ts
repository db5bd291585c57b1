import { describe, expect, it } from "vitest";
import { unknownValue } from "../../dynamic-providers/core/check";
import { ipAddressProvider, type IpAddressInputs, type IpAddressOutputs } from "../../dynamic-providers/fly/ip-address";
import { providerUnderTest } from "../support/provider";
import { useFlyEmulator } from "./support";

const { provider, checked, reasons } = providerUnderTest(ipAddressProvider);
const appName = "naluma-dashboard";
const { emu, fly, calls } = useFlyEmulator({ apps: [appName] });

async function create(news: IpAddressInputs): Promise<IpAddressOutputs> {
  return (await provider.create(await checked(news))).outs as IpAddressOutputs;
}

function remoteIps(): { ip: string; type: string; region: string }[] {
  return (emu.state.apps.get(appName)?.ips ?? []).map((ip) => ({ ip: ip.ip, type: ip.type, region: ip.region }));
}

describe("ip address check()", () => {
  it("normalises an absent region to global and accepts unknowns", async () => {
    expect(await checked({ appName, type: "shared_v4" })).toEqual({ appName, type: "shared_v4", region: "" });
    expect(await checked({ appName, type: "private_v6", network: "" })).toEqual({ appName, type: "private_v6", region: "" });
    await checked({ appName: unknownValue, type: "v6", region: unknownValue });
    await checked({ appName, type: "private_v6", region: "fra", network: "pipeline-net" });
  });

  it.each<[string, unknown, string]>([
    ["an unknown type", { appName, type: "v5" }, "fly ip address 'naluma-dashboard': type must be one of v4, v6, shared_v4, private_v6, egress_v4, egress_v6, got \"v5\""],
    ["no type", { appName }, "type is required (one of v4, v6, shared_v4, private_v6, egress_v4, egress_v6)"],
    ["a network on a public address", { appName, type: "v6", network: "pipeline-net" }, "network can only be set when type is private_v6 (type is v6), got \"pipeline-net\""],
    ["a region name", { appName, type: "v4", region: "Frankfurt" }, "region must be a Fly region (one of ams, arn"],
    ["a bad app name", { appName: "Naluma", type: "v4" }, "appName must be a Fly app name, got \"Naluma\""],
    ["an egress address without a region", { appName, type: "egress_v4" }, "region is required for egress_v4 (an egress address belongs to one region)"],
    ["an egress address with an empty region", { appName, type: "egress_v6", region: "" }, "region is required for egress_v6"],
  ])("rejects %s, naming the field", async (_case, news, reason) => {
    expect((await reasons(news)).join("\n")).toContain(reason);
  });
});

describe("ip address diff()", () => {
  const olds: IpAddressOutputs = { appName, type: "v6", region: "", ip: "2a09:8280:1::1:2", shared: false, adopted: false };

  it("sees no change for the same inputs, a missing region counting as global", async () => {
    expect(await provider.diff(olds.ip, olds, { appName, type: "v6", region: "" })).toMatchObject({ changes: false, replaces: [] });
    expect(await provider.diff(olds.ip, olds, { appName, type: "v6" })).toMatchObject({ changes: false, replaces: [] });
    expect(await provider.diff(olds.ip, olds, { appName, type: "v6", region: "", adopt: true })).toMatchObject({ changes: false });
    expect(emu.calls).toEqual([]);
  });

  it.each<[Partial<IpAddressInputs>, string[]]>([
    [{ type: "v4" }, ["type"]],
    [{ region: "fra" }, ["region"]],
    [{ appName: "naluma-content" }, ["appName"]],
    [{ type: "private_v6", network: "pipeline-net" }, ["type", "network"]],
  ])("replaces on any change: %j", async (change, replaces) => {
    expect(await provider.diff(olds.ip, olds, { appName, type: "v6", region: "", ...change })).toMatchObject({ changes: true, replaces });
  });
});

describe("ip address lifecycle", () => {
  it("allocates a global v6 and a shared v4 address and reads them back", async () => {
    const v6 = await create({ appName, type: "v6" });
    const shared = await create({ appName, type: "shared_v4" });
    expect(v6).toMatchObject({ appName, type: "v6", region: "", shared: false, adopted: false });
    expect(shared).toMatchObject({ type: "shared_v4", shared: true });
    expect(remoteIps()).toEqual([
      { ip: v6.ip, type: "v6", region: "" },
      { ip: shared.ip, type: "shared_v4", region: "" },
    ]);
    expect(calls("App_IPAssignments_create").map((call) => call.requestBody)).toEqual([{ type: "v6" }, { type: "shared_v4" }]);
    emu.resetCalls();
    expect(await provider.read(v6.ip, v6)).toEqual({ id: v6.ip, props: v6 });
    expect(await provider.read(shared.ip, shared)).toEqual({ id: shared.ip, props: shared });
    expect(emu.calls.every((call) => call.method === "GET")).toBe(true);
  });

  it("allocates a regional private v6 (Flycast) address", async () => {
    const outs = await create({ appName, type: "private_v6", region: "fra" });
    expect(outs).toMatchObject({ type: "private_v6", region: "fra", shared: false });
    expect((await provider.read(outs.ip, outs)).props).toEqual(outs);
  });

  it("allocates egress v4 and v6 addresses in a region, flagged egress, and reads them back as egress", async () => {
    const v4 = await create({ appName, type: "egress_v4", region: "fra" });
    const v6 = await create({ appName, type: "egress_v6", region: "fra" });
    expect(v4).toMatchObject({ appName, type: "egress_v4", region: "fra", shared: false, adopted: false });
    expect(v4.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(v6.ip).toContain(":");
    expect(calls("App_IPAssignments_create").map((call) => call.requestBody)).toEqual([
      { type: "egress_v4", region: "fra" },
      { type: "egress_v6", region: "fra" },
    ]);
    const listed = (await fly("GET", `/v1/apps/${appName}/ip_assignments`)) as { ips: { ip: string; egress: boolean; region: string }[] };
    expect(listed.ips.map((ip) => [ip.ip, ip.egress, ip.region])).toEqual([
      [v4.ip, true, "fra"],
      [v6.ip, true, "fra"],
    ]);
    expect(await provider.read(v4.ip, v4)).toEqual({ id: v4.ip, props: v4 });
    expect(await provider.read(v6.ip, v6)).toEqual({ id: v6.ip, props: v6 });
  });

  it("adopts an egress address allocated by hand in the same region, not an ingress v4 or another region's", async () => {
    await fly("POST", `/v1/apps/${appName}/ip_assignments`, { type: "v4", region: "fra" });
    await fly("POST", `/v1/apps/${appName}/ip_assignments`, { type: "egress_v4", region: "ams" });
    const byHand = (await fly("POST", `/v1/apps/${appName}/ip_assignments`, { type: "egress_v4", region: "fra" })) as { ip: string };
    emu.resetCalls();
    const outs = await create({ appName, type: "egress_v4", region: "fra", adopt: true });
    expect(outs).toMatchObject({ ip: byHand.ip, type: "egress_v4", region: "fra", adopted: true });
    expect(calls("App_IPAssignments_create")).toEqual([]);
  });

  it("fails clearly for a network the org does not have", async () => {
    await expect(create({ appName, type: "private_v6", network: "no-such-net" })).rejects.toThrow(/ip_assignments failed with 400: network not found/);
  });

  it("a second apply with no change makes no call", async () => {
    const outs = await create({ appName, type: "v6" });
    emu.resetCalls();
    const news = await checked({ appName, type: "v6" });
    expect((await provider.diff(outs.ip, outs, news)).changes).toBe(false);
    expect(emu.calls).toEqual([]);
  });

  it("releases the address by its text (IPv6 colons encoded) and tolerates a second delete and a missing app", async () => {
    const outs = await create({ appName, type: "v6" });
    emu.resetCalls();
    await provider.delete(outs.ip, outs);
    expect(emu.calls.map((call) => [call.method, call.status])).toEqual([["DELETE", 204]]);
    expect(remoteIps()).toEqual([]);
    await provider.delete(outs.ip, outs);
    expect(emu.calls.map((call) => call.status)).toEqual([204, 404]);
    expect(await provider.read(outs.ip, outs)).toEqual({ id: "" });
    await fly("DELETE", `/v1/apps/${appName}`);
    await provider.delete(outs.ip, outs);
    expect(await provider.read(outs.ip, outs)).toEqual({ id: "" });
  });

  it("adopts an address allocated by hand of the same type and region, without allocating", async () => {
    await fly("POST", `/v1/apps/${appName}/ip_assignments`, { type: "v6" });
    const byHand = (await fly("POST", `/v1/apps/${appName}/ip_assignments`, { type: "shared_v4" })) as { ip: string };
    emu.resetCalls();
    const outs = await create({ appName, type: "shared_v4", adopt: true });
    expect(outs).toMatchObject({ ip: byHand.ip, type: "shared_v4", shared: true, adopted: true });
    expect(calls("App_IPAssignments_create")).toEqual([]);
  });

  it("allocates when adopt finds nothing matching", async () => {
    await fly("POST", `/v1/apps/${appName}/ip_assignments`, { type: "v6", region: "fra" });
    emu.resetCalls();
    const outs = await create({ appName, type: "v6", adopt: true });
    expect(outs.adopted).toBe(false);
    expect(calls("App_IPAssignments_create")).toHaveLength(1);
    expect(remoteIps()).toHaveLength(2);
  });
});

describe("ip address faults", () => {
  it("waits out a 429 with Retry-After, then allocates once", async () => {
    emu.faults.failNext("App_IPAssignments_create", 1, { kind: "status", status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    await create({ appName, type: "v6" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(calls("App_IPAssignments_create").map((call) => call.status)).toEqual([429, 200]);
    expect(remoteIps()).toHaveLength(1);
  });

  it("does not repeat an allocation after a 500 (it may have happened)", async () => {
    emu.faults.failNext("App_IPAssignments_create", 1, { kind: "status", status: 500 });
    await expect(create({ appName, type: "v6" })).rejects.toThrow(/failed with 500/);
    expect(calls("App_IPAssignments_create")).toHaveLength(1);
  });

  it("retries a 500 and a dropped connection on the list", async () => {
    const outs = await create({ appName, type: "v6" });
    emu.faults.failNext("App_IPAssignments_list", 1, { kind: "status", status: 500 });
    emu.faults.failNext("App_IPAssignments_list", 1, { kind: "drop" });
    expect((await provider.read(outs.ip, outs)).props).toEqual(outs);
  });
});
