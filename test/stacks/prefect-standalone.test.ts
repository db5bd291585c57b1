/**
 * Seed 004 through config: `platform:prefect.mode: standalone` on the production stack file gives the Prefect
 * server its own Fly app; the worker becomes a client (API URL and auth string) and creates no work pools itself.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { exported, isSecret, resource, resourcesOf, reveal, runStack, types, type StackRun } from "./stack-harness";

let run: StackRun;

beforeAll(async () => {
  run = await runStack("production", { prefect: { mode: "standalone" } });
});

describe("production with a standalone Prefect server (seed 004)", () => {
  it("the server is its own app, naluma-prefect, running `prefect server start` on 4200 with /api/health checks", () => {
    expect(resource(run, types.flyApp, "prefect").inputs).toMatchObject({ name: "naluma-prefect" });
    const machine = resource(run, types.flyMachine, "prefect-app-0").inputs;
    expect(machine).toMatchObject({ region: "fra", init: { cmd: ["prefect", "server", "start", "--host", "0.0.0.0"] } });
    expect(machine.services).toMatchObject([
      { internalPort: 4200, autostop: "off", minMachinesRunning: 1, checks: [{ path: "/api/health", interval: "30s", timeout: "5s", gracePeriod: "60s" }] },
    ]);
  });

  it("the server holds the database URL; the worker gets the API URL and the auth string instead", async () => {
    const server = reveal(resource(run, types.flySecrets, "prefect-secrets").inputs.values) as Record<string, string>;
    expect(server.PREFECT_API_DATABASE_CONNECTION_URL).toBe((await exported(run, "prefectDatabaseUrl")).value);
    const worker = reveal(resource(run, types.flySecrets, "worker-secrets").inputs.values) as Record<string, string>;
    expect(Object.keys(worker)).not.toContain("PREFECT_API_DATABASE_CONNECTION_URL");
    expect(worker.PREFECT_API_AUTH_STRING).toBe(server.PREFECT_SERVER_API_AUTH_STRING);
    const env = resource(run, types.flyMachine, "worker-app-0").inputs.env as Record<string, unknown>;
    expect(env.PREFECT_API_URL).toBe("https://naluma-prefect.fly.dev/api");
  });

  it("work pools are created in the server's machine, not the worker's", () => {
    expect(resourcesOf(run, types.flyMachineExec).map((exec) => [exec.name, exec.inputs.machineId])).toEqual([
      ["prefect-work-pool-content-pool", "m-prefect-app-0"],
      ["prefect-work-pool-recovery-pool", "m-prefect-app-0"],
    ]);
  });

  it("exports the API URL, and the auth string as a secret", async () => {
    expect((await exported(run, "prefectApiUrl")).value).toBe("https://naluma-prefect.fly.dev/api");
    const auth = await exported(run, "prefectAuthString");
    expect(auth.secret).toBe(true);
    expect(String(auth.value)).toMatch(/^admin:/);
    expect(isSecret(resource(run, types.flySecrets, "prefect-secrets").inputs.values)).toBe(true);
  });
});
