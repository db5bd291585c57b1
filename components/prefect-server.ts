import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { DeepInput } from "../dynamic-providers/fly/machine";
import type { Autostop, MachineCheck, MachineGuest } from "../dynamic-providers/fly/machine-types";
import { FlyApp, type FlyExecCommandArgs } from "./fly-app";

const defaultPort = 4200;
const localApiUrl = `http://localhost:${defaultPort}/api`;

/** Seed 004's `[[http_service.checks]]`: GET /api/health every 30s, 5s timeout, 60s grace. */
function healthCheck(port: number): MachineCheck {
  // Prefect's auth middleware lets GET .../health through, so the check needs no credentials.
  return { type: "http", port, method: "GET", path: "/api/health", interval: "30s", timeout: "5s", gracePeriod: "60s" };
}

/**
 * Prefect 3 on Python 3.12. Seed 004 used `prefecthq/prefect:2-python3.11`, but a Prefect 3 client does
 * not talk to a 2.x server, and basic auth (PREFECT_SERVER_API_AUTH_STRING) exists only in 3. The major
 * tag is pinned, not `latest`, so a Prefect 4 cannot change the API under the clients; pass a digest to
 * pin further.
 */
export const defaultPrefectImage = "prefecthq/prefect:3-python3.12";

/**
 * shared-cpu-1x with 512 MB. Seed 004 sized the server at 256 MB, but a Prefect 3 server (API, UI and its
 * background services in one process) needs more than 256 MB resident and is OOM-killed there.
 */
export const defaultPrefectGuest: MachineGuest = { cpuKind: "shared", cpus: 1, memoryMb: 512 };

/** Seed 000's two pools; recovery has its own so production work filling content-pool never blocks it. */
export const defaultWorkPools = ["content-pool", "recovery-pool"];

/** Attempts × delay: a colocated server starts in the background (start-pipeline.sh waits up to 30 s for it). */
const workPoolAttempts = 12;
const workPoolRetryDelaySeconds = 5;

interface PrefectServerBaseArgs {
  /**
   * The server's database, `postgresql+asyncpg://…/prefect_server?ssl=require` on the **direct** Neon
   * endpoint (Prefect's prepared statements do not work through PgBouncer): NeonProject's `prefectUrl`.
   * Replaces seed 000's `fly secrets set PREFECT_API_DATABASE_CONNECTION_URL=…`.
   */
  databaseUrl: pulumi.Input<string>;
  /**
   * Work pools (type `process`) created with `prefect work-pool create <name> --type process --overwrite`
   * after each deploy, replacing seed 000's `fly ssh console -C "uv run prefect work-pool create …"`.
   * @default `["content-pool", "recovery-pool"]`
   */
  workPools?: string[];
}

/** Seed 000: the server runs inside the worker's container, started by scripts/start-pipeline.sh. */
export interface ColocatedPrefectServerArgs extends PrefectServerBaseArgs {
  mode: "colocated";
  /**
   * How the worker image runs the Prefect CLI.
   * @default `["uv", "run", "prefect"]` (seed 000's `uv run prefect …`)
   */
  prefectCli?: string[];
  /** The worker app's process group whose first machine runs the work-pool commands. @default the worker app's first group */
  processGroup?: string;
}

/** Seed 004: the server is its own Fly app, reachable over HTTPS and protected by basic auth. */
export interface StandalonePrefectServerArgs extends PrefectServerBaseArgs {
  mode: "standalone";
  /** Fly app name of the server (seed 004: `prefect`). */
  appName: pulumi.Input<string>;
  orgSlug: pulumi.Input<string>;
  /** seed 004: `ewr`. */
  region: pulumi.Input<string>;
  /** @default `"prefecthq/prefect:3-python3.12"` (see defaultPrefectImage for why) */
  image?: pulumi.Input<string>;
  /** @default `{ cpuKind: "shared", cpus: 1, memoryMb: 512 }` (seed 004: 256 MB, too small for Prefect 3) */
  guest?: DeepInput<MachineGuest>;
  /** `auto_stop_machines`. @default `"off"` (seed 004) */
  autostop?: pulumi.Input<Autostop>;
  /** `min_machines_running`. @default `1` (seed 004) */
  minMachinesRunning?: pulumi.Input<number>;
  /** `auto_start_machines`. @default `true` (seed 004) */
  autostart?: pulumi.Input<boolean>;
  /** `force_https`. @default `true` (seed 004) */
  forceHttps?: pulumi.Input<boolean>;
  /** The port the server listens on (PREFECT_SERVER_API_PORT, `internal_port`). @default `4200` (seed 004) */
  port?: number;
  /** Health checks. @default GET `/api/health` 30s / 5s / 60s grace (seed 004) */
  checks?: DeepInput<MachineCheck[]>;
  /** Extra plain environment, merged over the server's own (seed 004 `[env]`). */
  env?: Record<string, string>;
}

/** Which mode decides which resources exist, so it is a plain field. */
export type PrefectServerArgs = ColocatedPrefectServerArgs | StandalonePrefectServerArgs;

function workPoolCommands(cli: string[], pools: string[], processGroup?: string): Record<string, FlyExecCommandArgs> {
  return Object.fromEntries(
    pools.map((pool) => [
      `work-pool-${pool}`,
      {
        command: [...cli, "work-pool", "create", pool, "--type", "process", "--overwrite"],
        processGroup,
        attempts: workPoolAttempts,
        retryDelaySeconds: workPoolRetryDelaySeconds,
      },
    ]),
  );
}

/**
 * The self-hosted Prefect server with its work pools. `colocated` only describes what the worker FlyApp
 * must carry (`env`, `secretEnv`, `workPoolCommands`); `standalone` makes its own FlyApp and hands its
 * clients the URL and auth string.
 */
export class PrefectServer extends pulumi.ComponentResource {
  /** Where clients reach the API: `http://localhost:4200/api` (colocated) or `https://<app>.fly.dev/api`. */
  readonly apiUrl: pulumi.Output<string>;
  /** Plain environment for clients (`PREFECT_API_URL`). */
  readonly env: pulumi.Output<Record<string, string>>;
  /**
   * Secret environment: colocated, the server's `PREFECT_API_DATABASE_CONNECTION_URL` for the worker app's
   * secrets; standalone, the clients' `PREFECT_API_AUTH_STRING`.
   */
  readonly secretEnv: pulumi.Output<Record<string, string>>;
  /** `admin:<generated>` (secret), standalone only. */
  readonly authString: pulumi.Output<string> | undefined;
  /**
   * Colocated: the worker FlyApp's `execCommands` that create the work pools inside its machine. Empty in
   * standalone mode, where the server app runs them itself.
   */
  readonly workPoolCommands: Record<string, FlyExecCommandArgs>;
  /** The server's FlyApp, standalone only. */
  readonly app: FlyApp | undefined;

  constructor(name: string, args: PrefectServerArgs, opts?: pulumi.ComponentResourceOptions) {
    const pools = args.workPools ?? defaultWorkPools;
    validate(name, args, pools);
    super("platform:index:PrefectServer", name, {}, opts);

    const databaseUrl = pulumi.secret(args.databaseUrl);
    if (args.mode === "colocated") {
      this.apiUrl = pulumi.output(localApiUrl);
      this.secretEnv = pulumi.secret(databaseUrl.apply((url): Record<string, string> => ({ PREFECT_API_DATABASE_CONNECTION_URL: url })));
      this.authString = undefined;
      this.workPoolCommands = workPoolCommands(args.prefectCli ?? ["uv", "run", "prefect"], pools, args.processGroup);
      this.app = undefined;
    } else {
      const authString = this.createAuthString(name);
      this.app = this.createApp(name, args, pools, databaseUrl, authString);
      this.apiUrl = pulumi.interpolate`https://${this.app.hostname}/api`;
      this.secretEnv = pulumi.secret(authString.apply((auth): Record<string, string> => ({ PREFECT_API_AUTH_STRING: auth })));
      this.authString = authString;
      this.workPoolCommands = {};
    }
    this.env = this.apiUrl.apply((url): Record<string, string> => ({ PREFECT_API_URL: url }));

    this.registerOutputs({ apiUrl: this.apiUrl, env: this.env, secretEnv: this.secretEnv, authString: this.authString });
  }

  /** Basic auth, `user:password` as Prefect expects it in PREFECT_SERVER_API_AUTH_STRING. */
  private createAuthString(name: string): pulumi.Output<string> {
    const password = new random.RandomPassword(`${name}-auth`, { length: 32, special: false }, { parent: this });
    return pulumi.secret(pulumi.interpolate`admin:${password.result}`);
  }

  private createApp(
    name: string,
    args: StandalonePrefectServerArgs,
    pools: string[],
    databaseUrl: pulumi.Output<string>,
    authString: pulumi.Output<string>,
  ): FlyApp {
    const port = args.port ?? defaultPort;
    return new FlyApp(
      name,
      {
        appName: args.appName,
        orgSlug: args.orgSlug,
        primaryRegion: args.region,
        image: args.image ?? defaultPrefectImage,
        processGroups: {
          app: {
            count: 1,
            guest: args.guest ?? defaultPrefectGuest,
            command: ["prefect", "server", "start", "--host", "0.0.0.0"],
            httpService: {
              internalPort: port,
              forceHttps: args.forceHttps ?? true,
              autostop: args.autostop ?? "off",
              autostart: args.autostart ?? true,
              minMachinesRunning: args.minMachinesRunning ?? 1,
              checks: args.checks ?? [healthCheck(port)],
            },
          },
        },
        env: {
          PREFECT_SERVER_API_HOST: "0.0.0.0",
          PREFECT_SERVER_API_PORT: String(port),
          // For the work-pool commands run inside the server's machine.
          PREFECT_API_URL: `http://localhost:${port}/api`,
          ...args.env,
        },
        secrets: {
          PREFECT_API_DATABASE_CONNECTION_URL: databaseUrl,
          PREFECT_SERVER_API_AUTH_STRING: authString,
          PREFECT_API_AUTH_STRING: authString,
        },
        execCommands: workPoolCommands(["prefect"], pools),
      },
      { parent: this },
    );
  }
}

function validate(name: string, args: PrefectServerArgs, pools: string[]): void {
  const fail = (message: string): never => {
    throw new Error(`PrefectServer '${name}': ${message}`);
  };
  const mode: unknown = args.mode;
  if (mode !== "colocated" && mode !== "standalone") fail(`mode must be "colocated" or "standalone", got ${JSON.stringify(mode)}`);
  if (pools.length === 0) fail("workPools must name at least one pool (the flows' deployments need them)");
  for (const pool of pools) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(pool)) fail(`work pool name '${pool}' must be lowercase letters, digits or dashes`);
  }
  if (new Set(pools).size !== pools.length) fail(`workPools lists a pool twice: ${pools.join(", ")}`);
}
