import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { startPostgresCluster, type PostgresCluster } from "../postgres/cluster";
import { CONTROL_PLANE_SUPERUSER } from "./backing";
import { NeonContract } from "./contract";
import { endpointHost } from "./names";
import {
  type BranchRecord,
  type DatabaseRecord,
  type EndpointRecord,
  type OperationRecord,
  type ProjectRecord,
  type ProjectState,
  type RoleRecord,
  hasRunningOperations,
  operationStatus,
  type OperationStatus,
} from "./model";
import { ApiError, expireBranches, handlers, teardownProject, type EmulatorCore, type Reply } from "./routes";
import type { RecordedCall } from "../recorded-call";

export const API_PREFIX = "/api/v2";

export type { RecordedCall } from "../recorded-call";

/**
 * What a faulted request gets instead of its answer: an error status without acting, `drop` (the connection
 * closed without acting), `actThenDrop` (the request is carried out, then the connection is closed: the
 * answer is lost and the client cannot tell whether Neon acted), or `actThenHang` (carried out, and the answer
 * never comes: what a client killed mid-call leaves behind). A lost answer is recorded with status 0.
 */
export type Fault =
  | { kind: "status"; status: 423 | 429 | 500 | 503; retryAfterSeconds?: number }
  | { kind: "drop" }
  | { kind: "actThenDrop" }
  | { kind: "actThenHang" };

/** Read access to what the emulator holds; the records are live, do not modify them. */
export interface NeonEmulatorState {
  projects(): readonly Readonly<ProjectRecord>[];
  project(projectId: string): Readonly<ProjectRecord> | undefined;
  branches(projectId: string): readonly Readonly<BranchRecord>[];
  branch(projectId: string, branchId: string): Readonly<BranchRecord> | undefined;
  endpoints(projectId: string): readonly Readonly<EndpointRecord>[];
  roles(projectId: string, branchId: string): readonly Readonly<RoleRecord>[];
  databases(projectId: string, branchId: string): readonly Readonly<DatabaseRecord>[];
  operations(projectId: string): readonly (Readonly<OperationRecord> & { status: OperationStatus })[];
  /** The branch's PostgreSQL cluster, for tests that need superuser access behind the API. */
  cluster(projectId: string, branchId: string): PostgresCluster | undefined;
}

export interface NeonEmulator {
  /** Base URL including `/api/v2`, for `createApiClient({ baseURL })`. */
  url: string;
  apiKey: string;
  calls: RecordedCall[];
  resetCalls(): void;
  violations: string[];
  /** Throws when any request or response broke the vendored OpenAPI document. */
  assertContract(): void;
  /** `failNext` queues a fault on the next `count` calls of an operation; `clear` drops every queued one. */
  faults: { failNext(operationId: string, count: number, fault: Fault): void; clear(): void };
  /** How long operations stay unfinished (scheduling → running → finished); settable between calls. */
  operationMs: number;
  state: NeonEmulatorState;
  /**
   * Runs Neon's expiry job as of `at` (default now): deletes every branch whose `expires_at` has passed, with its
   * endpoints, as Neon's background job does on its own. Returns the deleted branch ids.
   */
  expireBranches(at?: Date): Promise<string[]>;
  /**
   * Where a Neon-shaped host (`Endpoint.host`, `connection_parameters.host` or `pooler_host`) really listens, for
   * code that builds its own URI from a host name; undefined for hosts of no live endpoint.
   */
  resolveHost(host: string): { host: "127.0.0.1"; port: number } | undefined;
  /** Stops the HTTP server and every cluster; rejects afterwards if there were contract violations. */
  close(): Promise<void>;
}

export interface StartNeonEmulatorOptions {
  apiKey?: string;
  /** @default `100` */
  operationMs?: number;
}

const MUTATING = new Set(["POST", "PATCH", "PUT", "DELETE"]);

let sharedContract: NeonContract | undefined;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Starts an in-process Neon API v2 emulator on 127.0.0.1; each branch it creates is a real PostgreSQL cluster. */
export async function startNeonEmulator(opts: StartNeonEmulatorOptions = {}): Promise<NeonEmulator> {
  sharedContract ??= new NeonContract();
  const contract = sharedContract;
  const apiKey = opts.apiKey ?? `neon-emulator-${randomBytes(12).toString("hex")}`;
  const projects = new Map<string, ProjectState>();
  const calls: RecordedCall[] = [];
  const violations: string[] = [];
  const pendingFaults = new Map<string, { remaining: number; fault: Fault }[]>();
  const clusters = new Set<PostgresCluster>();
  let databaseId = 1000;
  // Mutations run one at a time so a second call sees the operations the first one scheduled (and gets 423).
  let mutationQueue: Promise<unknown> = Promise.resolve();

  const core: EmulatorCore & { operationMs: number } = {
    projects,
    operationMs: opts.operationMs ?? 100,
    async startCluster(from) {
      const cluster = await startPostgresCluster({ from, superuser: CONTROL_PLANE_SUPERUSER });
      const stop = cluster.stop.bind(cluster);
      const tracked: PostgresCluster = {
        ...cluster,
        stop: async () => {
          clusters.delete(tracked);
          await stop();
        },
      };
      clusters.add(tracked);
      return tracked;
    },
    nextDatabaseId: () => ++databaseId,
  };

  function takeFault(operationId: string): Fault | undefined {
    const queue = pendingFaults.get(operationId);
    const next = queue?.[0];
    if (!queue || !next) return undefined;
    if (--next.remaining <= 0) queue.shift();
    return next.fault;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = (req.method ?? "GET").toUpperCase();
    const path = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) || "/" : url.pathname;
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => (query[key] = value));
    const requestId = typeof req.headers["x-request-id"] === "string" ? req.headers["x-request-id"] : undefined;
    const raw = await readBody(req);
    let requestBody: unknown;
    let bodyError: string | undefined;
    if (raw.trim() !== "") {
      try {
        requestBody = JSON.parse(raw);
      } catch {
        bodyError = "request body is not valid JSON";
      }
    }

    const match = url.pathname.startsWith(API_PREFIX) ? contract.match(method, path) : undefined;
    const operationId = match?.operation.operationId ?? "";
    const record = (status: number, responseBody: unknown) =>
      calls.push({ method, path, query, operationId, status, requestBody, responseBody });
    const send = (reply: Reply) => {
      const problems = match ? contract.validateResponse(match.operation, reply.status, reply.body) : [];
      if (reply.status >= 400) problems.push(...contract.validateError(reply.body));
      for (const p of problems) violations.push(`${method} ${path} (${operationId || "no operation"}) → ${reply.status}: ${p}`);
      record(reply.status, reply.body);
      const headers: Record<string, string> = { "x-neon-ret-request-id": requestId ?? randomUUID() };
      if (reply.body === undefined) {
        res.writeHead(reply.status, headers).end();
      } else {
        res.writeHead(reply.status, { ...headers, "content-type": "application/json" }).end(JSON.stringify(reply.body));
      }
    };
    const fail = (status: number, message: string) => send({ status, body: { code: "", message, ...(requestId ? { request_id: requestId } : {}) } });

    if (req.headers.authorization !== `Bearer ${apiKey}`) return fail(401, "authentication required");
    if (!match) {
      const known = url.pathname.startsWith(API_PREFIX) && contract.knownPath(path);
      violations.push(`${method} ${url.pathname}: ${known ? "method not allowed by the spec" : "path not in the spec"}`);
      return fail(known ? 405 : 404, known ? "method not allowed" : "not found");
    }
    const handler = handlers[operationId];
    if (!handler) {
      violations.push(`${method} ${path}: operation ${operationId} is in the spec but not implemented by the emulator`);
      return fail(501, `emulator: ${operationId} is not implemented`);
    }
    const requestProblems = bodyError ? [bodyError] : contract.validateRequest(match.operation, match.pathParams, query, requestBody);
    if (requestProblems.length > 0) {
      for (const p of requestProblems) violations.push(`${method} ${path} (${operationId}) request: ${p}`);
      return fail(400, requestProblems.join("; "));
    }
    const fault = takeFault(operationId);
    if (fault?.kind === "drop") {
      record(0, undefined);
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "status") {
      if (fault.retryAfterSeconds !== undefined) res.setHeader("retry-after", String(fault.retryAfterSeconds));
      return fail(fault.status, fault.status === 423 ? LOCKED_MESSAGE : `injected fault: ${fault.status}`);
    }

    const run = async (): Promise<Reply> => {
      const projectId = match.pathParams.project_id;
      const project = projectId ? projects.get(projectId) : undefined;
      if (MUTATING.has(method) && project && hasRunningOperations(project)) {
        return { status: 423, body: { code: "", message: LOCKED_MESSAGE } };
      }
      return handler(core, { pathParams: match.pathParams, query, body: requestBody });
    };
    let reply: Reply;
    try {
      if (MUTATING.has(method)) {
        const next = mutationQueue.then(run, run);
        mutationQueue = next.catch(() => undefined);
        reply = await next;
      } else {
        reply = await run();
      }
    } catch (error) {
      if (error instanceof ApiError) return fail(error.status, error.message);
      const message = error instanceof Error ? error.message : String(error);
      violations.push(`${method} ${path} (${operationId}): emulator error: ${message}`);
      return fail(500, `emulator error: ${message}`);
    }
    if (fault?.kind === "actThenDrop" || fault?.kind === "actThenHang") {
      record(0, reply.body);
      // actThenHang: the socket stays open until the client goes or the emulator closes.
      if (fault.kind === "actThenDrop") req.socket.destroy();
      return;
    }
    send(reply);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      violations.push(`${req.method} ${req.url}: unhandled ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const stateOf = (projectId: string) => projects.get(projectId);
  const state: NeonEmulatorState = {
    projects: () => [...projects.values()].map((s) => s.project),
    project: (id) => stateOf(id)?.project,
    branches: (id) => [...(stateOf(id)?.branches.values() ?? [])],
    branch: (id, branchId) => stateOf(id)?.branches.get(branchId),
    endpoints: (id) => [...(stateOf(id)?.endpoints.values() ?? [])],
    roles: (id, branchId) => [...(stateOf(id)?.roles.get(branchId)?.values() ?? [])],
    databases: (id, branchId) => [...(stateOf(id)?.databases.get(branchId)?.values() ?? [])],
    operations: (id) => (stateOf(id)?.operations ?? []).map((op) => ({ ...op, status: operationStatus(op) })),
    cluster: (id, branchId) => stateOf(id)?.branches.get(branchId)?.cluster,
  };

  let closing: Promise<void> | undefined;
  const emulator: NeonEmulator = {
    url: `http://127.0.0.1:${port}${API_PREFIX}`,
    apiKey,
    calls,
    resetCalls: () => void calls.splice(0, calls.length),
    violations,
    assertContract() {
      if (violations.length > 0) throw new Error(`Neon emulator: ${violations.length} contract violation(s):\n${violations.join("\n")}`);
    },
    faults: {
      failNext(operationId, count, fault) {
        if (!contract.operations.some((o) => o.operationId === operationId)) {
          throw new Error(`Neon emulator: failNext: "${operationId}" is not an operationId of the spec`);
        }
        const queue = pendingFaults.get(operationId) ?? [];
        queue.push({ remaining: count, fault });
        pendingFaults.set(operationId, queue);
      },
      clear() {
        pendingFaults.clear();
      },
    },
    get operationMs() {
      return core.operationMs;
    },
    set operationMs(ms: number) {
      core.operationMs = ms;
    },
    state,
    expireBranches(at = new Date()) {
      const run = () => expireBranches(core, at.getTime());
      const next = mutationQueue.then(run, run);
      mutationQueue = next.catch(() => undefined);
      return next;
    },
    resolveHost(host) {
      for (const project of projects.values()) {
        for (const endpoint of project.endpoints.values()) {
          if (host === endpointHost(endpoint.id, endpoint.region_id)) return { host: "127.0.0.1", port: endpoint.direct.port };
          if (host === endpointHost(endpoint.id, endpoint.region_id, true)) return { host: "127.0.0.1", port: endpoint.pooler.port };
        }
      }
      return undefined;
    },
    close() {
      closing ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.allSettled([...projects.values()].map(teardownProject));
        projects.clear();
        await Promise.allSettled([...clusters].map((c) => c.stop()));
      })();
      return closing.then(() => emulator.assertContract());
    },
  };
  return emulator;
}

/** [BEHAVIOUR-NOTES: community.neon.tech thread 242] */
export const LOCKED_MESSAGE = "project already has running operations, scheduling of new ones is prohibited";
