import { describe, expect, it } from "vitest";
import { backoffDelay, defaultRetryPolicy, isConnectionError, retryAfterDelay, retryAfterMs, withRetry, type RetryPolicy } from "../../dynamic-providers/core/retry";

const fast: RetryPolicy = { maxAttempts: 4, budgetMs: 5_000, baseDelayMs: 1, maxDelayMs: 5 };

describe("withRetry", () => {
  it("retries what classify marks retryable and returns the first success", async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw Object.assign(new Error("reset"), { code: "ECONNRESET" });
        return "ok";
      },
      (outcome) => ("error" in outcome && isConnectionError(outcome.error) ? { retry: true, reason: "reset" } : { retry: false }),
      fast,
    );
    expect(result).toBe("ok");
    expect(calls).toBe(3);
  });

  it("stops after maxAttempts and rethrows the last error", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error(`boom ${calls}`);
        },
        () => ({ retry: true, reason: "always" }),
        fast,
      ),
    ).rejects.toThrow("boom 4");
    expect(calls).toBe(4);
  });

  it("does not retry when classify says no", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error("bad request");
        },
        () => ({ retry: false }),
        fast,
      ),
    ).rejects.toThrow("bad request");
    expect(calls).toBe(1);
  });

  it("gives up when the next delay would exceed the time budget", async () => {
    let calls = 0;
    const started = Date.now();
    const value = await withRetry(
      async () => {
        calls++;
        return calls;
      },
      () => ({ retry: true, delayMs: 60_000, reason: "retry-after 60" }),
      { ...fast, budgetMs: 100, maxDelayMs: 120_000 },
    );
    expect(value).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe("withRetry and Retry-After", () => {
  it("waits the full Retry-After even when it is longer than the backoff cap", async () => {
    let calls = 0;
    const started: number[] = [];
    const value = await withRetry(
      async () => {
        started.push(Date.now());
        calls++;
        return calls;
      },
      (outcome) => ("value" in outcome && outcome.value < 2 ? { retry: true, delayMs: 400, reason: "429" } : { retry: false }),
      { ...fast, maxDelayMs: 50 },
    );
    expect(value).toBe(2);
    expect(started[1] - started[0]).toBeGreaterThanOrEqual(390);
  });
});

describe("withRetry and rate limits", () => {
  it("counts refusals (429) apart from failures: they were not run, so only the budget bounds them", async () => {
    let calls = 0;
    const value = await withRetry(
      async () => ++calls,
      (outcome) => ("value" in outcome && outcome.value < 10 ? { retry: true, rateLimited: true, delayMs: 1, reason: "429" } : { retry: false }),
      fast,
    );
    expect(value).toBe(10);
    expect(calls).toBe(10);
  });

  it("stops at maxRateLimitedAttempts", async () => {
    let calls = 0;
    const value = await withRetry(
      async () => ++calls,
      () => ({ retry: true, rateLimited: true, delayMs: 1, reason: "429" }),
      { ...fast, maxRateLimitedAttempts: 5 },
    );
    expect(value).toBe(5);
  });

  it("hands each attempt the call's deadline", async () => {
    const deadlines: number[] = [];
    const before = Date.now();
    await withRetry(
      async (_n, { deadline }) => deadlines.push(deadline),
      (outcome) => ("value" in outcome && outcome.value < 2 ? { retry: true, reason: "again" } : { retry: false }),
      fast,
    );
    expect(deadlines).toHaveLength(2);
    expect(deadlines[0]).toBe(deadlines[1]);
    expect(deadlines[0] - before).toBeGreaterThanOrEqual(fast.budgetMs);
  });
});

describe("retryAfterDelay", () => {
  it("is never earlier than Retry-After and at most 10% (+20 ms) later", () => {
    expect(retryAfterDelay(1000, defaultRetryPolicy, () => 0)).toBe(1000);
    expect(retryAfterDelay(1000, defaultRetryPolicy, () => 1)).toBe(1120);
    expect(retryAfterDelay(0, defaultRetryPolicy, () => 1)).toBe(20);
    const spread = new Set(Array.from({ length: 50 }, () => retryAfterDelay(1000, defaultRetryPolicy)));
    expect(Math.min(...spread)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...spread)).toBeLessThanOrEqual(1120);
    // Clients refused together come back at different times.
    expect(spread.size).toBeGreaterThan(10);
  });
});

describe("backoffDelay", () => {
  it("grows exponentially with jitter between half and all of the ceiling, capped", () => {
    expect(backoffDelay(1, defaultRetryPolicy, () => 0)).toBe(125);
    expect(backoffDelay(1, defaultRetryPolicy, () => 1)).toBe(250);
    expect(backoffDelay(3, defaultRetryPolicy, () => 1)).toBe(1000);
    expect(backoffDelay(20, defaultRetryPolicy, () => 1)).toBe(defaultRetryPolicy.maxDelayMs);
  });
});

describe("retryAfterMs", () => {
  it("reads seconds and HTTP dates", () => {
    expect(retryAfterMs("2")).toBe(2000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs("soon")).toBeUndefined();
  });
});

describe("isConnectionError", () => {
  it("sees ECONNRESET inside fetch's TypeError cause", () => {
    const error = new TypeError("fetch failed", { cause: Object.assign(new Error("socket"), { code: "UND_ERR_SOCKET" }) });
    expect(isConnectionError(error)).toBe(true);
    expect(isConnectionError(new Error("validation failed"))).toBe(false);
  });
});
