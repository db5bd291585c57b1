import * as pulumi from "@pulumi/pulumi";
import { changedFields, failures, isUnknown, type CheckFailure } from "../core/check";
import { claim } from "../core/claims";
import { dynamicProvider } from "../core/provider";
import { sleep } from "../core/retry";
import { body, flyApi, type FlyApi, ignoreNotFound, isStatus, isUnanswered, type Schemas } from "./client";
import { machineNamePattern } from "./machine-check";
import { checkRegion } from "./regions";

type FlyVolume = Schemas["Volume"];

export const volumeNamePattern = /^[a-z0-9_]{1,30}$/;

export interface VolumeInputs {
  appName: string;
  /** Fly volume name (not unique: several volumes may share one, which is how fly.toml [mounts] scale). */
  name: string;
  region: string;
  /** @default 1 */
  sizeGb?: number;
  /** @default true */
  encrypted?: boolean;
  /** Days of daily snapshots kept. @default 5 */
  snapshotRetention?: number;
  autoBackupEnabled?: boolean;
  /** Take over the volume of this name in this region instead of creating one. */
  adopt?: boolean;
  timeouts?: {
    /** How long delete retries while the volume is still bound to a (destroyed) machine. @default `90` */
    detachSeconds?: number;
  };
}

export interface VolumeOutputs extends VolumeInputs {
  volumeId: string;
  sizeGb: number;
  encrypted: boolean;
  snapshotRetention: number;
  attachedMachineId: string;
  zone: string;
  state: string;
  adopted: boolean;
}

const replaceFields = ["appName", "name", "region", "encrypted"] as const;
const remoteFields = ["sizeGb", "snapshotRetention", "autoBackupEnabled"] as const;
const localFields = ["adopt", "timeouts"] as const;
const defaultDetachSeconds = 90;

function label(inputs: Pick<VolumeInputs, "name" | "appName">, volumeId?: string): string {
  return `fly volume '${inputs.name}'${volumeId ? ` (${volumeId})` : ""} in app '${inputs.appName}'`;
}

function outputs(inputs: VolumeInputs, volume: FlyVolume, adopted: boolean): VolumeOutputs {
  return {
    ...inputs,
    volumeId: volume.id ?? "",
    sizeGb: volume.size_gb ?? inputs.sizeGb ?? 1,
    encrypted: volume.encrypted ?? inputs.encrypted ?? true,
    snapshotRetention: volume.snapshot_retention ?? inputs.snapshotRetention ?? 5,
    attachedMachineId: volume.attached_machine_id ?? "",
    zone: volume.zone ?? "",
    state: volume.state ?? "",
    adopted,
  };
}

function volumePath(appName: string, volumeId: string): { app_name: string; volume_id: string } {
  return { app_name: appName, volume_id: volumeId };
}

/** A volume being destroyed (`fly volumes destroy` leaves it visible as pending_destroy for a while) is gone. */
function isGone(volume: FlyVolume): boolean {
  return ["destroyed", "destroying", "pending_destroy"].includes(volume.state ?? "");
}

/** The live volumes of this name in this region (names are not unique, so there may be several). */
async function findVolumes(api: FlyApi, inputs: VolumeInputs): Promise<FlyVolume[]> {
  const found: FlyVolume[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const { data, response } = await api.GET("/v1/apps/{app_name}/volumes", {
      params: { path: { app_name: inputs.appName }, query: { cursor, limit: 100 } },
    });
    found.push(
      ...(data ?? []).filter(
        (volume) => volume.name === inputs.name && volume.region === inputs.region && !isGone(volume),
      ),
    );
    cursor = response.headers.get("fly-next-cursor") ?? undefined;
    if (!cursor) break;
  }
  return found;
}

const claimKind = "fly-volume";

/** A volume an interrupted create of these inputs may have left: unattached, same encryption, not larger. */
function isLeftOver(inputs: VolumeInputs, volume: FlyVolume): boolean {
  return !volume.attached_machine_id && (volume.encrypted ?? true) === (inputs.encrypted ?? true) && (volume.size_gb ?? 1) <= (inputs.sizeGb ?? 1);
}

/** Brings a found volume to the declared settings and returns it as this resource's. */
async function takeOver(api: FlyApi, inputs: VolumeInputs, existing: FlyVolume, adopted: boolean): Promise<{ id: string; outs: VolumeOutputs }> {
  // The live settings, not the declared ones, are what applyChanges compares against.
  const current: VolumeOutputs = { ...outputs(inputs, existing, adopted), autoBackupEnabled: existing.auto_backup_enabled };
  const outs = await applyChanges(api, current, inputs, existing.id ?? "");
  return { id: outs.volumeId, outs };
}

export function checkVolume(olds: Partial<VolumeInputs>, news: VolumeInputs): { inputs: VolumeInputs; failures: CheckFailure[] } {
  const problems = failures("fly volume", isUnknown(news.name) ? undefined : news.name);
  const known = (value: unknown): boolean => !isUnknown(value);
  if (known(news.appName)) problems.pattern("appName", news.appName, machineNamePattern, "an existing Fly app name (lowercase letters, digits, dashes)");
  if (known(news.name)) problems.pattern("name", news.name, volumeNamePattern, "1-30 lowercase letters, digits or underscores");
  checkRegion(problems, "region", news.region);
  if (known(news.sizeGb)) problems.integer("sizeGb", news.sizeGb, { min: 1, max: 500 });
  if (known(news.snapshotRetention)) problems.integer("snapshotRetention", news.snapshotRetention, { min: 1, max: 60 });
  for (const flag of ["encrypted", "autoBackupEnabled", "adopt"] as const) {
    const value = news[flag];
    if (value !== undefined && known(value) && typeof value !== "boolean") problems.add(flag, "must be true or false", value);
  }
  const detach = news.timeouts?.detachSeconds;
  if (detach !== undefined && known(detach) && (typeof detach !== "number" || !(detach > 0))) {
    problems.add("timeouts.detachSeconds", "must be a positive number of seconds", detach);
  }
  const inputs: VolumeInputs = { ...news, sizeGb: news.sizeGb ?? 1, encrypted: news.encrypted ?? true, snapshotRetention: news.snapshotRetention ?? 5 };
  // A replaced volume is a new, empty volume and may be any size; the same volume can only grow.
  const replaced = olds.name !== undefined && changedFields({ ...olds, encrypted: olds.encrypted ?? true }, { ...inputs }, replaceFields).length > 0;
  const before = olds.sizeGb;
  if (!replaced && typeof before === "number" && typeof inputs.sizeGb === "number" && inputs.sizeGb < before) {
    problems.add("sizeGb", `cannot shrink volume from ${before} to ${inputs.sizeGb} GB; Fly volumes only grow`);
  }
  return { inputs, failures: problems.list };
}

export const volumeProvider = dynamicProvider<VolumeInputs, VolumeOutputs>({
  async check(olds, news) {
    return checkVolume(olds ?? {}, news);
  },

  async diff(_id, olds, news) {
    const replaces = changedFields({ ...olds }, { ...news }, replaceFields);
    const updates = changedFields({ ...olds }, { ...news }, [...remoteFields, ...localFields]);
    // Volume names are not unique, so the replacement can be made before the old volume goes.
    return { changes: replaces.length > 0 || updates.length > 0, replaces, deleteBeforeReplace: false };
  },

  /**
   * Crash safe: Fly volumes carry no tag and names are not unique, so an unattached live volume of this
   * name, region and encryption that no other resource of this run made or took is taken as the one an
   * interrupted earlier create left (its answer lost, or the engine stopped before recording it), and grown
   * to the declared size. A create whose answer is lost looks again for the volume it made.
   */
  async create(inputs) {
    const api = flyApi();
    const found = await findVolumes(api, inputs);
    if (inputs.adopt) {
      if (found.length > 1) {
        throw new Error(
          `${label(inputs)}: adopt found ${found.length} volumes of this name in region '${inputs.region}' ` +
            `(${found.map((volume) => volume.id).join(", ")}); destroy the extra ones or rename this volume`,
        );
      }
      if (found.length === 1 && claim(claimKind, found[0].id ?? "")) return takeOver(api, inputs, found[0], true);
    }
    const leftOver = found.find((volume) => isLeftOver(inputs, volume) && claim(claimKind, volume.id ?? ""));
    if (leftOver) return takeOver(api, inputs, leftOver, false);
    const known = found.map((volume) => volume.id);
    let created: FlyVolume;
    try {
      created = await body(
        api.POST("/v1/apps/{app_name}/volumes", {
          params: { path: { app_name: inputs.appName } },
          body: {
            name: inputs.name,
            region: inputs.region,
            size_gb: inputs.sizeGb ?? 1,
            encrypted: inputs.encrypted ?? true,
            snapshot_retention: inputs.snapshotRetention ?? 5,
            auto_backup_enabled: inputs.autoBackupEnabled,
          },
        }),
      );
    } catch (error) {
      // No answer (or a 5xx): Fly may have made the volume. One that was not there before is this create's.
      // When none is found the create is NOT sent once more (as a machine's or certificate's is): Fly allows several
      // volumes of one name, so a first request that went through late and a resend would make two. The error names
      // the call, and the next `pulumi up` takes a late one over as a left-over.
      if (!isUnanswered(error)) throw error;
      const made = (await findVolumes(api, inputs)).find(
        (volume) => !known.includes(volume.id) && isLeftOver(inputs, volume) && claim(claimKind, volume.id ?? ""),
      );
      if (!made) throw error;
      return takeOver(api, inputs, made, false);
    }
    claim(claimKind, created.id ?? "");
    return { id: created.id ?? "", outs: outputs(inputs, created, false) };
  },

  async read(id, props) {
    const known: Partial<VolumeOutputs> = props ?? {};
    const appName = known.appName ?? "";
    const volume = await ignoreNotFound(() =>
      body(flyApi().GET("/v1/apps/{app_name}/volumes/{volume_id}", { params: { path: volumePath(appName, id) } })),
    );
    if (!volume || isGone(volume)) return { id: "" };
    const live: VolumeInputs = {
      ...known,
      appName,
      name: volume.name ?? known.name ?? "",
      region: volume.region ?? known.region ?? "",
      sizeGb: volume.size_gb,
      encrypted: volume.encrypted,
      snapshotRetention: volume.snapshot_retention,
      autoBackupEnabled: known.autoBackupEnabled === undefined ? undefined : volume.auto_backup_enabled,
    };
    return { id, props: outputs(live, volume, known.adopted ?? false) };
  },

  async update(id, olds, news) {
    return { outs: await applyChanges(flyApi(), olds, news, id) };
  },

  async delete(id, props) {
    const api = flyApi();
    const path = volumePath(props.appName, id);
    const timeoutMs = (props.timeouts?.detachSeconds ?? defaultDetachSeconds) * 1000;
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await ignoreNotFound(() => api.DELETE("/v1/apps/{app_name}/volumes/{volume_id}", { params: { path } }));
        return;
      } catch (error) {
        // Bound to a machine: still attached, or for up to about a minute after that machine was destroyed.
        if (!isStatus(error, 409, 412) || Date.now() >= deadline) {
          if (isStatus(error, 409, 412)) {
            throw new Error(
              `${label(props, id)} could not be deleted within ${Math.round(timeoutMs / 1000)}s: ${error instanceof Error ? error.message : String(error)}. ` +
                "Destroy the machine that mounts it first (or raise timeouts.detachSeconds).",
            );
          }
          throw error;
        }
        await sleep(Math.min(250 * 2 ** (attempt - 1), 5_000, Math.max(0, deadline - Date.now())));
      }
    }
  },
});

/**
 * Grows the volume to `sizeGb`, idempotently: Fly refuses an extend to a size the volume already has ("must
 * be greater"), which is what a repeat sees after an extend whose answer was lost (a retried PUT, or the
 * next `pulumi up` with the old size still in state). A refused extend is checked against the live size:
 * already at least `sizeGb` is success.
 */
async function extend(api: FlyApi, wanted: VolumeInputs, volumeId: string, sizeGb: number): Promise<FlyVolume> {
  const path = volumePath(wanted.appName, volumeId);
  try {
    const extended = await body(api.PUT("/v1/apps/{app_name}/volumes/{volume_id}/extend", { params: { path }, body: { size_gb: sizeGb } }));
    if (extended.volume) return extended.volume;
  } catch (error) {
    if (!isStatus(error, 400, 409, 412, 422)) throw error;
    const live = await body(api.GET("/v1/apps/{app_name}/volumes/{volume_id}", { params: { path } }));
    if ((live.size_gb ?? 0) >= sizeGb) return live;
    throw error;
  }
  return body(api.GET("/v1/apps/{app_name}/volumes/{volume_id}", { params: { path } }));
}

/** Brings a volume from `current` to `wanted`: extend to grow, PUT for snapshot settings. */
async function applyChanges(api: FlyApi, current: VolumeInputs, wanted: VolumeInputs, volumeId: string): Promise<VolumeOutputs> {
  const path = volumePath(wanted.appName, volumeId);
  let volume: FlyVolume | undefined;
  const wantedSize = wanted.sizeGb ?? 1;
  if (current.sizeGb !== undefined && wantedSize > current.sizeGb) {
    volume = await extend(api, wanted, volumeId, wantedSize);
  } else if (current.sizeGb !== undefined && wantedSize < current.sizeGb) {
    throw new Error(`${label(wanted, volumeId)}: cannot shrink volume from ${current.sizeGb} to ${wantedSize} GB; Fly volumes only grow`);
  }
  const settings = changedFields({ ...current }, { ...wanted }, ["snapshotRetention", "autoBackupEnabled"]);
  const update: Schemas["UpdateVolumeRequest"] = {};
  if (settings.includes("snapshotRetention") && wanted.snapshotRetention !== undefined) update.snapshot_retention = wanted.snapshotRetention;
  if (settings.includes("autoBackupEnabled") && wanted.autoBackupEnabled !== undefined) update.auto_backup_enabled = wanted.autoBackupEnabled;
  if (Object.keys(update).length > 0) {
    volume = await body(api.PUT("/v1/apps/{app_name}/volumes/{volume_id}", { params: { path }, body: update }));
  }
  volume ??= await body(api.GET("/v1/apps/{app_name}/volumes/{volume_id}", { params: { path } }));
  return outputs(wanted, volume, (current as Partial<VolumeOutputs>).adopted ?? false);
}

export interface VolumeArgs {
  /** Fly app the volume belongs to. Changing it replaces the volume (and loses its data). */
  appName: pulumi.Input<string>;
  /** Volume name as fly.toml [mounts] `source` gives it, e.g. `data`. Changing it replaces the volume. */
  name: pulumi.Input<string>;
  /** Region, e.g. `ams`; must match the machine that mounts it. Changing it replaces the volume. */
  region: pulumi.Input<string>;
  /** Size in GB, 1-500; can only grow (grown in place with `extend`). @default `1` */
  sizeGb?: pulumi.Input<number>;
  /** Changing it replaces the volume. @default `true` */
  encrypted?: pulumi.Input<boolean>;
  /** Days of daily snapshots kept, 1-60. @default `5` */
  snapshotRetention?: pulumi.Input<number>;
  /** Scheduled automatic snapshots. @default Fly's default (`true`) */
  autoBackupEnabled?: pulumi.Input<boolean>;
  /** Take over an existing volume of this name in this region instead of creating one. @default `false` */
  adopt?: pulumi.Input<boolean>;
  timeouts?: pulumi.Input<{ detachSeconds?: pulumi.Input<number> }>;
}

/** A Fly volume (`fly volumes create`), mounted by a Machine through `mounts[].volume = volume.volumeId`. */
export class Volume extends pulumi.dynamic.Resource {
  declare readonly appName: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly region: pulumi.Output<string>;
  declare readonly volumeId: pulumi.Output<string>;
  declare readonly sizeGb: pulumi.Output<number>;
  declare readonly encrypted: pulumi.Output<boolean>;
  declare readonly snapshotRetention: pulumi.Output<number>;
  declare readonly attachedMachineId: pulumi.Output<string>;
  declare readonly zone: pulumi.Output<string>;
  declare readonly state: pulumi.Output<string>;

  constructor(name: string, args: VolumeArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      volumeProvider,
      name,
      { ...args, volumeId: undefined, attachedMachineId: undefined, zone: undefined, state: undefined, adopted: undefined },
      opts,
      "fly",
      "Volume",
    );
  }
}
