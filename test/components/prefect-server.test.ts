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
const databaseUrlText = "postgresql+asyncpg://naluma_content_owner:pw@ep-cool-1.eu-central-1.aws.neon.tech/prefect_server?ssl=require";
const databaseUrl = pulumi.secret(databaseUrlText);
const workPoolCommand = (cli: string[], pool: string, type = "process"): string[] => [...cli, "work-pool", "create", pool, "--type", type, "--overwrite"];
const randomPassword = "random:index/randomPassword:RandomPassword";

function childrenOf(urn: string): Registration[] {
  return registrations.filter((r) => r.parent === urn);
}

function only(list: Registration[], type: string): Registration {
  const found = list.filter((r) => r.type === type);
  if (found.length !== 1) throw new Error(`expected one ${type}, got ${found.length}`);
  return found[0];
}

interface Standalone {
  server: PrefectServerClass;
  /** The PrefectServer's own children. */
  own: Registration[];
  /** The children of its FlyApp. */
  app: Registration[];
}

async function buildStandalone(name: string, args: StandalonePrefectServerArgs): Promise<Standalone> {
  const server = new PrefectServer(name, args);
  await valueOf(server.apiUrl);
  if (!server.app) throw new Error("a standalone server has its FlyApp");
  await valueOf(server.app.machineIds);
  await settled(registrations);
  const appUrn = await valueOf(server.app.urn);
  return { server, own: childrenOf(await valueOf(server.urn)), app: childrenOf(appUrn) };
}

function types(list: Registration[]): string[] {
  return list.map((r) => r.type).sort();
}

describe("PrefectServer colocated with the worker (seed 000)", () => {
  let server: PrefectServerClass;
  let workerUrn: string;

  beforeAll(async () => {
    // Plain on purpose: the component itself must make it secret.
    server = new PrefectServer("prefect_server", {
      mode: "colocated",
      databaseUrl: databaseUrlText,
      workPools: { "content-pool": {}, "recovery-pool": {} },
      prefectCli: ["uv", "run", "prefect"],
      processGroup: "app",
    });
    // What index.ts does with it: the worker app carries the server's env, secret and work-pool commands.
    const worker = new FlyApp("worker", {
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

  it("makes no resources of its own, no app and no auth string", async () => {
    expect(childrenOf(await valueOf(server.urn))).toEqual([]);
    expect(server.app).toBeUndefined();
    expect(server.authString).toBeUndefined();
  });

  it("points clients at the local server, plain, and carries the database URL as a secret", async () => {
    expect(await valueOf(server.apiUrl)).toBe("http://localhost:4200/api");
    expect(await valueOf(server.env)).toEqual({ PREFECT_API_URL: "http://localhost:4200/api" });
    expect(await pulumi.isSecret(server.env)).toBe(false);
    expect(await valueOf(server.secretEnv)).toEqual({ PREFECT_API_DATABASE_CONNECTION_URL: databaseUrlText });
    expect(await pulumi.isSecret(server.secretEnv)).toBe(true);
  });

  it("describes the work pools as `uv run prefect` commands for the host's `app` group, retried while the server starts", () => {
    expect(server.workPoolCommands).toEqual({
      "work-pool-content-pool": { command: workPoolCommand(["uv", "run", "prefect"], "content-pool"), processGroup: "app", attempts: 12, retryDelaySeconds: 5 },
      "work-pool-recovery-pool": { command: workPoolCommand(["uv", "run", "prefect"], "recovery-pool"), processGroup: "app", attempts: 12, retryDelaySeconds: 5 },
    });
  });

  it("lands in the worker app: env on the machine, the URL in its Secrets, the pools run in its machine", () => {
    const children = childrenOf(workerUrn);
    const machine = only(children, flyType("Machine"));
    expect(machine.inputs.env).toEqual({ PREFECT_API_URL: "http://localhost:4200/api" });
    const secrets = only(children, flyType("Secrets"));
    expect(secrets.secretInputs).toContain("values");
    expect(secrets.inputs.values).toEqual({ PREFECT_API_DATABASE_CONNECTION_URL: databaseUrlText, ANTHROPIC_API_KEY: "sk-ant-x" });
    const execs = children.filter((r) => r.type === flyType("MachineExec"));
    expect(execs.map((exec) => exec.inputs.command)).toEqual([
      workPoolCommand(["uv", "run", "prefect"], "content-pool"),
      workPoolCommand(["uv", "run", "prefect"], "recovery-pool"),
    ]);
    for (const exec of execs) expect(exec.inputs).toMatchObject({ machineId: "m-worker-app-0", attempts: 12, retryDelaySeconds: 5 });
  });
});

describe("PrefectServer colocated, other layouts", () => {
  it("has no work-pool commands when no pool is named", async () => {
    const server = new PrefectServer("bare_colocated", { mode: "colocated", databaseUrl });
    expect(server.workPoolCommands).toEqual({});
    expect(await valueOf(server.apiUrl)).toBe("http://localhost:4200/api");
  });

  it("runs the pools through Prefect's own CLI by default, with their type, in the host's first group, and follows the port", async () => {
    const server = new PrefectServer("plain_colocated", { mode: "colocated", version: 2, databaseUrl, port: 4300, workPools: { gpu: { type: "docker" } } });
    expect(server.workPoolCommands).toEqual({
      "work-pool-gpu": { command: workPoolCommand(["prefect"], "gpu", "docker"), processGroup: undefined, attempts: 12, retryDelaySeconds: 5 },
    });
    expect(await valueOf(server.apiUrl)).toBe("http://localhost:4300/api");
    expect(await valueOf(server.env)).toEqual({ PREFECT_API_URL: "http://localhost:4300/api" });
  });
});

describe("PrefectServer standalone with auth (Prefect 3, seed 004)", () => {
  let built: Standalone;
  beforeAll(async () => {
    built = await buildStandalone("prefect", {
      mode: "standalone",
      databaseUrl,
      workPools: { "captionacc-workers": {} },
      app: { appName: "captionacc-prefect", orgSlug: "personal", primaryRegion: "ewr", secrets: { SENTRY_DSN: "https://key@sentry.example/1" } },
    });
  });

  it("makes its own FlyApp and the auth password, children of the component", () => {
    expect(built.own.map((r) => [r.type, r.name]).sort()).toEqual([
      ["platform:index:FlyApp", "prefect"],
      [randomPassword, "prefect-auth"],
    ]);
    expect(only(built.own, randomPassword).inputs).toMatchObject({ length: 32, special: false });
    expect(types(built.app)).toEqual([flyType("App"), flyType("IpAddress"), flyType("IpAddress"), flyType("Machine"), flyType("MachineExec"), flyType("Secrets")].sort());
  });

  it("allocates the public shared_v4 and v6 addresses <app>.fly.dev needs, and no private one", () => {
    const addresses = built.app.filter((r) => r.type === flyType("IpAddress")).map((r) => r.inputs.type);
    expect(addresses.sort()).toEqual(["shared_v4", "v6"]);
  });

  it("runs `prefect server start` from the Prefect 3 image in 512 MB behind HTTPS with the /api/health check", () => {
    const machine = only(built.app, flyType("Machine"));
    expect(machine.inputs).toMatchObject({
      image: "prefecthq/prefect:3-python3.12",
      region: "ewr",
      init: { cmd: ["prefect", "server", "start", "--host", "0.0.0.0"] },
      guest: { cpuKind: "shared", cpus: 1, memoryMb: 512 },
      env: {
        PREFECT_SERVER_API_HOST: "0.0.0.0",
        PREFECT_SERVER_API_PORT: "4200",
        PREFECT_API_URL: "http://localhost:4200/api",
        // The browser UI calls the public URL, not the machine's localhost.
        PREFECT_UI_API_URL: "https://captionacc-prefect.fly.dev/api",
      },
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
        autostop: "off",
        autostart: true,
        minMachinesRunning: 0,
        checks: [{ type: "http", port: 4200, method: "GET", path: "/api/health", interval: "30s", timeout: "5s", gracePeriod: "60s" }],
      },
    ]);
  });

  it("gives the server its own secrets, the database URL and the auth string (for server and in-machine CLI), as secrets", () => {
    const secrets = only(built.app, flyType("Secrets"));
    expect(secrets.secretInputs).toContain("values");
    const auth = "admin:prefect-auth-value";
    expect(secrets.inputs.values).toEqual({
      SENTRY_DSN: "https://key@sentry.example/1",
      PREFECT_API_DATABASE_CONNECTION_URL: databaseUrlText,
      PREFECT_SERVER_API_AUTH_STRING: auth,
      PREFECT_API_AUTH_STRING: auth,
    });
  });

  it("creates the work pool in the server's machine with Prefect's CLI after it is up, again for each image", () => {
    const exec = only(built.app, flyType("MachineExec"));
    expect(exec.name).toBe("prefect-work-pool-captionacc-workers");
    expect(exec.inputs).toMatchObject({
      command: workPoolCommand(["prefect"], "captionacc-workers"),
      machineId: "m-prefect-app-0",
      trigger: "prefecthq/prefect:3-python3.12",
      attempts: 12,
    });
    expect(exec.dependencies.map(nameOf)).toContain("prefect-app-0");
    expect(built.server.workPoolCommands).toEqual({});
  });

  it("hands clients the public https URL (plain) and the auth string (secret)", async () => {
    const { server } = built;
    expect(await valueOf(server.apiUrl)).toBe("https://captionacc-prefect.fly.dev/api");
    expect(await valueOf(server.env)).toEqual({ PREFECT_API_URL: "https://captionacc-prefect.fly.dev/api" });
    expect(await pulumi.isSecret(server.env)).toBe(false);
    expect(await pulumi.isSecret(server.apiUrl)).toBe(false);
    expect(await valueOf(server.secretEnv)).toEqual({ PREFECT_API_AUTH_STRING: "admin:prefect-auth-value" });
    expect(await pulumi.isSecret(server.secretEnv)).toBe(true);
    if (!server.authString) throw new Error("access auth has an auth string");
    expect(await valueOf(server.authString)).toBe("admin:prefect-auth-value");
    expect(await pulumi.isSecret(server.authString)).toBe(true);
  });
});

describe("PrefectServer standalone, private over Flycast (Prefect 2)", () => {
  let built: Standalone;
  beforeAll(async () => {
    built = await buildStandalone("legacy", {
      mode: "standalone",
      version: 2,
      access: "private",
      databaseUrl,
      app: { appName: "legacy-prefect", orgSlug: "acme", primaryRegion: "ams" },
    });
  });

  it("makes the FlyApp and no password", () => {
    expect(built.own.map((r) => [r.type, r.name])).toEqual([["platform:index:FlyApp", "legacy"]]);
    expect(registrations.some((r) => r.type === randomPassword && r.name.startsWith("legacy"))).toBe(false);
    expect(types(built.app)).toEqual([flyType("App"), flyType("IpAddress"), flyType("Machine"), flyType("Secrets")].sort());
  });

  it("allocates a private_v6 (Flycast) address and no public one", () => {
    expect(only(built.app, flyType("IpAddress")).inputs).toMatchObject({ appName: "legacy-prefect", type: "private_v6" });
  });

  it("runs the Prefect 2 image in 256 MB, the HTTP service without the HTTPS redirect", () => {
    const machine = only(built.app, flyType("Machine"));
    expect(machine.inputs).toMatchObject({ image: "prefecthq/prefect:2-python3.11", region: "ams", guest: { cpuKind: "shared", cpus: 1, memoryMb: 256 } });
    // Browsed through `fly proxy 4200`: the UI keeps Prefect's localhost default.
    expect((machine.inputs.env as Record<string, string>).PREFECT_UI_API_URL).toBeUndefined();
    const services = machine.inputs.services as { internalPort: number; ports: unknown[] }[];
    expect(services).toHaveLength(1);
    expect(services[0].internalPort).toBe(4200);
    expect(services[0].ports).toEqual([
      { port: 80, handlers: ["http"], forceHttps: false },
      { port: 443, handlers: ["tls", "http"] },
    ]);
  });

  it("gives the server the database URL only, as a secret, and runs no work-pool command", () => {
    const secrets = only(built.app, flyType("Secrets"));
    expect(secrets.secretInputs).toContain("values");
    expect(secrets.inputs.values).toEqual({ PREFECT_API_DATABASE_CONNECTION_URL: databaseUrlText });
    expect(built.app.filter((r) => r.type === flyType("MachineExec"))).toEqual([]);
  });

  it("hands clients http://<app>.flycast/api and no auth string", async () => {
    const { server } = built;
    expect(await valueOf(server.apiUrl)).toBe("http://legacy-prefect.flycast/api");
    expect(await valueOf(server.env)).toEqual({ PREFECT_API_URL: "http://legacy-prefect.flycast/api" });
    expect(await valueOf(server.secretEnv)).toEqual({});
    expect(server.authString).toBeUndefined();
  });
});

describe("PrefectServer standalone, `group` merged over the default group", () => {
  let built: Standalone;
  beforeAll(async () => {
    built = await buildStandalone("tuned", {
      mode: "standalone",
      databaseUrl,
      port: 4300,
      workPools: { default: { type: "process" } },
      app: {
        appName: "tuned-prefect",
        orgSlug: "acme",
        primaryRegion: "fra",
        image: "prefecthq/prefect:3.4-python3.12",
        env: { PREFECT_LOGGING_LEVEL: "DEBUG" },
        ipAddresses: ["v6", "egress_v4"],
        execCommands: { "flow-deploy": { command: ["prefect", "deploy", "--all"] } },
        group: {
          guest: { cpuKind: "shared", cpus: 1, memoryMb: 1024 },
          httpService: {
            internalPort: 4300,
            autostop: "stop",
            minMachinesRunning: 1,
            checks: [{ type: "http", port: 4300, method: "GET", path: "/api/health", interval: "15s", timeout: "2s", gracePeriod: "30s" }],
          },
        },
      },
    });
  });

  it("keeps the server command and the HTTPS redirect, and takes the group's size, autostop, minimum and checks", () => {
    const machine = only(built.app, flyType("Machine"));
    expect(machine.inputs).toMatchObject({
      image: "prefecthq/prefect:3.4-python3.12",
      guest: { cpuKind: "shared", cpus: 1, memoryMb: 1024 },
      init: { cmd: ["prefect", "server", "start", "--host", "0.0.0.0"] },
    });
    expect(machine.inputs.services).toEqual([
      {
        protocol: "tcp",
        internalPort: 4300,
        ports: [
          { port: 80, handlers: ["http"], forceHttps: true },
          { port: 443, handlers: ["tls", "http"] },
        ],
        autostop: "stop",
        autostart: true,
        minMachinesRunning: 1,
        checks: [{ type: "http", port: 4300, method: "GET", path: "/api/health", interval: "15s", timeout: "2s", gracePeriod: "30s" }],
      },
    ]);
  });

  it("puts the port into the server's env, the app's env over it", () => {
    expect(only(built.app, flyType("Machine")).inputs.env).toEqual({
      PREFECT_SERVER_API_HOST: "0.0.0.0",
      PREFECT_SERVER_API_PORT: "4300",
      PREFECT_API_URL: "http://localhost:4300/api",
      PREFECT_UI_API_URL: "https://tuned-prefect.fly.dev/api",
      PREFECT_LOGGING_LEVEL: "DEBUG",
    });
  });

  it("adds the public addresses to the app's own without doubles", () => {
    expect(built.app.filter((r) => r.type === flyType("IpAddress")).map((r) => r.inputs.type)).toEqual(["shared_v4", "v6", "egress_v4"]);
  });

  it("runs the app's own exec commands besides the work pools", () => {
    expect(built.app.filter((r) => r.type === flyType("MachineExec")).map((r) => [r.name, r.inputs.command]).sort()).toEqual([
      ["tuned-flow-deploy", ["prefect", "deploy", "--all"]],
      ["tuned-work-pool-default", workPoolCommand(["prefect"], "default")],
    ]);
  });

  it("hands clients the public URL on the app's hostname", async () => {
    expect(await valueOf(built.server.apiUrl)).toBe("https://tuned-prefect.fly.dev/api");
  });
});

describe("PrefectServer refuses", () => {
  const app: StandalonePrefectServerArgs["app"] = { appName: "bad-prefect", orgSlug: "acme", primaryRegion: "fra" };
  it.each<[string, PrefectServerArgs, string]>([
    [
      "Prefect 2 with auth",
      { mode: "standalone", version: 2, access: "auth", databaseUrl, app },
      'PrefectServer \'bad\': access "auth" needs Prefect 3 (Prefect 2 has no server auth string); use access: "private" (Flycast only) or version: 3',
    ],
    ["Prefect 2 standalone without saying private (auth is the default)", { mode: "standalone", version: 2, databaseUrl, app }, 'access "auth" needs Prefect 3'],
    ["a pool name with a space", { mode: "colocated", databaseUrl, workPools: { "content pool": {} } }, "PrefectServer 'bad': work pool name 'content pool' must be lowercase letters, digits or dashes"],
    ["a pool name in capitals", { mode: "standalone", databaseUrl, app, workPools: { Content: {} } }, "work pool name 'Content' must be lowercase"],
    ["a pool name starting with a dash", { mode: "colocated", databaseUrl, workPools: { "-pool": {} } }, "work pool name '-pool' must be lowercase"],
    ["an unknown mode", { mode: "cloud", databaseUrl } as unknown as PrefectServerArgs, 'PrefectServer \'bad\': mode must be "colocated" or "standalone", got "cloud"'],
    ["an unknown version", { mode: "colocated", databaseUrl, version: 4 } as unknown as PrefectServerArgs, "PrefectServer 'bad': version must be 2 or 3, got 4"],
    ["an unknown access", { mode: "standalone", databaseUrl, app, access: "public" } as unknown as PrefectServerArgs, 'access must be "auth" or "private", got "public"'],
    ["a port out of range", { mode: "standalone", databaseUrl, app, port: 70000 }, "port must be between 1 and 65535, got 70000"],
    [
      "a service port other than the server's",
      { mode: "standalone", databaseUrl, app: { ...app, group: { httpService: { internalPort: 8080 } } } },
      "app.group.httpService.internalPort 8080 differs from port 4200, where the server listens; set `port` instead",
    ],
    [
      "app.secrets the component sets",
      { mode: "standalone", databaseUrl, app: { ...app, secrets: { PREFECT_API_DATABASE_CONNECTION_URL: "postgresql://elsewhere", OTHER: "x" } } },
      "app.secrets: PREFECT_API_DATABASE_CONNECTION_URL are set by the component",
    ],
    [
      "a public address on a private server",
      { mode: "standalone", version: 2, access: "private", databaseUrl, app: { ...app, ipAddresses: ["shared_v4"] } },
      'app.ipAddresses: shared_v4 would make the server public, and access "private" has no auth; remove it or use access: "auth"',
    ],
  ])("%s, before registering anything", async (_title, args, message) => {
    const before = registrations.length;
    expect(() => new PrefectServer("bad", args)).toThrow(message);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(registrations.length).toBe(before);
  });
});
