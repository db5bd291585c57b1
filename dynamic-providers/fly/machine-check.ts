import { failures, isUnknown, parseDuration, type CheckFailure, type Failures } from "../core/check";
import { defaultGuest, defaultProcessGroup } from "./machine-config";
import {
  stopSignals,
  type MachineCheck,
  type MachineFile,
  type MachineInputs,
  type MachineMount,
  type MachineService,
  type MachineStatic,
} from "./machine-types";
import { checkRegion } from "./regions";

export const machineNamePattern = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const processGroupPattern = /^[a-z0-9_-]+$/;

/**
 * Environment variable names as a shell and `fly secrets` take them. Anything else either cannot be set (`A=B` splits
 * at the `=`), cannot be read by name, or corrupts the env block (a newline, an empty name).
 */
export const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** What `envNamePattern` asks for, in the words of a `must be …` message. */
export const envNameRule = "named with letters, digits and underscores, not starting with a digit";

const cpuKinds = ["shared", "performance"] as const;
/** Per cpu kind: allowed cpu counts and memory per cpu (fly-go's guest limits). */
const guestLimits = {
  shared: { cpus: [1, 2, 4, 6, 8], minPerCpu: 256, maxPerCpu: 2048 },
  performance: { cpus: [1, 2, 4, 8, 16], minPerCpu: 2048, maxPerCpu: 8192 },
} as const;

const second = 1_000;
const hour = 3_600_000;

/**
 * Validates and normalises Machine inputs. Values still unknown during preview (a Volume's id, the Secrets
 * resource's version) are checked on the real run instead.
 */
export function checkMachine(news: MachineInputs): { inputs: MachineInputs; failures: CheckFailure[] } {
  const problems = failures("fly machine", isUnknown(news.name) ? undefined : news.name);
  const known = (value: unknown): boolean => !isUnknown(value);

  if (known(news.appName)) {
    problems.pattern("appName", news.appName, machineNamePattern, "an existing Fly app name (lowercase letters, digits, dashes)");
  }
  if (known(news.name)) {
    problems.pattern("name", news.name, machineNamePattern, "1-63 lowercase letters, digits or dashes, starting and ending with a letter or digit");
  }
  checkRegion(problems, "region", news.region);
  if (known(news.image)) problems.pattern("image", news.image, /^\S+$/, "a container image reference such as `registry.fly.io/app:deployment-1`");

  if (news.guest !== undefined && known(news.guest)) checkGuest(problems, news.guest);
  checkEnv(problems, "env", news.env);
  checkStringRecord(problems, "metadata", news.metadata);
  if (news.metadata && typeof news.metadata === "object" && "fly_process_group" in news.metadata) {
    problems.add("metadata.fly_process_group", "is set from processGroup; set `processGroup` instead");
  }
  if (news.init !== undefined && known(news.init)) {
    for (const key of ["cmd", "entrypoint", "exec"] as const) {
      const value = news.init[key];
      if (value !== undefined && known(value) && (!Array.isArray(value) || value.some((part) => typeof part !== "string" && known(part)))) {
        problems.add(`init.${key}`, "must be a list of strings", value);
      }
    }
    if (known(news.init.swapSizeMb)) problems.integer("init.swapSizeMb", news.init.swapSizeMb, { min: 0 });
  }
  if (Array.isArray(news.services)) news.services.forEach((service, index) => checkService(problems, `services[${index}]`, service));
  if (news.checks !== undefined && known(news.checks)) {
    for (const [name, check] of Object.entries(news.checks)) checkHealthCheck(problems, `checks.${name}`, check);
  }
  if (Array.isArray(news.mounts)) {
    if (news.mounts.length > 1) problems.add("mounts", "may hold at most one volume (a Fly machine mounts one volume)", news.mounts.length);
    news.mounts.forEach((mount, index) => {
      if (known(mount.volume)) problems.pattern(`mounts[${index}].volume`, mount.volume, /^vol_[a-z0-9]+$/, "a volume id such as `vol_abc123`");
      if (known(mount.path)) problems.pattern(`mounts[${index}].path`, mount.path, /^\/\S*$/, "an absolute path such as `/data`");
      checkAutoExtend(problems, `mounts[${index}]`, mount);
    });
  }
  if (Array.isArray(news.statics)) checkStatics(problems, news.statics);
  if (Array.isArray(news.files)) checkFiles(problems, news.files);
  if (news.metrics !== undefined && known(news.metrics)) {
    checkPort(problems, "metrics.port", news.metrics.port, true);
    if (known(news.metrics.path)) problems.pattern("metrics.path", news.metrics.path, /^\/\S*$/, "a path such as `/metrics`");
  }
  if (known(news.schedule)) problems.oneOf("schedule", news.schedule, ["hourly", "daily", "weekly", "monthly"]);
  if (news.restart !== undefined && known(news.restart)) {
    problems.oneOf("restart.policy", news.restart.policy, ["no", "always", "on-failure"], true);
    if (known(news.restart.maxRetries)) problems.integer("restart.maxRetries", news.restart.maxRetries, { min: 0, max: 100 });
  }
  if (news.stop !== undefined && known(news.stop)) {
    if (news.stop.signal !== undefined && known(news.stop.signal)) problems.oneOf("stop.signal", news.stop.signal, stopSignals);
    if (news.stop.timeout !== undefined && known(news.stop.timeout)) {
      duration(problems, "stop.timeout", news.stop.timeout, 0, 24 * hour, "at most 24h");
    }
  }
  if (known(news.processGroup)) {
    problems.pattern("processGroup", news.processGroup, processGroupPattern, "a process group name such as `app`", false);
  }
  if (known(news.minSecretsVersion)) problems.integer("minSecretsVersion", news.minSecretsVersion, { min: 0 });
  for (const flag of ["autoDestroy", "waitForChecks", "adopt"] as const) {
    const value = news[flag];
    if (value !== undefined && known(value) && typeof value !== "boolean") problems.add(flag, "must be true or false", value);
  }
  if (news.timeouts !== undefined && known(news.timeouts)) {
    for (const [key, value] of Object.entries(news.timeouts)) {
      const allowsZero = key === "smokeSeconds";
      if (value !== undefined && known(value) && (typeof value !== "number" || !(allowsZero ? value >= 0 : value > 0))) {
        problems.add(`timeouts.${key}`, `must be a ${allowsZero ? "non-negative" : "positive"} number of seconds`, value);
      }
    }
  }
  return { inputs: normalise(news), failures: problems.list };
}

/** Fills the defaults the API would apply and drops empty collections, so read() and inputs agree. */
function normalise(news: MachineInputs): MachineInputs {
  const inputs: MachineInputs = { ...news, guest: news.guest ?? { ...defaultGuest }, processGroup: news.processGroup ?? defaultProcessGroup };
  for (const key of ["env", "metadata", "checks"] as const) {
    const value = inputs[key];
    if (value && typeof value === "object" && Object.keys(value).length === 0) delete inputs[key];
  }
  for (const key of ["services", "mounts", "statics", "files"] as const) {
    const value = inputs[key];
    if (Array.isArray(value) && value.length === 0) delete inputs[key];
  }
  return inputs;
}

/** Fly's auto-extend limits (flyctl's [[mounts]] validation): all three set together, or none. */
export function checkAutoExtend(
  problems: Failures,
  path: string,
  mount: Pick<MachineMount, "extendThresholdPercent" | "addSizeGb" | "sizeGbLimit">,
): void {
  const { extendThresholdPercent: threshold, addSizeGb: add, sizeGbLimit: limit } = mount;
  if (threshold === undefined && add === undefined && limit === undefined) return;
  problems.integer(`${path}.extendThresholdPercent`, threshold, { min: 50, max: 99, required: true });
  problems.integer(`${path}.addSizeGb`, add, { min: 1, max: 100, required: true });
  problems.integer(`${path}.sizeGbLimit`, limit, { min: 1, max: 500 });
}

const absolutePath = /^\/\S*$/;
/** Fly serves at most 10 `[[statics]]` mappings per app. */
const maxStatics = 10;

export function checkStatics(problems: Failures, statics: MachineStatic[]): void {
  if (statics.length > maxStatics) problems.add("statics", `may hold at most ${maxStatics} entries`, statics.length);
  const prefixes = new Set<string>();
  statics.forEach((entry, index) => {
    problems.pattern(`statics[${index}].guestPath`, entry.guestPath, absolutePath, "an absolute path such as `/app/public`");
    problems.pattern(`statics[${index}].urlPrefix`, entry.urlPrefix, /^\/\S*$/, "a URL path such as `/static`");
    if (typeof entry.urlPrefix === "string" && prefixes.has(entry.urlPrefix)) problems.add(`statics[${index}].urlPrefix`, "is already served by another entry", entry.urlPrefix);
    prefixes.add(entry.urlPrefix);
  });
}

const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function checkFiles(problems: Failures, files: MachineFile[]): void {
  const paths = new Set<string>();
  files.forEach((file, index) => {
    const path = `files[${index}]`;
    problems.pattern(`${path}.guestPath`, file.guestPath, absolutePath, "an absolute path such as `/etc/app/config.yaml`");
    if (typeof file.guestPath === "string" && paths.has(file.guestPath)) problems.add(`${path}.guestPath`, "is already written by another entry", file.guestPath);
    paths.add(file.guestPath);
    const sources = [file.rawValue, file.secretName].filter((source) => source !== undefined);
    if (sources.length !== 1) problems.add(path, "must have exactly one of rawValue or secretName");
    if (file.rawValue !== undefined && !isUnknown(file.rawValue)) problems.pattern(`${path}.rawValue`, file.rawValue, base64, "base64-encoded contents");
    if (file.secretName !== undefined && !isUnknown(file.secretName)) problems.pattern(`${path}.secretName`, file.secretName, envNamePattern, `a secret name ${envNameRule}`);
  });
}

/** Guest rules (cpu kind, cpu count, memory per cpu); `platform:` stack config reuses them through a prefixed Failures. */
export function checkGuest(problems: Failures, guest: NonNullable<MachineInputs["guest"]>): void {
  problems.oneOf("guest.cpuKind", guest.cpuKind, cpuKinds, true);
  const limits = guestLimits[guest.cpuKind as keyof typeof guestLimits];
  if (!limits || isUnknown(guest.cpus) || isUnknown(guest.memoryMb)) return;
  if (!(limits.cpus as readonly number[]).includes(guest.cpus)) {
    problems.add("guest.cpus", `must be one of ${limits.cpus.join(", ")} for cpuKind ${guest.cpuKind}`, guest.cpus);
    return;
  }
  const before = problems.list.length;
  problems.integer("guest.memoryMb", guest.memoryMb, { required: true });
  if (problems.list.length > before) return;
  if (guest.memoryMb % 256 !== 0) {
    problems.add("guest.memoryMb", "must be a multiple of 256", guest.memoryMb);
    return;
  }
  const min = limits.minPerCpu * guest.cpus;
  const max = limits.maxPerCpu * guest.cpus;
  if (guest.memoryMb < min || guest.memoryMb > max) {
    problems.add(
      "guest.memoryMb",
      `must be between ${min} and ${max} for ${guest.cpus} ${guest.cpuKind} cpu(s) (${limits.minPerCpu}-${limits.maxPerCpu} MB per cpu)`,
      guest.memoryMb,
    );
  }
}

function checkStringRecord(problems: Failures, field: string, record: Record<string, string> | undefined): void {
  if (record === undefined || isUnknown(record)) return;
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    problems.add(field, "must be a map of names to strings", record);
    return;
  }
  for (const [key, value] of Object.entries(record)) {
    if (typeof value !== "string" && !isUnknown(value)) problems.add(`${field}.${key}`, "must be a string", value);
  }
}

/** An env map: names by `envNamePattern`, values strings. The name goes in the message as JSON, so `A\nB` shows as such. */
export function checkEnv(problems: Failures, field: string, env: Record<string, string> | undefined): void {
  checkStringRecord(problems, field, env);
  if (env === undefined || isUnknown(env) || typeof env !== "object" || env === null || Array.isArray(env)) return;
  for (const name of Object.keys(env)) {
    if (!envNamePattern.test(name)) problems.add(`${field}[${JSON.stringify(name)}]`, `must be ${envNameRule}`);
  }
}

function checkPort(problems: Failures, property: string, value: unknown, required: boolean): void {
  if (!isUnknown(value)) problems.integer(property, value, { min: 1, max: 65535, required });
}

export function checkService(problems: Failures, path: string, service: MachineService): void {
  problems.oneOf(`${path}.protocol`, service.protocol, ["tcp", "udp"], true);
  checkPort(problems, `${path}.internalPort`, service.internalPort, true);
  (service.ports ?? []).forEach((port, index) => {
    checkPort(problems, `${path}.ports[${index}].port`, port.port, true);
    (port.handlers ?? []).forEach((handler, handlerIndex) =>
      problems.oneOf(`${path}.ports[${index}].handlers[${handlerIndex}]`, handler, ["http", "tls", "pg_tls", "proxy_proto"]),
    );
    if (port.forceHttps !== undefined && typeof port.forceHttps !== "boolean") {
      problems.add(`${path}.ports[${index}].forceHttps`, "must be true or false", port.forceHttps);
    }
  });
  problems.oneOf(`${path}.autostop`, service.autostop, ["off", "stop", "suspend"]);
  if (service.autostart !== undefined && typeof service.autostart !== "boolean") {
    problems.add(`${path}.autostart`, "must be true or false", service.autostart);
  }
  if (!isUnknown(service.minMachinesRunning)) problems.integer(`${path}.minMachinesRunning`, service.minMachinesRunning, { min: 0 });
  if (service.concurrency) {
    problems.oneOf(`${path}.concurrency.type`, service.concurrency.type, ["connections", "requests"], true);
    problems.integer(`${path}.concurrency.softLimit`, service.concurrency.softLimit, { min: 1 });
    problems.integer(`${path}.concurrency.hardLimit`, service.concurrency.hardLimit, { min: 1 });
    const { softLimit, hardLimit } = service.concurrency;
    if (softLimit !== undefined && hardLimit !== undefined && softLimit > hardLimit) {
      problems.add(`${path}.concurrency.softLimit`, `must not exceed hardLimit (${hardLimit})`, softLimit);
    }
  }
  (service.checks ?? []).forEach((check, index) => checkHealthCheck(problems, `${path}.checks[${index}]`, check));
}

/** Intervals of 1s..1h, a timeout of 1s..interval and a grace period up to 1h: outside that is a typo. */
export function checkHealthCheck(problems: Failures, path: string, check: MachineCheck): void {
  problems.oneOf(`${path}.type`, check.type, ["http", "tcp"], true);
  checkPort(problems, `${path}.port`, check.port, false);
  const interval = duration(problems, `${path}.interval`, check.interval, second, hour, "between 1s and 1h");
  const maxTimeout = interval ?? hour;
  duration(problems, `${path}.timeout`, check.timeout, second, maxTimeout, `between 1s and the interval (${interval !== undefined ? check.interval : "1h"})`);
  duration(problems, `${path}.gracePeriod`, check.gracePeriod, 0, hour, "at most 1h");
  if (check.type === "http") {
    if (check.path !== undefined) problems.pattern(`${path}.path`, check.path, /^\//, "a path starting with `/`");
    if (check.method !== undefined) {
      problems.oneOf(`${path}.method`, check.method.toUpperCase(), ["GET", "HEAD", "POST", "PUT", "OPTIONS"]);
    }
  }
  checkStringRecord(problems, `${path}.headers`, check.headers);
}

function duration(problems: Failures, property: string, text: unknown, min: number, max: number, rule: string): number | undefined {
  if (text === undefined || isUnknown(text)) return undefined;
  const ms = typeof text === "string" ? parseDuration(text) : undefined;
  if (ms === undefined) {
    problems.add(property, 'must be a duration such as "30s", "1m30s" or "500ms"', text);
    return undefined;
  }
  if (ms < min || ms > max) {
    problems.add(property, `must be ${rule}`, text);
    return undefined;
  }
  return ms;
}
