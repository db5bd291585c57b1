/** Input shapes of the Machine resource: camelCase mirrors of the fly.toml / Machines API config. */

export type CpuKind = "shared" | "performance";
export type PortHandler = "http" | "tls" | "pg_tls" | "proxy_proto";
export type Autostop = "off" | "stop" | "suspend";
export type Schedule = "hourly" | "daily" | "weekly" | "monthly";
export type RestartPolicy = "no" | "always" | "on-failure";
/** fly.toml `kill_signal`: the signals the Machines API takes in `stop_config`. */
export const stopSignals = ["SIGHUP", "SIGINT", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGTERM"] as const;
export type StopSignal = (typeof stopSignals)[number];

export interface MachineGuest {
  cpuKind: CpuKind;
  cpus: number;
  memoryMb: number;
}

export interface MachineInit {
  cmd?: string[];
  entrypoint?: string[];
  exec?: string[];
  /** fly.toml `swap_size_mb`: a swap partition of this many MB. @default none */
  swapSizeMb?: number;
}

export interface MachinePort {
  port: number;
  handlers?: PortHandler[];
  forceHttps?: boolean;
}

/** fly.toml [checks.<name>] and [[http_service.checks]]. Durations are Go durations ("30s", "1m"). */
export interface MachineCheck {
  type: "http" | "tcp";
  port?: number;
  interval?: string;
  timeout?: string;
  gracePeriod?: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
}

export interface MachineConcurrency {
  type: "connections" | "requests";
  softLimit?: number;
  hardLimit?: number;
}

/** fly.toml [http_service] / [[services]]. */
export interface MachineService {
  protocol: "tcp" | "udp";
  internalPort: number;
  ports?: MachinePort[];
  autostop?: Autostop;
  autostart?: boolean;
  minMachinesRunning?: number;
  concurrency?: MachineConcurrency;
  checks?: MachineCheck[];
}

export interface MachineMount {
  /** Volume id (`vol_...`), e.g. a Volume resource's `volumeId`. */
  volume: string;
  path: string;
  /** fly.toml `auto_extend_size_threshold`: extend the volume when this percent of it is used (50-99). @default none */
  extendThresholdPercent?: number;
  /** `auto_extend_size_increment`: GB added per extension (1-100). Required with `extendThresholdPercent`. */
  addSizeGb?: number;
  /** `auto_extend_size_limit`: the size in GB extensions stop at (1-500). @default none */
  sizeGbLimit?: number;
}

/** fly.toml `[[statics]]`: files under `urlPrefix` served by Fly's proxy from `guestPath` (or a Tigris bucket). */
export interface MachineStatic {
  guestPath: string;
  urlPrefix: string;
  tigrisBucket?: string;
  indexDocument?: string;
}

/** fly.toml `[[files]]`: a file written into the machine at `guestPath`, from exactly one of the sources. */
export interface MachineFile {
  guestPath: string;
  /** The file's contents, base64-encoded. */
  rawValue?: string;
  /** The app secret holding the base64-encoded contents. */
  secretName?: string;
}

/** fly.toml `[metrics]`: where Fly's Prometheus scrapes the machine. */
export interface MachineMetrics {
  port: number;
  path: string;
  https?: boolean;
}

export interface MachineRestart {
  policy: RestartPolicy;
  maxRetries?: number;
}

/** How long create/update/delete wait; none of these changes the machine itself. */
/** fly.toml `kill_signal` / `kill_timeout`: how a machine is stopped (the API's `stop_config`). */
export interface MachineStop {
  /** @default Fly's (`SIGINT`) */
  signal?: StopSignal;
  /** A Go duration such as `30s`, at most 24h on Fly. @default Fly's (`5s`) */
  timeout?: string;
}

export interface MachineTimeouts {
  /** Until the machine reports started. @default `300` */
  startSeconds?: number;
  /** Until every health check passes. @default `300` */
  checksSeconds?: number;
  /** While someone else (flyctl, CI) holds the machine's lease. @default `60` */
  leaseSeconds?: number;
  /**
   * flyctl's smoke check: after the machine reports started, watch it this long and fail if it exits
   * non-zero or stops (a crash loop). `0` turns it off. @default `0` (FlyApp sets 10, flyctl's window)
   */
  smokeSeconds?: number;
}

export interface MachineInputs {
  appName: string;
  /** Machine name, unique within the app. */
  name: string;
  region: string;
  image: string;
  guest?: MachineGuest;
  env?: Record<string, string>;
  init?: MachineInit;
  services?: MachineService[];
  checks?: Record<string, MachineCheck>;
  mounts?: MachineMount[];
  schedule?: Schedule;
  restart?: MachineRestart;
  stop?: MachineStop;
  statics?: MachineStatic[];
  files?: MachineFile[];
  metrics?: MachineMetrics;
  /** User metadata; fly_platform_version and fly_process_group are always added. */
  metadata?: Record<string, string>;
  processGroup?: string;
  minSecretsVersion?: number;
  autoDestroy?: boolean;
  waitForChecks?: boolean;
  adopt?: boolean;
  timeouts?: MachineTimeouts;
}

export interface MachineOutputs extends MachineInputs {
  machineId: string;
  /** Same value as `version` (the API's deprecated name for it). */
  instanceId: string;
  version: string;
  privateIp: string;
  state: string;
  adopted: boolean;
}
