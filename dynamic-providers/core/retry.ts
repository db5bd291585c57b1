/**
 * What to do after an attempt failed. `delayMs` overrides the backoff (e.g. from Retry-After).
 * `rateLimited` marks a refusal (429): the request was not run, so it is counted apart from failures and
 * bounded by the time budget rather than by `maxAttempts`, and jitter is added on top of `delayMs`.
 */
export type RetryDecision = { retry: false } | { retry: true; delayMs?: number; reason: string; rateLimited?: boolean };

export interface RetryPolicy {
  /** Attempts in all, the first one included, while attempts fail (5xx, dropped connections). */
  maxAttempts: number;
  /** Total time the whole call may take, waits included, in ms; a retry that would go past it is not made. */
  budgetMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * Attempts refused with a rate limit (429), which the time budget bounds in practice.
   * @default `200`
   */
  maxRateLimitedAttempts?: number;
  /**
   * Jitter added on top of a server's Retry-After, as a fraction of it (plus `retryAfterJitterMinMs`):
   * a retry is never made earlier than Retry-After says, and clients refused together do not return together.
   * @default `0.1`
   */
  retryAfterJitter?: number;
  /** @default `20` */
  retryAfterJitterMinMs?: number;
}

/**
 * 60 s for a whole call: room for ~50 rate-limited retries of one action (Fly allows 1 request/s per
 * action and app, so 30 machines created at once in one app need about 27 s).
 */
export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 6,
  budgetMs: 60_000,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  maxRateLimitedAttempts: 200,
  retryAfterJitter: 0.1,
  retryAfterJitterMinMs: 20,
};

/** Delay for retry number `attempt` (1-based): exponential with full jitter. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * The wait after a server said Retry-After `retryAfterMs`: never less than it, plus up to
 * `retryAfterJitter` of it (and `retryAfterJitterMinMs`) more, so that clients refused at the same moment
 * spread out instead of coming back in lockstep.
 */
export function retryAfterDelay(retryAfterMs: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const fraction = policy.retryAfterJitter ?? 0.1;
  const floor = policy.retryAfterJitterMinMs ?? 20;
  return Math.round(retryAfterMs + random() * (retryAfterMs * fraction + floor));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What an attempt knows about the call it belongs to. */
export interface AttemptContext {
  /** Epoch ms when the whole call's budget runs out: an attempt should not outlive it. */
  deadline: number;
}

/**
 * Runs `attempt` until it succeeds, `classify` says not to retry, or the attempts or time budget run out.
 * `classify` sees both thrown errors and returned values (an HTTP response is a value, not an error).
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number, context: AttemptContext) => Promise<T>,
  classify: (outcome: { error: unknown } | { value: T }) => RetryDecision,
  policy: RetryPolicy = defaultRetryPolicy,
): Promise<T> {
  const started = Date.now();
  const deadline = started + policy.budgetMs;
  let failures = 0;
  let refusals = 0;
  for (let attemptNumber = 1; ; attemptNumber++) {
    let outcome: { error: unknown } | { value: T };
    try {
      outcome = { value: await attempt(attemptNumber, { deadline }) };
    } catch (error) {
      outcome = { error };
    }
    const decision = classify(outcome);
    const giveUp = (): T => {
      if ("error" in outcome) throw outcome.error;
      return outcome.value;
    };
    if (!decision.retry) return giveUp();
    let delay: number;
    if (decision.rateLimited) {
      refusals++;
      if (refusals >= (policy.maxRateLimitedAttempts ?? 200)) return giveUp();
      delay = decision.delayMs !== undefined ? retryAfterDelay(decision.delayMs, policy) : backoffDelay(refusals, policy);
    } else {
      failures++;
      if (failures >= policy.maxAttempts) return giveUp();
      // A server's Retry-After is honoured in full (backoff is capped by maxDelayMs; the budget bounds both).
      delay = decision.delayMs ?? backoffDelay(failures, policy);
    }
    if (Date.now() + delay >= deadline) return giveUp();
    await sleep(delay);
  }
}

/** Parses Retry-After (seconds, fractions allowed, or an HTTP date) into ms. */
export function retryAfterMs(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

// An array, not a Set: the closure serializer cannot carry a module-level Set into the provider host.
const transientCodes: readonly string[] = ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "UND_ERR_SOCKET", "UND_ERR_CLOSED"];

/**
 * True for a dropped, refused or timed-out connection (fetch wraps these in a TypeError with a `cause`):
 * an outcome after which a request may or may not have been carried out.
 */
export function isConnectionError(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && transientCodes.includes(code)) return true;
    if (current instanceof Error && /socket hang up|other side closed|fetch failed/i.test(current.message)) {
      if (!(current as { cause?: unknown }).cause) return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
