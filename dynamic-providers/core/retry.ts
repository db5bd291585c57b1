/** What to do after an attempt failed. `delayMs` overrides the backoff (e.g. from Retry-After). */
export type RetryDecision = { retry: false } | { retry: true; delayMs?: number; reason: string };

export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  /** Total time the retries may add, in ms; a retry that would go past it is not made. */
  budgetMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 6,
  budgetMs: 60_000,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
};

/** Delay for retry number `attempt` (1-based): exponential with full jitter. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `attempt` until it succeeds, `classify` says not to retry, or the attempts or time budget run out.
 * `classify` sees both thrown errors and returned values (an HTTP response is a value, not an error).
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  classify: (outcome: { error: unknown } | { value: T }) => RetryDecision,
  policy: RetryPolicy = defaultRetryPolicy,
): Promise<T> {
  const started = Date.now();
  for (let attemptNumber = 1; ; attemptNumber++) {
    let outcome: { error: unknown } | { value: T };
    try {
      outcome = { value: await attempt(attemptNumber) };
    } catch (error) {
      outcome = { error };
    }
    const decision = classify(outcome);
    if (!decision.retry || attemptNumber >= policy.maxAttempts) {
      if ("error" in outcome) throw outcome.error;
      return outcome.value;
    }
    // A server's Retry-After is honoured in full (backoff is capped by maxDelayMs; the budget bounds both).
    const delay = decision.delayMs ?? backoffDelay(attemptNumber, policy);
    if (Date.now() - started + delay > policy.budgetMs) {
      if ("error" in outcome) throw outcome.error;
      return outcome.value;
    }
    await sleep(delay);
  }
}

/** Parses Retry-After (seconds or an HTTP date) into ms. */
export function retryAfterMs(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

// An array, not a Set: the closure serializer cannot carry a module-level Set into the provider host.
const transientCodes: readonly string[] = ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "UND_ERR_SOCKET", "UND_ERR_CLOSED"];

/** True for a dropped or refused connection (fetch wraps these in a TypeError with a `cause`). */
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
