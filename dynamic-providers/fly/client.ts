import type { Client, Middleware } from "openapi-fetch";
import { apiError, errorText, isApiError, isTransportError, transportError } from "../core/errors";
import { envOr, envSecondsMs, requireEnv } from "../core/env";
import { attemptsHeader, defaultAttemptTimeoutMs, elapsedHeader, retryingFetch, type RetryingFetchOptions } from "../core/http";
import { poll } from "../core/poll";
import { defaultRetryPolicy, isConnectionError, sleep } from "../core/retry";
import type { components, paths } from "./schema.gen";

export type FlyApi = Client<paths>;
export type Schemas = components["schemas"];
export type MachineConfig = Schemas["fly.MachineConfig"];
export type Machine = Schemas["Machine"];

export const defaultFlyApiUrl = "https://api.machines.dev";
const service = "Fly Machines";


/**
 * The fetch every Fly call goes through: retries (429 with Retry-After plus jitter; 5xx and dropped
 * connections where safe), a timeout per attempt (FLY_API_TIMEOUT_SECONDS, default 30) and a budget for
 * the whole call (FLY_API_RETRY_BUDGET_SECONDS, default 60), both read at call time. `options` override
 * them per request, e.g. a long-poll's longer attempt.
 */
export function flyFetch(options: RetryingFetchOptions = {}): (input: Request) => Promise<Response> {
  const attemptTimeoutMs = options.attemptTimeoutMs ?? envSecondsMs("FLY_API_TIMEOUT_SECONDS", defaultAttemptTimeoutMs);
  const budgetMs = envSecondsMs("FLY_API_RETRY_BUDGET_SECONDS", defaultRetryPolicy.budgetMs);
  // A request given a longer attempt (a long-poll, an exec) gets a budget that holds that attempt.
  const policy = options.policy ?? { ...defaultRetryPolicy, budgetMs: options.attemptTimeoutMs ? Math.max(budgetMs, attemptTimeoutMs) : budgetMs };
  return retryingFetch({ ...options, service, policy, attemptTimeoutMs });
}

/**
 * A typed Machines API client. The token and base URL are read here, at call time, from FLY_API_TOKEN and
 * FLY_API_URL, so nothing secret is captured when Pulumi serializes a provider. Every non-2xx answer
 * becomes an ApiError naming the method, path, status and Fly's error text; a request without an answer
 * becomes a TransportError naming the method, path and cause. `options.idempotent` is only for calls safe
 * to repeat after a 5xx (secrets set).
 */
export function flyApi(options: RetryingFetchOptions = {}): FlyApi {
  const createClient = (require("openapi-fetch") as typeof import("openapi-fetch")).default;
  const token = requireEnv("FLY_API_TOKEN", "set it to a Fly.io API token (`fly tokens create org`) before `pulumi up`");
  const client = createClient<paths>({
    baseUrl: envOr("FLY_API_URL", defaultFlyApiUrl).replace(/\/+$/, ""),
    headers: { Authorization: token.startsWith("FlyV1 ") ? token : `Bearer ${token}` },
    fetch: flyFetch(options),
  });
  client.use(throwOnError);
  return client;
}

const throwOnError: Middleware = {
  async onResponse({ request, response }) {
    if (response.ok) return undefined;
    const text = await response.clone().text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    const attempts = Number(response.headers.get(attemptsHeader) ?? "1");
    throw apiError({
      service,
      method: request.method,
      path: new URL(request.url).pathname,
      status: response.status,
      detail: errorText(body, response.statusText || "no error text"),
      requestId: response.headers.get("fly-request-id") ?? undefined,
      attempts,
      elapsedMs: Number(response.headers.get(elapsedHeader) ?? "0"),
    });
  },
  // The retrying fetch names its own failures; anything else that escapes fetch gets the call's name too.
  onError({ request, error }) {
    if (isTransportError(error) || isApiError(error)) return error instanceof Error ? error : undefined;
    const url = new URL(request.url);
    return transportError({ service, method: request.method, path: url.pathname, host: url.host, cause: error, attempts: 1, elapsedMs: 0 });
  },
};

/** The body of a successful call (openapi-fetch types it optional; our middleware has thrown otherwise). */
export async function body<T>(call: Promise<{ data?: T }>): Promise<T> {
  const result = await call;
  return result.data as T;
}

export function isStatus(error: unknown, ...statuses: number[]): boolean {
  return isApiError(error) && statuses.includes(error.status);
}

/**
 * A call that may have been carried out though no answer says so: no answer at all (dropped, reset, timed out)
 * or a 5xx. What a create does next (look for what it made, send once more, or fail) is the caller's rule.
 */
export function isUnanswered(error: unknown): boolean {
  return isTransportError(error) || isConnectionError(error) || isStatus(error, 500, 502, 503, 504);
}

/** Runs `fn`; an "already gone" answer (404) counts as done. Used by every delete(). */
export async function ignoreNotFound<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** The app, or undefined when Fly answers 404 for it. */
export function findApp(api: FlyApi, appName: string): Promise<Schemas["App"] | undefined> {
  return ignoreNotFound(() => body(api.GET("/v1/apps/{app_name}", { params: { path: { app_name: appName } } })));
}

/** Right after create, GET app can answer 404 or 401 for a short while (fly-go WaitForApp). */
export async function waitForApp(api: FlyApi, appName: string, timeoutMs = 30_000): Promise<Schemas["App"]> {
  let app: Schemas["App"] | undefined;
  await poll({
    description: `fly app '${appName}' to become visible`,
    timeoutMs,
    intervalMs: 100,
    fn: async () => {
      try {
        app = await body(api.GET("/v1/apps/{app_name}", { params: { path: { app_name: appName } } }));
        return true;
      } catch (error) {
        if (isStatus(error, 404, 401)) return false;
        throw error;
      }
    },
    predicate: (ready) => ready,
  });
  return app as Schemas["App"];
}

/**
 * Lease envelope as the live API sends it ({status, data: Lease}); the spec documents a flat Lease.
 * Both are accepted.
 */
function leaseNonce(response: unknown): string | undefined {
  const record = (response ?? {}) as { nonce?: unknown; data?: { nonce?: unknown } };
  const nonce = record.data?.nonce ?? record.nonce;
  return typeof nonce === "string" ? nonce : undefined;
}

export interface LeaseOptions {
  /** How long to keep retrying while someone else holds the lease (fly-go waits up to a minute). */
  heldTimeoutMs?: number;
  ttlSeconds?: number;
}

/** The lease's nonce and description (GET .../lease), or undefined when the machine has none. */
async function currentLease(api: FlyApi, path: { app_name: string; machine_id: string }): Promise<{ nonce?: string; description?: string } | undefined> {
  try {
    const found = (await body(api.GET("/v1/apps/{app_name}/machines/{machine_id}/lease", { params: { path } }))) as unknown;
    const record = (found ?? {}) as { description?: unknown; data?: { description?: unknown } };
    const description = record.data?.description ?? record.description;
    return { nonce: leaseNonce(found), description: typeof description === "string" ? description : undefined };
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/**
 * Takes the machine's lease, runs `fn` with its nonce, and always releases it. Each call describes its lease
 * with a description of its own, so a lease whose answer was lost (5xx, dropped, timed out) or that came back
 * as "held" because the lost one went through is recognised by GET .../lease (which carries the nonce) and used,
 * instead of waiting out its ttl.
 */
export async function withLease<T>(
  api: FlyApi,
  appName: string,
  machineId: string,
  fn: (nonce: string) => Promise<T>,
  options: LeaseOptions = {},
): Promise<T> {
  const path = { app_name: appName, machine_id: machineId };
  const deadline = Date.now() + (options.heldTimeoutMs ?? 60_000);
  const description = `pulumi ${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  let nonce: string | undefined;
  let lostAnswer = false;
  for (let attempt = 1; nonce === undefined; attempt++) {
    try {
      const created = await body(
        api.POST("/v1/apps/{app_name}/machines/{machine_id}/lease", {
          params: { path },
          body: { ttl: options.ttlSeconds ?? 120, description },
        }),
      );
      nonce = leaseNonce(created);
      if (!nonce) throw new Error(`fly machine '${machineId}' in app '${appName}': lease response carried no nonce`);
    } catch (error) {
      const unanswered = isUnanswered(error);
      lostAnswer ||= unanswered;
      // Only once an answer was lost can the lease be ours: a 409 while someone else holds it needs no lookup per poll.
      if (lostAnswer && (unanswered || isStatus(error, 409))) {
        const lease = await currentLease(api, path);
        if (lease?.description === description && lease.nonce) {
          nonce = lease.nonce;
          break;
        }
      }
      // No lease of ours: the request never got through; try again like a refusal.
      if (unanswered && Date.now() < deadline) {
        await sleep(Math.min(250 * attempt, 2_000));
        continue;
      }
      if (!isStatus(error, 409) || Date.now() >= deadline) {
        if (isStatus(error, 409)) {
          const detail = isApiError(error) ? error.detail : String(error);
          throw new Error(
            `fly machine '${machineId}' in app '${appName}': POST /v1/apps/${appName}/machines/${machineId}/lease: ${detail}; gave up after ${Math.round((options.heldTimeoutMs ?? 60_000) / 1000)}s. ` +
              "Another deploy (flyctl or CI) holds the lease; retry when it has finished.",
          );
        }
        throw error;
      }
      await sleep(Math.min(250 * attempt, 2_000));
    }
  }
  try {
    return await fn(nonce);
  } finally {
    await api
      .DELETE("/v1/apps/{app_name}/machines/{machine_id}/lease", {
        params: { path, header: { "fly-machine-lease-nonce": nonce } },
      })
      .catch(() => undefined);
  }
}

export type WaitState = "started" | "stopped" | "suspended" | "destroyed" | "failed" | "settled";

/**
 * GET .../wait until the machine reaches `state`. The server caps one wait at 60 s and answers 408 when it
 * runs out, so this loops until `timeoutMs`; a machine that lands in `failed` ends the wait at once.
 */
export async function waitForMachineState(
  api: FlyApi,
  appName: string,
  machineId: string,
  state: WaitState,
  options: { version?: string; timeoutMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const deadline = Date.now() + timeoutMs;
  const path = { app_name: appName, machine_id: machineId };
  for (;;) {
    const remaining = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    const waitSeconds = Math.min(60, remaining);
    try {
      await api.GET("/v1/apps/{app_name}/machines/{machine_id}/wait", {
        params: { path, query: { state, version: options.version, timeout: waitSeconds } },
        // A long-poll: the attempt may take as long as the server holds it, plus room for the answer.
        fetch: flyFetch({ attemptTimeoutMs: (waitSeconds + 15) * 1000 }),
      });
      return;
    } catch (error) {
      if (!isStatus(error, 408)) throw error;
      const machine = await body(api.GET("/v1/apps/{app_name}/machines/{machine_id}", { params: { path } }));
      if (machine.state === "failed" && state !== "failed") {
        throw new Error(`fly machine '${machineId}' in app '${appName}' failed while waiting for ${state}`);
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `fly machine '${machineId}' in app '${appName}' did not reach ${state} within ${Math.round(timeoutMs / 1000)}s (currently ${machine.state ?? "unknown"})`,
        );
      }
    }
  }
}

/** Polls until the machine reports at least one check result and all are passing (flyctl's rule). */
export async function waitForChecksPassing(
  api: FlyApi,
  appName: string,
  machineId: string,
  timeoutMs = 300_000,
): Promise<Machine> {
  try {
    return await poll({
      description: `fly machine '${machineId}' in app '${appName}' to pass its health checks`,
      timeoutMs,
      fn: () =>
        body(api.GET("/v1/apps/{app_name}/machines/{machine_id}", { params: { path: { app_name: appName, machine_id: machineId } } })),
      predicate: (machine) => (machine.checks ?? []).length > 0 && (machine.checks ?? []).every((check) => check.status === "passing"),
    });
  } catch (error) {
    const machine = await body(
      api.GET("/v1/apps/{app_name}/machines/{machine_id}", { params: { path: { app_name: appName, machine_id: machineId } } }),
    );
    const failing = (machine.checks ?? [])
      .filter((check) => check.status !== "passing")
      .map((check) => `${check.name ?? "check"}: ${check.status ?? "unknown"}${check.output ? ` (${check.output})` : ""}`);
    throw new Error(`${error instanceof Error ? error.message : String(error)}; failing: ${failing.join("; ") || "no results yet"}`);
  }
}
