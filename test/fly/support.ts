/**
 * The Fly emulator set-up every provider test in this folder shares: one emulator per file, FLY_API_URL,
 * FLY_GRAPHQL_URL and FLY_API_TOKEN pointing at it, the test's apps created before each test, and after each test every app
 * deleted and the OpenAPI contract asserted.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { startFlyEmulator, type FlyEmulator, type RecordedCall } from "../emulators/fly/server";
import { liveView } from "../support/live";

export interface UseFlyEmulatorOptions {
  /** Apps (org `personal`) created before each test; every app in the emulator is deleted after it. */
  apps?: string[];
  transitionMs?: number;
  orgs?: string[];
  /** Runs before each test once the apps exist; its requests are not in `calls`. */
  setUp?: () => Promise<void> | void;
  /** Runs after each test, before the apps are deleted (e.g. to clear faults). */
  tearDown?: () => Promise<void> | void;
}

export interface FlyTestEmulator {
  /** The running emulator: a live view, usable in hooks and tests (not at module level). */
  emu: FlyEmulator;
  /** A request to the emulator as a client would send it; the parsed JSON answer, whatever the status. */
  fly(method: string, path: string, body?: unknown): Promise<unknown>;
  /** Like `fly`, but the status must be 2xx. */
  flyOk(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  /** The recorded calls of one operation. */
  calls(operationId: string): RecordedCall[];
  /** The recorded calls other than GETs. */
  writes(): RecordedCall[];
}

export function useFlyEmulator(options: UseFlyEmulatorOptions = {}): FlyTestEmulator {
  let current: FlyEmulator | undefined;
  const emu = liveView(() => current, "the Fly emulator");

  function request(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${emu.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${emu.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function fly(method: string, path: string, body?: unknown): Promise<unknown> {
    const text = await (await request(method, path, body)).text();
    if (!text) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  async function flyOk(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await request(method, path, body);
    expect(response.status).toBeLessThan(300);
    return (await response.json()) as Record<string, unknown>;
  }

  beforeAll(async () => {
    current = await startFlyEmulator({ transitionMs: options.transitionMs, orgs: options.orgs });
    process.env.FLY_API_URL = current.url;
    process.env.FLY_GRAPHQL_URL = current.graphqlUrl;
    process.env.FLY_API_TOKEN = current.token;
  });

  afterAll(async () => {
    await current?.close();
  });

  beforeEach(async () => {
    for (const name of options.apps ?? []) await flyOk("POST", "/v1/apps", { name, org_slug: "personal" });
    await options.setUp?.();
    emu.resetCalls();
  });

  afterEach(async () => {
    await options.tearDown?.();
    // Clean-up is not what a test measures: it runs without rate limits.
    emu.rateLimits = undefined;
    for (const app of [...emu.state.apps.keys()]) await fly("DELETE", `/v1/apps/${app}`);
    emu.assertContract();
  });

  return {
    emu,
    fly,
    flyOk,
    calls: (operationId) => emu.calls.filter((call) => call.operationId === operationId),
    writes: () => emu.calls.filter((call) => call.method !== "GET"),
  };
}
