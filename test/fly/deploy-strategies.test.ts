/**
 * FlyApp's deploy strategies against the emulator, N = 6 machines in one group: the group's Machine
 * resources (as FlyApp makes them: components/fly-deploy.ts) applied in dependency order by an engine-like
 * runner (deploy-runner.ts) with the real provider. Each test creates the group on image v1, then deploys v2.
 */
import { describe, expect, it } from "vitest";
import type { FlyDeployArgs } from "../../components/fly-deploy";
import { apply, groupMachines, observe, type EngineState, type GroupSpec } from "./deploy-runner";
import { useFlyEmulator } from "./support";

const appName = "strat-app";
const group = "web";
const n = 6;
const v1 = "registry.fly.io/strat-app:deployment-1";
const v2 = "registry.fly.io/strat-app:deployment-2";

const { emu } = useFlyEmulator({
  apps: [appName],
  transitionMs: 20,
  tearDown: () => {
    for (let index = 0; index < n; index++) emu.faults.failHealthChecksOf(appName, `${group}-${index}`, false);
    emu.faults.crashAfterStart(appName, undefined);
  },
});

function spec(image: string, deploy?: FlyDeployArgs, smokeSeconds = 0): GroupSpec {
  return { appName, group, count: n, image, deploy, smokeSeconds };
}

/** The group on v1, created with the same strategy. */
async function initial(deploy?: FlyDeployArgs): Promise<EngineState> {
  const state: EngineState = new Map();
  const { error } = await apply(state, groupMachines(spec(v1, deploy)));
  expect(error).toBeUndefined();
  return state;
}

/** Images of the group's live machines, by machine name. */
function liveImages(): Record<string, string | undefined> {
  const machines = [...(emu.state.apps.get(appName)?.machines.values() ?? [])].filter((m) => m.state !== "destroyed" && m.state !== "destroying");
  return Object.fromEntries(machines.map((m) => [m.name, m.config.image]).sort(([a], [b]) => String(a).localeCompare(String(b))));
}

function position(sequence: string[], entry: string): number {
  const index = sequence.indexOf(entry);
  expect(index, `${entry} in ${sequence.join(", ")}`).toBeGreaterThanOrEqual(0);
  return index;
}

describe("rolling (flyctl's default strategy)", () => {
  it("with the default maxUnavailable 0.33 updates 2 of 6 at a time in place: 6 leases, 6 updates, never fewer than 4 serving", async () => {
    const state = await initial();
    const { result, observed } = await observe(emu, appName, group, () => apply(state, groupMachines(spec(v2))));
    expect(result.error).toBeUndefined();
    expect(observed.counts).toEqual({ lease: 6, release: 6, update: 6, create: 0, delete: 0 });
    expect(observed.maxLeases).toBe(2);
    expect(observed.minServing).toBe(n - 2);
    expect(Object.values(liveImages())).toEqual(Array(n).fill(v2));
    // Chains 0→2→4 and 1→3→5: machine 2 is leased only after machine 0's lease is released.
    expect(position(observed.sequence, "lease web-2")).toBeGreaterThan(position(observed.sequence, "release web-0"));
    expect(position(observed.sequence, "lease web-5")).toBeGreaterThan(position(observed.sequence, "release web-3"));
  });

  it("with maxUnavailable 1 updates one machine at a time: never fewer than 5 serving", async () => {
    const state = await initial({ maxUnavailable: 1 });
    const { result, observed } = await observe(emu, appName, group, () => apply(state, groupMachines(spec(v2, { maxUnavailable: 1 }))));
    expect(result.error).toBeUndefined();
    expect(observed.maxLeases).toBe(1);
    expect(observed.minServing).toBe(n - 1);
    expect(observed.sequence.filter((call) => call.startsWith("update"))).toEqual([0, 1, 2, 3, 4, 5].map((i) => `update web-${i}`));
  });

  it("stops at a failing health check mid-rollout: the machines after it keep the old image", async () => {
    const deploy = { maxUnavailable: 1, waitTimeout: "2s" };
    const state = await initial(deploy);
    emu.faults.failHealthChecksOf(appName, "web-2", true);
    const { result, observed } = await observe(emu, appName, group, () => apply(state, groupMachines(spec(v2, deploy))));
    expect(result.error?.message).toContain("fly machine 'web-2'");
    expect(result.error?.message).toContain("health checks did not pass");
    expect(observed.counts.update).toBe(3);
    expect(liveImages()).toEqual({ "web-0": v2, "web-1": v2, "web-2": v2, "web-3": v1, "web-4": v1, "web-5": v1 });
    // Pulumi keeps the failed machine's old inputs, so the next `pulumi up` updates it again.
    expect(state.get(`${appName}-web-2`)?.outs.image).toBe(v1);
    expect(state.get(`${appName}-web-1`)?.outs.image).toBe(v2);
  });

  it("stops at a smoke check: a machine that crashes right after starting fails the update, the rest keep the old image", async () => {
    const state = await initial({ maxUnavailable: 1 });
    emu.faults.crashAfterStart(appName, 1);
    const { result, observed } = await observe(emu, appName, group, () => apply(state, groupMachines(spec(v2, { maxUnavailable: 1 }, 1))));
    expect(result.error?.message).toContain("fly machine 'web-0'");
    expect(result.error?.message).toContain("smoke check failed: its process exited with code 1 (restart 2)");
    expect(observed.counts.update).toBe(1);
    expect(Object.values(liveImages()).filter((image) => image === v1)).toHaveLength(n - 1);
  });
});

describe("immediate", () => {
  it("updates all 6 at once and waits for no health check", async () => {
    const state = await initial({ strategy: "immediate" });
    emu.resetCalls();
    // Slow enough transitions that all six updates are sent while the first is still replacing.
    emu.transitionMs = 300;
    const { result, observed } = await observe(emu, appName, group, () => apply(state, groupMachines(spec(v2, { strategy: "immediate" })))).finally(() => {
      emu.transitionMs = 20;
    });
    expect(result.error).toBeUndefined();
    expect(observed.counts).toEqual({ lease: 6, release: 6, update: 6, create: 0, delete: 0 });
    expect(observed.maxLeases).toBe(n);
    expect(observed.minServing).toBe(0);
    // No health-check polling: each update reads the machine once before and once after its wait.
    expect(emu.calls.filter((call) => call.operationId === "Machines_show")).toHaveLength(2 * n);
  });

  it("does not notice a failing check", async () => {
    const state = await initial({ strategy: "immediate" });
    emu.faults.failHealthChecksOf(appName, "web-2", true);
    const { error } = await apply(state, groupMachines(spec(v2, { strategy: "immediate", waitTimeout: "2s" })));
    expect(error).toBeUndefined();
    expect(Object.values(liveImages())).toEqual(Array(n).fill(v2));
  });
});

describe("canary", () => {
  it("updates machine 0 alone, then the other 5 two at a time (0.33 of 5)", async () => {
    const state = await initial({ strategy: "canary" });
    const { result, observed } = await observe(emu, appName, group, () => apply(state, groupMachines(spec(v2, { strategy: "canary" }))));
    expect(result.error).toBeUndefined();
    expect(observed.sequence.slice(0, 3)).toEqual(["lease web-0", "update web-0", "release web-0"]);
    expect(observed.counts).toEqual({ lease: 6, release: 6, update: 6, create: 0, delete: 0 });
    expect(observed.maxLeases).toBe(2);
    expect(observed.minServing).toBe(n - 2);
  });

  it("a failing canary leaves the other 5 untouched", async () => {
    const deploy: FlyDeployArgs = { strategy: "canary", waitTimeout: "2s" };
    const state = await initial(deploy);
    emu.faults.failHealthChecksOf(appName, "web-0", true);
    const { result, observed } = await observe(emu, appName, group, () => apply(state, groupMachines(spec(v2, deploy))));
    expect(result.error?.message).toContain("fly machine 'web-0'");
    expect(observed.counts.update).toBe(1);
    expect(Object.values(liveImages()).filter((image) => image === v1)).toHaveLength(n - 1);
  });
});

describe("bluegreen", () => {
  it("creates 6 new machines, all healthy before any old one is destroyed: never fewer than 6 serving", async () => {
    const state = await initial({ strategy: "bluegreen" });
    const before = Object.keys(liveImages());
    const { result, observed } = await observe(emu, appName, group, () => apply(state, groupMachines(spec(v2, { strategy: "bluegreen" }))));
    expect(result.error).toBeUndefined();
    expect(observed.counts).toMatchObject({ update: 0, create: n, delete: n });
    const lastCreate = Math.max(...observed.sequence.map((call, index) => (call.startsWith("create") ? index : -1)));
    const firstDelete = observed.sequence.findIndex((call) => call.startsWith("delete"));
    expect(lastCreate).toBeLessThan(firstDelete);
    expect(observed.minServing).toBe(n);
    expect(observed.maxServing).toBe(2 * n);
    expect(result.steps.filter((step) => step.startsWith("delete-replaced"))).toHaveLength(n);
    const after = liveImages();
    expect(Object.values(after)).toEqual(Array(n).fill(v2));
    // New names (the generation suffix): the old machines are gone, not updated.
    expect(Object.keys(after).some((name) => before.includes(name))).toBe(false);
  });

  it("a green machine failing its check destroys nothing: the 6 old machines keep serving v1", async () => {
    const deploy: FlyDeployArgs = { strategy: "bluegreen", waitTimeout: "2s" };
    const state = await initial(deploy);
    const planned = groupMachines(spec(v2, deploy));
    emu.faults.failHealthChecksOf(appName, planned[3].inputs.name, true);
    const { result, observed } = await observe(emu, appName, group, () => apply(state, planned));
    expect(result.error?.message).toContain("health checks did not pass");
    expect(observed.counts.delete).toBe(0);
    expect(observed.minServing).toBe(n);
    const images = Object.values(liveImages());
    expect(images.filter((image) => image === v1)).toHaveLength(n);
  });
});
