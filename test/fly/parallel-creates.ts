/**
 * N machines created at once in one app, the way the Pulumi engine runs independent resources (check, then
 * create, all in parallel), against the Fly emulator: what the rate-limit test asserts and `npm run bench`
 * prints.
 */
import { machineProvider, type MachineInputs } from "../../dynamic-providers/fly/machine";
import type { FlyEmulator } from "../emulators/fly/server";
import { flyRateLimits } from "../emulators/fly/server";

export interface ParallelCreates {
  machines: number;
  /** The least time Fly's limits allow: creates beyond the burst come one per second (per action and app). */
  boundMs: number;
  wallMs: number;
  /** Answers 429 the emulator gave during the run. */
  rateLimited: number;
  /** Machine lists made (each one an app-scoped action with its own 1 req/s limit). */
  lists: number;
  creates: number;
  failures: string[];
  /** Live machines of these names in the app afterwards. */
  created: number;
}

/** The rate-limit bound for `n` creates of one action in one app, in real ms at the emulator's time scale. */
export function createBoundMs(n: number, timeScale = 1): number {
  const { perSecond, burst } = flyRateLimits.perAction;
  return (Math.max(0, n - burst) / (perSecond * timeScale)) * 1000;
}

export async function createInParallel(emulator: FlyEmulator, appName: string, n: number, prefix = "worker"): Promise<ParallelCreates> {
  emulator.resetCalls();
  const started = process.hrtime.bigint();
  const results = await Promise.allSettled(
    Array.from({ length: n }, async (_, i) => {
      const news: MachineInputs = { appName, name: `${prefix}-${i + 1}`, region: "fra", image: "registry.fly.io/bench:v1", timeouts: { startSeconds: 60 } };
      const checked = await machineProvider.check!({} as MachineInputs, news);
      if ((checked.failures ?? []).length > 0) throw new Error(`check: ${JSON.stringify(checked.failures)}`);
      return machineProvider.create!(checked.inputs as MachineInputs);
    }),
  );
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const names = Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);
  const live = [...(emulator.state.apps.get(appName)?.machines.values() ?? [])].filter(
    (machine) => names.includes(machine.name) && machine.state !== "destroyed",
  );
  return {
    machines: n,
    boundMs: createBoundMs(n, emulator.rateLimits?.timeScale ?? 1),
    wallMs,
    rateLimited: emulator.calls.filter((call) => call.status === 429).length,
    lists: emulator.calls.filter((call) => call.operationId === "Machines_list").length,
    creates: emulator.calls.filter((call) => call.operationId === "Machines_create").length,
    failures: results.flatMap((result) => (result.status === "rejected" ? [result.reason instanceof Error ? result.reason.message : String(result.reason)] : [])),
    created: live.length,
  };
}
