import { describe, expect, it } from "vitest";
import { poll } from "../../dynamic-providers/core/poll";

describe("poll", () => {
  it("keeps checking until the deadline, not until the next interval would pass it", async () => {
    const started = Date.now();
    // Ready after 700 ms of a 1 s budget: the checks at 0, 200 and 600 ms see it not ready, and the doubled
    // 800 ms interval would overshoot the deadline, so a last check must come at the deadline itself.
    const value = await poll({
      description: "a value to become ready",
      timeoutMs: 1_000,
      fn: async () => Date.now() - started >= 700,
      predicate: (ready) => ready,
    });
    expect(value).toBe(true);
  });

  it("times out, naming what it waited for, once the deadline has passed", async () => {
    const started = Date.now();
    await expect(
      poll({ description: "something that never happens", timeoutMs: 500, fn: async () => false, predicate: (ready) => ready }),
    ).rejects.toThrow("timed out after 1s waiting for something that never happens");
    expect(Date.now() - started).toBeGreaterThanOrEqual(490);
  });
});
