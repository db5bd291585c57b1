import { describe, expect, it } from "vitest";
import { unknownValue } from "../../dynamic-providers/core/check";
import {
  releaseCommandProcessGroup,
  releaseCommandProvider,
  type ReleaseCommandInputs,
  type ReleaseCommandOutputs,
} from "../../dynamic-providers/fly/release-command";
import { providerUnderTest } from "../support/provider";
import { useFlyEmulator } from "./support";

const { provider, checked, created } = providerUnderTest(releaseCommandProvider);
const appName = "draft-app";
const { emu, calls } = useFlyEmulator({ apps: [appName], transitionMs: 10, tearDown: () => emu.faults.exitCode(appName, 0) });

/** Seed 001: `alembic upgrade head` on each deploy. */
const migrate: ReleaseCommandInputs = {
  appName,
  image: "registry.fly.io/draft-app:deployment-1",
  command: ["alembic", "upgrade", "head"],
  region: "ewr",
  guest: { cpuKind: "shared", cpus: 1, memoryMb: 1024 },
  env: { ENV: "stage" },
  minSecretsVersion: 3,
  timeoutSeconds: 10,
};

function machines() {
  return [...(emu.state.apps.get(appName)?.machines.values() ?? [])];
}

describe("release command check() and diff()", () => {
  it.each<[string, Partial<ReleaseCommandInputs>, string]>([
    ["an empty command", { command: [] }, "fly release command 'draft-app': command must be a non-empty list of strings"],
    ["a region name", { region: "Newark" }, "region must be a Fly region (one of ams, arn"],
    ["no image", { image: "" }, "image is required"],
    ["a 300 MB machine", { guest: { cpuKind: "shared", cpus: 1, memoryMb: 300 } }, "guest.memoryMb must be a multiple of 256"],
    ["a two-hour timeout", { timeoutSeconds: 7200 }, "timeoutSeconds must be between 1 and 3600, got 7200"],
  ])("refuses %s", async (_title, change, message) => {
    const result = await provider.check({} as ReleaseCommandInputs, { ...migrate, ...change });
    expect((result.failures ?? []).map((failure) => failure.reason).join("\n")).toContain(message);
  });

  it("leaves values unknown during preview alone", async () => {
    const result = await provider.check({} as ReleaseCommandInputs, { ...migrate, image: unknownValue, appName: unknownValue });
    expect(result.failures).toEqual([]);
  });

  it.each<[string, Partial<ReleaseCommandInputs>, string[]]>([
    ["image", { image: "registry.fly.io/draft-app:deployment-2" }, []],
    ["command", { command: ["alembic", "upgrade", "heads"] }, []],
    ["env", { env: { ENV: "prod" } }, []],
    ["appName", { appName: "draft-app-prod" }, ["appName"]],
  ])("a %s change is a change", async (_title, change, replaces) => {
    const outs: ReleaseCommandOutputs = { ...migrate, machineId: "m", exitCode: 0, ranImage: migrate.image, ranAt: "t" };
    const result = await provider.diff("id", outs, { ...migrate, ...change });
    expect(result).toMatchObject({ changes: true, replaces });
  });

  it("no change, no network", async () => {
    const outs: ReleaseCommandOutputs = { ...migrate, machineId: "m", exitCode: 0, ranImage: migrate.image, ranAt: "t" };
    expect((await provider.diff("id", outs, { ...migrate })).changes).toBe(false);
    expect(emu.calls).toEqual([]);
  });
});

describe("release command runs", () => {
  it("creates a one-off machine with the command, waits for its exit and records the image", async () => {
    const { id, outs } = await provider.create(await checked(migrate));
    if (!outs) throw new Error("create returned no outputs");
    expect(id).toBe("draft-app/release-command");
    expect(outs).toMatchObject({ exitCode: 0, ranImage: migrate.image, image: migrate.image });

    const [create] = calls("Machines_create");
    const sent = create.requestBody as { region: string; min_secrets_version: number; config: Record<string, unknown> };
    expect(sent.region).toBe("ewr");
    expect(sent.min_secrets_version).toBe(3);
    expect(sent.config).toMatchObject({
      image: migrate.image,
      init: { cmd: ["alembic", "upgrade", "head"] },
      restart: { policy: "no" },
      auto_destroy: true,
      env: { ENV: "stage", RELEASE_COMMAND: "1" },
      guest: { cpu_kind: "shared", cpus: 1, memory_mb: 1024 },
      metadata: { fly_process_group: releaseCommandProcessGroup },
    });
    expect(sent.config["services"]).toBeUndefined();
    expect(calls("Machines_list_events")).toHaveLength(1);
    // The machine destroyed itself: nothing is left running.
    expect(machines().map((machine) => machine.state)).toEqual(["destroyed"]);
  });

  it("fails with the exit code and the machine id when the command fails", async () => {
    emu.faults.exitCode(appName, 3);
    const error = await provider.create(await checked(migrate)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    const [machine] = machines();
    expect((error as Error).message).toBe(
      `fly release command \`alembic upgrade head\` in app 'draft-app': exited with code 3 in machine ${machine.id} running image ` +
        `${migrate.image}; the app's machines were not updated. See \`fly logs --app draft-app --instance ${machine.id}\``,
    );
  });

  it("runs again for a new image, not for an env change", async () => {
    const outs = await created(await checked(migrate));
    emu.resetCalls();

    const envOnly = await provider.update("id", outs, await checked({ ...migrate, env: { ENV: "prod" } }));
    expect(calls("Machines_create")).toEqual([]);
    expect(envOnly.outs).toMatchObject({ env: { ENV: "prod" }, ranImage: migrate.image, machineId: outs.machineId });

    const image = "registry.fly.io/draft-app:deployment-2";
    const rerun = await provider.update("id", envOnly.outs as ReleaseCommandOutputs, await checked({ ...migrate, env: { ENV: "prod" }, image }));
    expect(calls("Machines_create")).toHaveLength(1);
    expect((calls("Machines_create")[0].requestBody as { config: { image: string } }).config.image).toBe(image);
    expect(rerun.outs).toMatchObject({ ranImage: image, exitCode: 0 });
    expect((rerun.outs as ReleaseCommandOutputs).machineId).not.toBe(outs.machineId);
  });

  it("a failed update keeps nothing: the old image stays recorded, the next run tries again", async () => {
    const outs = await created(await checked(migrate));
    emu.faults.exitCode(appName, 1);
    const image = "registry.fly.io/draft-app:deployment-2";
    await expect(provider.update("id", outs, await checked({ ...migrate, image }))).rejects.toThrow(/exited with code 1/);
    emu.faults.exitCode(appName, 0);
    const retried = await provider.update("id", outs, await checked({ ...migrate, image }));
    expect(retried.outs).toMatchObject({ ranImage: image });
  });

  it("finds its machine again after a create answered with a 503", async () => {
    emu.faults.failNext("Machines_create", 1, { kind: "status", status: 503 });
    const result = await provider.create(await checked(migrate)).catch((caught: unknown) => caught);
    // The emulator refuses the 503'd request before making a machine, so the lookup finds none and the 503 surfaces.
    expect(String(result)).toContain("503");
    expect(calls("Machines_list").length).toBeGreaterThan(0);
  });

  it("stops a command that outlives its timeout and says so", async () => {
    emu.transitionMs = 1500;
    try {
      const error = await provider.create(await checked({ ...migrate, timeoutSeconds: 1 })).catch((caught: unknown) => caught);
      expect(String(error)).toMatch(/did not finish within 1s \(machine [0-9a-f]{14}, destroyed now\)/);
      expect(calls("Machines_delete")).toHaveLength(1);
    } finally {
      emu.transitionMs = 10;
    }
  });

  it("read and delete touch nothing", async () => {
    const outs = await created(await checked(migrate));
    emu.resetCalls();
    expect(await provider.read("id", outs)).toEqual({ id: "id", props: outs });
    await provider.delete("id", outs);
    expect(emu.calls).toEqual([]);
  });
});
