import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { IpType } from "../dynamic-providers/fly/ip-address";
import { dropUndefined } from "../dynamic-providers/fly/machine-config";
import type { MachineCheck, MachineGuest } from "../dynamic-providers/fly/machine-types";
import { FlyApp, type FlyAppArgs, type FlyExecCommandArgs, type FlyProcessGroupArgs } from "./fly-app";

/** Prefect's own port (`prefect server start`, PREFECT_SERVER_API_PORT). */
export const defaultPrefectPort = 4200;

export const prefectVersions = [2, 3] as const;
export type PrefectVersion = (typeof prefectVersions)[number];

/**
 * Prefect's images per major version, the major tag pinned (not `latest`) so a new major cannot change the API
 * under the clients; pass a digest to pin further. A Prefect 3 client does not talk to a 2.x server.
 */
export const defaultPrefectImages: Record<PrefectVersion, string> = {
  2: "prefecthq/prefect:2-python3.11",
  3: "prefecthq/prefect:3-python3.12",
};

/**
 * shared-cpu-1x: 256 MB (Fly's smallest) runs a Prefect 2 server; a Prefect 3 server (API, UI and its background
 * services in one process) needs more than 256 MB resident and is OOM-killed there, so 512 MB.
 */
export const defaultPrefectGuests: Record<PrefectVersion, MachineGuest> = {
  2: { cpuKind: "shared", cpus: 1, memoryMb: 256 },
  3: { cpuKind: "shared", cpus: 1, memoryMb: 512 },
};

/** Prefect's health endpoint, which its auth middleware lets through without credentials. */
function healthCheck(port: number): MachineCheck {
  return { type: "http", port, method: "GET", path: "/api/health", interval: "30s", timeout: "5s", gracePeriod: "60s" };
}

/** The addresses that answer on `<app>.fly.dev` from the internet. */
const publicIpTypes: IpType[] = ["shared_v4", "v6"];
/** Any of these makes the app reachable from the internet. */
const internetIpTypes: readonly IpType[] = ["v4", "shared_v4", "v6"];

/** Attempts × delay: a colocated server starts in the background of its container. */
const workPoolAttempts = 12;
const workPoolRetryDelaySeconds = 5;

/** One `prefect work-pool create <name> --type <type>`. */
export interface PrefectWorkPoolArgs {
  /** @default `"process"` (Prefect's own default worker type) */
  type?: string;
}

interface PrefectServerBaseArgs {
  /**
   * The server's database as SQLAlchemy takes it, `postgresql+asyncpg://…` on a **direct** (not PgBouncer)
   * endpoint: Prefect's prepared statements do not survive a transaction pooler. From a NeonProject
   * (`ownerConnectionUrl(db, { driver: "sqlalchemy+asyncpg" })`) or any URL the program holds as a secret (Supabase).
   */
  databaseUrl: pulumi.Input<string>;
  /** Prefect major version of server and clients. Basic auth (an auth string) exists only in 3. @default `3` */
  version?: PrefectVersion;
  /**
   * Work pools by name, created with `prefect work-pool create <name> --type <type> --overwrite` after each deploy
   * (seed 000's `fly ssh console -C "uv run prefect work-pool create …"`). @default none
   */
  workPools?: Record<string, PrefectWorkPoolArgs>;
}

/** The server runs inside another app's container (a start script in its image); this only describes its wiring. */
export interface ColocatedPrefectServerArgs extends PrefectServerBaseArgs {
  mode: "colocated";
  /** How the image runs the Prefect CLI, e.g. `["uv", "run", "prefect"]`. @default `["prefect"]` */
  prefectCli?: string[];
  /** The host app's process group whose first machine runs the work-pool commands. @default the host app's first group */
  processGroup?: string;
  /** The port the colocated server listens on. @default `4200` (Prefect's) */
  port?: number;
}

/**
 * The server as its own Fly app (seed 004). It is never reachable without credentials: with `access: "auth"`
 * (Prefect 3) it is public over HTTPS behind a generated basic-auth string; with `access: "private"` it has no
 * public address and is reached over Fly's private network (Flycast, `http://<app>.flycast/api`) only, the
 * choice for Prefect 2, whose clients cannot send credentials.
 */
export interface StandalonePrefectServerArgs extends PrefectServerBaseArgs {
  mode: "standalone";
  /** @default `"auth"` with Prefect 3; Prefect 2 takes `"private"` only */
  access?: "auth" | "private";
  /**
   * The server's FlyApp: FlyApp's args without `processGroups`, whose one group `app` the component makes
   * (`prefect server start`, an HTTP service on `port` with the `/api/health` check); `group` is merged over it.
   */
  app: Omit<FlyAppArgs, "image" | "processGroups"> & {
    /** @default `defaultPrefectImages[version]` */
    image?: pulumi.Input<string>;
    /** Over the default group, e.g. `{ guest, httpService: { minMachinesRunning: 1, autostop: "off" } }`. @default `{}` */
    group?: Partial<FlyProcessGroupArgs>;
  };
  /** @default `4200` (Prefect's) */
  port?: number;
}

/** Which mode decides which resources exist, so it is a plain field. */
export type PrefectServerArgs = ColocatedPrefectServerArgs | StandalonePrefectServerArgs;

function workPoolCommands(cli: string[], pools: Record<string, PrefectWorkPoolArgs>, processGroup?: string): Record<string, FlyExecCommandArgs> {
  return Object.fromEntries(
    Object.entries(pools).map(([pool, spec]) => [
      `work-pool-${pool}`,
      {
        command: [...cli, "work-pool", "create", pool, "--type", spec.type ?? "process", "--overwrite"],
        processGroup,
        attempts: workPoolAttempts,
        retryDelaySeconds: workPoolRetryDelaySeconds,
      },
    ]),
  );
}

/**
 * A self-hosted Prefect server with its work pools. `colocated` only describes what the host FlyApp must carry
 * (`env`, `secretEnv`, `workPoolCommands`); `standalone` makes its own FlyApp and hands its clients the URL
 * and, with `access: "auth"`, the auth string.
 *
 * @example
 * const prefect = new PrefectServer("prefect", {
 *   mode: "standalone", version: 3, databaseUrl: config.requireSecret("prefectDatabaseUrl"),
 *   app: { appName: "acme-prefect", orgSlug: "acme", primaryRegion: "ams" },
 *   workPools: { default: {} },
 * });
 */
export class PrefectServer extends pulumi.ComponentResource {
  /** Where clients reach the API: `http://localhost:<port>/api` (colocated), `https://<app>.fly.dev/api` (auth) or `http://<app>.flycast/api` (private). */
  readonly apiUrl: pulumi.Output<string>;
  /** Plain environment for clients (`PREFECT_API_URL`). */
  readonly env: pulumi.Output<Record<string, string>>;
  /**
   * Secret environment: colocated, the server's `PREFECT_API_DATABASE_CONNECTION_URL` for the host app's
   * secrets; standalone with auth, the clients' `PREFECT_API_AUTH_STRING`; otherwise empty.
   */
  readonly secretEnv: pulumi.Output<Record<string, string>>;
  /** `admin:<generated>` (secret), standalone with `access: "auth"` only. */
  readonly authString: pulumi.Output<string> | undefined;
  /** Colocated: the host FlyApp's `execCommands` that create the work pools inside its machine. Empty otherwise. */
  readonly workPoolCommands: Record<string, FlyExecCommandArgs>;
  /** The server's FlyApp, standalone only. */
  readonly app: FlyApp | undefined;

  constructor(name: string, args: PrefectServerArgs, opts?: pulumi.ComponentResourceOptions) {
    const version = args.version ?? 3;
    const pools = args.workPools ?? {};
    validate(name, args, version, pools);
    super("platform:index:PrefectServer", name, {}, opts);

    const databaseUrl = pulumi.secret(args.databaseUrl);
    if (args.mode === "colocated") {
      this.apiUrl = pulumi.output(`http://localhost:${args.port ?? defaultPrefectPort}/api`);
      this.secretEnv = pulumi.secret(databaseUrl.apply((url): Record<string, string> => ({ PREFECT_API_DATABASE_CONNECTION_URL: url })));
      this.authString = undefined;
      this.workPoolCommands = workPoolCommands(args.prefectCli ?? ["prefect"], pools, args.processGroup);
      this.app = undefined;
    } else {
      const access = args.access ?? "auth";
      const authString = access === "auth" ? this.createAuthString(name) : undefined;
      this.app = this.createApp(name, args, version, pools, databaseUrl, authString);
      this.apiUrl = authString ? pulumi.interpolate`https://${this.app.hostname}/api` : pulumi.interpolate`http://${this.app.appName}.flycast/api`;
      this.secretEnv = authString
        ? pulumi.secret(authString.apply((auth): Record<string, string> => ({ PREFECT_API_AUTH_STRING: auth })))
        : pulumi.output<Record<string, string>>({});
      this.authString = authString;
      this.workPoolCommands = {};
    }
    this.env = this.apiUrl.apply((url): Record<string, string> => ({ PREFECT_API_URL: url }));

    this.registerOutputs({ apiUrl: this.apiUrl, env: this.env, secretEnv: this.secretEnv, authString: this.authString });
  }

  /** Basic auth, `user:password` as Prefect 3 expects it in PREFECT_SERVER_API_AUTH_STRING. */
  private createAuthString(name: string): pulumi.Output<string> {
    const password = new random.RandomPassword(`${name}-auth`, { length: 32, special: false }, { parent: this });
    return pulumi.secret(pulumi.interpolate`admin:${password.result}`);
  }

  private createApp(
    name: string,
    args: StandalonePrefectServerArgs,
    version: PrefectVersion,
    pools: Record<string, PrefectWorkPoolArgs>,
    databaseUrl: pulumi.Output<string>,
    authString: pulumi.Output<string> | undefined,
  ): FlyApp {
    const port = args.port ?? defaultPrefectPort;
    const { image, group, ...app } = args.app;
    const isPrivate = authString === undefined;
    const base: FlyProcessGroupArgs = {
      count: 1,
      guest: defaultPrefectGuests[version],
      command: ["prefect", "server", "start", "--host", "0.0.0.0"],
      // Through Flycast the proxy speaks plain HTTP inside the private network; publicly, HTTPS only.
      httpService: { internalPort: port, forceHttps: !isPrivate, checks: [healthCheck(port)] },
    };
    // A field given as `undefined` keeps the component's default instead of erasing it.
    const own = dropUndefined(group ?? {});
    const merged: FlyProcessGroupArgs = {
      ...base,
      ...own,
      httpService: { ...base.httpService, ...dropUndefined(group?.httpService ?? {}) } as FlyProcessGroupArgs["httpService"],
    };
    // An app made through the Machines API has no address until one is allocated (`fly deploy` did it for the seeds).
    const addresses: IpType[] = isPrivate ? ["private_v6"] : publicIpTypes;
    return new FlyApp(
      name,
      {
        ...app,
        image: image ?? defaultPrefectImages[version],
        processGroups: { app: merged },
        ipAddresses: [...new Set<IpType>([...addresses, ...(app.ipAddresses ?? [])])],
        env: pulumi.all([app.env ?? {}, app.appName]).apply(([own, appName]) => ({
          PREFECT_SERVER_API_HOST: "0.0.0.0",
          PREFECT_SERVER_API_PORT: String(port),
          // For the work-pool commands run inside the server's machine.
          PREFECT_API_URL: `http://localhost:${port}/api`,
          // Where the browser UI calls the API. Prefect defaults it to PREFECT_API_URL (localhost), which only suits a
          // private server browsed through `fly proxy <port>`; a public one is browsed at its own URL.
          ...(isPrivate ? {} : { PREFECT_UI_API_URL: `https://${appName}.fly.dev/api` }),
          ...own,
        })),
        secrets: pulumi.output(app.secrets ?? {}).apply((own) => ({
          ...own,
          PREFECT_API_DATABASE_CONNECTION_URL: databaseUrl,
          ...(authString ? { PREFECT_SERVER_API_AUTH_STRING: authString, PREFECT_API_AUTH_STRING: authString } : {}),
        })),
        execCommands: { ...workPoolCommands(["prefect"], pools), ...app.execCommands },
      },
      { parent: this },
    );
  }
}

function validate(name: string, args: PrefectServerArgs, version: PrefectVersion, pools: Record<string, PrefectWorkPoolArgs>): void {
  const fail = (message: string): never => {
    throw new Error(`PrefectServer '${name}': ${message}`);
  };
  const mode: unknown = args.mode;
  if (mode !== "colocated" && mode !== "standalone") fail(`mode must be "colocated" or "standalone", got ${JSON.stringify(mode)}`);
  if (!prefectVersions.includes(version)) fail(`version must be 2 or 3, got ${JSON.stringify(version)}`);
  for (const pool of Object.keys(pools)) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(pool)) fail(`work pool name '${pool}' must be lowercase letters, digits or dashes`);
  }
  if (args.mode === "standalone") {
    const access: unknown = args.access ?? "auth";
    if (access !== "auth" && access !== "private") fail(`access must be "auth" or "private", got ${JSON.stringify(access)}`);
    if (version === 2 && access === "auth") {
      fail('access "auth" needs Prefect 3 (Prefect 2 has no server auth string); use access: "private" (Flycast only) or version: 3');
    }
    const exposed = (args.app.ipAddresses ?? []).filter((type) => internetIpTypes.includes(type));
    if (access === "private" && exposed.length > 0) {
      fail(`app.ipAddresses: ${exposed.join(", ")} would make the server public, and access "private" has no auth; remove it or use access: "auth"`);
    }
    if (args.app.secrets !== undefined && !pulumi.Output.isInstance(args.app.secrets)) {
      const own = Object.keys(args.app.secrets).filter((key) => key.startsWith("PREFECT_API_") || key.startsWith("PREFECT_SERVER_API_"));
      if (own.length > 0) fail(`app.secrets: ${own.join(", ")} are set by the component`);
    }
  }
  const port = args.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) fail(`port must be between 1 and 65535, got ${port}`);
  if (args.mode === "standalone") {
    // The server listens on `port` (its env says so); a service on another port would reach nothing.
    const servicePort = args.app.group?.httpService?.internalPort;
    if (typeof servicePort === "number" && servicePort !== (port ?? defaultPrefectPort)) {
      fail(`app.group.httpService.internalPort ${servicePort} differs from port ${port ?? defaultPrefectPort}, where the server listens; set \`port\` instead`);
    }
  }
}
