/**
 * Deploy strategies at N = 6 machines in one group against the emulator with instant transitions: the
 * group created on one image, then a new image rolled out as FlyApp's Machines are (test/fly/deploy-runner.ts
 * applies them in dependsOn order with the real provider). Smoke checks off (each adds flyctl's 10 s per
 * machine in a chain); the figures are the API calls and our own time.
 */
import type { FlyDeployArgs } from "../components/fly-deploy";
import { startFlyEmulator } from "../test/emulators/fly/server";
import { apply, groupMachines, observe, type EngineState } from "../test/fly/deploy-runner";

export interface StrategyFigures {
  strategy: string;
  leases: number;
  updates: number;
  creates: number;
  deletes: number;
  reads: number;
  maxLeases: number;
  minServing: number;
  ms: number;
}

const machines = 6;

export async function benchDeployStrategies(): Promise<StrategyFigures[]> {
  const emulator = await startFlyEmulator({ transitionMs: 0 });
  process.env.FLY_API_URL = emulator.url;
  process.env.FLY_API_TOKEN = emulator.token;
  const cases: [string, FlyDeployArgs][] = [
    ["rolling (0.33)", {}],
    ["rolling (1)", { maxUnavailable: 1 }],
    ["immediate", { strategy: "immediate" }],
    ["canary", { strategy: "canary" }],
    ["bluegreen", { strategy: "bluegreen" }],
  ];
  const rows: StrategyFigures[] = [];
  try {
    for (const [label, deploy] of cases) {
      const appName = `bench-${label.replace(/[^a-z0-9]+/g, "-").replace(/-$/, "")}`;
      const created = await fetch(`${emulator.url}/v1/apps`, {
        method: "POST",
        headers: { authorization: `Bearer ${emulator.token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: appName, org_slug: "personal" }),
      });
      if (!created.ok) throw new Error(`bench: creating app ${appName} answered ${created.status}`);
      const spec = { appName, group: "web", count: machines, deploy: { ...deploy, smokeChecks: false } };
      const state: EngineState = new Map();
      const first = await apply(state, groupMachines({ ...spec, image: `registry.fly.io/${appName}:1` }));
      if (first.error) throw first.error;
      const fromCall = emulator.calls.length;
      const { result, observed } = await observe(emulator, appName, "web", () => apply(state, groupMachines({ ...spec, image: `registry.fly.io/${appName}:2` })));
      if (result.error) throw result.error;
      rows.push({
        strategy: label,
        leases: observed.counts.lease,
        updates: observed.counts.update,
        creates: observed.counts.create,
        deletes: observed.counts.delete,
        reads: emulator.calls.slice(fromCall).filter((call) => call.method === "GET").length,
        maxLeases: observed.maxLeases,
        minServing: observed.minServing,
        ms: result.ms,
      });
    }
  } finally {
    await emulator.close();
  }
  return rows;
}
