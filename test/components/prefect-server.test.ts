import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { FlyApp as FlyAppClass } from "../../components/fly-app";
import type { PrefectServer as PrefectServerClass, PrefectServerArgs, StandalonePrefectServerArgs } from "../../components/prefect-server";
import { flyType, nameOf, setFlyMocks, settled, valueOf, type Registration } from "./fly-mocks";

let registrations: Registration[];
let PrefectServer: typeof PrefectServerClass;
let FlyApp: typeof FlyAppClass;

beforeAll(async () => {
  registrations = await setFlyMocks();
  ({ PrefectServer } = await import("../../components/prefect-server"));
  ({ FlyApp } = await import("../../components/fly-app"));
});

/** NeonProject's prefectUrl: direct endpoint, asyncpg, ssl=require. */
const databaseUrl = pulumi.secret("postgresql+asyncpg://naluma_content_owner:pw@ep-cool-1.eu-central-1.aws.neon.tech/prefect_server?ssl=require");
const workPoolCommand = (cli: string[], pool: string): string[] => [...cli, "work-pool", "create", pool, "--type", "process", "--overwrite"];

function childrenOf(urn: string): Registration[] {
  return registrations.filter((r) => r.parent === urn);
}

function only(list: Registration[], type: string): Registration {
  const found = list.filter((r) => r.type === type);
  if (found.length !== 1) throw new Error(`expected one ${type}, got ${found.length}`);
  return found[0];
}

describe("PrefectServer colocated with the worker (seed 000)", () => {
  let server: PrefectServerClass;
  let worker: FlyAppClass;
  let workerUrn: string;

  beforeAll(async () => {
    // Plain on purpose: the component itself must make it secret.
    server = new PrefectServer("prefect_server", { mode: "colocated", databaseUrl: await valueOf(databaseUrl) });
    // What index.ts does with it: the worker app carries the server's env, secret and work-pool commands.
    worker = new FlyApp("worker", {
      appName: "naluma-content",
      orgSlug: "personal",
      primaryRegion: "fra",
      image: "registry.fly.io/naluma-content:deployment-3",
      processGroups: { app: { guest: { cpuKind: "shared", cpus: 1, memoryMb: 3072 } } },
      env: server.env,
      secrets: pulumi.all([server.secretEnv, { ANTHROPIC_API_KEY: pulumi.secret("sk-ant-x") }]).apply(([prefect, app]) => ({ ...prefect, ...app })),
      execCommands: server.workPoolCommands,
    });
    workerUrn = await valueOf(worker.urn);
    await valueOf(worker.machineIds);
    await settled(registrations);
  });

  it("makes no resources of its own", async () => {
    expect(childrenOf(await valueOf(server.urn))).toEqual([]);
    expect(server.app).toBeUndefined();
    expect(server.authString).toBeUndefined();
  });

  it("points clients at the local server, plain, and carries the database URL as a secret", async () => {
    expect(await valueOf(server.apiUrl)).toBe("http://localhost:4200/api");
    expect(await valueOf(server.env)).toEqual({ PREFECT_API_URL: "http://localhost:4200/api" });
    expect(await pulumi.isSecret(server.env)).toBe(false);
    expect(await valueOf(server.secretEnv)).toEqual({ PREFECT_API_DATABASE_CONNECTION_URL: await valueOf(databaseUrl) });
    expect(await pulumi.isSecret(server.secretEnv)).toBe(true);
  });

  it("describes the work pools as `uv run prefect` commands for the worker app", () => {
    expect(Object.keys(server.workPoolCommands)).toEqual(["work-pool-content-pool", "work-pool-recovery-pool"]);
    expect(server.workPoolCommands["work-pool-content-pool"]).toMatchObject({
      command: workPoolCommand(["uv", "run", "prefect"], "content-pool"),
      attempts: 12,
      retryDelaySeconds: 5,
    });
  });

  it("lands in the worker app: env on the machine, the URL in its Secrets, the pools run in its machine", () => {
    const children = childrenOf(workerUrn);
    const machine = only(children, flyType("Machine"));
    expect(machine.inputs.env).toEqual({ PREFECT_API_URL: "http://localhost:4200/api" });
    const secrets = only(children, flyType("Secrets"));
    expect(secrets.secretInputs).toContain("values");
    expect(Object.keys(secrets.inputs.values as Record<string, string>).sort()).toEqual(["ANTHROPIC_API_KEY", "PREFECT_API_DATABASE_CONNECTION_URL"]);
    const execs = children.filter((r) => r.type === flyType("MachineExec"));
    expect(execs.map((exec) => exec.inputs.command)).toEqual([
      workPoolCommand(["uv", "run", "prefect"], "content-pool"),
      workPoolCommand(["uv", "run", "prefect"], "recovery-pool"),
    ]);
    for (const exec of execs) expect(exec.inputs.machineId).toBe("m-worker-app-0");
  });
});

const standalone: StandalonePrefectServerArgs = { mode: "standalone", databaseUrl, appName: "naluma-prefect", orgSlug: "personal", region: "ewr" };

describe.each([
  { title: "seed 004's settings with the Prefect 3 defaults", name: "prefect", args: standalone, image: "prefecthq/prefect:3-python3.12", memoryMb: 512, autostop: "off", min: 1 },
  {
    title: "overrides",
    name: "prefect2",
    args: { ...standalone, appName: "naluma-prefect-2", image: "prefecthq/prefect:3.4-python3.12", guest: { cpuKind: "shared", cpus: 1, memoryMb: 1024 }, autostop: "stop", minMachinesRunning: 0 } as const,
    image: "prefecthq/prefect:3.4-python3.12",
    memoryMb: 1024,
    autostop: "stop",
    min: 0,
  },
])("PrefectServer standalone, $title", ({ name, args, image, memoryMb, autostop, min }) => {
  let server: PrefectServerClass;
  let own: Registration[];
  let appChildren: Registration[];

  beforeAll(async () => {
    server = new PrefectServer(name, args);
    await valueOf(server.apiUrl);
    await settled(registrations);
    own = childrenOf(await valueOf(server.urn));
    const app = own.find((r) => r.type === "platform:index:FlyApp");
    if (!app) throw new Error("no FlyApp child");
    appChildren = registrations.filter((r) => r.parent.endsWith(`platform:index:PrefectServer$platform:index:FlyApp::${name}`));
  });

  it("makes its own FlyApp and the auth password, children of the component", () => {
    expect(own.map((r) => [r.type, r.name]).sort()).toEqual([
      ["platform:index:FlyApp", name],
      ["random:index/randomPassword:RandomPassword", `${name}-auth`],
    ]);
    expect(only(own, "random:index/randomPassword:RandomPassword").inputs).toMatchObject({ length: 32, special: false });
    expect(appChildren.map((r) => r.type).sort()).toEqual(
      [flyType("App"), flyType("Machine"), flyType("MachineExec"), flyType("MachineExec"), flyType("Secrets")].sort(),
    );
  });

  it("runs `prefect server start` on port 4200 behind HTTPS with the /api/health check", () => {
    const machine = only(appChildren, flyType("Machine"));
    expect(machine.inputs).toMatchObject({
      image,
      region: "ewr",
      init: { cmd: ["prefect", "server", "start", "--host", "0.0.0.0"] },
      guest: { cpuKind: "shared", cpus: 1, memoryMb },
      env: { PREFECT_SERVER_API_HOST: "0.0.0.0", PREFECT_SERVER_API_PORT: "4200", PREFECT_API_URL: "http://localhost:4200/api" },
      minSecretsVersion: 7,
    });
    expect(machine.inputs.services).toEqual([
      {
        protocol: "tcp",
        internalPort: 4200,
        ports: [
          { port: 80, handlers: ["http"], forceHttps: true },
          { port: 443, handlers: ["tls", "http"] },
        ],
        autostop,
        autostart: true,
        minMachinesRunning: min,
        checks: [{ type: "http", port: 4200, method: "GET", path: "/api/health", interval: "30s", timeout: "5s", gracePeriod: "60s" }],
      },
    ]);
  });

  it("gives the server its database URL and auth string as secrets, and the CLI inside the same auth", async () => {
    const secrets = only(appChildren, flyType("Secrets"));
    expect(secrets.secretInputs).toContain("values");
    const auth = `admin:${name}-auth-value`;
    expect(secrets.inputs.values).toEqual({
      PREFECT_API_DATABASE_CONNECTION_URL: await valueOf(databaseUrl),
      PREFECT_SERVER_API_AUTH_STRING: auth,
      PREFECT_API_AUTH_STRING: auth,
    });
  });

  it("creates both work pools in the server's machine after it is up, again for each image", () => {
    const execs = appChildren.filter((r) => r.type === flyType("MachineExec"));
    expect(execs.map((exec) => exec.inputs.command)).toEqual([workPoolCommand(["prefect"], "content-pool"), workPoolCommand(["prefect"], "recovery-pool")]);
    for (const exec of execs) {
      expect(exec.inputs).toMatchObject({ machineId: `m-${name}-app-0`, trigger: image, attempts: 12 });
      expect(exec.dependencies.map(nameOf)).toContain(`${name}-app-0`);
    }
    expect(server.workPoolCommands).toEqual({});
  });

  it("hands clients the public URL (plain) and the auth string (secret)", async () => {
    const appName = await valueOf(pulumi.output(args.appName));
    expect(await valueOf(server.apiUrl)).toBe(`https://${appName}.fly.dev/api`);
    expect(await valueOf(server.env)).toEqual({ PREFECT_API_URL: `https://${appName}.fly.dev/api` });
    expect(await pulumi.isSecret(server.env)).toBe(false);
    expect(await pulumi.isSecret(server.apiUrl)).toBe(false);
    expect(await valueOf(server.secretEnv)).toEqual({ PREFECT_API_AUTH_STRING: `admin:${name}-auth-value` });
    expect(await pulumi.isSecret(server.secretEnv)).toBe(true);
    if (!server.authString) throw new Error("standalone has an auth string");
    expect(await pulumi.isSecret(server.authString)).toBe(true);
    expect(server.app).toBeDefined();
  });
});

describe("PrefectServer standalone, settings from config", () => {
  it("passes port, autostart, force_https, checks and extra env through to the server's machine", async () => {
    const name = "prefect3";
    const server = new PrefectServer(name, {
      ...standalone,
      appName: "naluma-prefect-3",
      port: 4300,
      autostart: false,
      forceHttps: false,
      checks: [{ type: "http", port: 4300, method: "GET", path: "/api/health", interval: "15s", timeout: "2s", gracePeriod: "30s" }],
      env: { PREFECT_LOGGING_LEVEL: "DEBUG" },
    });
    await valueOf(server.apiUrl);
    await settled(registrations);
    const machine = only(
      registrations.filter((r) => r.parent.endsWith(`platform:index:PrefectServer$platform:index:FlyApp::${name}`)),
      flyType("Machine"),
    );
    expect(machine.inputs.env).toMatchObject({ PREFECT_SERVER_API_PORT: "4300", PREFECT_API_URL: "http://localhost:4300/api", PREFECT_LOGGING_LEVEL: "DEBUG" });
    expect(machine.inputs.services).toEqual([
      {
        protocol: "tcp",
        internalPort: 4300,
        ports: [
          { port: 80, handlers: ["http"], forceHttps: false },
          { port: 443, handlers: ["tls", "http"] },
        ],
        autostop: "off",
        autostart: false,
        minMachinesRunning: 1,
        checks: [{ type: "http", port: 4300, method: "GET", path: "/api/health", interval: "15s", timeout: "2s", gracePeriod: "30s" }],
      },
    ]);
  });
});

describe("PrefectServer refuses", () => {
  it.each<[string, PrefectServerArgs, string]>([
    ["no work pools", { mode: "colocated", databaseUrl, workPools: [] }, "workPools must name at least one pool"],
    ["a pool name with a space", { mode: "colocated", databaseUrl, workPools: ["content pool"] }, "work pool name 'content pool' must be lowercase"],
    ["a pool twice", { mode: "colocated", databaseUrl, workPools: ["a", "a"] }, "workPools lists a pool twice"],
    ["an unknown mode", { mode: "cloud", databaseUrl } as unknown as PrefectServerArgs, "PrefectServer 'bad': mode must be \"colocated\" or \"standalone\", got \"cloud\""],
  ])("%s", (_title, args, message) => {
    expect(() => new PrefectServer("bad", args)).toThrow(message);
  });
});
