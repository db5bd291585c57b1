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

let emulator: FlyEmulator;
let host: ProviderHostClient;
let serialized: Record<string, SerializedResource>;

beforeAll(async () => {
  emulator = await startFlyEmulator({ transitionMs: 5 });
  serialized = await serializeProviders(
    [{ module: "dynamic-providers/fly/app", exportName: "App", name: "worker", props: { name: "naluma-content", orgSlug: "personal" } }],
    { env: { FLY_API_TOKEN: emulator.token, FLY_API_URL: emulator.url } },
  );
  host = await startProviderHost({ env: { FLY_API_TOKEN: emulator.token, FLY_API_URL: emulator.url } });
});

afterAll(async () => {
  await host?.close();
  await emulator?.close();
});

describe("Fly providers through the dynamic-provider host", () => {
  it("serialized providers carry neither the API token nor the API URL's credentials", () => {
    for (const resource of Object.values(serialized)) {
      assertNoSecrets(resource.provider, [emulator.token]);
      expect(resource.providerIsSecret).toBe(false);
    }
  });

  it("App: create, no-op diff, read, replace on rename, delete twice", async () => {
    emulator.resetCalls();
    const outcome = await runLifecycle(
      host,
      { resource: serialized.worker, name: "worker", replace: { name: "naluma-content-2" }, deleteBeforeReplace: true },
      {
        afterCreate: (created) => {
          expect(created.properties).toMatchObject({ name: "naluma-content", hostname: "naluma-content.fly.dev" });
          expect(emulator.state.apps.has("naluma-content")).toBe(true);
        },
        afterDelete: () => {
          expect(emulator.state.apps.has("naluma-content")).toBe(false);
        },
      },
    );
    expect(outcome.read.properties).toMatchObject({ orgSlug: "personal", privateHostname: "naluma-content.internal" });
    const writes = emulator.calls.filter((call) => call.method !== "GET").map((call) => call.operationId);
    expect(writes).toEqual(["Apps_create", "Apps_delete", "Apps_delete"]);
    emulator.assertContract();
  });
});
