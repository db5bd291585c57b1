import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import { App } from "../dynamic-providers/fly/app";
import { Certificate } from "../dynamic-providers/fly/certificate";
import { DeployToken } from "../dynamic-providers/fly/deploy-token";
import { egressIpTypes, IpAddress, type IpType } from "../dynamic-providers/fly/ip-address";
import { Machine, type DeepInput } from "../dynamic-providers/fly/machine";
import { machineNamePattern, processGroupPattern } from "../dynamic-providers/fly/machine-check";
import { MachineExec } from "../dynamic-providers/fly/machine-exec";
import type {
  Autostop,
  MachineCheck,
  MachineConcurrency,
  MachineFile,
  MachineGuest,
  MachineMetrics,
  MachineMount,
  MachineRestart,
  MachineService,
  MachineStatic,
  Schedule,
  StopSignal,
} from "../dynamic-providers/fly/machine-types";
import { ReleaseCommand } from "../dynamic-providers/fly/release-command";
import { deployProblems, generationOf, rolloutPlan, type FlyDeployArgs } from "./fly-deploy";
import { Secrets } from "../dynamic-providers/fly/secrets";
import { Volume, volumeNamePattern } from "../dynamic-providers/fly/volume";
import { isFromFlyToml, withFlyToml, type FlyAppFromTomlArgs } from "./fly-toml";

type Env = pulumi.Input<Record<string, pulumi.Input<string>>>;
type Argv = pulumi.Input<pulumi.Input<string>[]>;

/** fly.toml `[http_service]`: ports 80 (HTTP, redirected to HTTPS) and 443 (TLS) to `internalPort`. */
export interface FlyHttpServiceArgs {
  /** The port the process listens on, fly.toml `internal_port`, e.g. `8080` (seed 001) or `4200` (seed 004). */
  internalPort: pulumi.Input<number>;
  /** Redirect HTTP to HTTPS, `force_https`. @default `true` */
  forceHttps?: pulumi.Input<boolean>;
  /**
   * `auto_stop_machines`: `"off"`, `"stop"` or `"suspend"` when idle. Seed 001 staging has it off, production on.
   * @default `"off"`
   */
  autostop?: pulumi.Input<Autostop>;
  /** `auto_start_machines`: start a stopped machine on a request. @default `true` */
  autostart?: pulumi.Input<boolean>;
  /** `min_machines_running` (seed 001: 0 in staging, 1 in production). @default `0` */
  minMachinesRunning?: pulumi.Input<number>;
  /** `[http_service.concurrency]`. @default Fly's (connections, 25/20) */
  concurrency?: DeepInput<MachineConcurrency>;
  /**
   * `[[http_service.checks]]`; create and update wait until they pass.
   * @example `[{ type: "http", port: 4200, method: "GET", path: "/api/health", interval: "30s", timeout: "5s", gracePeriod: "60s" }]`
   */
  checks?: DeepInput<MachineCheck[]>;
}

/** One fly.toml `[processes]` entry with its `[[vm]]` size, services and mounts. */
export interface FlyProcessGroupArgs {
  /** Machines in the group (`fly scale count`). @default `1` */
  count?: number;
  /** `[[vm]]` size. @default `{ cpuKind: "shared", cpus: 1, memoryMb: 256 }` */
  guest?: DeepInput<MachineGuest>;
  /** The process command, the machine's `init.cmd`. @default the image's CMD */
  command?: Argv;
  /** Overrides the image's ENTRYPOINT. @default the image's ENTRYPOINT */
  entrypoint?: Argv;
  /** fly.toml `[http_service]`. @default none: the group is not reachable from outside the app */
  httpService?: FlyHttpServiceArgs;
  /** fly.toml `[[services]]`, for anything `httpService` does not cover (TCP, other ports). @default `[]` */
  services?: DeepInput<MachineService[]>;
  /** fly.toml `[checks.<name>]`: machine checks not tied to a service. @default `{}` */
  checks?: DeepInput<Record<string, MachineCheck>>;
  /**
   * fly.toml `[mounts]`: volume name (a key of FlyAppArgs `volumes`) → mount path. Each machine gets its own
   * volume of that name in its region. At most one entry (a machine mounts one volume).
   * @example `{ data: "/data" }`
   */
  mounts?: Record<string, string>;
  /**
   * Regions the machines are spread over, round-robin (`fly scale count 3 --region ams,lhr`).
   * @default `[primaryRegion]`
   */
  regions?: pulumi.Input<pulumi.Input<string>[]>;
  /** Environment of this group only, over the app's `env`. @default `{}` */
  env?: Env;
  /** Restart policy, fly.toml `[[restart]]`. @default Fly's (`on-failure`) */
  restart?: DeepInput<MachineRestart>;
  /** fly.toml `kill_signal`: the signal a machine gets when stopped. @default Fly's (`SIGINT`) */
  killSignal?: pulumi.Input<StopSignal>;
  /** fly.toml `kill_timeout`: how long after the signal before the machine is killed, e.g. `"30s"` (seed 002). @default Fly's (`5s`) */
  killTimeout?: pulumi.Input<string>;
  /** fly.toml `swap_size_mb`: a swap partition of this many MB. @default none */
  swapSizeMb?: pulumi.Input<number>;
  /**
   * fly.toml `[[statics]]`: URL prefixes Fly's proxy serves from files in the image (or a Tigris bucket).
   * @default `[]`
   * @example `[{ guestPath: "/app/public", urlPrefix: "/static" }]`
   */
  statics?: DeepInput<MachineStatic[]>;
  /**
   * fly.toml `[[files]]`: files written into each machine, from base64 contents or an app secret holding them.
   * @default `[]`
   * @example `[{ guestPath: "/etc/app/config.yaml", secretName: "APP_CONFIG" }]`
   */
  files?: DeepInput<MachineFile[]>;
  /** fly.toml `[metrics]`: where Fly's Prometheus scrapes the machines. @default none @example `{ port: 9091, path: "/metrics" }` */
  metrics?: DeepInput<MachineMetrics>;
  /**
   * fly.toml `[deploy]`: how a new image or config reaches the group's machines (see FlyDeployArgs).
   * @default `{ strategy: "rolling", maxUnavailable: 0.33, waitTimeout: "5m", smokeChecks: true }` (flyctl's)
   * @example `{ strategy: "bluegreen", waitTimeout: "10m" }`
   */
  deploy?: FlyDeployArgs;
}

/** One `fly volumes create`; see FlyProcessGroupArgs `mounts`. */
export interface FlyVolumeArgs {
  /** @default `1` */
  sizeGb?: pulumi.Input<number>;
  /** Days of snapshots kept. @default `5` */
  snapshotRetention?: pulumi.Input<number>;
  /** @default `true` */
  encrypted?: pulumi.Input<boolean>;
  /** @default Fly's (`true`) */
  autoBackupEnabled?: pulumi.Input<boolean>;
  /**
   * fly.toml `auto_extend_size_*`: grow the volume by `incrementGb` when `thresholdPercent` of it is used, up to `limitGb`.
   * @default none
   * @example `{ thresholdPercent: 80, incrementGb: 1, limitGb: 5 }`
   */
  autoExtend?: { thresholdPercent: pulumi.Input<number>; incrementGb: pulumi.Input<number>; limitGb?: pulumi.Input<number> };
}

/**
 * A scheduled machine running the app's current image (e.g. a nightly report job, made with
 * `flyctl machine run $IMAGE --schedule hourly` and re-pointed by hand after each deploy). It follows
 * FlyAppArgs `image`, so each deploy updates it.
 */
export interface FlyScheduledMachineArgs {
  /** `hourly`, `daily`, `weekly` or `monthly` (seed 001: daily in staging, hourly in production). */
  schedule: pulumi.Input<Schedule>;
  /** Arguments, the machine's `init.cmd`. @example `["-m", "app.cli.cron_runner"]` */
  command?: Argv;
  /** @example `["/app/.venv/bin/python"]` */
  entrypoint?: Argv;
  /** @default `{ cpuKind: "shared", cpus: 1, memoryMb: 256 }` (seed 001: 1 cpu, 512 MB) */
  guest?: DeepInput<MachineGuest>;
  /** @default `primaryRegion` */
  region?: pulumi.Input<string>;
  /** Environment over the app's `env`. @default `{}` */
  env?: Env;
}

/** fly.toml `[deploy] release_command`: run once per new image, before any machine rolls. */
export interface FlyReleaseCommandArgs {
  /** @example `["alembic", "upgrade", "head"]` (seed 001) */
  command: Argv;
  /** Size of the one-off machine. @default the first process group's `guest` */
  guest?: DeepInput<MachineGuest>;
  /** Seconds before the command is stopped and the deploy fails. @default `300` */
  timeoutSeconds?: pulumi.Input<number>;
}

/**
 * A command run inside the first machine of a process group once that group has rolled (what `fly ssh
 * console -C "..."` did by hand), again after every new image. It must be idempotent.
 */
export interface FlyExecCommandArgs {
  /** argv, no shell. @example `["uv", "run", "prefect", "work-pool", "create", "default-pool", "--type", "process", "--overwrite"]` */
  command: Argv;
  /** @default the first process group */
  processGroup?: string;
  /** Runs in total while it exits non-zero (e.g. a server in the machine still starting). @default `1` */
  attempts?: pulumi.Input<number>;
  /** @default `5` */
  retryDelaySeconds?: pulumi.Input<number>;
}

/** `fly tokens create deploy -x 999999h` (seed 000), e.g. for the FLY_API_TOKEN GitHub Actions secret. */
export interface FlyDeployTokenArgs {
  /** @default `"999999h"` */
  expiry?: pulumi.Input<string>;
  /** A new value makes a new token; the old one is revoked once the new one exists. */
  rotate?: pulumi.Input<string>;
}

export interface FlyAppArgs {
  /** The Fly app name, global across Fly (`fly launch`'s app name), e.g. `acme-web` or `acme-web-prod`. */
  appName: pulumi.Input<string>;
  /** Fly organization slug. @example `"personal"` */
  orgSlug: pulumi.Input<string>;
  /** fly.toml `primary_region`, e.g. `ams`. */
  primaryRegion: pulumi.Input<string>;
  /**
   * The image every machine runs, built and pushed by CI (`fly deploy` built it before). A new value is a
   * deploy: the release command runs, then each process group rolls by its `deploy` strategy, and the
   * scheduled machines follow.
   * @example `"registry.fly.io/acme-web:deployment-01J..."`
   */
  image: pulumi.Input<string>;
  /** Process groups by name (fly.toml `[processes]`; `app` when the file has none). At least one. */
  processGroups: Record<string, FlyProcessGroupArgs>;
  /** fly.toml `[env]`: plain settings, e.g. `{ PREFECT_API_URL: "http://localhost:4200/api" }`. @default `{}` */
  env?: Env;
  /**
   * `fly secrets set` (seed 000 §1): one Secrets resource; the machines take its version, so changing a
   * secret rolls them. Values are stored as Pulumi secrets. @default none
   */
  secrets?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Volumes by Fly volume name (`fly volumes create <name>`), mounted through process groups' `mounts`. @default `{}` */
  volumes?: Record<string, FlyVolumeArgs>;
  /**
   * `fly ips allocate-*`: one address per type, e.g. `["shared_v4", "v6"]`. Egress types (`egress_v4`,
   * `egress_v6`; `fly ips allocate-egress`) are allocated in `primaryRegion` and listed in `egressIps`, e.g.
   * for seed 000 §4's Neon IP allowlist. @default `[]`
   */
  ipAddresses?: IpType[];
  /**
   * `fly certs create <hostname>` (seed 000 §3); the DNS records Fly asks for are in the `certificates` output,
   * and made in Cloudflare when `certificateDns` is given.
   * @example `["dashboard.example.com"]`
   */
  certificates?: string[];
  /**
   * The Cloudflare zone of the `certificates` hostnames: each gets a CNAME to `<app>.fly.dev` and the
   * `_acme-challenge` CNAME Fly validates through (the DNS-01 route works behind Cloudflare's proxy too).
   * @default none: the records are left to you (see the `certificates` output)
   */
  certificateDns?: FlyCertificateDnsArgs;
  /** Scheduled machines by machine name, e.g. `nightly-report`. @default `{}` */
  scheduledMachines?: Record<string, FlyScheduledMachineArgs>;
  /** Seed 001's release command (`alembic upgrade head` on deploy). @default none */
  releaseCommand?: FlyReleaseCommandArgs;
  /** Commands run in a machine after each deploy, by a name for the resource. @default `{}` */
  execCommands?: Record<string, FlyExecCommandArgs>;
  /** Make a deploy token; the `deployToken` output holds it. @default none */
  deployToken?: FlyDeployTokenArgs;
  /**
   * Take over what was made by hand (`fly launch`, `fly volumes create`, `fly ips allocate`, `fly certs create`,
   * machines of the same name) instead of failing: passed to every child that can find its remote object.
   * @default `false`
   */
  adopt?: pulumi.Input<boolean>;
}

/** Where FlyApp writes the DNS records of its certificates. */
export interface FlyCertificateDnsArgs {
  /** Cloudflare zone id holding the hostnames. */
  zoneId: pulumi.Input<string>;
  /** Send traffic through Cloudflare's proxy (needed for Cloudflare Access). @default `false` (Cloudflare API's default for a record) */
  proxied?: pulumi.Input<boolean>;
}

/** The DNS records Fly asks for before it issues a certificate (`fly certs show`). */
export interface FlyCertificateDns {
  status: string;
  /** CNAME the hostname to this, e.g. `acme-dashboard.fly.dev`. */
  cnameTarget: string;
  acmeChallengeName: string;
  acmeChallengeTarget: string;
  ownershipName: string;
  ownershipValue: string;
  aRecords: string[];
  aaaaRecords: string[];
}

const defaultCount = 1;

/** Lowercase labels of letters, digits and dashes, at least two labels, an optional `*.` wildcard first. */
const hostnamePattern = /^(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

/** A machine's name inside the app: `<group>-<index>`, with `_` (allowed in group names) made a dash. */
function machineName(group: string, index: number): string {
  return `${group.replace(/_/g, "-")}-${index}`;
}

/** Machines go to the group's regions in turn, so `count: 3` over two regions puts two in the first. */
function regionFor(regions: pulumi.Input<pulumi.Input<string>[]>, index: number): pulumi.Output<string> {
  return pulumi.output(regions).apply((list) => {
    if (list.length === 0) throw new Error("FlyApp: a process group's `regions` must name at least one region");
    return list[index % list.length];
  });
}

function mergeEnv(...layers: (Env | undefined)[]): pulumi.Output<Record<string, string>> {
  return pulumi.all(layers.map((layer) => pulumi.output(layer ?? {}))).apply((resolved) => Object.assign({}, ...resolved) as Record<string, string>);
}

/**
 * A Fly.io app with its process groups' machines, secrets, volumes, addresses, certificates, scheduled
 * machines, release command and deploy token: what `fly launch` + fly.toml + `fly deploy` + the seeds'
 * hand-run commands made.
 */
export class FlyApp extends pulumi.ComponentResource {
  readonly appName: pulumi.Output<string>;
  /** `<app>.fly.dev` */
  readonly hostname: pulumi.Output<string>;
  /** `https://<app>.fly.dev` */
  readonly url: pulumi.Output<string>;
  /**
   * The image the process groups run, known once every machine has rolled onto it: what another app wires
   * in as the image to start (seed 003's FLY_WORKER_IMAGE).
   */
  readonly image: pulumi.Output<string>;
  /** `<app>.internal`, the private network name other apps in the org reach it by. */
  readonly privateHostname: pulumi.Output<string>;
  /** The process groups' machines (not the scheduled ones), group by group. */
  readonly machineIds: pulumi.Output<string[]>;
  /** Machine ids per process group. */
  readonly processGroupMachineIds: pulumi.Output<Record<string, string[]>>;
  /** Scheduled machine ids by machine name. */
  readonly scheduledMachineIds: pulumi.Output<Record<string, string>>;
  /** The deploy token (secret), when `deployToken` was given. */
  readonly deployToken: pulumi.Output<string> | undefined;
  /** Hostname → the DNS records its certificate needs. */
  readonly certificates: pulumi.Output<Record<string, FlyCertificateDns>>;
  /** The static egress addresses allocated by `ipAddresses` (their order), `[]` when none was asked for. */
  readonly egressIps: pulumi.Output<string[]>;

  private readonly app: App;
  private readonly secretsResource: Secrets | undefined;
  private readonly release: ReleaseCommand | undefined;

  /** `args` is FlyAppArgs, or a fly.toml (`flyTomlPath` / `flyTomlText`) with FlyAppArgs fields over it. */
  constructor(name: string, input: FlyAppArgs | FlyAppFromTomlArgs, opts?: pulumi.ComponentResourceOptions) {
    const args = isFromFlyToml(input) ? withFlyToml(name, input) : input;
    validate(name, args);
    super("platform:index:FlyApp", name, {}, opts);

    this.app = new App(name, { name: args.appName, orgSlug: args.orgSlug, adopt: args.adopt }, { parent: this });
    this.hostname = this.app.hostname;
    this.secretsResource = this.createSecrets(name, args);
    this.release = this.createReleaseCommand(name, args);
    const groups = this.createProcessGroups(name, args);
    const scheduled = this.createScheduledMachines(name, args);
    this.createExecCommands(name, args, groups);
    const ips = this.createIpAddresses(name, args);
    const certificates = this.createCertificates(name, args, ips);
    this.createCertificateDns(name, args, certificates);
    const token = this.createDeployToken(name, args);

    this.appName = this.app.name;
    this.url = pulumi.interpolate`https://${this.hostname}`;
    this.privateHostname = this.app.privateHostname;
    this.processGroupMachineIds = pulumi
      .all(Object.fromEntries(Object.entries(groups).map(([group, machines]) => [group, pulumi.all(machines.map((m) => m.machineId))])))
      .apply((byGroup) => byGroup as Record<string, string[]>);
    this.machineIds = this.processGroupMachineIds.apply((byGroup) => Object.values(byGroup).flat());
    this.image = pulumi.all([args.image, this.machineIds]).apply(([image]) => image);
    this.scheduledMachineIds = pulumi
      .all(Object.fromEntries(Object.entries(scheduled).map(([cron, machine]) => [cron, machine.machineId])))
      .apply((byName) => byName as Record<string, string>);
    this.deployToken = token ? pulumi.secret(token.token) : undefined;
    this.certificates = certificates;
    this.egressIps = pulumi.all(ips.filter((_, index) => egressIpTypes.includes((args.ipAddresses ?? [])[index])).map((ip) => ip.ip));

    this.registerOutputs({
      appName: this.appName,
      hostname: this.hostname,
      url: this.url,
      image: this.image,
      privateHostname: this.privateHostname,
      machineIds: this.machineIds,
      processGroupMachineIds: this.processGroupMachineIds,
      scheduledMachineIds: this.scheduledMachineIds,
      deployToken: this.deployToken,
      certificates: this.certificates,
      egressIps: this.egressIps,
    });
  }

  private createSecrets(name: string, args: FlyAppArgs): Secrets | undefined {
    if (args.secrets === undefined) return undefined;
    // Secret as inputs too: additionalSecretOutputs covers the outputs only, and inputs are stored as well.
    const values = pulumi.secret(pulumi.output(args.secrets)) as pulumi.Output<Record<string, string>>;
    return new Secrets(`${name}-secrets`, { appName: this.app.name, values }, { parent: this });
  }

  private createReleaseCommand(name: string, args: FlyAppArgs): ReleaseCommand | undefined {
    const release = args.releaseCommand;
    if (!release) return undefined;
    const firstGroup = Object.values(args.processGroups)[0];
    return new ReleaseCommand(
      `${name}-release-command`,
      {
        appName: this.app.name,
        image: args.image,
        command: release.command,
        region: args.primaryRegion,
        guest: release.guest ?? firstGroup?.guest,
        env: mergeEnv(args.env),
        minSecretsVersion: this.secretsResource?.version,
        timeoutSeconds: release.timeoutSeconds,
      },
      { parent: this },
    );
  }

  /**
   * A group's `deploy` strategy decides the `dependsOn` between its machines (rolling: `maxUnavailable`
   * chains; canary: the first machine, then chains; immediate and bluegreen: none) and what each waits
   * for (components/fly-deploy.ts). Bluegreen names each machine after its config, so a new config is a
   * new machine created before the old one is deleted, and Pulumi deletes replaced resources only after
   * every create has succeeded. Groups do not wait on each other; every machine waits for the release
   * command.
   */
  private createProcessGroups(name: string, args: FlyAppArgs): Record<string, Machine[]> {
    const groups: Record<string, Machine[]> = {};
    for (const [group, spec] of Object.entries(args.processGroups)) {
      const regions = spec.regions ?? [args.primaryRegion];
      const env = mergeEnv(args.env, spec.env);
      const services = this.servicesOf(spec);
      const count = spec.count ?? defaultCount;
      const plan = rolloutPlan(spec.deploy, count);
      const machines: Machine[] = [];
      for (let index = 0; index < count; index++) {
        const region = regionFor(regions, index);
        const config = {
          image: args.image,
          guest: spec.guest,
          env,
          init:
            spec.command !== undefined || spec.entrypoint !== undefined || spec.swapSizeMb !== undefined
              ? { cmd: spec.command, entrypoint: spec.entrypoint, swapSizeMb: spec.swapSizeMb }
              : undefined,
          services,
          checks: spec.checks,
          restart: spec.restart,
          stop: spec.killSignal !== undefined || spec.killTimeout !== undefined ? { signal: spec.killSignal, timeout: spec.killTimeout } : undefined,
          statics: spec.statics,
          files: spec.files,
          metrics: spec.metrics,
          processGroup: group,
          minSecretsVersion: this.secretsResource?.version,
        };
        const baseName = machineName(group, index);
        const machine = new Machine(
          `${name}-${group}-${index}`,
          {
            ...config,
            appName: this.app.name,
            name: plan.replaceOnChange ? pulumi.output(config).apply((resolved) => `${baseName}-${generationOf(resolved)}`) : baseName,
            region,
            mounts: this.mountsOf(name, args, group, index, spec, region),
            adopt: args.adopt,
            waitForChecks: plan.waitForChecks,
            timeouts: plan.timeouts,
          },
          {
            parent: this,
            dependsOn: [...plan.dependsOn[index].map((before) => machines[before]), this.release].filter(
              (r): r is Machine | ReleaseCommand => r !== undefined,
            ),
          },
        );
        machines.push(machine);
      }
      groups[group] = machines;
    }
    return groups;
  }

  private servicesOf(spec: FlyProcessGroupArgs): pulumi.Output<pulumi.Unwrap<DeepInput<MachineService[]>>> | undefined {
    if (!spec.httpService && spec.services === undefined) return undefined;
    const http = spec.httpService;
    const httpService = http
      ? {
          protocol: "tcp" as const,
          internalPort: http.internalPort,
          ports: [
            { port: 80, handlers: ["http" as const], forceHttps: http.forceHttps ?? true },
            { port: 443, handlers: ["tls" as const, "http" as const] },
          ],
          autostop: http.autostop ?? "off",
          autostart: http.autostart ?? true,
          minMachinesRunning: http.minMachinesRunning ?? 0,
          concurrency: http.concurrency,
          checks: http.checks,
        }
      : undefined;
    return pulumi.all([pulumi.output(httpService), pulumi.output(spec.services ?? [])]).apply(([service, others]) => [
      ...(service ? [service as MachineService] : []),
      ...(others as MachineService[]),
    ]);
  }

  /** Each machine that mounts a volume gets its own, in the machine's region. */
  private mountsOf(
    name: string,
    args: FlyAppArgs,
    group: string,
    index: number,
    spec: FlyProcessGroupArgs,
    region: pulumi.Output<string>,
  ): DeepInput<MachineMount[]> | undefined {
    const mounts = Object.entries(spec.mounts ?? {});
    if (mounts.length === 0) return undefined;
    return mounts.map(([volumeName, path]) => {
      const volumeArgs = args.volumes?.[volumeName] ?? {};
      const volume = new Volume(
        `${name}-${volumeName}-${group}-${index}`,
        {
          appName: this.app.name,
          name: volumeName,
          region,
          sizeGb: volumeArgs.sizeGb,
          snapshotRetention: volumeArgs.snapshotRetention,
          encrypted: volumeArgs.encrypted,
          autoBackupEnabled: volumeArgs.autoBackupEnabled,
          adopt: args.adopt,
        },
        { parent: this },
      );
      const extend = volumeArgs.autoExtend;
      return { volume: volume.volumeId, path, extendThresholdPercent: extend?.thresholdPercent, addSizeGb: extend?.incrementGb, sizeGbLimit: extend?.limitGb };
    });
  }

  private createScheduledMachines(name: string, args: FlyAppArgs): Record<string, Machine> {
    const scheduled: Record<string, Machine> = {};
    for (const [cron, spec] of Object.entries(args.scheduledMachines ?? {})) {
      scheduled[cron] = new Machine(
        `${name}-${cron}`,
        {
          appName: this.app.name,
          name: cron,
          region: spec.region ?? args.primaryRegion,
          image: args.image,
          schedule: spec.schedule,
          guest: spec.guest,
          env: mergeEnv(args.env, spec.env),
          init: spec.command !== undefined || spec.entrypoint !== undefined ? { cmd: spec.command, entrypoint: spec.entrypoint } : undefined,
          // Its own group, so no process group's rollout or scaling ever counts it.
          processGroup: cron,
          minSecretsVersion: this.secretsResource?.version,
          adopt: args.adopt,
        },
        { parent: this, dependsOn: this.release ? [this.release] : [] },
      );
    }
    return scheduled;
  }

  /** Each command runs in its group's first machine after the whole group has rolled, and again for each new image. */
  private createExecCommands(name: string, args: FlyAppArgs, groups: Record<string, Machine[]>): void {
    const firstGroup = Object.keys(args.processGroups)[0];
    for (const [command, spec] of Object.entries(args.execCommands ?? {})) {
      const machines = groups[spec.processGroup ?? firstGroup];
      new MachineExec(
        `${name}-${command}`,
        {
          appName: this.app.name,
          machineId: machines[0].machineId,
          command: spec.command,
          trigger: args.image,
          attempts: spec.attempts,
          retryDelaySeconds: spec.retryDelaySeconds,
        },
        { parent: this, dependsOn: machines },
      );
    }
  }

  /** Egress addresses belong to one region: the primary one, where the machines run unless a group says otherwise. */
  private createIpAddresses(name: string, args: FlyAppArgs): IpAddress[] {
    return (args.ipAddresses ?? []).map((type) => {
      const region = egressIpTypes.includes(type) ? args.primaryRegion : undefined;
      return new IpAddress(`${name}-ip-${type}`, { appName: this.app.name, type, region, adopt: args.adopt }, { parent: this });
    });
  }

  /** After the addresses, so that Fly's A/AAAA requirements are filled. */
  private createCertificates(name: string, args: FlyAppArgs, ips: IpAddress[]): pulumi.Output<Record<string, FlyCertificateDns>> {
    const entries = (args.certificates ?? []).map((hostname) => {
      const certificate = new Certificate(`${name}-cert-${hostname}`, { appName: this.app.name, hostname, adopt: args.adopt }, { parent: this, dependsOn: ips });
      const dns: pulumi.Output<FlyCertificateDns> = pulumi
        .all([
          certificate.status,
          certificate.dnsCnameTarget,
          certificate.acmeChallengeName,
          certificate.acmeChallengeTarget,
          certificate.ownershipName,
          certificate.ownershipValue,
          certificate.aRecords,
          certificate.aaaaRecords,
        ])
        .apply(([status, cnameTarget, acmeChallengeName, acmeChallengeTarget, ownershipName, ownershipValue, aRecords, aaaaRecords]) => ({
          status,
          cnameTarget,
          acmeChallengeName,
          acmeChallengeTarget,
          ownershipName,
          ownershipValue,
          aRecords,
          aaaaRecords,
        }));
      return [hostname, dns] as const;
    });
    return pulumi.all(entries.map(([hostname, dns]) => dns.apply((records) => [hostname, records] as const))).apply((pairs) => Object.fromEntries(pairs));
  }

  /** The hostname to `<app>.fly.dev`, and the DNS-01 challenge Fly validates through (it cannot see past a proxy). */
  private createCertificateDns(name: string, args: FlyAppArgs, certificates: pulumi.Output<Record<string, FlyCertificateDns>>): void {
    const dns = args.certificateDns;
    if (!dns) return;
    for (const hostname of args.certificates ?? []) {
      new cloudflare.DnsRecord(
        `${name}-dns-${hostname}`,
        { zoneId: dns.zoneId, name: hostname, type: "CNAME", content: this.hostname, proxied: dns.proxied ?? false, ttl: 1, comment: "Fly app (FlyApp certificate)" },
        { parent: this },
      );
      const certificate = certificates.apply((byHost) => {
        const records = byHost[hostname];
        if (!records) throw new Error(`FlyApp '${name}': Fly reported no certificate for ${hostname}`);
        return records;
      });
      new cloudflare.DnsRecord(
        `${name}-acme-${hostname}`,
        {
          zoneId: dns.zoneId,
          name: certificate.acmeChallengeName,
          type: "CNAME",
          content: certificate.acmeChallengeTarget,
          proxied: false,
          ttl: 1,
          comment: "Fly certificate validation (fly certs show)",
        },
        { parent: this },
      );
    }
  }

  private createDeployToken(name: string, args: FlyAppArgs): DeployToken | undefined {
    if (!args.deployToken) return undefined;
    return new DeployToken(
      `${name}-deploy-token`,
      { appName: this.app.name, expiry: args.deployToken.expiry, rotate: args.deployToken.rotate },
      { parent: this },
    );
  }
}

/** A check in the group, or one given as a value not known yet (an Output), which cannot be ruled out here. */
function hasHealthCheck(spec: FlyProcessGroupArgs): boolean {
  const present = (value: unknown): boolean =>
    value !== undefined && (pulumi.Output.isInstance(value) || (Array.isArray(value) ? value.length > 0 : typeof value === "object" && value !== null && Object.keys(value).length > 0));
  if (present(spec.checks) || present(spec.httpService?.checks)) return true;
  const services = spec.services;
  if (services === undefined) return false;
  if (!Array.isArray(services)) return pulumi.Output.isInstance(services);
  return services.some((service) => pulumi.Output.isInstance(service) || present((service as { checks?: unknown }).checks));
}

/** Checks what decides which resources exist, before any is made; errors say how to fix them. */
function validate(name: string, args: FlyAppArgs): void {
  const fail = (message: string): never => {
    throw new Error(`FlyApp '${name}': ${message}`);
  };
  const groups = Object.entries(args.processGroups);
  if (groups.length === 0) fail("`processGroups` must name at least one group, e.g. `{ app: { count: 1 } }`");
  const volumes = args.volumes ?? {};
  const mounted = new Set<string>();
  for (const [group, spec] of groups) {
    if (!processGroupPattern.test(group)) fail(`process group name '${group}' must be lowercase letters, digits, _ or -`);
    const count = spec.count ?? defaultCount;
    if (!Number.isInteger(count) || count < 0) fail(`processGroups.${group}.count must be a whole number >= 0, got ${count}`);
    const mounts = Object.keys(spec.mounts ?? {});
    const [deployProblem] = deployProblems(`processGroups.${group}.deploy`, spec.deploy, { mounts: mounts.length, hasChecks: hasHealthCheck(spec) });
    if (deployProblem !== undefined) fail(deployProblem);
    if (Array.isArray(spec.regions) && spec.regions.length === 0) fail(`processGroups.${group}.regions must name at least one region, or leave it out for \`primaryRegion\``);
    if (mounts.length > 1) fail(`processGroups.${group}.mounts may name one volume (a machine mounts one), got ${mounts.join(", ")}`);
    for (const volume of mounts) {
      if (!(volume in volumes)) fail(`processGroups.${group}.mounts names volume '${volume}', which is not in \`volumes\`; add \`volumes: { ${volume}: {} }\``);
      mounted.add(volume);
    }
  }
  for (const volume of Object.keys(volumes)) {
    if (!volumeNamePattern.test(volume)) fail(`volume name '${volume}' must be 1-30 lowercase letters, digits or _`);
    if (!mounted.has(volume)) fail(`volume '${volume}' is not mounted by any process group; add it to a group's \`mounts\` or remove it`);
  }
  for (const cron of Object.keys(args.scheduledMachines ?? {})) {
    if (!machineNamePattern.test(cron)) fail(`scheduled machine name '${cron}' must be lowercase letters, digits or dashes`);
    if (groups.some(([group, spec]) => Array.from({ length: spec.count ?? defaultCount }, (_, i) => machineName(group, i)).includes(cron))) {
      fail(`scheduled machine name '${cron}' is also a process group machine's name`);
    }
  }
  const ips = args.ipAddresses ?? [];
  if (new Set(ips).size !== ips.length) fail(`ipAddresses lists a type twice: ${ips.join(", ")}`);
  const hostnames = args.certificates ?? [];
  if (new Set(hostnames).size !== hostnames.length) fail(`certificates lists a hostname twice: ${hostnames.join(", ")}`);
  for (const hostname of hostnames) {
    if (!hostnamePattern.test(hostname)) fail(`certificates: '${hostname}' must be a DNS hostname such as \`app.example.com\` (lowercase, no scheme or path)`);
  }
  if (args.certificateDns && hostnames.length === 0) fail("certificateDns is given but `certificates` names no hostname");
  for (const [command, spec] of Object.entries(args.execCommands ?? {})) {
    const group = spec.processGroup ?? groups[0][0];
    const target = args.processGroups[group];
    if (!target) fail(`execCommands.${command}.processGroup '${group}' is not a process group`);
    if ((target.count ?? defaultCount) < 1) fail(`execCommands.${command} runs in process group '${group}', which has no machines`);
  }
}
