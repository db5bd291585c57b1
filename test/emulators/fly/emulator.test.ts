import { afterEach, describe, expect, it } from "vitest";
import { ContractChecker } from "./contract";
import { deviations } from "./deviations";
import { startFlyEmulator, type FlyEmulator } from "./server";

interface Reply {
  status: number;
  body: Record<string, unknown>;
  list: Record<string, unknown>[];
  headers: Headers;
}

let emulator: FlyEmulator | undefined;

async function start(opts: Parameters<typeof startFlyEmulator>[0] = {}): Promise<FlyEmulator> {
  emulator = await startFlyEmulator(opts);
  return emulator;
}

afterEach(async () => {
  const running = emulator;
  emulator = undefined;
  // close() also asserts the contract, so every test that does not expect violations checks it.
  if (running) await running.close();
});

function client(emu: FlyEmulator) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> => {
    const response = await fetch(`${emu.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${emu.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : {};
    return {
      status: response.status,
      body: Array.isArray(parsed) ? {} : (parsed as Record<string, unknown>),
      list: Array.isArray(parsed) ? (parsed as Record<string, unknown>[]) : [],
      headers: response.headers,
    };
  };
}

async function createApp(api: ReturnType<typeof client>, name = "draft-app"): Promise<void> {
  const reply = await api("POST", "/v1/apps", { name, org_slug: "personal" });
  expect(reply.status).toBe(201);
}

const machineConfig = {
  image: "registry.fly.io/draft-app:deployment-1",
  guest: { cpus: 1, memory_mb: 256, cpu_kind: "shared" },
  services: [
    {
      internal_port: 8080,
      protocol: "tcp",
      autostop: "stop",
      autostart: true,
      ports: [{ port: 443, handlers: ["tls", "http"] }],
      checks: [{ type: "http", port: 8080, path: "/health", interval: "15s", timeout: "2s" }],
    },
  ],
  checks: { alive: { type: "tcp", port: 8080 } },
  metadata: { fly_platform_version: "v2", fly_process_group: "app" },
};

describe("Fly emulator", () => {
  it("runs a machine through created → starting → started, reports checks and waits", async () => {
    const emu = await start({ transitionMs: 20 });
    const api = client(emu);
    await createApp(api);

    const created = await api("POST", "/v1/apps/draft-app/machines", { config: machineConfig, region: "ams" });
    expect(created.status).toBe(200);
    expect(created.body["state"]).toBe("created");
    expect(created.body["id"]).toMatch(/^[0-9a-f]{14}$/);
    const id = String(created.body["id"]);
    const version = String(created.body["version"]);
    expect(created.body["checks"]).toEqual([]);

    const waited = await api("GET", `/v1/apps/draft-app/machines/${id}/wait?state=started&timeout=5`);
    expect(waited.status).toBe(200);
    expect(waited.body).toMatchObject({ ok: true, state: "started", version });

    const shown = await api("GET", `/v1/apps/draft-app/machines/${id}`);
    expect(shown.body["state"]).toBe("started");
    const config = shown.body["config"] as { services: { autostop: unknown }[] };
    expect(config.services[0]?.autostop).toBe(true);
    expect(shown.body["checks"]).toEqual([
      expect.objectContaining({ name: "alive", status: "passing" }),
      expect.objectContaining({ name: "servicecheck-00-http-8080", status: "passing" }),
    ]);
    const states = emu.state.apps.get("draft-app")?.machines.get(id)?.events.map((e) => e.type);
    expect(states).toEqual(["started", "starting", "created"]);

    emu.faults.failHealthChecks("draft-app", true);
    const failing = await api("GET", `/v1/apps/draft-app/machines/${id}`);
    expect((failing.body["checks"] as { status: string }[]).map((c) => c.status)).toEqual(["critical", "critical"]);

    const stopped = await api("POST", `/v1/apps/draft-app/machines/${id}/stop`);
    expect(stopped.status).toBe(200);
    const timedOut = await api("GET", `/v1/apps/draft-app/machines/${id}/wait?state=started&timeout=0`);
    expect(timedOut.status).toBe(408);
    expect(timedOut.body["error"]).toMatch(/^deadline_exceeded: machine failed to reach desired state, started, currently (stopping|stopped)$/);
    const waitStopped = await api("GET", `/v1/apps/draft-app/machines/${id}/wait?state=stopped&version=${version}&timeout=5`);
    expect(waitStopped.status).toBe(200);

    const deleted = await api("DELETE", `/v1/apps/draft-app/machines/${id}?force=true`);
    expect(deleted).toMatchObject({ status: 200, body: { ok: true } });
    const gone = await api("GET", `/v1/apps/draft-app/machines/${id}/wait?state=destroyed&timeout=5`);
    expect(gone.status).toBe(200);
    const listed = await api("GET", "/v1/apps/draft-app/machines");
    expect(listed.list).toEqual([]);
    expect(emu.violations).toEqual([]);
  });

  it("keeps skip_launch machines stopped and refuses to start while created", async () => {
    const emu = await start({ transitionMs: 50 });
    const api = client(emu);
    await createApp(api);
    const created = await api("POST", "/v1/apps/draft-app/machines", { config: machineConfig, skip_launch: true });
    const id = String(created.body["id"]);
    const early = await api("POST", `/v1/apps/draft-app/machines/${id}/start`);
    expect(early.status).toBe(412);
    expect(early.body["error"]).toBe("failed_precondition: unable to start machine from current state: 'created'");
    const settled = await api("GET", `/v1/apps/draft-app/machines/${id}/wait?state=stopped&version=${String(created.body["version"])}`);
    expect(settled.status).toBe(200);
    expect(emu.state.apps.get("draft-app")?.machines.get(id)?.state).toBe("stopped");
  });

  it("rejects a stale current_version with 409 and makes a new version on update", async () => {
    const emu = await start();
    const api = client(emu);
    await createApp(api);
    const created = await api("POST", "/v1/apps/draft-app/machines", { config: machineConfig });
    const id = String(created.body["id"]);
    const firstVersion = String(created.body["version"]);

    const updated = await api("POST", `/v1/apps/draft-app/machines/${id}`, {
      config: { ...machineConfig, env: { LOG_LEVEL: "debug" } },
      current_version: firstVersion,
      min_secrets_version: 2,
    });
    expect(updated.status).toBe(200);
    expect(updated.body["state"]).toBe("replacing");
    expect(updated.body["version"]).not.toBe(firstVersion);
    const machine = emu.state.apps.get("draft-app")?.machines.get(id);
    expect(machine?.state).toBe("started");
    expect(machine?.config.env).toEqual({ LOG_LEVEL: "debug" });
    expect(machine?.minSecretsVersion).toBe(2);

    const stale = await api("POST", `/v1/apps/draft-app/machines/${id}`, { config: machineConfig, current_version: firstVersion });
    expect(stale.status).toBe(409);
    expect(machine?.config.env).toEqual({ LOG_LEVEL: "debug" });
  });

  it("guards leased machines: 409 for other holders and without the nonce", async () => {
    const emu = await start();
    const api = client(emu);
    await createApp(api);
    const id = String((await api("POST", "/v1/apps/draft-app/machines", { config: machineConfig })).body["id"]);

    const lease = await api("POST", `/v1/apps/draft-app/machines/${id}/lease?ttl=60`);
    expect(lease.status).toBe(201);
    expect(lease.body["status"]).toBe("success");
    const data = lease.body["data"] as { nonce: string; expires_at: number; owner: string; version: string };
    expect(data.nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(data.expires_at).toBeGreaterThan(Date.now() / 1000 + 50);

    const second = await api("POST", `/v1/apps/draft-app/machines/${id}/lease`, { ttl: 30 });
    expect(second.status).toBe(409);
    expect(second.body["error"]).toContain("lease currently held by");

    expect((await api("POST", `/v1/apps/draft-app/machines/${id}/stop`)).status).toBe(409);
    const withNonce = await api("POST", `/v1/apps/draft-app/machines/${id}/stop`, undefined, { "fly-machine-lease-nonce": data.nonce });
    expect(withNonce.status).toBe(200);

    const shown = await api("GET", `/v1/apps/draft-app/machines/${id}/lease`);
    expect(shown.body).toMatchObject({ status: "success", data: { nonce: data.nonce } });
    const released = await api("DELETE", `/v1/apps/draft-app/machines/${id}/lease`, undefined, { "fly-machine-lease-nonce": data.nonce });
    expect(released.body).toEqual({ status: "success", data: { ok: true } });

    emu.faults.holdLease("draft-app", id, 60_000);
    const held = await api("POST", `/v1/apps/draft-app/machines/${id}/lease?ttl=30`);
    expect(held.status).toBe(409);
    expect(held.body["error"]).toContain("lease currently held by someone-else@example.com");
    expect((await api("DELETE", `/v1/apps/draft-app/machines/${id}?force=true`)).status).toBe(409);
  });

  it("increments the secrets version and never lists values", async () => {
    const emu = await start();
    const api = client(emu);
    await createApp(api);
    const first = await api("POST", "/v1/apps/draft-app/secrets", { values: { DATABASE_URL: "postgres://a", OLD: "x" } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ version: 1, Version: 1 });
    const second = await api("POST", "/v1/apps/draft-app/secrets", { values: { DATABASE_URL: "postgres://b", OLD: null } });
    expect(second.body).toMatchObject({ version: 2, Version: 2 });
    const listed = await api("GET", "/v1/apps/draft-app/secrets");
    const secrets = listed.body["secrets"] as Record<string, unknown>[];
    expect(secrets.map((s) => s["name"])).toEqual(["DATABASE_URL"]);
    expect(secrets[0]).not.toHaveProperty("value");
    expect(emu.state.apps.get("draft-app")?.secrets.get("DATABASE_URL")?.value).toBe("postgres://b");
    const deleted = await api("DELETE", "/v1/apps/draft-app/secrets/DATABASE_URL");
    expect(deleted.body).toMatchObject({ version: 3 });
    expect((await api("DELETE", "/v1/apps/draft-app/secrets/DATABASE_URL")).status).toBe(404);
  });

  it("binds volumes to machines: 409 while attached, deletable once the machine is gone", async () => {
    const emu = await start();
    emu.faults.volumeDetachDelay(60);
    const api = client(emu);
    await createApp(api);
    const volume = await api("POST", "/v1/apps/draft-app/volumes", { name: "data", region: "ams" });
    expect(volume.status).toBe(200);
    expect(volume.body).toMatchObject({ size_gb: 3, encrypted: true, snapshot_retention: 5, auto_backup_enabled: true, attached_machine_id: null });
    const volumeId = String(volume.body["id"]);
    expect(volumeId).toMatch(/^vol_[a-z0-9]{16}$/);

    const machine = await api("POST", "/v1/apps/draft-app/machines", {
      config: { ...machineConfig, mounts: [{ volume: volumeId, path: "/data" }] },
    });
    const machineId = String(machine.body["id"]);
    expect(machine.body["region"]).toBe("ams");
    expect((await api("GET", `/v1/apps/draft-app/volumes/${volumeId}`)).body["attached_machine_id"]).toBe(machineId);

    const bound = await api("DELETE", `/v1/apps/draft-app/volumes/${volumeId}`);
    expect(bound.status).toBe(409);
    expect(bound.body["error"]).toBe(`failed_precondition: volume is currently bound to machine: ${machineId}`);

    const extended = await api("PUT", `/v1/apps/draft-app/volumes/${volumeId}/extend`, { size_gb: 5 });
    expect(extended.body).toMatchObject({ needs_restart: true, volume: { size_gb: 5 } });
    expect((await api("PUT", `/v1/apps/draft-app/volumes/${volumeId}/extend`, { size_gb: 4 })).status).toBe(400);
    const updated = await api("PUT", `/v1/apps/draft-app/volumes/${volumeId}`, { snapshot_retention: 14 });
    expect(updated.body["snapshot_retention"]).toBe(14);

    expect((await api("DELETE", `/v1/apps/draft-app/machines/${machineId}?force=true`)).status).toBe(200);
    expect((await api("DELETE", `/v1/apps/draft-app/volumes/${volumeId}`)).status).toBe(409);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const deleted = await api("DELETE", `/v1/apps/draft-app/volumes/${volumeId}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body["state"]).toBe("destroyed");
    expect((await api("GET", `/v1/apps/draft-app/volumes/${volumeId}`)).body).toEqual({ error: "volume not found" });
  });

  it("answers certificates with the DNS requirements and refuses a hostname owned by another app", async () => {
    const emu = await start();
    const api = client(emu);
    await createApp(api);
    await createApp(api, "other-app");
    const v4 = await api("POST", "/v1/apps/draft-app/ip_assignments", { type: "shared_v4" });
    const v6 = await api("POST", "/v1/apps/draft-app/ip_assignments", { type: "v6" });
    expect(v4.body["network"]).toBeNull();
    const flycast = await api("POST", "/v1/apps/draft-app/ip_assignments", { type: "private_v6", network: "" });
    expect(flycast.body["network"]).toEqual({ name: "", org_slug: "personal" });
    const unknown = await api("POST", "/v1/apps/draft-app/ip_assignments", { type: "private_v6", network: "nope" });
    expect(unknown).toMatchObject({ status: 400, body: { error: "network not found" } });

    const cert = await api("POST", "/v1/apps/draft-app/certificates/acme", { hostname: "app.example.com" });
    expect(cert.status).toBe(201);
    expect(cert.body["status"]).toBe("pending_validation");
    const dnsId = emu.state.apps.get("draft-app")?.dnsId;
    expect(cert.body["dns_requirements"]).toEqual({
      a: [v4.body["ip"]],
      aaaa: [v6.body["ip"]],
      cname: "draft-app.fly.dev",
      acme_challenge: { name: "_acme-challenge.app.example.com", target: `app.example.com.${dnsId}.flydns.net` },
      ownership: { name: "_fly-ownership.app.example.com", app_value: expect.any(String), org_value: expect.any(String) },
    });
    expect((await api("POST", "/v1/apps/other-app/certificates/acme", { hostname: "app.example.com" })).status).toBe(409);
    expect((await api("GET", "/v1/apps/draft-app/certificates/app.example.com")).body["hostname"]).toBe("app.example.com");
    expect((await api("POST", "/v1/apps/draft-app/certificates/app.example.com/check")).status).toBe(200);
    expect((await api("GET", "/v1/apps/draft-app/certificates")).body["total_count"]).toBe(1);
    expect((await api("DELETE", "/v1/apps/draft-app/certificates/app.example.com")).status).toBe(204);
    expect((await api("POST", "/v1/apps/other-app/certificates/acme", { hostname: "app.example.com" })).status).toBe(201);

    const ips = await api("GET", "/v1/apps/draft-app/ip_assignments");
    expect((ips.body["ips"] as unknown[]).length).toBe(3);
    expect((await api("DELETE", `/v1/apps/draft-app/ip_assignments/${String(v6.body["ip"])}`)).status).toBe(204);
    const token = await api("POST", "/v1/apps/draft-app/deploy_token", {});
    expect(token.body["token"]).toMatch(/^FlyV1 fm2_/);
  });

  it("authenticates with the bearer token and answers 404 for unknown apps and machines", async () => {
    const emu = await start();
    const api = client(emu);
    const anonymous = await api("GET", "/v1/apps/draft-app", undefined, { authorization: "Bearer wrong" });
    expect(anonymous).toMatchObject({ status: 401, body: { error: "Authenticate: token validation error" } });
    expect((await api("GET", "/v1/apps/draft-app")).body).toEqual({ error: "app not found" });
    await createApp(api);
    expect((await api("POST", "/v1/apps", { name: "draft-app", org_slug: "personal" })).status).toBe(422);
    expect((await api("GET", "/v1/apps/draft-app/machines/0123456789abcd")).body).toEqual({ error: "machine not found" });
    const apps = await api("GET", "/v1/apps?org_slug=personal");
    expect(apps.body).toMatchObject({ total_apps: 1, apps: [{ name: "draft-app", organization: { slug: "personal" } }] });
    expect((await api("DELETE", "/v1/apps/draft-app")).status).toBe(202);
    expect(emu.state.apps.size).toBe(0);
  });

  it("injects faults: status with Retry-After, dropped connections, not-ready apps", async () => {
    const emu = await start();
    const api = client(emu);
    emu.faults.appNotReadyFor(80);
    await createApp(api);
    expect((await api("GET", "/v1/apps/draft-app")).body).toEqual({ error: "app not found" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await api("GET", "/v1/apps/draft-app")).status).toBe(200);

    emu.faults.failNext("Machines_create", 2, { kind: "status", status: 429, retryAfterSeconds: 3 });
    const limited = await api("POST", "/v1/apps/draft-app/machines", { config: machineConfig });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("3");
    expect((await api("POST", "/v1/apps/draft-app/machines", { config: machineConfig })).status).toBe(429);
    expect((await api("POST", "/v1/apps/draft-app/machines", { config: machineConfig })).status).toBe(200);
    expect(emu.state.apps.get("draft-app")?.machines.size).toBe(1);

    emu.faults.failNext("Apps_show", 1, { kind: "drop" });
    await expect(api("GET", "/v1/apps/draft-app")).rejects.toThrow();
    expect(emu.calls.at(-1)).toMatchObject({ operationId: "Apps_show", status: 0 });
    expect((await api("GET", "/v1/apps/draft-app")).status).toBe(200);

    emu.faults.appNotReadyFor(1000, 401);
    await createApp(api, "second-app");
    expect((await api("GET", "/v1/apps/second-app")).status).toBe(401);
  });

  it("loses answers: hang (nothing done), acted then dropped, acted then never answered", async () => {
    const emu = await start();
    const api = client(emu);
    const timeout = { signal: AbortSignal.timeout(300) };
    const raw = (path: string, body: unknown) =>
      fetch(`${emu.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${emu.token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
        ...timeout,
      });

    emu.faults.failNext("Apps_create", 1, { kind: "hang" });
    await expect(raw("/v1/apps", { name: "draft-app", org_slug: "personal" })).rejects.toThrow();
    expect(emu.state.apps.has("draft-app")).toBe(false);

    emu.faults.failNext("Apps_create", 1, { kind: "actThenDrop" });
    await expect(api("POST", "/v1/apps", { name: "draft-app", org_slug: "personal" })).rejects.toThrow();
    expect(emu.state.apps.has("draft-app")).toBe(true);
    // The lost answer is recorded with status 0 and the body that was never sent.
    expect(emu.calls.at(-1)).toMatchObject({ operationId: "Apps_create", status: 0, responseBody: { id: emu.state.apps.get("draft-app")?.id } });

    emu.faults.failNext("Machines_create", 1, { kind: "actThenHang" });
    await expect(
      fetch(`${emu.url}/v1/apps/draft-app/machines`, {
        method: "POST",
        headers: { authorization: `Bearer ${emu.token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "web", config: machineConfig }),
        signal: AbortSignal.timeout(300),
      }),
    ).rejects.toThrow();
    expect([...(emu.state.apps.get("draft-app")?.machines.values() ?? [])].map((m) => m.name)).toEqual(["web"]);
  });

  it("refuses a second live machine of the same name (409 name_taken); a destroyed one frees the name", async () => {
    const emu = await start();
    const api = client(emu);
    await createApp(api);
    const first = await api("POST", "/v1/apps/draft-app/machines", { name: "web", config: machineConfig });
    expect(first.status).toBe(200);
    const second = await api("POST", "/v1/apps/draft-app/machines", { name: "web", config: machineConfig });
    expect(second).toMatchObject({ status: 409, body: { error: `machine name "web" is already in use by machine ${first.body["id"]}`, status: "name_taken" } });
    expect((await api("POST", "/v1/apps/draft-app/machines", { name: "worker", config: machineConfig })).status).toBe(200);
    expect((await api("DELETE", `/v1/apps/draft-app/machines/${first.body["id"]}?force=true`)).status).toBe(200);
    expect((await api("POST", "/v1/apps/draft-app/machines", { name: "web", config: machineConfig })).status).toBe(200);
  });

  it("honours idempotency_key on app create and takes the legacy app_name body", async () => {
    const emu = await start();
    const api = client(emu);
    const first = await api("POST", "/v1/apps", { name: "draft-app", org_slug: "personal", idempotency_key: "k1" });
    expect(first.status).toBe(201);
    // Same key: the same app, not a name conflict and not a second app; with no name too.
    expect(await api("POST", "/v1/apps", { name: "draft-app", org_slug: "personal", idempotency_key: "k1" })).toMatchObject({
      status: 201,
      body: { id: first.body["id"] },
    });
    expect((await api("POST", "/v1/apps", { org_slug: "personal", idempotency_key: "k1" })).body["id"]).toBe(first.body["id"]);
    // Same key, another name: refused outright.
    const other = await api("POST", "/v1/apps", { name: "other-app", org_slug: "personal", idempotency_key: "k1" });
    expect(other.status).toBe(422);
    expect(other.body["error"]).toContain('was used to create app "draft-app"');
    // Without the key, the name is taken.
    expect((await api("POST", "/v1/apps", { name: "draft-app", org_slug: "personal" })).status).toBe(422);
    expect(emu.state.apps.size).toBe(1);

    // The body Fly's docs show: app_name instead of name.
    const legacy = await api("POST", "/v1/apps", { app_name: "docs-app", org_slug: "personal", network: "docs-net" });
    expect(legacy.status).toBe(201);
    expect(emu.state.apps.get("docs-app")).toMatchObject({ id: legacy.body["id"], orgSlug: "personal", network: "docs-net" });
    expect(emu.violations).toEqual([]);
  });

  it("enforces Fly's rate limits per action and app or machine, with bursts and Retry-After", async () => {
    const emu = await start({ rateLimits: true });
    const api = client(emu);
    await createApp(api);
    const creates = [];
    for (let i = 0; i < 4; i++) creates.push(await api("POST", "/v1/apps/draft-app/machines", { name: `m${i}`, config: machineConfig }));
    // Burst of 3, then 429 with Retry-After in whole seconds.
    expect(creates.map((reply) => reply.status)).toEqual([200, 200, 200, 429]);
    expect(creates[3]).toMatchObject({ body: { error: "rate limit exceeded" } });
    expect(creates[3].headers.get("retry-after")).toBe("1");
    // Another action of the same app has its own bucket.
    expect((await api("GET", "/v1/apps/draft-app/machines")).status).toBe(200);
    // Get Machine: 10 at once per machine, then 429; another machine has its own bucket.
    const id = String(creates[0].body["id"]);
    const shows = [];
    for (let i = 0; i < 11; i++) shows.push((await api("GET", `/v1/apps/draft-app/machines/${id}`)).status);
    expect(shows).toEqual([...Array(10).fill(200), 429]);
    expect((await api("GET", `/v1/apps/draft-app/machines/${String(creates[1].body["id"])}`)).status).toBe(200);
    // Another app: its own buckets.
    await createApp(api, "second-app");
    expect((await api("POST", "/v1/apps/second-app/machines", { name: "m0", config: machineConfig })).status).toBe(200);
    // One token a second: a second later the app may create again.
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    expect((await api("POST", "/v1/apps/draft-app/machines", { name: "m3", config: machineConfig })).status).toBe(200);
    expect((await api("POST", "/v1/apps/draft-app/machines", { name: "m4", config: machineConfig })).status).toBe(429);
    emu.rateLimits = undefined;
    expect((await api("POST", "/v1/apps/draft-app/machines", { name: "m4", config: machineConfig })).status).toBe(200);
  });

  it("runs the rate limits on a faster clock: Retry-After in whole seconds of that clock", async () => {
    const emu = await start({ rateLimits: { timeScale: 4 } });
    const api = client(emu);
    await createApp(api);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await api("POST", "/v1/apps/draft-app/machines", { config: machineConfig }));
    expect(statuses.map((reply) => reply.status)).toEqual([200, 200, 200, 429]);
    expect(statuses[3].headers.get("retry-after")).toBe("0.25");
    await new Promise((resolve) => setTimeout(resolve, 260));
    expect((await api("POST", "/v1/apps/draft-app/machines", { config: machineConfig })).status).toBe(200);
  });

  it("records a contract violation for a request the spec rejects", async () => {
    const emu = await start();
    const api = client(emu);
    await createApp(api);
    const reply = await api("POST", "/v1/apps/draft-app/machines", { config: { image: "nginx", guest: { cpus: "two" } } });
    expect(reply.status).toBe(400);
    expect(reply.body["error"]).toContain("/config/guest/cpus must be integer");
    expect(emu.violations).toEqual([expect.stringContaining("Machines_create request: body /config/guest/cpus must be integer")]);
    expect(emu.state.apps.get("draft-app")?.machines.size).toBe(0);
    expect(() => emu.assertContract()).toThrow(/1 contract violation/);
    await api("GET", "/v1/apps/draft-app/nothing-here");
    expect(emu.violations.at(-1)).toContain("no operation in the spec matches");
    emu.violations.length = 0;
  });
});

describe("Fly emulator: GraphQL deploy tokens (outside the Machines spec)", () => {
  const list = "query GetAppLimitedAccessTokens($appName: String!, $after: String) { app(name: $appName) { id organization { id } limitedAccessTokens(first: 100, after: $after) { nodes { id name expiresAt revokedAt } pageInfo { hasNextPage endCursor } } } }";
  const create =
    "mutation CreateLimitedAccessToken($name: String!, $organizationId: ID!, $profile: String!, $profileParams: JSON, $expiry: String!) { createLimitedAccessToken(input: {name: $name, organizationId: $organizationId, profile: $profile, profileParams: $profileParams, expiry: $expiry}) { limitedAccessToken { id tokenHeader } } }";
  const revoke = "mutation RevokeLimitedAccessToken($input: DeleteLimitedAccessTokenInput!) { deleteLimitedAccessToken(input: $input) { token } }";

  function graphql(emu: FlyEmulator, authorization = `Bearer ${emu.token}`) {
    return async (query: string, variables: Record<string, unknown> = {}): Promise<{ status: number; body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] } }> => {
      const response = await fetch(emu.graphqlUrl, { method: "POST", headers: { authorization, "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
      return { status: response.status, body: (await response.json()) as { data?: Record<string, unknown> | null } };
    };
  }

  async function ids(gql: ReturnType<typeof graphql>, appName = "draft-app"): Promise<{ appId: string; organizationId: string; tokens: Record<string, unknown>[] }> {
    const app = (await gql(list, { appName })).body.data?.["app"] as { id: string; organization: { id: string }; limitedAccessTokens: { nodes: Record<string, unknown>[] } };
    return { appId: app.id, organizationId: app.organization.id, tokens: app.limitedAccessTokens.nodes };
  }

  it("creates, lists and revokes named tokens; a revoked token stays listed and no longer authenticates", async () => {
    const emu = await start();
    await createApp(client(emu));
    const gql = graphql(emu);
    const { appId, organizationId, tokens } = await ids(gql);
    expect(tokens).toEqual([]);
    expect(organizationId).toBe(emu.state.orgIds.get("personal"));
    expect(appId).toBe(emu.state.apps.get("draft-app")?.graphqlId);
    const made = await gql(create, { name: "ci", organizationId, profile: "deploy", profileParams: { app_id: appId }, expiry: "720h" });
    const token = (made.body.data?.["createLimitedAccessToken"] as { limitedAccessToken: { id: string; tokenHeader: string; expiresAt: string; createdAt: string } }).limitedAccessToken;
    expect(token.tokenHeader).toMatch(/^FlyV1 fm2_/);
    expect(Date.parse(token.expiresAt) - Date.parse(token.createdAt)).toBe(720 * 3_600_000);
    expect((await ids(gql)).tokens).toEqual([{ id: token.id, name: "ci", createdAt: token.createdAt, expiresAt: token.expiresAt, revokedAt: null }]);
    expect((await fetch(`${emu.url}/v1/apps/draft-app`, { headers: { authorization: token.tokenHeader } })).status).toBe(200);

    expect((await gql(revoke, { input: { id: token.id } })).body).toEqual({ data: { deleteLimitedAccessToken: { token: token.id, revokedBy: null } } });
    expect((await gql(revoke, { input: { id: token.id } })).body.errors).toBeUndefined();
    expect(emu.state.apps.get("draft-app")?.deployTokens).toMatchObject([{ id: token.id, name: "ci", revokedAt: expect.any(String), via: "graphql" }]);
    expect((await ids(gql)).tokens[0]?.["revokedAt"]).toEqual(expect.any(String));
    expect((await fetch(`${emu.url}/v1/apps/draft-app`, { headers: { authorization: token.tokenHeader } })).status).toBe(401);
    expect(emu.calls.map((call) => [call.path, call.operationId])).toContainEqual(["/graphql", "RevokeLimitedAccessToken"]);
    expect(emu.violations).toEqual([]);
  });

  it("answers NOT_FOUND for an unknown app or token, refuses unknown operations, bad input and a missing token", async () => {
    const emu = await start();
    await createApp(client(emu));
    const gql = graphql(emu);
    expect((await gql(list, { appName: "nope" })).body).toEqual({ data: null, errors: [{ message: "Could not find App", path: ["app"], extensions: { code: "NOT_FOUND" } }] });
    expect((await gql(revoke, { input: { id: "missing" } })).body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const unknown = await gql("query Viewer { viewer { email } }");
    expect(unknown.status).toBe(200);
    expect(unknown.body.errors?.[0]?.message).toMatch(/^Unknown operation "Viewer"/);
    expect((await gql("query GetAppLimitedAccessTokens { viewer { id } }")).body.errors?.[0]?.message).toContain("must select app(...)");
    const { appId, organizationId } = await ids(gql);
    const refused = async (variables: Record<string, unknown>) => (await gql(create, { name: "ci", organizationId, profile: "deploy", profileParams: { app_id: appId }, expiry: "1h", ...variables })).body.errors?.[0]?.message;
    expect(await refused({ name: "" })).toContain("name");
    expect(await refused({ profile: "deploy_organization" })).toContain("profile");
    expect(await refused({ expiry: "30d" })).toContain("expiry");
    expect(await refused({ organizationId: "other" })).toBe("Could not find Organization");
    expect(emu.state.apps.get("draft-app")?.deployTokens).toEqual([]);
    expect((await graphql(emu, "Bearer wrong")(list, { appName: "draft-app" })).status).toBe(401);
    expect(emu.violations).toEqual([]);
  });

  it("pages the token list, takes faults and rate limits by operation name", async () => {
    const emu = await start();
    await createApp(client(emu));
    const gql = graphql(emu);
    const { appId, organizationId } = await ids(gql);
    const variables = { organizationId, profile: "deploy", profileParams: { app_id: appId }, expiry: "1h" };
    for (const name of ["a", "b", "c"]) await gql(create, { ...variables, name });
    const page = "query GetAppLimitedAccessTokens($appName: String!, $first: Int, $after: String) { app(name: $appName) { limitedAccessTokens(first: $first, after: $after) { nodes { name } pageInfo { hasNextPage endCursor } } } }";
    const first = (await gql(page, { appName: "draft-app", first: 2 })).body.data?.["app"] as { limitedAccessTokens: { nodes: { name: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };
    expect(first.limitedAccessTokens.nodes.map((node) => node.name)).toEqual(["a", "b"]);
    expect(first.limitedAccessTokens.pageInfo.hasNextPage).toBe(true);
    const second = (await gql(page, { appName: "draft-app", first: 2, after: first.limitedAccessTokens.pageInfo.endCursor })).body.data?.["app"] as typeof first;
    expect(second.limitedAccessTokens.nodes.map((node) => node.name)).toEqual(["c"]);
    expect(second.limitedAccessTokens.pageInfo.hasNextPage).toBe(false);

    emu.faults.failNext("CreateLimitedAccessToken", 1, { kind: "actThenDrop" });
    await expect(gql(create, { ...variables, name: "lost" })).rejects.toThrow();
    expect(emu.state.apps.get("draft-app")?.deployTokens.map((token) => token.name)).toContain("lost");
    expect(emu.calls.at(-1)).toMatchObject({ operationId: "CreateLimitedAccessToken", status: 0 });
    emu.faults.failNext("GetAppLimitedAccessTokens", 1, { kind: "status", status: 503 });
    expect((await gql(list, { appName: "draft-app" })).status).toBe(503);

    emu.rateLimits = { timeScale: 1 };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await gql(list, { appName: "draft-app" })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(emu.violations).toEqual([]);
  });
});

describe("Fly contract checker", () => {
  const checker = new ContractChecker();
  const op = (method: string, path: string) => {
    const matched = checker.match(method, path);
    if (!matched) throw new Error(`no operation for ${method} ${path}`);
    return matched;
  };

  it("routes literal segments before parameters and decodes parameters", () => {
    expect(op("POST", "/v1/apps/a/certificates/acme").operationId).toBe("App_Certificates_acme_create");
    expect(op("GET", "/v1/apps/a/certificates/%2A.example.com")).toMatchObject({
      operationId: "App_Certificates_show",
      pathParams: { app_name: "a", hostname: "*.example.com" },
    });
    expect(checker.match("GET", "/v1/nothing")).toBeUndefined();
  });

  it("flags undeclared statuses, wrong bodies and undeclared query parameters", () => {
    expect(checker.checkResponse(op("GET", "/v1/apps/a"), 418, { error: "teapot" })).toEqual([
      expect.stringContaining("status not declared"),
    ]);
    expect(checker.checkResponse(op("GET", "/v1/apps/a"), 408, { error: "x" })).toHaveLength(1);
    expect(checker.checkResponse(op("GET", "/v1/apps/a/machines/m/wait"), 408, { error: "x" })).toEqual([]);
    expect(checker.checkResponse(op("GET", "/v1/apps/a"), 404, { message: "no error field" })).toHaveLength(1);
    expect(checker.checkResponse(op("GET", "/v1/apps/a"), 200, { name: 3 })).toEqual([expect.stringContaining("/name must be string")]);
    expect(checker.checkResponse(op("DELETE", "/v1/apps/a/certificates/h"), 204, { ok: true })).toHaveLength(1);
    const lease = op("POST", "/v1/apps/a/machines/m/lease");
    expect(checker.checkResponse(lease, 201, { nonce: "n", expires_at: 1 })).toHaveLength(1);
    expect(checker.checkResponse(lease, 201, { status: "success", data: { nonce: "n", expires_at: 1, owner: "o", version: "v" } })).toEqual([]);
    expect(checker.checkRequest(lease, { query: { ttl: "30" }, headers: {}, body: undefined }).violations).toEqual([]);
    expect(checker.checkRequest(lease, { query: { ttl: "soon" }, headers: {}, body: undefined }).violations).toHaveLength(1);
    const list = op("GET", "/v1/apps/a/machines");
    expect(checker.checkRequest(list, { query: { "metadata.fly_process_group": "app", include_deleted: "true" }, headers: {}, body: undefined }).violations).toEqual([]);
    expect(checker.checkRequest(list, { query: { bogus: "1" }, headers: {}, body: undefined }).violations).toEqual([
      expect.stringContaining('undeclared query parameter "bogus"'),
    ]);
    const release = op("DELETE", "/v1/apps/a/machines/m/lease");
    expect(checker.checkRequest(release, { query: {}, headers: {}, body: undefined }).violations).toEqual([
      expect.stringContaining('missing required header parameter "fly-machine-lease-nonce"'),
    ]);
  });

  it("accepts autostop read back as a boolean only in responses", () => {
    const show = op("GET", "/v1/apps/a/machines/m");
    expect(checker.checkResponse(show, 200, { config: { services: [{ autostop: true }] } })).toEqual([]);
    expect(checker.checkResponse(show, 200, { config: { services: [{ autostop: "stop" }] } })).toHaveLength(1);
    const create = op("POST", "/v1/apps/a/machines");
    expect(checker.checkRequest(create, { query: {}, headers: {}, body: { config: { services: [{ autostop: true }] } } }).bodyError).toBeDefined();
  });

  it("checks the legacy app_name field as the deviation declares it", () => {
    const create = op("POST", "/v1/apps");
    expect(checker.checkRequest(create, { query: {}, headers: {}, body: { app_name: "docs-app", org_slug: "personal" } }).violations).toEqual([]);
    expect(checker.checkRequest(create, { query: {}, headers: {}, body: { app_name: 3, org_slug: "personal" } }).bodyError).toContain("/app_name must be string");
    expect(checker.checkResponse(op("POST", "/v1/apps/a/machines"), 409, { error: "taken", status: "name_taken" })).toEqual([]);
  });

  it("lists every deviation once, with a source tag from the behaviour notes", () => {
    const keys = deviations.map((d) => JSON.stringify({ ...d, what: undefined }));
    expect(new Set(keys).size).toBe(keys.length);
    for (const deviation of deviations) expect(deviation.source).toMatch(/^\[(spec|fly-go|flyctl|docs|distilled)\]$/);
  });
});
