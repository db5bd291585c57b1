/**
 * Fly figures: API calls (reads, writes) and our own wall time for creating one app's worth of resources
 * against the emulator with instant transitions, then for a no-op re-apply (check + diff only, as
 * `pulumi up` does) and for a refreshing re-apply (`pulumi up --refresh`: one read per resource).
 */
import { appProvider } from "../dynamic-providers/fly/app";
import { certificateProvider } from "../dynamic-providers/fly/certificate";
import { ipAddressProvider } from "../dynamic-providers/fly/ip-address";
import { machineProvider } from "../dynamic-providers/fly/machine";
import { secretsProvider } from "../dynamic-providers/fly/secrets";
import { volumeProvider } from "../dynamic-providers/fly/volume";
import { startFlyEmulator } from "../test/emulators/fly/server";
import { benchStep, measure, type BenchStep, type Figures } from "./measure";

export async function benchFly(): Promise<Figures[]> {
  const emulator = await startFlyEmulator({ transitionMs: 0 });
  process.env.FLY_API_URL = emulator.url;
  process.env.FLY_API_TOKEN = emulator.token;
  try {
    const app = "bench-worker";
    const image = "registry.fly.io/bench-worker:v1";
    const steps: BenchStep[] = [];
    const created = await measure("fly create: app + secrets + volume + IP + cert + 2 machines", emulator, async () => {
      const head = [
        benchStep("app", appProvider, { name: app, orgSlug: "personal" }),
        benchStep("secrets", secretsProvider, {
          appName: app,
          values: { ANTHROPIC_API_KEY: "sk-ant-bench", DATABASE_URL: "postgresql://pipeline:pw@127.0.0.1/db" },
        }),
        benchStep("volume", volumeProvider, { appName: app, name: "data", region: "fra", sizeGb: 1 }),
        benchStep("ip", ipAddressProvider, { appName: app, type: "v6" as const }),
        benchStep("certificate", certificateProvider, { appName: app, hostname: "dashboard.example.com" }),
      ];
      const outs: Record<string, Record<string, unknown>> = {};
      for (const step of head) outs[step.label] = await step.create();
      const machines = [
        benchStep("worker machine", machineProvider, {
          appName: app,
          name: "worker",
          region: "fra",
          image,
          guest: { cpuKind: "shared" as const, cpus: 1, memoryMb: 1024 },
          env: { PREFECT_API_URL: "http://localhost:4200/api" },
          services: [
            {
              protocol: "tcp" as const,
              internalPort: 8080,
              ports: [{ port: 443, handlers: ["tls" as const, "http" as const] }],
              autostop: "off" as const,
              checks: [{ type: "http" as const, interval: "30s", timeout: "5s", gracePeriod: "60s", method: "GET", path: "/health" }],
            },
          ],
          mounts: [{ volume: String(outs.volume.volumeId), path: "/data" }],
          minSecretsVersion: Number(outs.secrets.version),
        }),
        benchStep("cron machine", machineProvider, {
          appName: app,
          name: "news-ingestion-cron",
          region: "fra",
          image,
          guest: { cpuKind: "shared" as const, cpus: 1, memoryMb: 512 },
          init: { entrypoint: ["/app/.venv/bin/python"], cmd: ["-m", "app.cli.cron_runner"] },
          schedule: "hourly" as const,
        }),
      ];
      for (const step of machines) outs[step.label] = await step.create();
      steps.push(...head, ...machines);
    });
    const reapply = await measure("fly no-op re-apply (check + diff each)", emulator, async () => {
      for (const step of steps) await step.reapply();
    });
    const refresh = await measure("fly refresh re-apply (read + check + diff each)", emulator, async () => {
      for (const step of steps) await step.refresh();
    });
    return [created.figures, reapply.figures, refresh.figures];
  } finally {
    await emulator.close();
  }
}
