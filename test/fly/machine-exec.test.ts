import { describe, expect, it } from "vitest";
import { machineExecProvider, type MachineExecInputs } from "../../dynamic-providers/fly/machine-exec";
import { providerUnderTest } from "../support/provider";
import { useFlyEmulator } from "./support";

const { provider, created } = providerUnderTest(machineExecProvider);
const appName = "naluma-prefect";
const workPool = ["prefect", "work-pool", "create", "content-pool", "--type", "process", "--overwrite"];

let machineId: string;

const { emu, flyOk, calls } = useFlyEmulator({
  apps: [appName],
  async setUp() {
    const machine = await flyOk("POST", `/v1/apps/${appName}/machines`, { name: "prefect-server", region: "ewr", config: { image: "prefecthq/prefect:3-python3.12" } });
    machineId = String(machine["id"]);
  },
});

function execCalls(): ReturnType<typeof calls> {
  return calls("Machines_exec");
}

function inputs(change: Partial<MachineExecInputs> = {}): MachineExecInputs {
  return { appName, machineId, command: workPool, trigger: "prefecthq/prefect:3-python3.12", ...change };
}

describe("machine exec", () => {
  it("runs the command in the machine on create and keeps its output", async () => {
    emu.faults.execResult(appName, { exitCode: 0, stdout: "Created work pool 'content-pool'.\n" });
    const outs = await created(inputs());
    expect(outs).toMatchObject({ exitCode: 0, stdout: "Created work pool 'content-pool'.\n", stderr: "" });
    const [call] = execCalls();
    expect(call.path).toBe(`/v1/apps/${appName}/machines/${machineId}/exec`);
    expect(call.requestBody).toEqual({ command: workPool, timeout: 60 });
  });

  it("fails with the exit code and the end of stderr", async () => {
    emu.faults.execResult(appName, { exitCode: 1, stderr: "Traceback...\nhttpx.ConnectError: All connection attempts failed\n" });
    await expect(provider.create(inputs())).rejects.toThrow(
      `fly exec \`${workPool.join(" ")}\` in machine ${machineId} of app '${appName}': exited with code 1 after 1 attempt(s):\n` +
        "Traceback...\nhttpx.ConnectError: All connection attempts failed",
    );
  });

  it("tries again while the command fails, up to attempts", async () => {
    emu.faults.execResult(appName, { exitCode: 1, stderr: "server starting" }, 2);
    const outs = await created(inputs({ attempts: 3, retryDelaySeconds: 0 }));
    expect(outs.exitCode).toBe(0);
    expect(execCalls()).toHaveLength(3);
  });

  it("an exec that got no answer counts as a failed attempt: run again while attempts are left, else the call's error", async () => {
    emu.faults.failNext("Machines_exec", 1, { kind: "drop" });
    const outs = await created(inputs({ attempts: 2, retryDelaySeconds: 0 }));
    expect(outs.exitCode).toBe(0);
    expect(execCalls().map((call) => call.status)).toEqual([0, 200]);

    emu.faults.failNext("Machines_exec", 1, { kind: "status", status: 503 });
    await expect(created(inputs())).rejects.toThrow(/^Fly Machines API POST \/v1\/apps\/naluma-prefect\/machines\/[0-9a-f]{14}\/exec failed with 503/);
  });

  it.each<[string, Partial<MachineExecInputs>, number]>([
    ["a new trigger (image)", { trigger: "prefecthq/prefect:3.1-python3.12" }, 1],
    ["a new command", { command: ["prefect", "work-pool", "create", "recovery-pool", "--type", "process", "--overwrite"] }, 1],
    ["only attempts", { attempts: 5 }, 0],
  ])("update after %s runs %i time(s)", async (_title, change, runs) => {
    const outs = await created(inputs());
    emu.resetCalls();
    const diff = await provider.diff("id", outs, inputs(change));
    expect(diff.changes).toBe(true);
    expect(diff.replaces).toEqual([]);
    await provider.update("id", outs, inputs(change));
    expect(execCalls()).toHaveLength(runs);
  });

  it("no change is no diff; read and delete touch nothing", async () => {
    const outs = await created(inputs());
    emu.resetCalls();
    expect((await provider.diff("id", outs, inputs())).changes).toBe(false);
    expect(await provider.read("id", outs)).toEqual({ id: "id", props: outs });
    await provider.delete("id", outs);
    expect(emu.calls).toEqual([]);
  });

  it("says when another deploy holds the machine's lease", async () => {
    emu.faults.holdLease(appName, machineId, 5_000);
    await expect(provider.create(inputs())).rejects.toThrow(/lease is held by another deploy/);
  });

  it.each<[string, Partial<MachineExecInputs>, string]>([
    ["an empty command", { command: [] }, "command must be a non-empty list of strings"],
    ["a machine name for an id", { machineId: "prefect-server" }, "machineId must be a machine id"],
    ["zero attempts", { attempts: 0 }, "attempts must be between 1 and 100, got 0"],
  ])("check refuses %s", async (_title, change, message) => {
    const result = await provider.check({} as MachineExecInputs, inputs(change));
    expect((result.failures ?? []).map((failure) => failure.reason).join("\n")).toContain(message);
  });
});
