/**
 * The pass over a parsed fly.toml behind `flyTomlToArgs`: one `map*` per section, each mapping the keys FlyApp carries
 * and refusing the rest by their path, with the Machine provider's own rules for the values.
 */
import { readFileSync } from "fs";
import * as path from "path";
import { parseDuration } from "../dynamic-providers/core/check";
import {
  checkAutoExtend,
  checkEnv,
  checkFiles,
  checkGuest,
  checkHealthCheck,
  checkService,
  checkStatics,
  machineNamePattern,
  processGroupPattern,
} from "../dynamic-providers/fly/machine-check";
import { dropUndefined } from "../dynamic-providers/fly/machine-config";
import {
  stopSignals,
  type Autostop,
  type MachineCheck,
  type MachineConcurrency,
  type MachineFile,
  type MachineGuest,
  type MachineMetrics,
  type MachineRestart,
  type MachineService,
  type MachineStatic,
} from "../dynamic-providers/fly/machine-types";
import { checkRegion } from "../dynamic-providers/fly/regions";
import { volumeNamePattern } from "../dynamic-providers/fly/volume";
import type { FlyHttpServiceArgs, FlyProcessGroupArgs, FlyReleaseCommandArgs, FlyVolumeArgs } from "./fly-app";
import { deployStrategies, type FlyDeployStrategy } from "./fly-deploy";
import type { FlyTomlArgs } from "./fly-toml";
import { defaultPreset, gpuPresets, machinePresets, memoryMb, sizeGb, splitCommand, TomlProblems, TomlSection, tomlPath } from "./fly-toml-values";

/** Why a key that FlyApp will carry later is refused today. */
const notYet = (what: string): string => `${what} is not yet supported by FlyApp`;
const apps1 = "an Apps V1 (Nomad) setting that flyctl ignores for Machines; remove it";
const noCount = "flyctl ignores it; the number of machines is FlyApp's `count` per process group";
const builderKeys = [
  "builder",
  "buildpacks",
  "builtin",
  "dockerfile",
  "ignorefile",
  "build-target",
  "build_target",
  "args",
  "settings",
  "compose",
  "compression",
  "compression_level",
];
/** The Machines API's limit on stop_config.timeout, which the Machine provider checks too. */
const maxKillTimeoutMs = 24 * 3_600_000;
const restartPolicies: Record<string, MachineRestart["policy"]> = { always: "always", never: "no", "on-failure": "on-failure" };

interface Groups {
  names: string[];
  defaultGroup: string;
  /** `[processes]` was written, so services must say which groups they serve. */
  declared: boolean;
}

/** One pass over the file; each `map*` reads a section and refuses what it does not map. */
export class FlyTomlReader {
  private readonly groups: Record<string, FlyProcessGroupArgs> = {};
  private readonly services: Record<string, MachineService[]> = {};
  private readonly volumes: Record<string, FlyVolumeArgs> = {};
  private readonly volumeSources: Record<string, string> = {};
  private groupInfo: Groups = { names: ["app"], defaultGroup: "app", declared: false };

  constructor(
    private readonly problems: TomlProblems,
    private readonly baseDir: string,
  ) {}

  read(root: TomlSection): FlyTomlArgs {
    const appName = root.string("app");
    if (appName !== undefined) this.problems.scope().pattern("app", appName, machineNamePattern, "a Fly app name (lowercase letters, digits, dashes)");
    const primaryRegion = root.string("primary_region");
    if (primaryRegion !== undefined) checkRegion(this.problems.scope(), "primary_region", primaryRegion);
    this.mapProcesses(root.table("processes"));
    this.mapRuntime(root);
    const build = this.mapBuild(root.table("build"));
    const releaseCommand = this.mapDeploy(root.table("deploy"));
    const env = this.mapEnv(root);
    this.mapHttpService(root.table("http_service"));
    root.tables("services", (index) => `[[services]][${index}]`).forEach((section) => this.mapService(section));
    this.mapChecks(root.table("checks"));
    root.tables("mounts", (index) => `[[mounts]][${index}]`).forEach((section) => this.mapMount(section));
    this.mapVms(root.tables("vm", (index) => `[[vm]][${index}]`));
    this.mapRestarts(root.tables("restart", (index) => `[[restart]][${index}]`));
    this.mapStatics(root.tables("statics", (index) => `[[statics]][${index}]`));
    root.tables("files", (index) => `[[files]][${index}]`).forEach((section, index) => this.mapFile(section, index));
    this.mapMetrics(root.tables("metrics", (index) => `[[metrics]][${index}]`));
    root.refuse("console_command", "is read by `fly console` only, which starts a console machine of its own; FlyApp makes no console machine, so remove it from the file FlyApp reads");
    root.refuse("host_dedication_id", "asks for dedicated hosts, which FlyApp's guest cannot carry");
    root.refuse("machine_config", "defines multi-container machines, which FlyApp does not make");
    root.refuse("container", "names a container of a multi-container machine, which FlyApp does not make");
    root.refuse("machine_checks", "are flyctl's deploy-time test machines, which FlyApp does not run");
    root.finish({
      max_machines_running: noCount,
      compute: "write [[vm]]",
      computes: "write [[vm]]",
      mount: "write [[mounts]]",
      metric: "write [[metrics]]",
    });

    for (const [group, services] of Object.entries(this.services)) {
      if (services.length > 0) this.groups[group].services = services;
    }
    return dropUndefined({
      appName,
      primaryRegion,
      image: build.image,
      env,
      processGroups: this.groups,
      volumes: Object.keys(this.volumes).length > 0 ? this.volumes : undefined,
      releaseCommand,
      builderKeys: build.builderKeys.length > 0 ? build.builderKeys : undefined,
    });
  }

  /** `[processes]`: group name → command line; the default group is `app` if named, else the first by name. */
  private mapProcesses(section: TomlSection | undefined): void {
    const commands: Record<string, string[] | undefined> = {};
    for (const name of Object.keys(section?.values ?? {})) {
      const line = section?.string(name);
      if (!processGroupPattern.test(name)) this.problems.add(section?.path(name) ?? name, "must be a process group name of lowercase letters, digits, _ or -");
      if (line === undefined) continue;
      const command = splitCommand(line);
      if (command === undefined) this.problems.add(section?.path(name) ?? name, "must be a command line flyctl can split (a quote or escape is left open)", line);
      commands[name] = command && command.length > 0 ? command : undefined;
    }
    const names = Object.keys(commands).sort();
    const defaultGroup = names.length === 0 || names.includes("app") ? "app" : names[0];
    this.groupInfo = { names: names.length > 0 ? [defaultGroup, ...names.filter((name) => name !== defaultGroup)] : ["app"], defaultGroup, declared: names.length > 0 };
    for (const name of this.groupInfo.names) {
      this.groups[name] = dropUndefined({ command: commands[name] });
      this.services[name] = [];
    }
  }

  /** The groups a section belongs to: its `processes`, or the default group (flyctl's flatten rule). */
  private targets(section: TomlSection, options: { requiredWithProcesses?: boolean; listed?: string[] } = {}): string[] {
    const listed = options.listed ?? section.strings("processes");
    if (listed === undefined || listed.length === 0) {
      if (options.requiredWithProcesses && this.groupInfo.declared) {
        this.problems.add(section.path("processes"), `is required when [processes] defines groups (${this.groupInfo.names.join(", ")}), as flyctl requires`);
        return [];
      }
      return [this.groupInfo.defaultGroup];
    }
    for (const name of listed) {
      if (!this.groupInfo.names.includes(name)) {
        this.problems.add(section.path("processes"), `names process group '${name}', which [processes] does not define (groups: ${this.groupInfo.names.join(", ")})`);
      }
    }
    return listed.filter((name) => this.groupInfo.names.includes(name));
  }

  /** Top-level `kill_signal`, `kill_timeout`, `swap_size_mb` and `[experimental]`: every group's machines. */
  private mapRuntime(root: TomlSection): void {
    const killSignal = root.string("kill_signal");
    if (killSignal !== undefined) this.problems.scope().oneOf("kill_signal", killSignal, stopSignals);
    const killTimeout = root.duration("kill_timeout", "s");
    if (killTimeout !== undefined && (parseDuration(killTimeout) ?? 0) > maxKillTimeoutMs) this.problems.add("kill_timeout", "must be at most 24h", killTimeout);
    const swapSizeMb = root.integer("swap_size_mb", { min: 0 });
    const experimental = root.table("experimental");
    const cmd = experimental?.strings("cmd");
    const entrypoint = experimental?.strings("entrypoint");
    experimental?.refuse("exec", "overrides ENTRYPOINT and CMD together, which FlyApp's process groups cannot express; use `entrypoint` and `cmd` or [processes]");
    experimental?.refuse("auto_rollback", `is ${apps1}`);
    for (const key of ["enable_consul", "enable_etcd"]) experimental?.refuse(key, "attaches Fly's Consul or etcd, which FlyApp does not do");
    experimental?.refuse("lazy_load_images", notYet("lazy image loading"));
    experimental?.refuse("attached", "exports secrets of attached apps (`fly attach`), which FlyApp does not do");
    experimental?.refuse("machine_config", "defines multi-container machines, which FlyApp does not make");
    experimental?.finish();
    for (const group of Object.values(this.groups)) {
      Object.assign(
        group,
        dropUndefined({
          command: group.command ?? cmd,
          entrypoint,
          killSignal: killSignal as FlyProcessGroupArgs["killSignal"],
          killTimeout,
          swapSizeMb,
        }),
      );
    }
  }

  /** `[build] image` is the image; the builder's keys are kept for FlyApp, which refuses them without the program's `image`. */
  private mapBuild(section: TomlSection | undefined): { image?: string; builderKeys: string[] } {
    if (!section) return { builderKeys: [] };
    const image = section.string("image");
    if (image !== undefined) this.problems.scope().pattern(section.path("image"), image, /^\S+$/, "a container image reference such as `registry.fly.io/app:deployment-1`");
    const keys = builderKeys.filter((key) => section.has(key));
    for (const key of keys) section.raw(key);
    section.finish();
    return { image, builderKeys: keys.map((key) => section.path(key)) };
  }

  /** `[deploy]`: the release command, and the strategy every process group rolls out with (FlyApp's `deploy`). */
  private mapDeploy(section: TomlSection | undefined): FlyReleaseCommandArgs | undefined {
    if (!section) return undefined;
    const strategy = section.string("strategy");
    if (strategy !== undefined) section.problems.scope().oneOf(section.path("strategy"), strategy, deployStrategies);
    const maxUnavailable = section.number("max_unavailable");
    if (maxUnavailable !== undefined && !((maxUnavailable > 0 && maxUnavailable < 1) || (maxUnavailable >= 1 && Number.isInteger(maxUnavailable)))) {
      section.problems.add(section.path("max_unavailable"), "must be a fraction in (0, 1) or a whole number >= 1", maxUnavailable);
    }
    const waitTimeout = section.duration("wait_timeout", "s");
    const deploy = dropUndefined({ strategy: strategy as FlyDeployStrategy | undefined, maxUnavailable, waitTimeout });
    if (Object.keys(deploy).length > 0) for (const group of Object.values(this.groups)) group.deploy = { ...deploy, ...group.deploy };
    section.refuse("seed_command", "runs once, on an app's first deploy; FlyApp has no first-deploy-only command (use `execCommands`, which run after each new image, with an idempotent command)");
    const line = section.string("release_command");
    const timeout = section.raw("release_command_timeout");
    const vm = section.table("release_command_vm");
    const guest = vm ? this.guestOf(vm) : undefined;
    vm?.finish();
    let timeoutSeconds: number | undefined;
    if (timeout !== undefined) {
      const ms = typeof timeout === "string" ? parseDuration(timeout) : undefined;
      if (ms === undefined) section.problems.add(section.path("release_command_timeout"), 'must be a duration such as "10m"', timeout);
      else timeoutSeconds = Math.ceil(ms / 1000);
    }
    section.finish();
    if (line === undefined) {
      if (timeout !== undefined || vm) section.problems.add(section.path("release_command"), "is required with release_command_timeout or release_command_vm");
      return undefined;
    }
    const command = splitCommand(line);
    if (!command || command.length === 0) {
      section.problems.add(section.path("release_command"), "must be a command line flyctl can split (not empty, no quote left open)", line);
      return undefined;
    }
    return dropUndefined({ command, timeoutSeconds, guest });
  }

  /** `[env]`: names as the providers take them; `FLY_` names belong to Fly's runtime environment. */
  private mapEnv(root: TomlSection): Record<string, string> | undefined {
    const env = root.stringMap("env");
    if (env === undefined) return undefined;
    checkEnv(this.problems.scope((property) => property.replace(/^env\[/, "[env][")), "env", env);
    for (const name of Object.keys(env)) {
      if (name.startsWith("FLY_")) this.problems.add(`[env].${name}`, "must not start with FLY_ (Fly's runtime environment sets those)");
    }
    return env;
  }

  /** `[http_service]`: ports 80 and 443 to `internal_port`, on the groups in `processes`. */
  private mapHttpService(section: TomlSection | undefined): void {
    if (!section) return;
    const targets = this.targets(section, { requiredWithProcesses: true });
    const forceHttps = section.raw("force_https");
    const concurrency = this.concurrencyOf(section);
    const checks = section.tables("checks", (index) => `[[http_service.checks]][${index}]`).map((check) => this.serviceCheck(check, "http"));
    const service = {
      protocol: "tcp",
      internalPort: section.raw("internal_port"),
      autostop: autostopOf(section, "auto_stop_machines"),
      autostart: section.raw("auto_start_machines"),
      minMachinesRunning: section.raw("min_machines_running"),
      concurrency,
    } as MachineService;
    checkService(this.problems.scope(tomlPath), section.header, service);
    if (forceHttps !== undefined && typeof forceHttps !== "boolean") this.problems.add(section.path("force_https"), "must be true or false", forceHttps);
    this.refuseProxyOptions(section);
    section.refuse("machine_checks", "are flyctl's deploy-time test machines, which FlyApp does not run");
    section.finish({ max_machines_running: noCount });
    // fly.toml leaves HTTP on port 80 unless force_https says otherwise; FlyApp's own default redirects.
    const http: FlyHttpServiceArgs = dropUndefined({
      internalPort: service.internalPort,
      forceHttps: (forceHttps as boolean | undefined) ?? false,
      autostop: service.autostop,
      autostart: service.autostart,
      minMachinesRunning: service.minMachinesRunning,
      concurrency,
      checks: checks.length > 0 ? checks : undefined,
    });
    for (const group of targets) this.groups[group].httpService = http;
  }

  /** `[[services]]`: a MachineService each, with its ports, concurrency and tcp/http checks. */
  private mapService(section: TomlSection): void {
    const targets = this.targets(section, { requiredWithProcesses: true });
    const ports = section.tables("ports", (index) => `${section.header}.ports[${index}]`).map((port) => {
      for (const key of ["start_port", "end_port"]) port.refuse(key, notYet("a port range"));
      this.refuseProxyOptions(port);
      port.refuse("proxy_proto_options", notYet("a PROXY protocol version"));
      const mapped = dropUndefined({ port: port.raw("port"), handlers: port.strings("handlers"), forceHttps: port.raw("force_https") });
      port.finish();
      return mapped as NonNullable<MachineService["ports"]>[number];
    });
    if (ports.length === 0) this.problems.add(section.path("ports"), "needs at least one [[services.ports]] entry (a port and its handlers)");
    const checks = [
      ...section.tables("tcp_checks", (index) => `${section.header}.tcp_checks[${index}]`).map((check) => this.serviceCheck(check, "tcp")),
      ...section.tables("http_checks", (index) => `${section.header}.http_checks[${index}]`).map((check) => this.serviceCheck(check, "http")),
    ];
    const service = dropUndefined({
      protocol: section.raw("protocol"),
      internalPort: section.raw("internal_port"),
      ports,
      autostop: autostopOf(section, "auto_stop_machines"),
      autostart: section.raw("auto_start_machines"),
      minMachinesRunning: section.raw("min_machines_running"),
      concurrency: this.concurrencyOf(section),
    }) as MachineService;
    checkService(this.problems.scope(tomlPath), section.header, service);
    section.refuse("machine_checks", "are flyctl's deploy-time test machines, which FlyApp does not run");
    section.finish({ max_machines_running: noCount, script_checks: "Apps V1 script checks; use [checks] or http_checks" });
    for (const group of targets) this.services[group].push(checks.length > 0 ? { ...service, checks } : service);
  }

  private concurrencyOf(section: TomlSection): MachineConcurrency | undefined {
    const table = section.table("concurrency");
    if (!table) return undefined;
    const concurrency = dropUndefined({ type: table.raw("type") ?? "connections", softLimit: table.raw("soft_limit"), hardLimit: table.raw("hard_limit") });
    table.finish();
    return concurrency as MachineConcurrency;
  }

  /** TLS and HTTP options of Fly's proxy: the Machine provider's ports do not carry them yet. */
  private refuseProxyOptions(section: TomlSection): void {
    section.refuse("tls_options", notYet("a TLS option (alpn, versions)"));
    section.refuse("http_options", notYet("an HTTP option (idle_timeout, response headers, h2_backend)"));
  }

  /** A `[[http_service.checks]]`, `tcp_checks` or `http_checks` entry; durations without a unit are milliseconds. */
  private serviceCheck(section: TomlSection, type: "http" | "tcp"): MachineCheck {
    const check: MachineCheck = dropUndefined({
      type,
      interval: section.duration("interval", "ms"),
      timeout: section.duration("timeout", "ms"),
      gracePeriod: section.duration("grace_period", "ms"),
      ...(type === "http" ? this.httpCheckFields(section) : {}),
    });
    section.finish({ restart_limit: apps1 });
    checkHealthCheck(this.problems.scope(tomlPath), section.header, check);
    return check;
  }

  private httpCheckFields(section: TomlSection): Pick<MachineCheck, "method" | "path" | "headers"> {
    const protocol = section.string("protocol");
    if (protocol !== undefined && protocol !== "http") {
      section.problems.add(section.path("protocol"), `${notYet("an https health check")} (the Machine provider's checks speak http)`, protocol);
    }
    // false is the default, so only `true` asks for something the provider's checks cannot do.
    if (section.has("tls_skip_verify") && section.raw("tls_skip_verify") !== false) section.refuse("tls_skip_verify", notYet("a TLS setting on a health check"));
    section.refuse("tls_server_name", notYet("a TLS setting on a health check"));
    const headers = section.stringMap("headers");
    return dropUndefined({
      method: section.string("method"),
      path: section.string("path"),
      headers: headers && Object.keys(headers).length > 0 ? headers : undefined,
    });
  }

  /** `[checks.<name>]`: machine checks of the groups in `processes`; a missing port is the group's http_service port. */
  private mapChecks(section: TomlSection | undefined): void {
    if (!section) return;
    for (const name of Object.keys(section.values)) {
      const table = section.table(name);
      if (!table) continue;
      const port = table.raw("port");
      const targets = this.targets(table);
      const http = this.httpCheckFields(table);
      // flyctl sends a top-level check's method in capitals.
      const check = dropUndefined({
        type: table.raw("type"),
        port,
        interval: table.duration("interval", "ms"),
        timeout: table.duration("timeout", "ms"),
        gracePeriod: table.duration("grace_period", "ms"),
        ...http,
        method: http.method?.toUpperCase(),
      }) as MachineCheck;
      table.finish();
      checkHealthCheck(this.problems.scope(tomlPath), table.header, check);
      for (const group of targets) {
        const checkPort = port ?? this.httpPortOf(group);
        if (checkPort === undefined) {
          this.problems.add(table.path("port"), `is required: process group '${group}' has no [http_service] to take it from`);
          continue;
        }
        const groupChecks = (this.groups[group].checks ?? {}) as Record<string, MachineCheck>;
        this.groups[group].checks = { ...groupChecks, [name]: { ...check, port: checkPort as number } };
      }
    }
  }

  private httpPortOf(group: string): unknown {
    const http = this.groups[group].httpService;
    return http === undefined ? undefined : (http.internalPort as unknown);
  }

  /** `[[mounts]]`: the group mounts the volume named `source`; its size and snapshot settings go to `volumes`. */
  private mapMount(section: TomlSection): void {
    const source = section.string("source");
    const destination = section.string("destination");
    const targets = this.targets(section);
    const scoped = this.problems.scope();
    scoped.pattern(section.path("source"), source, volumeNamePattern, "a volume name of 1-30 lowercase letters, digits or _");
    scoped.pattern(section.path("destination"), destination, /^\/\S+$/, "an absolute path other than `/`, such as `/data`");
    const volume: FlyVolumeArgs = dropUndefined({
      sizeGb: this.gigabytes(section, "initial_size"),
      snapshotRetention: section.integer("snapshot_retention", { min: 1, max: 60 }),
      autoBackupEnabled: section.boolean("scheduled_snapshots"),
      autoExtend: this.autoExtendOf(section),
    });
    section.finish();
    if (source === undefined || destination === undefined) return;
    const earlier = this.volumeSources[source];
    if (earlier !== undefined && JSON.stringify(this.volumes[source]) !== JSON.stringify(volume)) {
      this.problems.add(section.path("source"), `names volume '${source}' again with other settings than ${earlier}`);
    }
    this.volumes[source] = volume;
    this.volumeSources[source] = section.header;
    for (const group of targets) {
      const mounts = this.groups[group].mounts ?? {};
      if (Object.keys(mounts).length > 0) {
        this.problems.add(section.header, `is a second mount for process group '${group}'; a machine mounts one volume`);
        continue;
      }
      this.groups[group].mounts = { [source]: destination };
    }
  }

  private autoExtendOf(section: TomlSection): FlyVolumeArgs["autoExtend"] {
    const thresholdPercent = section.integer("auto_extend_size_threshold");
    const incrementGb = this.gigabytes(section, "auto_extend_size_increment");
    const limitGb = this.gigabytes(section, "auto_extend_size_limit");
    if (thresholdPercent === undefined && incrementGb === undefined && limitGb === undefined) return undefined;
    checkAutoExtend(this.problems.scope(tomlPath), section.header, { extendThresholdPercent: thresholdPercent, addSizeGb: incrementGb, sizeGbLimit: limitGb });
    return dropUndefined({ thresholdPercent: thresholdPercent as number, incrementGb: incrementGb as number, limitGb });
  }

  /** A volume size: "30gb" or a number of GB, at least 1 GB. */
  private gigabytes(section: TomlSection, key: string): number | undefined {
    const value = section.raw(key);
    if (value === undefined) return undefined;
    const gb = sizeGb(value);
    if (gb === undefined || gb < 1) {
      section.problems.add(section.path(key), 'must be a size of at least 1 GB, such as "10gb" or 10', value);
      return undefined;
    }
    return gb;
  }

  /** `[[vm]]`: a group takes the entry naming it in `processes`, else the one without `processes`. */
  private mapVms(sections: TomlSection[]): void {
    const specific: Record<string, TomlSection> = {};
    let general: TomlSection | undefined;
    const guests = new Map<TomlSection, MachineGuest | undefined>();
    for (const section of sections) {
      const listed = section.strings("processes") ?? [];
      guests.set(section, this.guestOf(section));
      section.finish();
      if (listed.length === 0) {
        if (general) this.problems.add(section.header, `applies to every process group, as ${general.header} does; give one of them \`processes\``);
        general = general ?? section;
        continue;
      }
      for (const group of this.targets(section, { listed })) {
        if (specific[group]) this.problems.add(section.path("processes"), `names process group '${group}', as ${specific[group].header} does`);
        specific[group] = specific[group] ?? section;
      }
    }
    for (const [name, group] of Object.entries(this.groups)) {
      const section = specific[name] ?? general;
      const guest = section ? guests.get(section) : undefined;
      if (guest) group.guest = guest;
    }
  }

  /**
   * A `[[vm]]` or `release_command_vm` as flyctl's computeToGuest: the `size` preset (`shared-cpu-1x` by default),
   * then `memory`, then `cpu_kind`, `cpus` and `memory_mb` over it; checked by the Machine provider's guest rules.
   */
  private guestOf(section: TomlSection): MachineGuest | undefined {
    const size = section.string("size") ?? defaultPreset;
    for (const key of ["gpus", "gpu_kind"]) section.refuse(key, "asks for a GPU, which FlyApp's guest cannot carry");
    section.refuse("kernel_args", "sets kernel arguments, which FlyApp's guest cannot carry");
    section.refuse("host_dedication_id", "asks for dedicated hosts, which FlyApp's guest cannot carry");
    section.refuse("persist_rootfs", "keeps the root filesystem, which FlyApp's guest cannot carry; mount a volume");
    section.refuse("max_memory_mb", "lets memory grow past memory_mb, which FlyApp's guest cannot carry");
    if ((gpuPresets as readonly string[]).includes(size)) {
      section.problems.add(section.path("size"), "is a GPU preset, which FlyApp's guest cannot carry", size);
      return undefined;
    }
    const preset = machinePresets[size];
    if (!preset) {
      section.problems.scope().oneOf(section.path("size"), size, Object.keys(machinePresets));
      return undefined;
    }
    const memoryText = section.raw("memory");
    const fromText = memoryText === undefined ? undefined : memoryMb(memoryText);
    if (memoryText !== undefined && !fromText) section.problems.add(section.path("memory"), 'must be a size such as "2gb" or "512mb", or a number of MB', memoryText);
    const memoryKey = section.has("memory_mb") ? "memory_mb" : section.has("memory") ? "memory" : section.has("size") ? "size" : "memory";
    const guest = {
      cpuKind: section.raw("cpu_kind") ?? preset.cpuKind,
      cpus: section.raw("cpus") ?? preset.cpus,
      memoryMb: section.raw("memory_mb") ?? fromText ?? preset.memoryMb,
    } as MachineGuest;
    const names: Record<string, string> = { "guest.cpuKind": "cpu_kind", "guest.cpus": "cpus", "guest.memoryMb": memoryKey };
    const scoped = this.problems.scope((property) => section.path(names[property] ?? property));
    checkGuest(scoped, guest);
    return scoped.list.length === 0 && (memoryText === undefined || fromText) ? guest : undefined;
  }

  /** `[[restart]]`: `never` is the API's `no`; `retries` its max_retries. */
  private mapRestarts(sections: TomlSection[]): void {
    const seen: Record<string, string> = {};
    for (const section of sections) {
      const policy = section.string("policy");
      const retries = section.integer("retries", { min: 0, max: 100 });
      const targets = this.targets(section);
      section.finish();
      this.problems.scope().oneOf(section.path("policy"), policy, Object.keys(restartPolicies), true);
      const mapped = policy === undefined ? undefined : restartPolicies[policy];
      if (!mapped) continue;
      for (const group of targets) {
        if (seen[group]) this.problems.add(section.header, `is a second restart policy for process group '${group}' (the first is ${seen[group]})`);
        seen[group] = section.header;
        this.groups[group].restart = dropUndefined({ policy: mapped, maxRetries: retries });
      }
    }
  }

  /** `[[statics]]`: served for every group's machines, as flyctl sets them. */
  private mapStatics(sections: TomlSection[]): void {
    if (sections.length === 0) return;
    const statics = sections.map((section) => {
      const entry = dropUndefined({
        guestPath: section.raw("guest_path"),
        urlPrefix: section.raw("url_prefix"),
        tigrisBucket: section.string("tigris_bucket"),
        indexDocument: section.string("index_document"),
      }) as MachineStatic;
      section.finish();
      return entry;
    });
    checkStatics(this.problems.scope((property) => tomlPath(property.replace(/^statics/, "[[statics]]"))), statics);
    for (const group of Object.values(this.groups)) group.statics = statics;
  }

  /** `[[files]]`: `raw_value` and `local_path` contents are base64-encoded into the config, as flyctl does. */
  private mapFile(section: TomlSection, index: number): void {
    const guestPath = section.raw("guest_path");
    const rawValue = section.string("raw_value");
    const localPath = section.string("local_path");
    const secretName = section.string("secret_name");
    const targets = this.targets(section);
    section.finish();
    const given = [rawValue, localPath, secretName].filter((value) => value !== undefined);
    if (given.length !== 1 || given[0] === "") {
      this.problems.add(section.header, "must have exactly one of raw_value, local_path or secret_name, not empty (to remove a file, remove its entry)");
      return;
    }
    let contents: string | undefined;
    if (rawValue !== undefined) contents = Buffer.from(rawValue).toString("base64");
    if (localPath !== undefined) {
      try {
        contents = readFileSync(path.resolve(this.baseDir, localPath)).toString("base64");
      } catch (error) {
        this.problems.add(section.path("local_path"), `cannot be read: ${error instanceof Error ? error.message : String(error)}`, localPath);
        return;
      }
    }
    const file = dropUndefined({ guestPath, rawValue: contents, secretName }) as MachineFile;
    checkFiles(this.problems.scope((property) => tomlPath(property.replace(/^files\[0\]/, `[[files]][${index}]`))), [file]);
    for (const group of targets) this.groups[group].files = [...((this.groups[group].files ?? []) as MachineFile[]), file];
  }

  /** `[[metrics]]`: one per group. */
  private mapMetrics(sections: TomlSection[]): void {
    const seen: Record<string, string> = {};
    for (const section of sections) {
      const metrics = dropUndefined({ port: section.raw("port"), path: section.raw("path"), https: section.boolean("https") }) as MachineMetrics;
      const targets = this.targets(section);
      section.finish();
      const scoped = this.problems.scope();
      scoped.integer(section.path("port"), metrics.port, { min: 1, max: 65535, required: true });
      scoped.pattern(section.path("path"), metrics.path, /^\/\S*$/, "a path such as `/metrics`");
      for (const group of targets) {
        if (seen[group]) this.problems.add(section.header, `is a second [[metrics]] for process group '${group}' (the first is ${seen[group]})`);
        seen[group] = section.header;
        this.groups[group].metrics = metrics;
      }
    }
  }
}

/** `auto_stop_machines` is `"off"`, `"stop"`, `"suspend"` or a boolean (true is `"stop"`). */
function autostopOf(section: TomlSection, key: string): Autostop | undefined {
  const value = section.raw(key);
  if (value === true) return "stop";
  if (value === false) return "off";
  return value as Autostop | undefined;
}
