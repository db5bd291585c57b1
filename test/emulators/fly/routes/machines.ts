import { createHash } from "node:crypto";
import type { components } from "../../../../dynamic-providers/fly/schema.gen";
import type { AppRecord, LeaseRecord, MachineConfig, MachineEvent, MachineRecord, MachineState, TransitionStep } from "../state";
import { ids, now } from "../state";
import type { Handler, RouteContext } from "./common";
import {
  HttpError,
  appOf,
  liveMachineOf,
  machineOf,
  ok,
  optionalBoolean,
  optionalNumber,
  optionalString,
  queryBoolean,
  record,
} from "./common";

type Machine = components["schemas"]["Machine"];
type CheckStatus = components["schemas"]["CheckStatus"];

const defaultRegion = "iad";
const defaultLeaseTtlSeconds = 30;
const waitCapSeconds = 60;
/** Owner recorded on leases the API client takes itself. */
export const leaseOwner = "emulator-user@example.com";

const persistentStates: readonly MachineState[] = ["created", "started", "stopped", "suspended", "failed"];

function activeLease(machine: MachineRecord): LeaseRecord | undefined {
  if (machine.lease && machine.lease.expiresAt > Date.now()) return machine.lease;
  machine.lease = undefined;
  return undefined;
}

function leaseHeldMessage(lease: LeaseRecord): string {
  return `lease currently held by ${lease.owner}, expires at ${new Date(lease.expiresAt).toISOString()}`;
}

/** Leases guard update, start, stop, restart and delete: the nonce header must match. */
function guardLease(ctx: RouteContext, machine: MachineRecord): void {
  const lease = activeLease(machine);
  if (lease && ctx.headers["fly-machine-lease-nonce"] !== lease.nonce) {
    throw new HttpError(409, `machine ${machine.id}: ${leaseHeldMessage(lease)}`);
  }
}

function newLease(ttlSeconds: number, description: string): LeaseRecord {
  return { nonce: ids.nonce(), owner: leaseOwner, description, expiresAt: Date.now() + ttlSeconds * 1000, version: ids.version() };
}

function leaseEnvelope(lease: LeaseRecord): { status: "success"; data: Record<string, unknown> } {
  return {
    status: "success",
    data: {
      nonce: lease.nonce,
      expires_at: Math.floor(lease.expiresAt / 1000),
      owner: lease.owner,
      description: lease.description,
      version: lease.version,
    },
  };
}

function imageRef(image: string | undefined): components["schemas"]["ImageRef"] {
  const text = image ?? "";
  const digest = `sha256:${createHash("sha256").update(text).digest("hex")}`;
  const slash = text.indexOf("/");
  const hasRegistry = slash > 0 && /[.:]/.test(text.slice(0, slash));
  const registry = hasRegistry ? text.slice(0, slash) : "docker-hub-mirror.fly.io";
  const rest = hasRegistry ? text.slice(slash + 1) : text;
  const colon = rest.lastIndexOf(":");
  return {
    registry,
    repository: colon > 0 ? rest.slice(0, colon) : rest,
    tag: colon > 0 ? rest.slice(colon + 1) : "latest",
    digest,
    labels: {},
  };
}

/** Services read back with autostop "off" → false and "stop" → true; "suspend" stays a string. */
function readBackConfig(config: MachineConfig): MachineConfig {
  const copy = structuredClone(config);
  for (const service of copy.services ?? []) {
    const autostop: unknown = service.autostop;
    if (autostop === "off" || autostop === "stop") {
      (service as Record<string, unknown>)["autostop"] = autostop === "stop";
    }
  }
  return copy;
}

function checksOf(ctx: RouteContext, machine: MachineRecord): CheckStatus[] {
  if (machine.state !== "started") return [];
  const failing = ctx.faults.failingHealthChecks.has(machine.appName) || ctx.faults.failingMachineChecks.has(`${machine.appName}/${machine.name}`);
  const status = failing ? "critical" : "passing";
  const output = failing ? "connection refused" : "OK";
  const updated_at = machine.updatedAt;
  const names = Object.keys(machine.config.checks ?? {});
  (machine.config.services ?? []).forEach((service, i) => {
    (service.checks ?? []).forEach((check, j) => {
      names.push(`servicecheck-${String(i).padStart(2, "0")}-${check.type ?? "tcp"}-${check.port ?? service.internal_port ?? j}`);
    });
  });
  return names.map((name) => ({ name, status, output, updated_at }));
}

function view(ctx: RouteContext, machine: MachineRecord, extra: { includeLease?: boolean; nonce?: string } = {}): Machine {
  const lease = activeLease(machine);
  const result: Machine = {
    id: machine.id,
    name: machine.name,
    state: machine.state,
    region: machine.region,
    instance_id: machine.version,
    version: machine.version,
    private_ip: machine.privateIp,
    config: readBackConfig(machine.config),
    image_ref: imageRef(machine.config.image),
    created_at: machine.createdAt,
    updated_at: machine.updatedAt,
    events: machine.events.slice(0, 10),
    checks: checksOf(ctx, machine),
    host_status: "ok",
  };
  if (extra.includeLease && lease) {
    result.lease = { owner: lease.owner, description: lease.description, expires_at: Math.floor(lease.expiresAt / 1000) };
  }
  if (extra.nonce) result.nonce = extra.nonce;
  return result;
}

function configOf(body: Record<string, unknown>): MachineConfig {
  const config = body["config"];
  if (typeof config !== "object" || config === null || Array.isArray(config)) throw new HttpError(400, "config is required");
  const typed = config as MachineConfig;
  if (!typed.image) throw new HttpError(400, "invalid config.image: image is required");
  return structuredClone(typed);
}

/** Attaches the volumes named in config.mounts; a volume bound to another machine is busy. */
function attachVolumes(ctx: RouteContext, app: AppRecord, machine: MachineRecord, config: MachineConfig): void {
  const wanted = (config.mounts ?? []).map((mount) => mount.volume).filter((id): id is string => typeof id === "string" && id !== "");
  for (const id of wanted) {
    const volume = app.volumes.get(id);
    if (!volume) throw new HttpError(404, "volume not found");
    if (volume.attachedMachineId && volume.attachedMachineId !== machine.id) {
      throw new HttpError(409, `failed_precondition: volume ${id} is currently bound to machine: ${volume.attachedMachineId}`);
    }
  }
  for (const id of machine.volumeIds) {
    const volume = app.volumes.get(id);
    if (volume && !wanted.includes(id) && volume.attachedMachineId === machine.id) volume.attachedMachineId = null;
  }
  for (const id of wanted) {
    const volume = app.volumes.get(id);
    if (volume) volume.attachedMachineId = machine.id;
  }
  machine.volumeIds = wanted;
}

/** Detaches the destroyed machine's volumes, after the volumeDetachDelay fault if one is set. */
export function detachVolumesOf(ctx: { store: RouteContext["store"]; faults: RouteContext["faults"] }, machine: MachineRecord): void {
  const app = ctx.store.apps.get(machine.appName);
  if (!app) return;
  ctx.store.later(ctx.faults.detachDelayMs, () => {
    for (const id of machine.volumeIds) {
      const volume = app.volumes.get(id);
      if (volume && volume.attachedMachineId === machine.id) volume.attachedMachineId = null;
    }
  });
}

/**
 * A machine that runs its command once and goes away (flyctl's release command machine): it has
 * auto_destroy, no services and no schedule.
 */
function runsOnce(config: MachineConfig): boolean {
  return config.auto_destroy === true && (config.services ?? []).length === 0 && !config.schedule;
}

/**
 * The event flyd records when the main process exits, shaped as fly-go's MachineRequest.ExitEvent. Its
 * fields are `omitempty` there, so a 0 exit code is absent from the JSON.
 */
function exitEvent(code: number): Partial<MachineEvent> {
  const exit: Record<string, unknown> = { requested_stop: false, restarting: false, exited_at: now() };
  if (code !== 0) Object.assign(exit, { exit_code: code, guest_exit_code: code });
  // The spec types `request` as an object without properties; this is what flyd puts there.
  const request = { exit_event: exit, restart_count: 0 } as unknown as MachineEvent["request"];
  return { type: "exit", status: "stopped", request };
}

/** Started, then (with the app's crashAfterStart fault) an exit flyd restarts the machine from: a crash on boot. */
function startSteps(ctx: RouteContext, machine: MachineRecord): TransitionStep[] {
  const code = ctx.faults.crashCodes.get(machine.appName);
  if (code === undefined) return ["started"];
  const crash = (): Partial<MachineEvent> => {
    const event = exitEvent(code);
    const request = event.request as unknown as { exit_event: Record<string, unknown>; restart_count: number };
    request.exit_event["restarting"] = true;
    request.restart_count = 2;
    return { ...event, status: "restarting" };
  };
  return ["started", { state: "restarting", event: crash }, "started"];
}

/** Runs for one transition, exits with the app's exitCode fault, then is destroyed. */
function runOnceSteps(ctx: RouteContext, machine: MachineRecord): TransitionStep[] {
  return [
    "starting",
    "started",
    { state: "stopped", event: () => exitEvent(ctx.faults.exitCodes.get(machine.appName) ?? 0) },
    "destroying",
    "destroyed",
  ];
}

/** Machine names are unique within an app (spec: "Unique name for this Machine"); a destroyed one frees its name. */
function refuseTakenName(app: AppRecord, name: string | undefined): void {
  if (name === undefined) return;
  const holder = [...app.machines.values()].find((m) => m.name === name && m.state !== "destroyed" && m.state !== "destroying");
  if (holder) throw new HttpError(409, `machine name "${name}" is already in use by machine ${holder.id}`, "name_taken");
}

const create: Handler = (ctx) => {
  const app = appOf(ctx);
  const body = record(ctx.body);
  const config = configOf(body);
  refuseTakenName(app, optionalString(body, "name"));
  const firstVolume = app.volumes.get(config.mounts?.[0]?.volume ?? "");
  const time = now();
  const version = ids.version();
  const machine: MachineRecord = {
    id: ids.machine(),
    name: optionalString(body, "name") ?? ids.machineName(),
    appName: app.name,
    region: optionalString(body, "region") ?? firstVolume?.region ?? defaultRegion,
    state: "created",
    config,
    version,
    versions: [version],
    createdAt: time,
    updatedAt: time,
    privateIp: ids.privateIp(),
    events: [],
    minSecretsVersion: optionalNumber(body, "min_secrets_version"),
    volumeIds: [],
  };
  attachVolumes(ctx, app, machine, config);
  const leaseTtl = optionalNumber(body, "lease_ttl");
  if (leaseTtl !== undefined && leaseTtl > 0) machine.lease = newLease(leaseTtl, "");
  app.machines.set(machine.id, machine);
  ctx.store.setState(machine, "created");
  const response = view(ctx, machine, { nonce: machine.lease?.nonce });
  const skipLaunch = optionalBoolean(body, "skip_launch") === true;
  ctx.store.schedule(machine, skipLaunch ? ["stopped"] : runsOnce(config) ? runOnceSteps(ctx, machine) : ["starting", ...startSteps(ctx, machine)]);
  return ok(response);
};

const show: Handler = (ctx) => ok(view(ctx, machineOf(ctx), { includeLease: queryBoolean(ctx, "include_leases") }));

const list: Handler = (ctx) => {
  const app = appOf(ctx);
  const metadataFilters = Object.entries(ctx.query)
    .filter(([key]) => key.startsWith("metadata."))
    .map(([key, value]) => [key.slice("metadata.".length), value] as const);
  const machines = [...app.machines.values()].filter(
    (m) =>
      (queryBoolean(ctx, "include_deleted") || m.state !== "destroyed") &&
      (ctx.query["region"] === undefined || m.region === ctx.query["region"]) &&
      (ctx.query["state"] === undefined || ctx.query["state"].split(",").includes(m.state)) &&
      metadataFilters.every(([key, value]) => m.config.metadata?.[key] === value),
  );
  return ok(machines.map((m) => view(ctx, m, { includeLease: queryBoolean(ctx, "include_leases") })));
};

const update: Handler = (ctx) => {
  const app = appOf(ctx);
  const machine = liveMachineOf(ctx, app);
  guardLease(ctx, machine);
  const body = record(ctx.body);
  const currentVersion = optionalString(body, "current_version");
  if (currentVersion !== undefined && currentVersion !== "" && currentVersion !== machine.version) {
    throw new HttpError(409, `failed_precondition: current_version ${currentVersion} does not match machine version ${machine.version}`);
  }
  const config = configOf(body);
  attachVolumes(ctx, app, machine, config);
  machine.config = config;
  machine.version = ids.version();
  machine.versions.push(machine.version);
  const minSecretsVersion = optionalNumber(body, "min_secrets_version");
  if (minSecretsVersion !== undefined) machine.minSecretsVersion = minSecretsVersion;
  const leaseTtl = optionalNumber(body, "lease_ttl");
  let nonce: string | undefined;
  if (leaseTtl !== undefined && leaseTtl > 0 && !activeLease(machine)) {
    machine.lease = newLease(leaseTtl, "");
    nonce = machine.lease.nonce;
  }
  const skipLaunch = optionalBoolean(body, "skip_launch") === true;
  ctx.store.setState(machine, skipLaunch ? "updating" : "replacing");
  const response = view(ctx, machine, { nonce });
  ctx.store.schedule(machine, skipLaunch ? ["stopped"] : startSteps(ctx, machine));
  return ok(response);
};

const startable: readonly MachineState[] = ["stopped", "suspended", "failed"];

const start: Handler = (ctx) => {
  const machine = liveMachineOf(ctx);
  guardLease(ctx, machine);
  const previous = machine.state;
  if (previous === "replacing" || previous === "updating") {
    throw new HttpError(412, "failed_precondition: machine getting replaced, refusing to start");
  }
  if (previous === "started" || previous === "starting") return ok({ previous_state: previous });
  if (!startable.includes(previous)) {
    throw new HttpError(412, `failed_precondition: unable to start machine from current state: '${previous}'`);
  }
  ctx.store.setState(machine, "starting");
  ctx.store.schedule(machine, ["started"]);
  return ok({ previous_state: previous });
};

const stop: Handler = (ctx) => {
  const machine = liveMachineOf(ctx);
  guardLease(ctx, machine);
  if (machine.state === "started" || machine.state === "starting" || machine.state === "restarting" || machine.state === "replacing") {
    ctx.store.setState(machine, "stopping");
    ctx.store.schedule(machine, ["stopped"]);
  }
  return ok({ ok: true });
};

const restart: Handler = (ctx) => {
  const machine = liveMachineOf(ctx);
  guardLease(ctx, machine);
  if (machine.state !== "started") {
    throw new HttpError(412, `failed_precondition: unable to restart machine from current state: '${machine.state}'`);
  }
  ctx.store.setState(machine, "restarting");
  ctx.store.schedule(machine, ["started"]);
  return ok({ ok: true });
};

const destroy: Handler = (ctx) => {
  const machine = liveMachineOf(ctx);
  guardLease(ctx, machine);
  machine.lease = undefined;
  ctx.store.setState(machine, "destroying");
  ctx.store.schedule(machine, ["destroyed"]);
  return ok({ ok: true });
};

function waitPredicate(want: string, version: string | undefined): (m: MachineRecord) => boolean {
  return (m) => {
    if (version !== undefined && version !== m.version && want !== "destroyed") return false;
    if (want === "settled") return persistentStates.includes(m.state);
    return m.state === want;
  };
}

const wait: Handler = async (ctx) => {
  const machine = machineOf(ctx);
  const want = ctx.query["state"] ?? "started";
  const version = ctx.query["version"] ?? ctx.query["instance_id"];
  if (!["started", "stopped", "suspended", "destroyed", "failed", "settled"].includes(want)) {
    throw new HttpError(400, `invalid state "${want}"`);
  }
  if (want === "stopped" && version === undefined) {
    throw new HttpError(400, "waiting for stopped requires the version (instance_id) parameter");
  }
  const requested = ctx.query["timeout"] === undefined ? waitCapSeconds : Number(ctx.query["timeout"]);
  if (!Number.isFinite(requested) || requested < 0) throw new HttpError(400, `invalid timeout "${ctx.query["timeout"]}"`);
  const timeoutSeconds = Math.min(requested, waitCapSeconds);
  const reached = await ctx.store.waitFor(machine, waitPredicate(want, version), timeoutSeconds * 1000);
  if (!reached) {
    throw new HttpError(408, `deadline_exceeded: machine failed to reach desired state, ${want}, currently ${machine.state}`);
  }
  return ok({ ok: true, state: machine.state, version: machine.version, event_id: machine.events[0]?.id ?? "" });
};

function leaseTtlOf(ctx: RouteContext): number {
  const raw = ctx.query["ttl"] ?? optionalNumber(record(ctx.body), "ttl");
  if (raw === undefined) return defaultLeaseTtlSeconds;
  const ttl = Number(raw);
  if (!Number.isInteger(ttl) || ttl <= 0) throw new HttpError(400, `invalid ttl "${raw}"`);
  return ttl;
}

const createLease: Handler = (ctx) => {
  const machine = liveMachineOf(ctx);
  const ttl = leaseTtlOf(ctx);
  const description = optionalString(record(ctx.body), "description") ?? "";
  const lease = activeLease(machine);
  if (lease) {
    if (ctx.headers["fly-machine-lease-nonce"] !== lease.nonce) throw new HttpError(409, leaseHeldMessage(lease));
    lease.expiresAt = Date.now() + ttl * 1000;
    return ok(leaseEnvelope(lease), 201);
  }
  machine.lease = newLease(ttl, description);
  return ok(leaseEnvelope(machine.lease), 201);
};

const showLease: Handler = (ctx) => {
  const lease = activeLease(liveMachineOf(ctx));
  if (!lease) throw new HttpError(404, "lease not found");
  return ok(leaseEnvelope(lease));
};

const releaseLease: Handler = (ctx) => {
  const machine = liveMachineOf(ctx);
  const nonce = ctx.headers["fly-machine-lease-nonce"];
  if (!nonce) throw new HttpError(400, "missing fly-machine-lease-nonce header");
  const lease = activeLease(machine);
  if (lease && lease.nonce !== nonce) throw new HttpError(409, leaseHeldMessage(lease));
  machine.lease = undefined;
  return ok({ status: "success", data: { ok: true } });
};

const listEvents: Handler = (ctx) => {
  const machine = machineOf(ctx);
  const limit = ctx.query["limit"] === undefined ? 20 : Math.min(50, Math.max(1, Number(ctx.query["limit"])));
  if (!Number.isInteger(limit)) throw new HttpError(400, `invalid limit "${ctx.query["limit"]}"`);
  return ok(machine.events.slice(0, limit));
};

/** Runs nothing: answers with the app's execResult fault (exit code 0, empty output by default). */
const exec: Handler = (ctx) => {
  const machine = liveMachineOf(ctx);
  guardLease(ctx, machine);
  const body = record(ctx.body);
  const command = body["command"];
  const hasCommand = Array.isArray(command) ? command.length > 0 : optionalString(body, "cmd") !== undefined;
  if (!hasCommand) throw new HttpError(400, "command is required");
  if (machine.state !== "started") {
    throw new HttpError(400, `failed_precondition: machine ${machine.id} is not started (state ${machine.state})`);
  }
  const result = ctx.faults.takeExecResult(machine.appName);
  return ok({ exit_code: result.exitCode, stdout: result.stdout ?? "", stderr: result.stderr ?? "" });
};

export const machineRoutes: Record<string, Handler> = {
  Machines_create: create,
  Machines_show: show,
  Machines_list: list,
  Machines_update: update,
  Machines_start: start,
  Machines_stop: stop,
  Machines_restart: restart,
  Machines_delete: destroy,
  Machines_wait: wait,
  Machines_create_lease: createLease,
  Machines_show_lease: showLease,
  Machines_release_lease: releaseLease,
  Machines_list_events: listEvents,
  Machines_exec: exec,
};
