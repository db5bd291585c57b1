/**
 * ReleaseCommand and MachineExec on the path `pulumi up` takes: compiled, serialized by the SDK in plain
 * Node, run by the SDK's dynamic-provider host over gRPC against the emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFlyEmulator, type FlyEmulator } from "../emulators/fly/server";
import { runLifecycle } from "../harness/lifecycle";
import { startProviderHost, urnFor, withProvider, type ProviderHostClient } from "../harness/provider-host";
import { assertNoSecrets } from "../harness/secrets-scan";
import { serializeProviders, type SerializedResource } from "../harness/serialize";

const app = "draft-app";
let emulator: FlyEmulator;
let host: ProviderHostClient;
let serialized: Record<string, SerializedResource>;
let machineId: string;

beforeAll(async () => {
  emulator = await startFlyEmulator({ transitionMs: 5 });
  const env = { FLY_API_TOKEN: emulator.token, FLY_API_URL: emulator.url };
  const headers = { authorization: `Bearer ${emulator.token}`, "content-type": "application/json" };
  await fetch(`${emulator.url}/v1/apps`, { method: "POST", headers, body: JSON.stringify({ name: app, org_slug: "personal" }) });
  const machine = await fetch(`${emulator.url}/v1/apps/${app}/machines`, {
    method: "POST",
    headers,
    body: JSON.stringify({ name: "app-0", region: "ewr", config: { image: "registry.fly.io/draft-app:deployment-1" } }),
  });
  machineId = String(((await machine.json()) as Record<string, unknown>)["id"]);
  serialized = await serializeProviders(
    [
      {
        module: "dynamic-providers/fly/release-command",
        exportName: "ReleaseCommand",
        name: "release",
        props: { appName: app, image: "registry.fly.io/draft-app:deployment-1", command: ["alembic", "upgrade", "head"], region: "ewr" },
      },
      {
        module: "dynamic-providers/fly/machine-exec",
        exportName: "MachineExec",
        name: "exec",
        props: { appName: app, machineId, command: ["prefect", "work-pool", "create", "content-pool", "--type", "process", "--overwrite"] },
      },
    ],
    { env },
  );
  host = await startProviderHost({ env });
});

afterAll(async () => {
  await host?.close();
  await emulator?.close();
});

describe("ReleaseCommand and MachineExec through the dynamic-provider host", () => {
  it("serialize without the API token under readable type names", () => {
    expect(serialized.release.type).toBe("pulumi-nodejs:dynamic/fly:ReleaseCommand");
    expect(serialized.exec.type).toBe("pulumi-nodejs:dynamic/fly:MachineExec");
    for (const resource of Object.values(serialized)) {
      assertNoSecrets(resource.provider, [emulator.token]);
      expect(resource.providerIsSecret).toBe(false);
    }
  });

  it("ReleaseCommand: runs on create and on a new image; appName replaces", async () => {
    emulator.resetCalls();
    await runLifecycle(
      host,
      {
        resource: serialized.release,
        name: "release",
        update: { image: "registry.fly.io/draft-app:deployment-2" },
        replace: { appName: "draft-app-prod" },
        deleteBeforeReplace: false,
      },
      {
        afterCreate: (created) => expect(created.properties).toMatchObject({ exitCode: 0, ranImage: "registry.fly.io/draft-app:deployment-1" }),
        afterUpdate: (updated) => expect(updated.properties).toMatchObject({ exitCode: 0, ranImage: "registry.fly.io/draft-app:deployment-2" }),
      },
    );
    expect(emulator.calls.filter((call) => call.operationId === "Machines_create")).toHaveLength(2);
    emulator.assertContract();
  });

  it("ReleaseCommand: a failing command fails create with its exit code", async () => {
    emulator.faults.exitCode(app, 2);
    try {
      await host.configure();
      const release = serialized.release;
      await expect(host.create(urnFor(release.type, "failing"), withProvider(release.provider, release.inputs))).rejects.toThrow(/exited with code 2/);
    } finally {
      emulator.faults.exitCode(app, 0);
    }
  });

  it("MachineExec: runs the command in the machine through the host", async () => {
    emulator.resetCalls();
    emulator.faults.execResult(app, { exitCode: 0, stdout: "Created work pool 'content-pool'." }, 1);
    await host.configure();
    const exec = serialized.exec;
    const created = await host.create(urnFor(exec.type, "exec"), withProvider(exec.provider, exec.inputs));
    expect(created.properties).toMatchObject({ exitCode: 0, stdout: "Created work pool 'content-pool'." });
    const [call] = emulator.calls.filter((c) => c.operationId === "Machines_exec");
    expect(call.path).toBe(`/v1/apps/${app}/machines/${machineId}/exec`);
    emulator.assertContract();
  });
});
