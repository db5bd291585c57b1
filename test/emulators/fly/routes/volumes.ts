import type { components } from "../../../../dynamic-providers/fly/schema.gen";
import type { VolumeRecord } from "../state";
import { ids, now } from "../state";
import type { Handler, RouteContext } from "./common";
import { HttpError, appOf, ok, optionalBoolean, optionalNumber, optionalString, param, record } from "./common";

type Volume = components["schemas"]["Volume"];

const volumeNamePattern = /^[a-z0-9_]{1,30}$/;
const blockSize = 4096;

function view(volume: VolumeRecord): Volume {
  const blocks = (volume.sizeGb * 1024 * 1024 * 1024) / blockSize;
  // attached_machine_id is null while detached (deviations.ts); the generated type says string.
  const attached = { attached_machine_id: volume.attachedMachineId } as { attached_machine_id?: string };
  return {
    id: volume.id,
    name: volume.name,
    state: volume.state,
    region: volume.region,
    zone: volume.zone,
    size_gb: volume.sizeGb,
    encrypted: volume.encrypted,
    snapshot_retention: volume.snapshotRetention,
    auto_backup_enabled: volume.autoBackupEnabled,
    fstype: volume.fstype,
    created_at: volume.createdAt,
    block_size: blockSize,
    blocks,
    blocks_free: blocks,
    blocks_avail: blocks,
    bytes_total: volume.sizeGb * 1024 * 1024 * 1024,
    bytes_used: 0,
    host_status: "ok",
    type: "local",
    ...attached,
  };
}

function snapshotRetentionOf(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > 60) {
    throw new HttpError(400, `snapshot_retention must be between 1 and 60, got ${value}`);
  }
  return value;
}

function volumeOf(ctx: RouteContext): VolumeRecord {
  const volume = appOf(ctx).volumes.get(param(ctx, "volume_id"));
  if (!volume) throw new HttpError(404, "volume not found");
  return volume;
}

const create: Handler = (ctx) => {
  const app = appOf(ctx);
  const body = record(ctx.body);
  const name = optionalString(body, "name") ?? "";
  if (!volumeNamePattern.test(name)) {
    throw new HttpError(400, `invalid volume name "${name}": lowercase letters, digits and underscores, at most 30`);
  }
  const region = optionalString(body, "region");
  if (!region) throw new HttpError(400, "region is required");
  const sizeGb = optionalNumber(body, "size_gb") ?? 3;
  if (!Number.isInteger(sizeGb) || sizeGb < 1) throw new HttpError(400, `size_gb must be a positive integer, got ${sizeGb}`);
  const volume: VolumeRecord = {
    id: ids.volume(),
    name,
    region,
    zone: ids.zone(),
    sizeGb,
    encrypted: optionalBoolean(body, "encrypted") ?? true,
    snapshotRetention: snapshotRetentionOf(optionalNumber(body, "snapshot_retention"), 5),
    autoBackupEnabled: optionalBoolean(body, "auto_backup_enabled") ?? true,
    requireUniqueZone: optionalBoolean(body, "require_unique_zone") ?? true,
    fstype: optionalString(body, "fstype") ?? "ext4",
    createdAt: now(),
    state: "created",
    attachedMachineId: null,
  };
  app.volumes.set(volume.id, volume);
  return ok(view(volume));
};

const show: Handler = (ctx) => ok(view(volumeOf(ctx)));

const list: Handler = (ctx) => ok([...appOf(ctx).volumes.values()].map(view));

const update: Handler = (ctx) => {
  const volume = volumeOf(ctx);
  const body = record(ctx.body);
  volume.snapshotRetention = snapshotRetentionOf(optionalNumber(body, "snapshot_retention"), volume.snapshotRetention);
  volume.autoBackupEnabled = optionalBoolean(body, "auto_backup_enabled") ?? volume.autoBackupEnabled;
  return ok(view(volume));
};

const extend: Handler = (ctx) => {
  const volume = volumeOf(ctx);
  const sizeGb = optionalNumber(record(ctx.body), "size_gb");
  if (sizeGb === undefined || !Number.isInteger(sizeGb)) throw new HttpError(400, "size_gb is required");
  if (sizeGb <= volume.sizeGb) {
    throw new HttpError(400, `size_gb must be greater than the current size ${volume.sizeGb}, got ${sizeGb}: volumes can only grow`);
  }
  volume.sizeGb = sizeGb;
  return ok({ volume: view(volume), needs_restart: volume.attachedMachineId !== null });
};

const destroy: Handler = (ctx) => {
  const app = appOf(ctx);
  const volume = volumeOf(ctx);
  if (volume.attachedMachineId) {
    throw new HttpError(409, `failed_precondition: volume is currently bound to machine: ${volume.attachedMachineId}`);
  }
  app.volumes.delete(volume.id);
  volume.state = "destroyed";
  return ok(view(volume));
};

export const volumeRoutes: Record<string, Handler> = {
  Volumes_create: create,
  Volumes_get_by_id: show,
  Volumes_list: list,
  Volumes_update: update,
  Volumes_extend: extend,
  Volume_delete: destroy,
};
