import type { Schemas } from "./client";
import type {
  Autostop,
  CpuKind,
  MachineCheck,
  MachineInputs,
  MachineService,
  PortHandler,
  RestartPolicy,
  Schedule,
  StopSignal,
} from "./machine-types";

type FlyConfig = Schemas["fly.MachineConfig"];
type FlyCheck = Schemas["fly.MachineCheck"];
type FlyService = Schemas["fly.MachineService"];

/** Metadata keys flyctl needs to list and deploy API-created machines. */
export const platformVersionKey = "fly_platform_version";
export const processGroupKey = "fly_process_group";
export const defaultProcessGroup = "app";
/**
 * Marks machines this provider created, so that a create() which failed after the machine existed (a
 * failing health check) is picked up again by the next create() without `adopt`.
 */
export const managedByKey = "managed_by";
export const managedByValue = "pulumi";

/** Fly's smallest machine; applied by check() so that read() and inputs agree. */
export const defaultGuest = { cpuKind: "shared", cpus: 1, memoryMb: 256 } as const;

/** Inputs → the full `config` the API takes on create and update (update replaces the whole config). */
export function toConfig(inputs: MachineInputs): FlyConfig {
  const guest = inputs.guest ?? defaultGuest;
  return {
    image: inputs.image,
    guest: { cpu_kind: guest.cpuKind, cpus: guest.cpus, memory_mb: guest.memoryMb },
    env: inputs.env,
    init: inputs.init
      ? { cmd: inputs.init.cmd, entrypoint: inputs.init.entrypoint, exec: inputs.init.exec, swap_size_mb: inputs.init.swapSizeMb }
      : undefined,
    services: inputs.services?.map(toService),
    checks: inputs.checks
      ? Object.fromEntries(Object.entries(inputs.checks).map(([name, check]) => [name, toCheck(check)]))
      : undefined,
    mounts: inputs.mounts?.map((mount) => ({
      volume: mount.volume,
      path: mount.path,
      extend_threshold_percent: mount.extendThresholdPercent,
      add_size_gb: mount.addSizeGb,
      size_gb_limit: mount.sizeGbLimit,
    })),
    schedule: inputs.schedule,
    restart: inputs.restart ? { policy: inputs.restart.policy, max_retries: inputs.restart.maxRetries } : undefined,
    stop_config: inputs.stop ? { signal: inputs.stop.signal, timeout: inputs.stop.timeout } : undefined,
    statics: inputs.statics?.map((entry) => ({
      guest_path: entry.guestPath,
      url_prefix: entry.urlPrefix,
      tigris_bucket: entry.tigrisBucket,
      index_document: entry.indexDocument,
    })),
    files: inputs.files?.map((file) => ({ guest_path: file.guestPath, raw_value: file.rawValue, secret_name: file.secretName })),
    metrics: inputs.metrics ? { port: inputs.metrics.port, path: inputs.metrics.path, https: inputs.metrics.https } : undefined,
    auto_destroy: inputs.autoDestroy,
    metadata: {
      ...inputs.metadata,
      [managedByKey]: managedByValue,
      [platformVersionKey]: "v2",
      [processGroupKey]: inputs.processGroup ?? defaultProcessGroup,
    },
  };
}

function toService(service: MachineService): FlyService {
  return {
    protocol: service.protocol,
    internal_port: service.internalPort,
    ports: service.ports?.map((port) => ({ port: port.port, handlers: port.handlers, force_https: port.forceHttps })),
    autostop: service.autostop,
    autostart: service.autostart,
    min_machines_running: service.minMachinesRunning,
    concurrency: service.concurrency
      ? { type: service.concurrency.type, soft_limit: service.concurrency.softLimit, hard_limit: service.concurrency.hardLimit }
      : undefined,
    checks: service.checks?.map(toCheck),
  };
}

function toCheck(check: MachineCheck): FlyCheck {
  return {
    type: check.type,
    port: check.port,
    interval: check.interval,
    timeout: check.timeout,
    grace_period: check.gracePeriod,
    method: check.method,
    path: check.path,
    headers: check.headers
      ? Object.entries(check.headers).map(([name, value]) => ({ name, values: [value] }))
      : undefined,
  };
}

/**
 * A live machine → the inputs shape as check() normalises it (defaults filled, empty records dropped), so
 * refresh shows real drift only. What the API does not return (appName, minSecretsVersion and the
 * provider's own options) comes from `known`.
 */
export function fromMachine(machine: Schemas["Machine"], known: Partial<MachineInputs>): MachineInputs {
  const config = machine.config ?? {};
  const {
    [platformVersionKey]: _platform,
    [processGroupKey]: processGroup,
    [managedByKey]: _managedBy,
    ...metadata
  } = config.metadata ?? {};
  return dropUndefined({
    appName: known.appName ?? "",
    name: machine.name ?? known.name ?? "",
    region: machine.region ?? known.region ?? "",
    image: config.image ?? "",
    guest: config.guest
      ? {
          cpuKind: (config.guest.cpu_kind ?? defaultGuest.cpuKind) as CpuKind,
          cpus: config.guest.cpus ?? defaultGuest.cpus,
          memoryMb: config.guest.memory_mb ?? defaultGuest.memoryMb,
        }
      : undefined,
    env: nonEmpty(config.env),
    init: config.init && (config.init.cmd || config.init.entrypoint || config.init.exec || config.init.swap_size_mb !== undefined)
      ? dropUndefined({ cmd: config.init.cmd, entrypoint: config.init.entrypoint, exec: config.init.exec, swapSizeMb: config.init.swap_size_mb })
      : undefined,
    services: config.services?.map(fromService),
    checks: config.checks
      ? Object.fromEntries(Object.entries(config.checks).map(([name, check]) => [name, fromCheck(check)]))
      : undefined,
    mounts: config.mounts?.map((mount) =>
      dropUndefined({
        volume: mount.volume ?? "",
        path: mount.path ?? "",
        extendThresholdPercent: mount.extend_threshold_percent,
        addSizeGb: mount.add_size_gb,
        sizeGbLimit: mount.size_gb_limit,
      }),
    ),
    schedule: config.schedule ? (config.schedule as Schedule) : undefined,
    restart: config.restart?.policy
      ? dropUndefined({ policy: config.restart.policy as RestartPolicy, maxRetries: config.restart.max_retries })
      : undefined,
    stop: config.stop_config && (config.stop_config.signal || config.stop_config.timeout)
      ? dropUndefined({ signal: config.stop_config.signal as StopSignal | undefined, timeout: config.stop_config.timeout })
      : undefined,
    statics: config.statics?.length
      ? config.statics.map((entry) =>
          dropUndefined({ guestPath: entry.guest_path, urlPrefix: entry.url_prefix, tigrisBucket: entry.tigris_bucket, indexDocument: entry.index_document }),
        )
      : undefined,
    files: config.files?.length
      ? config.files.map((file) => dropUndefined({ guestPath: file.guest_path ?? "", rawValue: file.raw_value, secretName: file.secret_name }))
      : undefined,
    metrics: config.metrics?.port !== undefined
      ? dropUndefined({ port: config.metrics.port, path: config.metrics.path ?? "", https: config.metrics.https })
      : undefined,
    metadata: nonEmpty(metadata),
    processGroup: processGroup ?? defaultProcessGroup,
    minSecretsVersion: known.minSecretsVersion,
    autoDestroy: config.auto_destroy,
    waitForChecks: known.waitForChecks,
    adopt: known.adopt,
    timeouts: known.timeouts,
  });
}

/** The API answers `autostop` "off" as false and "stop" as true; "suspend" stays a string. */
export function autostopFromApi(value: unknown): Autostop | undefined {
  if (value === false || value === "off") return "off";
  if (value === true || value === "stop") return "stop";
  if (value === "suspend") return "suspend";
  return undefined;
}

function fromService(service: FlyService): MachineService {
  return dropUndefined({
    protocol: (service.protocol ?? "tcp") as MachineService["protocol"],
    internalPort: service.internal_port ?? 0,
    ports: service.ports?.map((port) =>
      dropUndefined({ port: port.port ?? 0, handlers: port.handlers as PortHandler[] | undefined, forceHttps: port.force_https }),
    ),
    autostop: autostopFromApi(service.autostop),
    autostart: service.autostart,
    minMachinesRunning: service.min_machines_running,
    concurrency: service.concurrency
      ? dropUndefined({
          type: (service.concurrency.type ?? "connections") as "connections" | "requests",
          softLimit: service.concurrency.soft_limit,
          hardLimit: service.concurrency.hard_limit,
        })
      : undefined,
    checks: service.checks?.map(fromCheck),
  });
}

function fromCheck(check: FlyCheck): MachineCheck {
  return dropUndefined({
    type: (check.type ?? "tcp") as MachineCheck["type"],
    port: check.port,
    interval: check.interval,
    timeout: check.timeout,
    gracePeriod: check.grace_period,
    method: check.method,
    path: check.path,
    headers: check.headers
      ? Object.fromEntries(check.headers.map((header) => [header.name ?? "", (header.values ?? []).join(",")]))
      : undefined,
  });
}

function nonEmpty<T>(record: Record<string, T> | undefined): Record<string, T> | undefined {
  return record && Object.keys(record).length > 0 ? record : undefined;
}

/** Removes undefined-valued keys so state does not carry `"x": null` entries. */
export function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, inner]) => inner !== undefined)) as T;
}
