import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unknownValue } from "../../dynamic-providers/core/check";
import { machineProvider, type MachineInputs, type MachineOutputs } from "../../dynamic-providers/fly/machine";
import { runLifecycle } from "../harness/lifecycle";
import { startProviderHost, type ProviderHostClient } from "../harness/provider-host";
import { assertNoSecrets } from "../harness/secrets-scan";
import { serializeProviders } from "../harness/serialize";
import { providerUnderTest } from "../support/provider";
import { useFlyEmulator } from "./support";

const { provider, checked, reasons } = providerUnderTest(machineProvider);
const appName = "draft-app";
const image = "registry.fly.io/draft-app:deployment-1";
const { emu, flyOk: fly, calls, writes } = useFlyEmulator({
  apps: [appName],
  transitionMs: 10,
  tearDown: () => emu.faults.failHealthChecks(appName, false),
});

/** The web machine of seed 001 with the health check of seed 004. */
const web: MachineInputs = {
  appName,
  name: "web",
  region: "ewr",
  image,
  guest: { cpuKind: "shared", cpus: 1, memoryMb: 512 },
  env: { ENV: "stage", LOG_LEVEL: "INFO" },
  services: [
    {
      protocol: "tcp",
      internalPort: 8080,
      ports: [
        { port: 80, handlers: ["http"], forceHttps: true },
        { port: 443, handlers: ["tls", "http"] },
      ],
      autostop: "off",
      autostart: true,
      minMachinesRunning: 0,
      concurrency: { type: "requests", softLimit: 20, hardLimit: 25 },
      checks: [{ type: "http", port: 8080, interval: "30s", timeout: "5s", gracePeriod: "60s", method: "GET", path: "/api/health" }],
    },
  ],
  restart: { policy: "always" },
  minSecretsVersion: 1,
  timeouts: { startSeconds: 10, checksSeconds: 2, leaseSeconds: 2 },
};

async function create(news: MachineInputs): Promise<MachineOutputs> {
  const result = await provider.create(await checked(news));
  return result.outs as MachineOutputs;
}

/** Runs `fn` with FLY_API_TIMEOUT_SECONDS set (the provider reads it at call time). */
async function withTimeout<T>(seconds: number, fn: () => Promise<T>): Promise<T> {
  process.env.FLY_API_TIMEOUT_SECONDS = String(seconds);
  try {
    return await fn();
  } finally {
    delete process.env.FLY_API_TIMEOUT_SECONDS;
  }
}

function liveMachine(id: string) {
  const machine = emu.state.apps.get(appName)?.machines.get(id);
  if (!machine) throw new Error(`no machine ${id} in the emulator`);
  return machine;
}

describe("machine check()", () => {
  it("accepts the seed machines and fills defaults", async () => {
    const inputs = await checked({ appName, name: "news-ingestion-cron", region: "ewr", image, schedule: "hourly" });
    expect(inputs.guest).toEqual({ cpuKind: "shared", cpus: 1, memoryMb: 256 });
    expect(inputs.processGroup).toBe("app");
    await checked(web);
    await checked({ ...web, checks: { health: { type: "http", port: 4200, interval: "30s", timeout: "5s", gracePeriod: "60s", method: "GET", path: "/api/health" } } });
  });

  it.each<[string, Partial<MachineInputs>, string]>([
    ["memory not a multiple of 256", { guest: { cpuKind: "shared", cpus: 1, memoryMb: 300 } }, "fly machine 'web': guest.memoryMb must be a multiple of 256, got 300"],
    ["memory above the shared limit", { guest: { cpuKind: "shared", cpus: 1, memoryMb: 4096 } }, "guest.memoryMb must be between 256 and 2048 for 1 shared cpu(s)"],
    ["memory below the performance minimum", { guest: { cpuKind: "performance", cpus: 1, memoryMb: 1024 } }, "guest.memoryMb must be between 2048 and 8192"],
    ["3 cpus", { guest: { cpuKind: "shared", cpus: 3, memoryMb: 768 } }, "guest.cpus must be one of 1, 2, 4, 6, 8 for cpuKind shared, got 3"],
    ["a region name", { region: "Frankfurt" }, "region must be a Fly region (one of ams, arn"],
    ["no image", { image: "" }, "image is required"],
    ["a bad machine name", { name: "Web_1" }, "name must be 1-63 lowercase letters"],
    ["a yearly schedule", { schedule: "yearly" as MachineInputs["schedule"] }, "schedule must be one of hourly, daily, weekly, monthly, got \"yearly\""],
    ["an unknown restart policy", { restart: { policy: "sometimes" as "no" } }, "restart.policy must be one of no, always, on-failure"],
    ["a 30000s interval", { checks: { health: { type: "http", interval: "30000s", timeout: "5s" } } }, "checks.health.interval must be between 1s and 1h, got \"30000s\""],
    ["a timeout longer than the interval", { checks: { health: { type: "tcp", interval: "10s", timeout: "20s" } } }, "checks.health.timeout must be between 1s and the interval (10s)"],
    ["a duration that does not parse", { checks: { health: { type: "tcp", interval: "thirty" } } }, "checks.health.interval must be a duration"],
    ["a 2h grace period", { checks: { health: { type: "tcp", gracePeriod: "2h" } } }, "checks.health.gracePeriod must be at most 1h"],
  ])("refuses %s", async (_title, change, message) => {
    const found = await reasons({ ...web, ...change });
    expect(found.join("\n")).toContain(message);
  });

  it("refuses a bad autostop, port and handler inside services, naming the path", async () => {
    const service = web.services?.[0];
    if (!service) throw new Error("web has a service");
    const found = await reasons({
      ...web,
      services: [{ ...service, autostop: "sometimes" as "off", internalPort: 70000, ports: [{ port: 443, handlers: ["https" as "http"] }] }],
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining("services[0].autostop must be one of off, stop, suspend, got \"sometimes\""),
        expect.stringContaining("services[0].internalPort must be between 1 and 65535, got 70000"),
        expect.stringContaining("services[0].ports[0].handlers[0] must be one of http, tls, pg_tls, proxy_proto"),
      ]),
    );
  });

  it("refuses a kill signal Fly does not take and a kill timeout over 24h (fly.toml kill_signal / kill_timeout)", async () => {
    const found = await reasons({ ...web, stop: { signal: "SIGSTOP" as "SIGTERM", timeout: "25h" } });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining('stop.signal must be one of SIGHUP, SIGINT, SIGQUIT, SIGKILL, SIGUSR1, SIGUSR2, SIGTERM, got "SIGSTOP"'),
        expect.stringContaining('stop.timeout must be at most 24h, got "25h"'),
      ]),
    );
  });

  it("refuses bad swap, statics, files, metrics and volume auto-extend (fly.toml swap_size_mb, [[statics]], [[files]], [metrics], auto_extend_size_*)", async () => {
    const found = await reasons({
      ...web,
      init: { swapSizeMb: -1 },
      statics: [
        { guestPath: "public", urlPrefix: "/static" },
        { guestPath: "/app/other", urlPrefix: "/static" },
      ],
      files: [{ guestPath: "/etc/x", rawValue: "not base64!", secretName: "ALSO_SET" }],
      metrics: { port: 0, path: "metrics" },
      mounts: [{ volume: "vol_abc", path: "/data", extendThresholdPercent: 40, sizeGbLimit: 900 }],
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining("init.swapSizeMb must be at least 0, got -1"),
        expect.stringContaining('statics[0].guestPath must be an absolute path such as `/app/public`, got "public"'),
        expect.stringContaining('statics[1].urlPrefix is already served by another entry, got "/static"'),
        expect.stringContaining("files[0] must have exactly one of rawValue or secretName"),
        expect.stringContaining('files[0].rawValue must be base64-encoded contents, got "not base64!"'),
        expect.stringContaining("metrics.port must be between 1 and 65535, got 0"),
        expect.stringContaining('metrics.path must be a path such as `/metrics`, got "metrics"'),
        expect.stringContaining("mounts[0].extendThresholdPercent must be between 50 and 99, got 40"),
        expect.stringContaining("mounts[0].addSizeGb is required"),
        expect.stringContaining("mounts[0].sizeGbLimit must be between 1 and 500, got 900"),
      ]),
    );
  });

  it("leaves values unknown during preview alone", async () => {
    const found = await reasons({ ...web, minSecretsVersion: unknownValue as unknown as number, mounts: [{ volume: unknownValue, path: "/data" }] });
    expect(found).toEqual([]);
  });
});

describe("machine diff()", () => {
  it("is pure and reports no change for identical inputs", async () => {
    const inputs = await checked(web);
    const result = await provider.diff("m1", { ...inputs } as MachineOutputs, { ...inputs });
    expect(result.changes).toBe(false);
    expect(emu.calls).toEqual([]);
  });

  it.each<[string, Partial<MachineInputs>, string[], boolean | undefined]>([
    ["memory", { guest: { cpuKind: "shared", cpus: 1, memoryMb: 1024 } }, [], undefined],
    ["env", { env: { ENV: "prod" } }, [], undefined],
    ["minSecretsVersion", { minSecretsVersion: 2 }, [], undefined],
    ["kill signal", { stop: { signal: "SIGTERM" } }, [], undefined],
    ["metrics", { metrics: { port: 9091, path: "/metrics" } }, [], undefined],
    ["statics", { statics: [{ guestPath: "/app/public", urlPrefix: "/static" }] }, [], undefined],
    ["files", { files: [{ guestPath: "/etc/x", secretName: "X" }] }, [], undefined],
    ["region", { region: "fra" }, ["region"], true],
    ["name", { name: "web2" }, ["name"], false],
    ["appName", { appName: "draft-app-prod" }, ["appName"], false],
  ])("a %s change", async (_title, change, replaces, deleteBeforeReplace) => {
    const olds = await checked(web);
    const result = await provider.diff("m1", olds as MachineOutputs, await checked({ ...web, ...change }));
    expect(result.changes).toBe(true);
    expect(result.replaces).toEqual(replaces);
    if (deleteBeforeReplace !== undefined) expect(result.deleteBeforeReplace).toBe(deleteBeforeReplace);
  });
});

describe("machine lifecycle", () => {
  it("creates, reads, updates under a lease, and deletes tolerantly", async () => {
    const outs = await create(web);
    expect(outs.state).toBe("started");
    expect(outs.machineId).toMatch(/^[0-9a-f]{14}$/);
    expect(outs.privateIp).toMatch(/^fdaa:/);
    const [createCall] = calls("Machines_create");
    const sent = createCall.requestBody as { name: string; region: string; min_secrets_version: number; config: { metadata: Record<string, string> } };
    expect(sent).toMatchObject({ name: "web", region: "ewr", min_secrets_version: 1 });
    expect(sent.config.metadata).toEqual({ fly_platform_version: "v2", fly_process_group: "app", managed_by: "pulumi" });
    expect(liveMachine(outs.machineId).state).toBe("started");

    // read() maps the live config back to the inputs shape, autostop false → "off" included.
    const read = await provider.read(outs.machineId, outs);
    expect(read.id).toBe(outs.machineId);
    expect(read.props).toEqual(outs);
    expect((await provider.diff(outs.machineId, read.props as MachineOutputs, await checked(web))).changes).toBe(false);

    // A second apply with nothing changed: check and diff only, no write.
    emu.resetCalls();
    const again = await checked(web);
    expect((await provider.diff(outs.machineId, outs, again)).changes).toBe(false);
    expect(writes()).toEqual([]);

    emu.resetCalls();
    const news = await checked({ ...web, guest: { cpuKind: "shared", cpus: 1, memoryMb: 1024 }, env: { ENV: "stage", LOG_LEVEL: "DEBUG" }, minSecretsVersion: 2 });
    const updated = (await provider.update(outs.machineId, outs, news)).outs as MachineOutputs;
    expect(emu.calls.map((call) => call.operationId)).toEqual(
      expect.arrayContaining(["Machines_create_lease", "Machines_show", "Machines_update", "Machines_wait", "Machines_release_lease"]),
    );
    const order = emu.calls.map((call) => call.operationId);
    expect(order.indexOf("Machines_create_lease")).toBeLessThan(order.indexOf("Machines_update"));
    expect(order.indexOf("Machines_update")).toBeLessThan(order.indexOf("Machines_release_lease"));
    const [updateCall] = calls("Machines_update");
    expect(updateCall.status).toBe(200);
    expect(updateCall.requestBody).toMatchObject({ current_version: outs.version, min_secrets_version: 2, config: { guest: { memory_mb: 1024 } } });
    const [waitCall] = calls("Machines_wait");
    expect(waitCall.query).toMatchObject({ state: "started", version: updated.version });
    const machine = liveMachine(outs.machineId);
    expect(machine.state).toBe("started");
    expect(machine.version).toBe(updated.version);
    expect(updated.version).not.toBe(outs.version);
    expect(machine.config.guest?.memory_mb).toBe(1024);
    expect(machine.config.env).toEqual({ ENV: "stage", LOG_LEVEL: "DEBUG" });
    expect(machine.minSecretsVersion).toBe(2);
    expect(machine.lease).toBeUndefined();

    emu.resetCalls();
    await provider.delete(outs.machineId, updated);
    expect(calls("Machines_delete")[0]?.query).toMatchObject({ force: "true" });
    await provider.delete(outs.machineId, updated);
    expect((await provider.read(outs.machineId, updated)).id).toBe("");
  });

  it("sends kill signal and timeout as stop_config and reads them back", async () => {
    const outs = await create({ ...web, name: "web-stop", stop: { signal: "SIGTERM", timeout: "30s" } });
    const [createCall] = calls("Machines_create").slice(-1);
    expect((createCall.requestBody as { config: { stop_config: unknown } }).config.stop_config).toEqual({ signal: "SIGTERM", timeout: "30s" });
    expect(liveMachine(outs.machineId).config.stop_config).toEqual({ signal: "SIGTERM", timeout: "30s" });
    const read = await provider.read(outs.machineId, outs);
    expect((read.props as MachineOutputs).stop).toEqual({ signal: "SIGTERM", timeout: "30s" });
    await provider.delete(outs.machineId, outs);
  });

  it("sends swap, statics, files, metrics and a volume's auto-extend in the config and reads them back", async () => {
    const volume = (await fly("POST", `/v1/apps/${appName}/volumes`, { name: "data", region: "ewr", size_gb: 1 })) as { id: string };
    const extras: Partial<MachineInputs> = {
      init: { swapSizeMb: 512 },
      statics: [{ guestPath: "/app/public", urlPrefix: "/static", tigrisBucket: "assets", indexDocument: "index.html" }],
      files: [
        { guestPath: "/etc/app/config.yaml", rawValue: Buffer.from("level: debug\n").toString("base64") },
        { guestPath: "/etc/app/token", secretName: "APP_TOKEN" },
      ],
      metrics: { port: 9091, path: "/metrics" },
      mounts: [{ volume: volume.id, path: "/data", extendThresholdPercent: 80, addSizeGb: 1, sizeGbLimit: 5 }],
    };
    const outs = await create({ ...web, name: "web-extras", ...extras });
    const [createCall] = calls("Machines_create").slice(-1);
    expect((createCall.requestBody as { config: Record<string, unknown> }).config).toMatchObject({
      init: { swap_size_mb: 512 },
      statics: [{ guest_path: "/app/public", url_prefix: "/static", tigris_bucket: "assets", index_document: "index.html" }],
      files: [
        { guest_path: "/etc/app/config.yaml", raw_value: Buffer.from("level: debug\n").toString("base64") },
        { guest_path: "/etc/app/token", secret_name: "APP_TOKEN" },
      ],
      metrics: { port: 9091, path: "/metrics" },
      mounts: [{ volume: volume.id, path: "/data", extend_threshold_percent: 80, add_size_gb: 1, size_gb_limit: 5 }],
    });
    const read = (await provider.read(outs.machineId, outs)).props as MachineOutputs;
    expect(read).toMatchObject(extras);
    expect((await provider.diff(outs.machineId, read, await checked({ ...web, name: "web-extras", ...extras }))).changes).toBe(false);
    await provider.delete(outs.machineId, outs);
  });

  it("changes only provider options without touching the machine", async () => {
    const outs = await create(web);
    emu.resetCalls();
    const news = await checked({ ...web, timeouts: { startSeconds: 20 }, waitForChecks: false });
    expect((await provider.diff(outs.machineId, outs, news)).changes).toBe(true);
    const updated = (await provider.update(outs.machineId, outs, news)).outs as MachineOutputs;
    expect(updated.timeouts).toEqual({ startSeconds: 20 });
    expect(emu.calls).toEqual([]);
  });

  it("creates a scheduled machine without waiting for it to start", async () => {
    const outs = await create({
      appName,
      name: "news-ingestion-cron",
      region: "ewr",
      image,
      schedule: "hourly",
      guest: { cpuKind: "shared", cpus: 1, memoryMb: 512 },
      init: { entrypoint: ["/app/.venv/bin/python"], cmd: ["-m", "app.cli.cron_runner"] },
    });
    expect(calls("Machines_wait")).toEqual([]);
    expect(liveMachine(outs.machineId).config).toMatchObject({ schedule: "hourly", init: { entrypoint: ["/app/.venv/bin/python"] } });
    const read = await provider.read(outs.machineId, outs);
    expect((read.props as MachineOutputs).init).toEqual({ entrypoint: ["/app/.venv/bin/python"], cmd: ["-m", "app.cli.cron_runner"] });
  });

  it("adopts an existing machine by name without creating one", async () => {
    const existing = await fly("POST", `/v1/apps/${appName}/machines`, {
      name: "web",
      region: "ewr",
      config: { image, guest: { cpu_kind: "shared", cpus: 1, memory_mb: 256 } },
    });
    await expect(provider.create(await checked(web))).rejects.toThrow(/already exists.*adopt: true/);
    emu.resetCalls();
    const outs = (await provider.create(await checked({ ...web, adopt: true }))).outs as MachineOutputs;
    expect(outs.machineId).toBe(existing.id);
    expect(outs.adopted).toBe(true);
    expect(calls("Machines_create")).toEqual([]);
    // Its config differed, so adopting brought it to the declared one.
    expect(liveMachine(outs.machineId).config.guest?.memory_mb).toBe(512);
    expect(calls("Machines_update")).toHaveLength(1);
  });
});

describe("machine faults", () => {
  it("retries a 429 on create after Retry-After", async () => {
    emu.faults.failNext("Machines_create", 1, { kind: "status", status: 429, retryAfterSeconds: 1 });
    const outs = await create(web);
    expect(calls("Machines_create").map((call) => call.status)).toEqual([429, 200]);
    expect(emu.state.apps.get(appName)?.machines.size).toBe(1);
    expect(outs.state).toBe("started");
  });

  it("a create that failed with 500 and made nothing is sent once more (the unique name guards it): one machine, two create calls", async () => {
    emu.faults.failNext("Machines_create", 1, { kind: "status", status: 500 });
    const outs = await create(web);
    expect(calls("Machines_create").map((call) => call.status)).toEqual([500, 200]);
    expect([...(emu.state.apps.get(appName)?.machines.values() ?? [])].map((machine) => machine.id)).toEqual([outs.machineId]);
  });

  it("finds the machine when the create's answer is lost after Fly made it (acted, then dropped)", async () => {
    emu.faults.failNext("Machines_create", 1, { kind: "actThenDrop" });
    const outs = await create(web);
    // Never sent twice: the unique name told that the create had happened.
    expect(calls("Machines_create").map((call) => call.status)).toEqual([0]);
    expect(calls("Machines_list")).toHaveLength(1);
    expect([...(emu.state.apps.get(appName)?.machines.values() ?? [])].map((machine) => machine.id)).toEqual([outs.machineId]);
    expect(outs.state).toBe("started");
  });

  it("a create never answered times out, named, and the machine it made is found by name", async () => {
    emu.faults.failNext("Machines_create", 1, { kind: "actThenHang" });
    const outs = await withTimeout(0.3, () => create(web));
    expect(calls("Machines_create").map((call) => call.status)).toEqual([0]);
    expect(emu.state.apps.get(appName)?.machines.size).toBe(1);
    expect(outs.state).toBe("started");
  });

  it("a create never answered that made nothing is sent once more after its timeout: one machine, two create calls", async () => {
    emu.faults.failNext("Machines_create", 1, { kind: "hang" });
    const outs = await withTimeout(0.3, () => create(web));
    expect(calls("Machines_create")).toHaveLength(2);
    expect([...(emu.state.apps.get(appName)?.machines.values() ?? [])].map((machine) => machine.id)).toEqual([outs.machineId]);
  });

  it("a create never answered twice fails in its timeout, naming the call and the cause", async () => {
    emu.faults.failNext("Machines_create", 2, { kind: "hang" });
    const started = Date.now();
    await expect(withTimeout(0.3, () => create(web))).rejects.toThrow(
      /^Fly Machines API POST \/v1\/apps\/draft-app\/machines failed: no answer within 300ms \(timeout\)$/,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(calls("Machines_create")).toHaveLength(2);
    expect(emu.state.apps.get(appName)?.machines.size).toBe(0);
  });

  it("a dropped create that made nothing is sent once more: one machine, two create calls", async () => {
    emu.faults.failNext("Machines_create", 1, { kind: "drop" });
    const outs = await create(web);
    expect(calls("Machines_create")).toHaveLength(2);
    expect([...(emu.state.apps.get(appName)?.machines.values() ?? [])].map((machine) => machine.id)).toEqual([outs.machineId]);
    expect(outs.state).toBe("started");
  });

  it("a create dropped twice fails naming the call and the reset, after exactly two POSTs", async () => {
    emu.faults.failNext("Machines_create", 2, { kind: "drop" });
    await expect(create(web)).rejects.toThrow(/^Fly Machines API POST \/v1\/apps\/draft-app\/machines failed: connection reset: 127\.0\.0\.1:\d+ closed the connection before answering/);
    expect(calls("Machines_create")).toHaveLength(2);
    expect(emu.state.apps.get(appName)?.machines.size).toBe(0);
  });

  it("a read never answered fails in its timeout, naming the call", async () => {
    const outs = await create(web);
    emu.faults.failNext("Machines_show", 1, { kind: "hang" });
    await expect(withTimeout(0.3, () => provider.read(outs.machineId, outs))).rejects.toThrow(
      `Fly Machines API GET /v1/apps/draft-app/machines/${outs.machineId} failed: no answer within 300ms (timeout)`,
    );
  });

  it("retries GET after a 500 and after a dropped connection", async () => {
    const outs = await create(web);
    emu.resetCalls();
    emu.faults.failNext("Machines_show", 1, { kind: "status", status: 500 });
    emu.faults.failNext("Machines_show", 1, { kind: "drop" });
    const read = await provider.read(outs.machineId, outs);
    expect(read.id).toBe(outs.machineId);
    expect(calls("Machines_show").map((call) => call.status)).toEqual([500, 0, 200]);
  });

  it("waits for a lease held by someone else, then updates", async () => {
    const outs = await create(web);
    emu.faults.holdLease(appName, outs.machineId, 400);
    emu.resetCalls();
    const updated = (await provider.update(outs.machineId, outs, await checked({ ...web, env: { ENV: "stage" } }))).outs as MachineOutputs;
    expect(calls("Machines_create_lease").filter((call) => call.status === 409).length).toBeGreaterThan(0);
    expect(liveMachine(outs.machineId).version).toBe(updated.version);
  });

  it("gives a clear error when the lease stays held past the timeout", async () => {
    const outs = await create(web);
    emu.faults.holdLease(appName, outs.machineId, 30_000);
    const news = await checked({ ...web, env: { ENV: "stage" }, timeouts: { ...web.timeouts, leaseSeconds: 0.5 } });
    await expect(provider.update(outs.machineId, outs, news)).rejects.toThrow(/lease currently held by .*gave up after/);
    expect(calls("Machines_update")).toEqual([]);
  });

  it("fails create naming the failing health check; the next create takes the machine over", async () => {
    emu.faults.failHealthChecks(appName, true);
    const inputs = await checked(web);
    await expect(provider.create(inputs)).rejects.toThrow(
      /fly machine 'web' \([0-9a-f]+\) in app 'draft-app': health checks did not pass: .*servicecheck-00-http-8080: critical.*is kept; the next `pulumi up` takes it over/,
    );
    const left = [...(emu.state.apps.get(appName)?.machines.values() ?? [])];
    expect(left).toHaveLength(1);
    expect(left[0].config.metadata).toMatchObject({ managed_by: "pulumi" });

    emu.faults.failHealthChecks(appName, false);
    emu.resetCalls();
    const outs = (await provider.create(inputs)).outs as MachineOutputs;
    expect(outs.machineId).toBe(left[0].id);
    expect(outs.adopted).toBe(false);
    expect(outs.state).toBe("started");
    // Created first by name: Fly refused the taken name, and only then was the app's list read.
    expect(calls("Machines_create").map((call) => call.status)).toEqual([409]);
    expect(calls("Machines_list")).toHaveLength(1);
  });
});

describe("Machine and Volume through the SDK's dynamic-provider host", () => {
  let host: ProviderHostClient;

  beforeAll(async () => {
    host = await startProviderHost({ env: { FLY_API_TOKEN: emu.token, FLY_API_URL: emu.url } });
  });

  afterAll(async () => {
    await host?.close();
  });

  it("serializes both without the token and runs their whole lifecycle", async () => {
    const props = { appName, name: "web", region: "ewr", image, env: { ENV: "stage" }, services: web.services, timeouts: web.timeouts };
    const serialized = await serializeProviders(
      [
        { module: "dynamic-providers/fly/machine", exportName: "Machine", name: "web", props },
        { module: "dynamic-providers/fly/volume", exportName: "Volume", name: "data", props: { appName, name: "data", region: "ewr" } },
      ],
      { env: { FLY_API_TOKEN: emu.token, FLY_API_URL: emu.url } },
    );
    expect(serialized.web.type).toBe("pulumi-nodejs:dynamic/fly:Machine");
    expect(serialized.data.type).toBe("pulumi-nodejs:dynamic/fly:Volume");
    for (const resource of Object.values(serialized)) assertNoSecrets(resource.provider, [emu.token]);

    await runLifecycle(host, { resource: serialized.data, name: "data", update: { sizeGb: 2 }, replace: { region: "fra" }, deleteBeforeReplace: false });
    await runLifecycle(
      host,
      { resource: serialized.web, name: "web", update: { env: { ENV: "prod" } }, replace: { region: "fra" }, deleteBeforeReplace: true },
      { afterUpdate: (updated) => expect(liveMachine(String(updated.id)).config.env).toEqual({ ENV: "prod" }) },
    );

  }, 180_000);
});
