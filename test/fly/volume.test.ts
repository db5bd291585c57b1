import { describe, expect, it } from "vitest";
import { machineProvider, type MachineInputs, type MachineOutputs } from "../../dynamic-providers/fly/machine";
import { volumeProvider, type VolumeInputs, type VolumeOutputs } from "../../dynamic-providers/fly/volume";
import { providerUnderTest } from "../support/provider";
import { useFlyEmulator } from "./support";

const { provider, checked, reasons } = providerUnderTest(volumeProvider);
const machines = providerUnderTest(machineProvider).provider;
const appName = "prefect";
const data: VolumeInputs = { appName, name: "prefect_data", region: "ewr", sizeGb: 1, timeouts: { detachSeconds: 3 } };
const { emu, flyOk: fly, calls } = useFlyEmulator({ apps: [appName], transitionMs: 10, setUp: () => emu.faults.volumeDetachDelay(0) });

async function create(news: VolumeInputs): Promise<VolumeOutputs> {
  return (await provider.create(await checked(news))).outs as VolumeOutputs;
}

function liveVolume(id: string) {
  return emu.state.apps.get(appName)?.volumes.get(id);
}

/** A started machine mounting the volume at /data. */
async function mountedBy(volumeId: string): Promise<MachineOutputs> {
  const inputs = (await machines.check({} as MachineInputs, {
    appName,
    name: "prefect-server",
    region: "ewr",
    image: "prefecthq/prefect:2-python3.11",
    mounts: [{ volume: volumeId, path: "/data" }],
    timeouts: { startSeconds: 10, leaseSeconds: 2 },
  })).inputs as MachineInputs;
  return (await machines.create(inputs)).outs as MachineOutputs;
}

describe("volume check()", () => {
  it("fills defaults", async () => {
    expect(await checked({ appName, name: "data", region: "fra" })).toMatchObject({ sizeGb: 1, encrypted: true, snapshotRetention: 5 });
  });

  it.each<[string, Partial<VolumeInputs>, string]>([
    ["a dash in the name", { name: "prefect-data" }, "fly volume 'prefect-data': name must be 1-30 lowercase letters, digits or underscores"],
    ["a 31-character name", { name: "a".repeat(31) }, "name must be 1-30 lowercase letters"],
    ["0 GB", { sizeGb: 0 }, "sizeGb must be between 1 and 500, got 0"],
    ["501 GB", { sizeGb: 501 }, "sizeGb must be between 1 and 500, got 501"],
    ["61 days of snapshots", { snapshotRetention: 61 }, "snapshotRetention must be between 1 and 60, got 61"],
    ["a region name", { region: "Newark" }, "region must be a Fly region (one of ams, arn"],
  ])("refuses %s", async (_title, change, message) => {
    expect((await reasons({ ...data, ...change })).join("\n")).toContain(message);
  });

  it("refuses to shrink a volume, but allows any size for a replacement", async () => {
    const olds = await checked({ ...data, sizeGb: 10 });
    expect(await reasons({ ...data, sizeGb: 5 }, olds)).toEqual([
      "fly volume 'prefect_data': sizeGb cannot shrink volume from 10 to 5 GB; Fly volumes only grow",
    ]);
    expect(await reasons({ ...data, sizeGb: 5, region: "fra" }, olds)).toEqual([]);
  });
});

describe("volume diff()", () => {
  it.each<[string, Partial<VolumeInputs>, boolean, string[]]>([
    ["nothing", {}, false, []],
    ["sizeGb", { sizeGb: 3 }, true, []],
    ["snapshotRetention", { snapshotRetention: 7 }, true, []],
    ["autoBackupEnabled", { autoBackupEnabled: false }, true, []],
    ["region", { region: "fra" }, true, ["region"]],
    ["name", { name: "other" }, true, ["name"]],
    ["encrypted", { encrypted: false }, true, ["encrypted"]],
    ["appName", { appName: "prefect-prod" }, true, ["appName"]],
  ])("a change of %s", async (_title, change, changes, replaces) => {
    const olds = await checked(data);
    const result = await provider.diff("vol_x", olds as VolumeOutputs, await checked({ ...data, ...change }));
    expect(result.changes).toBe(changes);
    expect(result.replaces).toEqual(replaces);
    expect(result.deleteBeforeReplace).toBe(false);
    expect(emu.calls).toEqual([]);
  });
});

describe("volume lifecycle", () => {
  it("creates, reads, grows, updates settings and deletes tolerantly", async () => {
    const outs = await create(data);
    expect(outs.volumeId).toMatch(/^vol_/);
    expect(calls("Volumes_create")[0]?.requestBody).toMatchObject({ name: "prefect_data", region: "ewr", size_gb: 1, encrypted: true, snapshot_retention: 5 });
    expect(outs).toMatchObject({ sizeGb: 1, encrypted: true, snapshotRetention: 5, attachedMachineId: "", state: "created" });

    const read = await provider.read(outs.volumeId, outs);
    expect(read.props).toEqual(outs);
    expect((await provider.diff(outs.volumeId, read.props as VolumeOutputs, await checked(data))).changes).toBe(false);

    emu.resetCalls();
    const news = await checked({ ...data, sizeGb: 3, snapshotRetention: 7 }, outs);
    const updated = (await provider.update(outs.volumeId, outs, news)).outs as VolumeOutputs;
    expect(calls("Volumes_extend")[0]?.requestBody).toEqual({ size_gb: 3 });
    expect(calls("Volumes_update")[0]?.requestBody).toEqual({ snapshot_retention: 7 });
    expect(updated).toMatchObject({ sizeGb: 3, snapshotRetention: 7 });
    expect(liveVolume(outs.volumeId)).toMatchObject({ sizeGb: 3, snapshotRetention: 7 });

    await provider.delete(outs.volumeId, updated);
    expect(liveVolume(outs.volumeId)).toBeUndefined();
    await provider.delete(outs.volumeId, updated);
    expect((await provider.read(outs.volumeId, updated)).id).toBe("");
  });

  it("refresh reports a volume destroyed by hand (pending_destroy) as gone, as create's lookup does", async () => {
    const outs = await create(data);
    const live = liveVolume(outs.volumeId);
    if (!live) throw new Error("no volume in the emulator");
    // `fly volumes destroy`: the API keeps answering for the volume, in state pending_destroy, for a while.
    (live as { state: string }).state = "pending_destroy";
    expect((await provider.read(outs.volumeId, outs)).id).toBe("");
    live.state = "created";
  });

  it("a second apply without changes writes nothing", async () => {
    const outs = await create(data);
    emu.resetCalls();
    const news = await checked(data, outs);
    expect((await provider.diff(outs.volumeId, outs, news)).changes).toBe(false);
    expect(emu.calls.filter((call) => call.method !== "GET")).toEqual([]);
  });

  it("adopts the one volume of that name in that region", async () => {
    const existing = await fly("POST", `/v1/apps/${appName}/volumes`, { name: "prefect_data", region: "ewr", size_gb: 1 });
    emu.resetCalls();
    const outs = (await provider.create(await checked({ ...data, adopt: true }))).outs as VolumeOutputs;
    expect(outs.volumeId).toBe(existing.id);
    expect(outs.adopted).toBe(true);
    expect(calls("Volumes_create")).toEqual([]);

    await fly("POST", `/v1/apps/${appName}/volumes`, { name: "prefect_data", region: "ewr", size_gb: 1 });
    await expect(provider.create(await checked({ ...data, adopt: true }))).rejects.toThrow(/adopt found 2 volumes/);
  });

  it("adopting applies the declared autoBackupEnabled to the volume", async () => {
    const existing = await fly("POST", `/v1/apps/${appName}/volumes`, { name: "prefect_data", region: "ewr", size_gb: 1 });
    expect(liveVolume(String(existing.id))?.autoBackupEnabled).toBe(true);
    emu.resetCalls();
    const outs = (await provider.create(await checked({ ...data, adopt: true, autoBackupEnabled: false }))).outs as VolumeOutputs;
    expect(outs.volumeId).toBe(existing.id);
    expect(calls("Volumes_update")[0]?.requestBody).toEqual({ auto_backup_enabled: false });
    expect(liveVolume(outs.volumeId)?.autoBackupEnabled).toBe(false);
  });

  it("waits while the volume is still bound after its machine is destroyed", async () => {
    const volume = await create(data);
    const machine = await mountedBy(volume.volumeId);
    expect(liveVolume(volume.volumeId)?.attachedMachineId).toBe(machine.machineId);
    emu.faults.volumeDetachDelay(600);
    await machines.delete(machine.machineId, machine);
    emu.resetCalls();
    await provider.delete(volume.volumeId, volume);
    const attempts = calls("Volume_delete");
    expect(attempts.length).toBeGreaterThan(1);
    expect(attempts[0].status).toBe(409);
    expect(attempts[attempts.length - 1].status).toBe(200);
    expect(liveVolume(volume.volumeId)).toBeUndefined();
  });

  it("gives a clear error when the volume stays bound past the timeout", async () => {
    const volume = await create({ ...data, timeouts: { detachSeconds: 0.5 } });
    const machine = await mountedBy(volume.volumeId);
    await expect(provider.delete(volume.volumeId, volume)).rejects.toThrow(
      new RegExp(`fly volume 'prefect_data' \\(${volume.volumeId}\\) in app 'prefect' could not be deleted within 1s: .*bound to machine: ${machine.machineId}.*Destroy the machine`),
    );
    await machines.delete(machine.machineId, machine);
  });
});

describe("volume faults", () => {
  it("grows a volume whose extend answer was lost after Fly acted: the repeat's \"must be greater\" is checked against the live size", async () => {
    const outs = await create(data);
    emu.faults.failNext("Volumes_extend", 1, { kind: "actThenDrop" });
    emu.resetCalls();
    const updated = (await provider.update(outs.volumeId, outs, await checked({ ...data, sizeGb: 2 }))).outs as VolumeOutputs;
    expect(updated.sizeGb).toBe(2);
    expect(liveVolume(outs.volumeId)?.sizeGb).toBe(2);
    expect(calls("Volumes_extend").map((call) => call.status)).toEqual([0, 400]);
  });

  it("a later run with the old size still in state succeeds when the volume already has the size", async () => {
    const outs = await create(data);
    await fly("PUT", `/v1/apps/${appName}/volumes/${outs.volumeId}/extend`, { size_gb: 2 });
    const updated = (await provider.update(outs.volumeId, outs, await checked({ ...data, sizeGb: 2 }))).outs as VolumeOutputs;
    expect(updated.sizeGb).toBe(2);
    // Already bigger than wanted (grown by hand): success too, reporting the live size.
    await fly("PUT", `/v1/apps/${appName}/volumes/${outs.volumeId}/extend`, { size_gb: 5 });
    const again = (await provider.update(outs.volumeId, updated, await checked({ ...data, sizeGb: 3 }))).outs as VolumeOutputs;
    expect(again.sizeGb).toBe(5);
  });

  it("still fails an extend Fly refuses for another reason, naming the call", async () => {
    const outs = await create(data);
    emu.faults.failNext("Volumes_extend", 1, { kind: "status", status: 500 });
    emu.faults.failNext("Volumes_extend", 5, { kind: "status", status: 503 });
    await expect(provider.update(outs.volumeId, outs, await checked({ ...data, sizeGb: 2 }))).rejects.toThrow(
      `Fly Machines API PUT /v1/apps/${appName}/volumes/${outs.volumeId}/extend failed with 503: service unavailable (after 6 attempts`,
    );
    expect(liveVolume(outs.volumeId)?.sizeGb).toBe(1);
  });

  it("retries a 429 on create after Retry-After", async () => {
    emu.faults.failNext("Volumes_create", 1, { kind: "status", status: 429, retryAfterSeconds: 1 });
    await create(data);
    expect(calls("Volumes_create").map((call) => call.status)).toEqual([429, 200]);
    expect(emu.state.apps.get(appName)?.volumes.size).toBe(1);
  });

  it("retries GET after a 500 and a dropped connection", async () => {
    const outs = await create(data);
    emu.resetCalls();
    emu.faults.failNext("Volumes_get_by_id", 1, { kind: "status", status: 500 });
    emu.faults.failNext("Volumes_get_by_id", 1, { kind: "drop" });
    expect((await provider.read(outs.volumeId, outs)).id).toBe(outs.volumeId);
    expect(calls("Volumes_get_by_id").map((call) => call.status)).toEqual([500, 0, 200]);
  });
});
