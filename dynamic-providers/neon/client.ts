import type { Api, Operation } from "@neondatabase/api-client";
import { envOr, requireEnv } from "../core/env";
import { apiError, errorText, isApiError } from "../core/errors";
import { poll } from "../core/poll";
import { defaultRetryPolicy, isConnectionError, retryAfterMs, withRetry, type RetryDecision, type RetryPolicy } from "../core/retry";

export type NeonApi = Api<unknown>;
export const defaultNeonApiUrl = "https://console.neon.tech/api/v2";
/** The longest one Neon API request may take before it fails as a connection error. */
export const neonRequestTimeoutMs = 60_000;

/**
 * The Neon API v2 client from @neondatabase/api-client. The key and base URL are read here, at call time,
 * from NEON_API_KEY and NEON_API_URL, so nothing secret is captured when Pulumi serializes a provider.
 */
export function neonApi(options: { timeoutMs?: number } = {}): NeonApi {
  const { createApiClient } = require("@neondatabase/api-client") as typeof import("@neondatabase/api-client");
  return createApiClient({
    apiKey: requireEnv("NEON_API_KEY", "set it to a Neon API key (Neon Console > Account settings > API keys) before `pulumi up`"),
    baseURL: envOr("NEON_API_URL", defaultNeonApiUrl).replace(/\/+$/, ""),
    // axios waits forever by default: a stalled connection would hang `pulumi up` with no error.
    timeout: options.timeoutMs ?? neonRequestTimeoutMs,
  });
}

/** What an axios failure looks like, read without importing axios. */
interface AxiosLikeError {
  isAxiosError?: boolean;
  config?: { method?: string; url?: string; baseURL?: string };
  response?: { status: number; data?: unknown; headers?: Record<string, unknown> };
}

function asAxiosError(error: unknown): AxiosLikeError | undefined {
  return error && typeof error === "object" && (error as AxiosLikeError).isAxiosError ? (error as AxiosLikeError) : undefined;
}

/**
 * Turns an axios error into an ApiError naming method, path, status and Neon's message. The axios error
 * itself is never rethrown: its `config` carries the Authorization header.
 */
export function toNeonError(error: unknown): unknown {
  const axios = asAxiosError(error);
  if (!axios) return error;
  const url = axios.config?.url ?? "";
  const path = url.startsWith("http") ? new URL(url).pathname : url;
  const method = (axios.config?.method ?? "GET").toUpperCase();
  if (!axios.response) {
    return Object.assign(new Error(`Neon API ${method} ${path} failed: connection error (${errorText(error, "no response")})`), {
      code: (error as { code?: unknown }).code,
    });
  }
  const data = axios.response.data;
  const requestId = data && typeof data === "object" ? (data as { request_id?: unknown }).request_id : undefined;
  return apiError({
    service: "Neon",
    method,
    path,
    status: axios.response.status,
    detail: errorText(data, "no error text"),
    requestId: typeof requestId === "string" ? requestId : undefined,
  });
}

export interface NeonCallOptions {
  /** Safe to repeat after a 5xx or a dropped connection (GETs, DELETEs, and calls made idempotent). */
  idempotent?: boolean;
  policy?: RetryPolicy;
}

/** Neon refuses overlapping operations with 423 for as long as a project has operations running. */
const lockedPolicy: RetryPolicy = { ...defaultRetryPolicy, maxAttempts: 40, budgetMs: 120_000, maxDelayMs: 5_000 };

/**
 * One Neon API call with the shared retry core: 423 Locked and 429 are always retried (the request was
 * refused, not run); a 429 goes through the core's rate-limited path (waits Retry-After plus jitter, bounded
 * by the policy's time budget rather than its attempt count), 503 too (Neon documents it safe), other 5xx and dropped
 * connections only when the call is idempotent. Returns the response body.
 */
export async function neonCall<T>(fn: () => Promise<{ data: T }>, options: NeonCallOptions = {}): Promise<T> {
  const response = await withRetry(
    () => fn(),
    (outcome): RetryDecision => {
      if (!("error" in outcome)) return { retry: false };
      const axios = asAxiosError(outcome.error);
      const status = axios?.response?.status;
      if (status === 423) return { retry: true, reason: "423 operations in progress" };
      if (status === 429) {
        const header = axios?.response?.headers?.["retry-after"];
        // A refusal, not a failure: bounded by the budget, not maxAttempts, and jittered on top of Retry-After (as Fly's).
        return { retry: true, rateLimited: true, delayMs: retryAfterMs(typeof header === "string" ? header : undefined), reason: "429" };
      }
      if (status === 503) return { retry: true, reason: "503" };
      if (options.idempotent && ((status !== undefined && status >= 500) || isConnectionError(outcome.error))) {
        return { retry: true, reason: String(status ?? "connection") };
      }
      return { retry: false };
    },
    options.policy ?? lockedPolicy,
  ).catch((error: unknown) => {
    throw toNeonError(error);
  });
  return response.data;
}

export function isNeonStatus(error: unknown, ...statuses: number[]): boolean {
  return isApiError(error) && statuses.includes(error.status);
}

/**
 * Neon's refusal of a create whose name is taken: 409 (BEHAVIOUR-NOTES: "already exists", status unverified,
 * likely 409), or a 400/422 whose text says "already exists".
 */
export function isNameTaken(error: unknown): boolean {
  if (!isApiError(error)) return false;
  if (error.status === 409) return true;
  return (error.status === 400 || error.status === 422) && /already exists/i.test(error.message);
}

/** Runs `fn`; "already gone" (404) counts as done. Used by every delete() and read(). */
export async function ignoreNeonNotFound<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (error) {
    if (isNeonStatus(error, 404)) return undefined;
    throw error;
  }
}

// Arrays, not Sets: Pulumi's closure serializer copies a module-level Set as a plain object that breaks
// in the provider host (see test/harness findings).
const terminalStatuses: readonly string[] = ["finished", "skipped", "cancelled"];
const failedStatuses: readonly string[] = ["failed", "error"];

/** Waits until every operation a mutating call started has finished; a failed one is an error. */
export async function waitForOperations(
  api: NeonApi,
  projectId: string,
  operations: readonly Operation[] | undefined,
  timeoutMs = 300_000,
): Promise<void> {
  for (const operation of operations ?? []) {
    if (terminalStatuses.includes(operation.status)) continue;
    const done = await poll({
      description: `neon operation ${operation.action} (${operation.id}) in project ${projectId}`,
      timeoutMs,
      intervalMs: 100,
      fn: () => neonCall(() => api.getProjectOperation(projectId, operation.id), { idempotent: true }).then((r) => r.operation),
      predicate: (current) => terminalStatuses.includes(current.status) || failedStatuses.includes(current.status),
    });
    if (failedStatuses.includes(done.status)) {
      throw new Error(`neon operation ${done.action} (${done.id}) in project ${projectId} ${done.status}: ${done.error ?? "no error text"}`);
    }
  }
}

/**
 * Waits for the operations still running in a project (of one branch, when given): a create that takes over
 * what an interrupted earlier create made has not seen that create's operations, and waits for them here. The
 * newest 100 are enough: a project has a handful running at most.
 */
export async function waitForRunningOperations(api: NeonApi, projectId: string, branchId?: string): Promise<void> {
  const response = await neonCall(() => api.listProjectOperations({ projectId, limit: 100 }), { idempotent: true });
  const running = response.operations.filter(
    (operation) =>
      (branchId === undefined || operation.branch_id === branchId) && !terminalStatuses.includes(operation.status) && !failedStatuses.includes(operation.status),
  );
  await waitForOperations(api, projectId, running);
}

/** A mutating call followed by a wait for the operations it started. */
export async function mutate<T extends { operations?: Operation[] }>(
  api: NeonApi,
  projectId: string,
  fn: () => Promise<{ data: T }>,
  options: NeonCallOptions = {},
): Promise<T> {
  const result = await neonCall(fn, options);
  await waitForOperations(api, projectId, result.operations);
  return result;
}

/**
 * True when a call got no answer (a dropped or timed-out connection, or a 5xx other than 503): Neon may have
 * carried it out, so a create reads back what it asked for before reporting a failure.
 */
export function isLostAnswer(error: unknown): boolean {
  return isConnectionError(error) || (isApiError(error) && error.status >= 500 && error.status !== 503);
}
