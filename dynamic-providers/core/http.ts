import { defaultRetryPolicy, isConnectionError, retryAfterMs, withRetry, type RetryDecision, type RetryPolicy } from "./retry";

export interface RetryingFetchOptions {
  /**
   * Retry 5xx answers and dropped connections for this request even though its method is not idempotent.
   * Only for calls made idempotent by their API (Fly secrets set, app create with an idempotency key).
   */
  idempotent?: boolean;
  policy?: RetryPolicy;
}

// An array, not a Set: the closure serializer cannot carry a module-level Set into the provider host.
const idempotentMethods: readonly string[] = ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"];

/**
 * A fetch that retries with backoff and jitter: 429 always (the request was refused, not run), honouring
 * Retry-After; 5xx and connection resets only where a repeat is safe.
 */
export function retryingFetch(options: RetryingFetchOptions = {}): (input: Request) => Promise<Response> {
  const policy = options.policy ?? defaultRetryPolicy;
  return (input: Request) => {
    const safe = options.idempotent === true || idempotentMethods.includes(input.method.toUpperCase());
    return withRetry<Response>(
      () => fetch(input.clone()),
      (outcome): RetryDecision => {
        if ("error" in outcome) {
          return safe && isConnectionError(outcome.error) ? { retry: true, reason: "connection dropped" } : { retry: false };
        }
        const response = outcome.value;
        if (response.status === 429) {
          return { retry: true, delayMs: retryAfterMs(response.headers.get("retry-after")), reason: "429" };
        }
        if (response.status >= 500 && safe) return { retry: true, reason: String(response.status) };
        return { retry: false };
      },
      policy,
    );
  };
}
