/**
 * N machines created at once in one app under Fly's documented rate limits (the emulator's rate-limit
 * mode at Fly's own speed: 1 request/s per action and app, bursts of 3): wall time against the bound those
 * limits set, the 429s seen, and failures.
 */
import { appProvider, type AppInputs } from "../dynamic-providers/fly/app";
import { startFlyEmulator } from "../test/emulators/fly/server";
import { createInParallel, type ParallelCreates } from "../test/fly/parallel-creates";

export async function benchFlyRateLimits(counts: readonly number[] = [1, 3, 10, 30]): Promise<ParallelCreates[]> {
  const rows: ParallelCreates[] = [];
  for (const n of counts) {
    // A fresh emulator per N: every run starts with full buckets.
    const emulator = await startFlyEmulator({ transitionMs: 0, rateLimits: true });
    process.env.FLY_API_URL = emulator.url;
    process.env.FLY_API_TOKEN = emulator.token;
    try {
      const app: AppInputs = { name: "bench-limits", orgSlug: "personal" };
      await appProvider.create!(app);
      // The app's own calls used none of the machine actions' buckets; start counting from here.
      rows.push(await createInParallel(emulator, app.name, n));
    } finally {
      emulator.rateLimits = undefined;
      await emulator.close();
    }
  }
  return rows;
}
