import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { ContractChecker, type MatchedOperation } from "./contract";
import { Faults, type FaultControls } from "./faults";
import { bucketsFor, RateLimiter, type RateLimitOptions } from "./rate-limits";
import { appRoutes } from "./routes/apps";
import { graphqlError, parseGraphqlRequest, resolveGraphql } from "./routes/graphql";
import { HttpError, type Handler, type RouteContext, type RouteResult } from "./routes/common";
import { detachVolumesOf, machineRoutes } from "./routes/machines";
import { networkRoutes } from "./routes/network";
import { volumeRoutes } from "./routes/volumes";
import { Store, type FlyState } from "./state";
import type { RecordedCall } from "../recorded-call";

export type { ExecResult, Fault, FaultControls } from "./faults";
export type { RateLimitOptions, RateRule } from "./rate-limits";
export { flyRateLimits } from "./rate-limits";
export type { FlyState, DeployTokenRecord, AppRecord, MachineRecord, VolumeRecord, SecretRecord, IpRecord, CertificateRecord, LeaseRecord, MachineState } from "./state";

export type { RecordedCall } from "../recorded-call";

export interface FlyEmulator {
  /** e.g. http://127.0.0.1:43125; clients append /v1/... */
  url: string;
  /** `${url}/graphql`: what FLY_GRAPHQL_URL points at (deploy tokens, routes/graphql.ts). */
  graphqlUrl: string;
  /** The bearer token it accepts. */
  token: string;
  /** Every request, in order. */
  calls: RecordedCall[];
  resetCalls(): void;
  /** Contract violations seen so far (requests and responses). */
  violations: string[];
  /** Throws an Error listing violations if any. */
  assertContract(): void;
  faults: FaultControls;
  /** Time each machine state transition takes (0 = instant, the default). Settable at any time. */
  transitionMs: number;
  /**
   * Fly's documented rate limits (rate-limits.ts), enforced with 429 and Retry-After while set; off
   * (undefined) by default. Setting it starts with full buckets.
   */
  rateLimits: RateLimitOptions | undefined;
  /** Read access to the stateful model. */
  state: FlyState;
  /** Stops the server; rejects if assertContract would throw. */
  close(): Promise<void>;
}

export interface FlyEmulatorOptions {
  token?: string;
  transitionMs?: number;
  /** Org slugs apps may be created in; default ["personal"]. */
  orgs?: string[];
  /** Enforce Fly's rate limits from the start (`true`: at Fly's own speed). @default off */
  rateLimits?: boolean | RateLimitOptions;
}

const handlers: Record<string, Handler> = { ...appRoutes, ...machineRoutes, ...volumeRoutes, ...networkRoutes };

const statusText: Record<number, string> = {
  429: "rate limit exceeded",
  500: "internal server error",
  502: "bad gateway",
  503: "service unavailable",
};

let sharedChecker: ContractChecker | undefined;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function headersOf(req: http.IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(req.headers)) headers[key] = Array.isArray(value) ? value.join(", ") : value;
  return headers;
}

function errorResult(status: number, message: string, code?: string): RouteResult {
  return { status, body: code ? { error: message, status: code } : { error: message } };
}

export async function startFlyEmulator(opts: FlyEmulatorOptions = {}): Promise<FlyEmulator> {
  const token = opts.token ?? "fly-emulator-token";
  const store = new Store(opts.orgs ?? ["personal"], opts.transitionMs ?? 0);
  const faults = new Faults(store);
  sharedChecker ??= new ContractChecker();
  const checker = sharedChecker;
  const calls: RecordedCall[] = [];
  const violations: string[] = [];
  store.onDestroyed = (machine) => detachVolumesOf({ store, faults }, machine);
  let limiter: RateLimiter | undefined = opts.rateLimits ? new RateLimiter(opts.rateLimits === true ? {} : opts.rateLimits) : undefined;

  function authorized(header: string | undefined): boolean {
    if (!header) return false;
    const credential = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : header;
    if (credential === token) return true;
    return [...store.apps.values()].some((app) =>
      app.deployTokens.some((deployToken) => deployToken.token === credential && deployToken.revokedAt === null && Date.parse(deployToken.expiresAt) > Date.now()),
    );
  }

  async function answer(
    op: MatchedOperation,
    ctx: RouteContext,
    authorization: string | undefined,
    bodyError: string | undefined,
  ): Promise<RouteResult> {
    if (!authorized(authorization)) return errorResult(401, "Authenticate: token validation error");
    if (limiter) {
      const verdict = limiter.take(bucketsFor(op, ctx.query, ctx.body));
      if (!verdict.ok) return { ...errorResult(429, "rate limit exceeded"), headers: { "retry-after": verdict.retryAfter } };
    }
    const appName = op.pathParams["app_name"];
    if (appName !== undefined && op.operationId !== "Apps_create") {
      const app = store.apps.get(appName);
      if (!app) return errorResult(404, "app not found");
      if (Date.now() < app.readyAt) {
        return app.notReadyStatus === 401 ? errorResult(401, "Authenticate: token validation error") : errorResult(404, "app not found");
      }
    }
    if (bodyError !== undefined) return errorResult(400, `invalid request body: ${bodyError}`);
    const handler = handlers[op.operationId];
    if (!handler) {
      violations.push(`${op.operationId}: not implemented by the Fly emulator`);
      return errorResult(404, `${op.operationId} is not implemented by the emulator`);
    }
    try {
      return await handler(ctx);
    } catch (error) {
      if (error instanceof HttpError) return errorResult(error.status, error.message, error.code);
      violations.push(`${op.operationId}: emulator error ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return errorResult(500, "internal error in the emulator");
    }
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => {
      query[key] = value;
    });
    const raw = await readBody(req);
    const call: RecordedCall = { method, path: url.pathname, query, operationId: "", status: 0, requestBody: undefined, responseBody: undefined };
    calls.push(call);

    const send = (result: RouteResult, op: MatchedOperation | undefined): void => {
      call.status = result.status;
      call.responseBody = result.body;
      if (op) violations.push(...checker.checkResponse(op, result.status, result.body));
      const payload = result.body === undefined ? "" : JSON.stringify(result.body);
      res.writeHead(result.status, {
        ...(payload ? { "content-type": "application/json; charset=utf-8" } : {}),
        "content-length": Buffer.byteLength(payload),
        ...result.headers,
      });
      res.end(payload);
    };

    let body: unknown;
    if (raw.trim() !== "") {
      try {
        body = JSON.parse(raw);
      } catch {
        call.requestBody = raw;
        violations.push(`${method} ${url.pathname}: request body is not JSON`);
        send(errorResult(400, "invalid JSON body"), undefined);
        return;
      }
    }
    call.requestBody = body;

    if (url.pathname === "/graphql") {
      await handleGraphql(req, call, body, send);
      return;
    }

    const op = checker.match(method, url.pathname);
    if (!op) {
      violations.push(`${method} ${url.pathname}: no operation in the spec matches`);
      send(errorResult(404, "not found"), undefined);
      return;
    }
    call.operationId = op.operationId;
    const headers = headersOf(req);
    const requestCheck = checker.checkRequest(op, { query, headers, body });
    violations.push(...requestCheck.violations);

    const fault = faults.take(op.operationId);
    if (fault?.kind === "drop") {
      req.socket.destroy();
      return;
    }
    // Never answered: the socket stays open until the client gives up or the emulator closes.
    if (fault?.kind === "hang") return;
    if (fault?.kind === "status") {
      const result = errorResult(fault.status, statusText[fault.status] ?? "fault");
      if (fault.retryAfterSeconds !== undefined) result.headers = { "retry-after": String(fault.retryAfterSeconds) };
      send(result, op);
      return;
    }

    const ctx: RouteContext = { store, faults, op, params: op.pathParams, query, headers, body };
    const result = await answer(op, ctx, headers["authorization"], requestCheck.bodyError);
    if (fault?.kind === "actThenDrop" || fault?.kind === "actThenHang") {
      // Acted, but the answer is lost: recorded with status 0 and the body that was never sent.
      call.responseBody = result.body;
      if (fault.kind === "actThenDrop") req.socket.destroy();
      return;
    }
    send(result, op);
  }

  /**
   * `POST /graphql` (routes/graphql.ts): outside the Machines OpenAPI document, so not contract-checked; recorded,
   * faulted and rate-limited like the REST calls, with the GraphQL operation's name as the operationId.
   */
  async function handleGraphql(
    req: http.IncomingMessage,
    call: RecordedCall,
    body: unknown,
    send: (result: RouteResult, op: MatchedOperation | undefined) => void,
  ): Promise<void> {
    if (req.method !== "POST") {
      send({ status: 405, body: { errors: [{ message: "GraphQL takes POST" }] } }, undefined);
      return;
    }
    const request = parseGraphqlRequest(body);
    if ("error" in request) {
      send(graphqlError(request.error), undefined);
      return;
    }
    call.operationId = request.operation;
    const fault = faults.take(request.operation);
    if (fault?.kind === "drop") {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "hang") return;
    if (fault?.kind === "status") {
      const result: RouteResult = { status: fault.status, body: { errors: [{ message: statusText[fault.status] ?? "fault" }] } };
      if (fault.retryAfterSeconds !== undefined) result.headers = { "retry-after": String(fault.retryAfterSeconds) };
      send(result, undefined);
      return;
    }
    const result = ((): RouteResult => {
      const headers = headersOf(req);
      if (!authorized(headers["authorization"])) return { status: 401, body: { errors: [{ message: "You must be authenticated to view this.", extensions: { code: "UNAUTHORIZED" } }] } };
      const operation = resolveGraphql(request);
      if (!("run" in operation)) return operation;
      if (limiter) {
        const appName = operation.appOf(store, request.variables);
        const op: MatchedOperation = { operationId: request.operation, method: "POST", template: "/graphql", pathParams: appName === undefined ? {} : { app_name: appName } };
        const verdict = limiter.take(bucketsFor(op, {}, request.variables));
        if (!verdict.ok) return { status: 429, body: { errors: [{ message: "rate limit exceeded" }] }, headers: { "retry-after": verdict.retryAfter } };
      }
      try {
        return operation.run(store, request.variables);
      } catch (error) {
        violations.push(`${request.operation}: emulator error ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        return { status: 500, body: { errors: [{ message: "internal error in the emulator" }] } };
      }
    })();
    if (fault?.kind === "actThenDrop" || fault?.kind === "actThenHang") {
      call.responseBody = result.body;
      if (fault.kind === "actThenDrop") req.socket.destroy();
      return;
    }
    send(result, undefined);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      violations.push(`emulator crashed on ${req.method} ${req.url}: ${String(error)}`);
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "internal error in the emulator" }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const assertContract = (): void => {
    if (violations.length > 0) {
      throw new Error(`Fly emulator saw ${violations.length} contract violation(s):\n- ${violations.join("\n- ")}`);
    }
  };

  return {
    url: `http://127.0.0.1:${port}`,
    graphqlUrl: `http://127.0.0.1:${port}/graphql`,
    token,
    calls,
    resetCalls: () => {
      calls.length = 0;
    },
    violations,
    assertContract,
    faults,
    get rateLimits() {
      return limiter ? { timeScale: limiter.timeScale } : undefined;
    },
    set rateLimits(options: RateLimitOptions | undefined) {
      limiter = options ? new RateLimiter(options) : undefined;
    },
    get transitionMs() {
      return store.transitionMs;
    },
    set transitionMs(ms: number) {
      store.transitionMs = ms;
    },
    state: store,
    close: async () => {
      store.close();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      assertContract();
    },
  };
}
