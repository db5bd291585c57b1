/**
 * Creates under Fly's documented rate limits (the emulator's rate-limit mode): machines created at once in
 * one app, as the Pulumi engine runs independent resources, all succeed, and no request is spent on anything but
 * the creates the limits allow. How close the wall time comes to the bound the limits set is a speed figure, so
 * `npm run bench` measures it (N = 1, 3, 10, 30), not this test. The 10 creates run at Fly's own speed (1
 * request/s per action and app, burst 3, Retry-After in whole seconds); the burst test runs at 4×.
 */
import { describe, expect, it } from "vitest";
import { createBoundMs, createInParallel } from "./parallel-creates";
import { useFlyEmulator } from "./support";

const appName = "rate-limited";
const { emu } = useFlyEmulator({ apps: [appName, "warm-up"], transitionMs: 0 });

describe("machine creates under Fly's rate limits", () => {
  it("creates 10 machines at once in one app: no failure, no listing, only creates retried", async () => {
    // Loads the provider's modules outside the measured run (another app: its own buckets, and no limits yet).
    expect((await createInParallel(emu, "warm-up", 1)).failures).toEqual([]);
    emu.rateLimits = { timeScale: 1 };
    const result = await createInParallel(emu, appName, 10);
    expect(result.failures).toEqual([]);
    expect(result.created).toBe(10);
    // Create first, by name: no machine listing on the happy path, so no 429 on it either.
    expect(result.lists).toBe(0);
    // The limits did bite (3 at once, then 1 per emulator second), and every 429 was a create retried.
    expect(result.rateLimited).toBeGreaterThan(0);
    expect(result.creates).toBe(10 + result.rateLimited);
    expect(result.boundMs).toBe(createBoundMs(10));
    expect(result.boundMs).toBe(7_000);
    // The limits were honoured: nothing finished sooner than they allow.
    expect(result.wallMs).toBeGreaterThanOrEqual(result.boundMs);
  }, 30_000);

  it("creates as many as the burst allows at once without a single 429", async () => {
    emu.rateLimits = { timeScale: 4 };
    const result = await createInParallel(emu, appName, 3, "burst");
    expect(result).toMatchObject({ failures: [], created: 3, rateLimited: 0, lists: 0, creates: 3 });
  });
});
