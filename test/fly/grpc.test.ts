/**
 * The Fly providers on the path `pulumi up` takes: compiled with tsc, serialized by the SDK under the mock
 * runtime in plain Node, then run by the SDK's own dynamic-provider host over gRPC against the emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFlyEmulator, type FlyEmulator } from "../emulators/fly/server";
import { runLifecycle } from "../harness/lifecycle";
import { startProviderHost, type ProviderHostClient } from "../harness/provider-host";
import { assertNoSecrets } from "../harness/secrets-scan";
import { serializeProviders, type SerializedResource } from "../harness/serialize";

const app = "naluma-content";
const secretValues = { ANTHROPIC_API_KEY: "sk-ant-grpc-3f9d2c", WP_APP_PASSWORD: "abcd efgh ijkl mnop" };
let emulator: FlyEmulator;
let host: ProviderHostClient;
let serialized: Record<string, SerializedResource>;

beforeAll(async () => {
  emulator = await startFlyEmulator({ transitionMs: 5 });
  const env = { FLY_API_TOKEN: emulator.token, FLY_API_URL: emulator.url, FLY_GRAPHQL_URL: emulator.graphqlUrl };
  serialized = await serializeProviders(
    [
      { module: "dynamic-providers/fly/app", exportName: "App", name: "worker", props: { name: app, orgSlug: "personal" } },
      { module: "dynamic-providers/fly/secrets", exportName: "Secrets", name: "secrets", props: { appName: app, values: secretValues } },
      { module: "dynamic-providers/fly/volume", exportName: "Volume", name: "data", props: { appName: app, name: "data", region: "fra", sizeGb: 1 } },
      { module: "dynamic-providers/fly/ip-address", exportName: "IpAddress", name: "ip", props: { appName: app, type: "v6" } },
      { module: "dynamic-providers/fly/certificate", exportName: "Certificate", name: "cert", props: { appName: app, hostname: "dashboard.naluma.space" } },
      { module: "dynamic-providers/fly/deploy-token", exportName: "DeployToken", name: "token", props: { appName: app } },
      {
        module: "dynamic-providers/fly/machine",
        exportName: "Machine",
        name: "machine",
        props: {
          appName: app,
          name: "worker",
          region: "fra",
          image: "registry.fly.io/naluma-content:v1",
          guest: { cpuKind: "shared", cpus: 1, memoryMb: 1024 },
          env: { PREFECT_API_URL: "http://localhost:4200/api" },
          checks: { health: { type: "http", port: 8080, interval: "30s", timeout: "5s", gracePeriod: "60s", method: "GET", path: "/health" } },
        },
      },
    ],
    { env: { ...env, ...secretValues } },
  );
  host = await startProviderHost({ env });
});

afterAll(async () => {
  await host?.close();
  await emulator?.close();
});

/** Creates the app the other resources live in, through the host like everything else. */
async function ensureApp(): Promise<void> {
  if (emulator.state.apps.has(app)) return;
  const worker = serialized.worker;
  const { withProvider, urnFor } = await import("../harness/provider-host");
  await host.configure();
  await host.create(urnFor(worker.type, "worker"), withProvider(worker.provider, worker.inputs));
}

describe("Fly providers through the dynamic-provider host", () => {
  it("serialized providers carry neither the API token nor any secret value", () => {
    expect(Object.keys(serialized)).toHaveLength(7);
    for (const resource of Object.values(serialized)) {
      assertNoSecrets(resource.provider, [emulator.token, ...Object.values(secretValues)]);
      expect(resource.providerIsSecret).toBe(false);
    }
    expect(serialized.secrets.additionalSecretOutputs).toContain("values");
    expect(serialized.token.additionalSecretOutputs).toContain("token");
  });

  it("App: create, no-op diff, read, replace on rename, delete twice", async () => {
    emulator.resetCalls();
    const outcome = await runLifecycle(
      host,
      { resource: serialized.worker, name: "worker", replace: { name: "naluma-content-2" }, deleteBeforeReplace: true },
      {
        afterCreate: (created) => {
          expect(created.properties).toMatchObject({ name: app, hostname: `${app}.fly.dev` });
          expect(emulator.state.apps.has(app)).toBe(true);
        },
        afterDelete: () => {
          expect(emulator.state.apps.has(app)).toBe(false);
        },
      },
    );
    expect(outcome.read.properties).toMatchObject({ orgSlug: "personal", privateHostname: `${app}.internal` });
    const writes = emulator.calls.filter((call) => call.method !== "GET").map((call) => call.operationId);
    expect(writes).toEqual(["Apps_create", "Apps_delete", "Apps_delete"]);
    emulator.assertContract();
  });

  it("Secrets: values set in one call, marked secret, changed and unset in one call", async () => {
    await ensureApp();
    emulator.resetCalls();
    const outcome = await runLifecycle(
      host,
      {
        resource: serialized.secrets,
        name: "secrets",
        update: { values: { ANTHROPIC_API_KEY: "sk-ant-rotated" } },
        replace: { appName: "another-app" },
        deleteBeforeReplace: false,
        secretInputs: ["values"],
      },
      {
        afterCreate: (created) => {
          expect(created.secretPaths).toContain("values");
          expect(emulator.state.apps.get(app)?.secrets.get("WP_APP_PASSWORD")?.value).toBe(secretValues.WP_APP_PASSWORD);
        },
        afterUpdate: (updated) => {
          expect(updated.properties.names).toEqual(["ANTHROPIC_API_KEY"]);
          const secrets = emulator.state.apps.get(app)?.secrets;
          expect(secrets?.get("ANTHROPIC_API_KEY")?.value).toBe("sk-ant-rotated");
          expect(secrets?.has("WP_APP_PASSWORD")).toBe(false);
        },
      },
    );
    expect(Number(outcome.updated.properties.version)).toBeGreaterThan(Number(outcome.created.properties.version));
    const updates = emulator.calls.filter((call) => call.operationId === "Secrets_update").map((call) => call.requestBody);
    expect(updates[1]).toEqual({ values: { ANTHROPIC_API_KEY: "sk-ant-rotated", WP_APP_PASSWORD: null } });
    assertNoSecrets(JSON.stringify(host.logs), Object.values(secretValues));
    emulator.assertContract();
  });

  it("Volume: create, extend in place, replace on region, delete", async () => {
    await ensureApp();
    const outcome = await runLifecycle(host, {
      resource: serialized.data,
      name: "data",
      update: { sizeGb: 2 },
      replace: { region: "ewr" },
      deleteBeforeReplace: false,
    });
    expect(outcome.updated.properties.sizeGb).toBe(2);
    expect(emulator.calls.some((call) => call.operationId === "Volumes_extend")).toBe(true);
    emulator.assertContract();
  });

  it("IpAddress and Certificate: create, read, replace, delete", async () => {
    await ensureApp();
    const ip = await runLifecycle(host, { resource: serialized.ip, name: "ip", replace: { type: "shared_v4" }, deleteBeforeReplace: false });
    expect(String(ip.created.properties.ip)).toContain(":");
    const cert = await runLifecycle(host, {
      resource: serialized.cert,
      name: "cert",
      replace: { hostname: "docs.naluma.space" },
      deleteBeforeReplace: false,
    });
    expect(cert.created.properties).toMatchObject({
      dnsCnameTarget: `${app}.fly.dev`,
      acmeChallengeName: "_acme-challenge.dashboard.naluma.space",
      status: "pending_validation",
    });
    emulator.assertContract();
  });

  it("DeployToken: the token comes back marked secret; rotate replaces", async () => {
    await ensureApp();
    const outcome = await runLifecycle(host, { resource: serialized.token, name: "token", replace: { rotate: "2027-01" }, deleteBeforeReplace: false });
    expect(outcome.created.secretPaths).toContain("token");
    expect(String(outcome.created.properties.token)).toMatch(/^FlyV1 /);
    assertNoSecrets(JSON.stringify(host.logs), [String(outcome.created.properties.token)]);
    emulator.assertContract();
  });

  it("Machine: create waits for started and passing checks, update under a lease, replace on region", async () => {
    await ensureApp();
    emulator.resetCalls();
    const outcome = await runLifecycle(
      host,
      {
        resource: serialized.machine,
        name: "machine",
        update: { guest: { cpuKind: "shared", cpus: 1, memoryMb: 2048 } },
        replace: { region: "ewr" },
        // Machine names are unique within an app, so the old machine goes first.
        deleteBeforeReplace: true,
      },
      {
        afterCreate: (created) => expect(created.properties.state).toBe("started"),
        afterUpdate: (updated) => expect(updated.properties.state).toBe("started"),
      },
    );
    const update = emulator.calls.find((call) => call.operationId === "Machines_update");
    expect(update?.requestBody).toMatchObject({ config: { guest: { memory_mb: 2048 } }, current_version: outcome.created.properties.version });
    expect(emulator.calls.some((call) => call.operationId === "Machines_create_lease")).toBe(true);
    emulator.assertContract();
  });
});
