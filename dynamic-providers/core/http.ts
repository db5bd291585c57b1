import { transportError } from "./errors";
import { defaultRetryPolicy, isConnectionError, retryAfterMs, withRetry, type RetryDecision, type RetryPolicy } from "./retry";

export interface RetryingFetchOptions {
  /**
   * Retry 5xx answers and dropped connections for this request even though its method is not idempotent.
   * Only for calls made idempotent by their API (Fly secrets set, app create with an idempotency key).
   */
  idempotent?: boolean;
  policy?: RetryPolicy;
  /** Names the API in errors, e.g. `Fly Machines`. @default `HTTP` */
  service?: string;
  /**
   * The longest one attempt may take, answer body included; the whole call stays within `policy.budgetMs`,
   * so an attempt late in the call gets what is left of it. A timed-out attempt is not repeated: a server
   * that kept silent this long would most likely keep silent again.
   * @default `30_000`
   */
  attemptTimeoutMs?: number;
}

export const defaultAttemptTimeoutMs = 30_000;

// An array, not a Set: the closure serializer cannot carry a module-level Set into the provider host.
const idempotentMethods: readonly string[] = ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"];

/** Response headers the retrying fetch adds for the error middleware (how often it tried, for how long). */
export const attemptsHeader = "x-platform-attempts";
export const elapsedHeader = "x-platform-elapsed-ms";

function timedOut(timeoutMs: number): Error {
  return Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT", timeoutMs });
}

function isTimeout(error: unknown): boolean {
  return typeof (error as { timeoutMs?: unknown } | undefined)?.timeoutMs === "number";
}

/**
 * One attempt: the answer's body is read in full within the timeout, so a server that stalls mid-body
 * fails here (named) rather than later inside the client's JSON parsing.
 */
async function attemptOnce(input: Request, timeoutMs: number): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(timedOut(timeoutMs)), timeoutMs);
  try {
    const response = await fetch(input.clone(), { signal: controller.signal });
    const buffered = await response.arrayBuffer();
    // The body is decoded now: its length, not the encoded one, is what the caller reads.
    const headers = new Headers(response.headers);
    headers.delete("content-encoding");
    headers.set("content-length", String(buffered.byteLength));
    return new Response(buffered.byteLength > 0 ? buffered : null, { status: response.status, statusText: response.statusText, headers });
  } catch (error) {
    if (controller.signal.aborted) throw timedOut(timeoutMs);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A fetch that retries with backoff and jitter: 429 always (the request was refused, not run), waiting
 * at least Retry-After and a little more; 5xx and connection resets only where a repeat is safe. Every
 * attempt has a timeout and the whole call a budget. A request that gets no answer throws an error
 * naming the call (method, path) and the cause (timeout, connection reset, refused, DNS, TLS).
 */
export function retryingFetch(options: RetryingFetchOptions = {}): (input: Request) => Promise<Response> {
  const service = options.service ?? "HTTP";
  const attemptTimeoutMs = options.attemptTimeoutMs ?? defaultAttemptTimeoutMs;
  const policy = options.policy ?? defaultRetryPolicy;
  return async (input: Request) => {
    const method = input.method.toUpperCase();
    const url = new URL(input.url);
    const safe = options.idempotent === true || idempotentMethods.includes(method);
    const started = Date.now();
    let attempts = 0;
    let response: Response;
    try {
      response = await withRetry<Response>(
        (attemptNumber, { deadline }) => {
          attempts = attemptNumber;
          return attemptOnce(input, Math.max(1, Math.min(attemptTimeoutMs, deadline - Date.now())));
        },
        (outcome): RetryDecision => {
          if ("error" in outcome) {
            if (isTimeout(outcome.error)) return { retry: false };
            return safe && isConnectionError(outcome.error) ? { retry: true, reason: "connection dropped" } : { retry: false };
          }
          const answer = outcome.value;
          if (answer.status === 429) {
            return { retry: true, rateLimited: true, delayMs: retryAfterMs(answer.headers.get("retry-after")), reason: "429" };
          }
          if (answer.status >= 500 && safe) return { retry: true, reason: String(answer.status) };
          return { retry: false };
        },
        policy,
      );
    } catch (error) {
      throw transportError({ service, method, path: url.pathname, host: url.host, cause: error, attempts, elapsedMs: Date.now() - started });
    }
    if (attempts > 1 && !response.ok) {
      const headers = new Headers(response.headers);
      headers.set(attemptsHeader, String(attempts));
      headers.set(elapsedHeader, String(Date.now() - started));
      const text = await response.arrayBuffer();
      return new Response(text.byteLength > 0 ? text : null, { status: response.status, statusText: response.statusText, headers });
    }
    return response;
  };
}
