import type { Store } from "./state";
import { ids } from "./state";

/**
 * What a faulted request gets instead of its answer:
 * - `status`: an error status without acting (429 with Retry-After, or a 5xx);
 * - `drop`: the connection is closed without acting or answering;
 * - `hang`: no answer ever and nothing done (the client's timeout has to end it);
 * - `actThenDrop`: the request is carried out, then the connection is closed without an answer (the answer
 *   is lost: the client cannot tell whether it acted);
 * - `actThenHang`: the request is carried out, and the answer never comes.
 * A lost answer is recorded with status 0 and the body that was not sent.
 */
export type Fault =
  | { kind: "status"; status: 429 | 500 | 502 | 503; retryAfterSeconds?: number }
  | { kind: "drop" }
  | { kind: "hang" }
  | { kind: "actThenDrop" }
  | { kind: "actThenHang" };

export interface FaultControls {
  /** The next `count` requests whose operationId matches (e.g. "Machines_create") answer with the fault. */
  failNext(operationId: string, count: number, fault: Fault): void;
  /** Drops every fault queued by failNext and not yet hit. */
  clear(): void;
  /**
   * Apps created from now on answer app-scoped calls (GET app included) with 404 {"error":"app not
   * found"} (or 401 with the token error) for `ms` after creation, like the window fly-go WaitForApp covers.
   */
  appNotReadyFor(ms: number, status?: 401 | 404): void;
  /** Started machines of this app report every check as critical while `failing` is true. */
  failHealthChecks(appName: string, failing: boolean): void;
  /** Started machines of this name (in this app) report every check as critical while `failing` is true. */
  failHealthChecksOf(appName: string, machineName: string, failing: boolean): void;
  /**
   * Machines of this app created or updated from now on start, then exit with `code` and are restarted by
   * flyd (an exit event with `restarting`), as an app that crashes on boot; `undefined` ends it.
   */
  crashAfterStart(appName: string, code: number | undefined): void;
  /** Someone else holds the lease on this machine for `ms`. */
  holdLease(appName: string, machineId: string, ms: number): void;
  /** Volumes stay attached for `ms` after their machine is destroyed. */
  volumeDetachDelay(ms: number): void;
  /** Deleted apps stay visible (and their name taken) for `ms` after DELETE answers 202, as app deletion is asynchronous. */
  appDeleteDelay(ms: number): void;
  /**
   * Run-once machines of this app (auto_destroy, no services, no schedule: a release command) exit with
   * `code` from now on; 0 (the default) is a success.
   */
  exitCode(appName: string, code: number): void;
  /**
   * The next `count` exec calls on machines of this app (every one when `count` is omitted) answer with
   * `result`; afterwards exec answers exit code 0 with empty output again.
   */
  execResult(appName: string, result: ExecResult, count?: number): void;
}

/** What POST .../exec answers (flydv1.ExecResponse). */
export interface ExecResult {
  exitCode: number;
  stdout?: string;
  stderr?: string;
}

/** Owner reported for leases taken with holdLease. */
export const otherLeaseOwner = "someone-else@example.com";

export class Faults implements FaultControls {
  private readonly queue: { operationId: string; remaining: number; fault: Fault }[] = [];
  notReady: { ms: number; status: 401 | 404 } = { ms: 0, status: 404 };
  readonly failingHealthChecks = new Set<string>();
  /** `${appName}/${machineName}` of machines whose checks fail. */
  readonly failingMachineChecks = new Set<string>();
  readonly crashCodes = new Map<string, number>();
  detachDelayMs = 0;
  appDeleteDelayMs = 0;
  readonly exitCodes = new Map<string, number>();
  private readonly execResults = new Map<string, { result: ExecResult; remaining: number }>();

  constructor(private readonly store: Store) {}

  failNext(operationId: string, count: number, fault: Fault): void {
    if (count > 0) this.queue.push({ operationId, remaining: count, fault });
  }

  clear(): void {
    this.queue.length = 0;
  }

  /** The fault for this request, if one is queued for its operation (consumes it). */
  take(operationId: string): Fault | undefined {
    const entry = this.queue.find((e) => e.operationId === operationId && e.remaining > 0);
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining === 0) this.queue.splice(this.queue.indexOf(entry), 1);
    return entry.fault;
  }

  appNotReadyFor(ms: number, status: 401 | 404 = 404): void {
    this.notReady = { ms, status };
  }

  failHealthChecks(appName: string, failing: boolean): void {
    if (failing) this.failingHealthChecks.add(appName);
    else this.failingHealthChecks.delete(appName);
  }

  failHealthChecksOf(appName: string, machineName: string, failing: boolean): void {
    if (failing) this.failingMachineChecks.add(`${appName}/${machineName}`);
    else this.failingMachineChecks.delete(`${appName}/${machineName}`);
  }

  crashAfterStart(appName: string, code: number | undefined): void {
    if (code === undefined) this.crashCodes.delete(appName);
    else this.crashCodes.set(appName, code);
  }

  holdLease(appName: string, machineId: string, ms: number): void {
    const machine = this.store.apps.get(appName)?.machines.get(machineId);
    if (!machine) throw new Error(`fly emulator holdLease: no machine ${machineId} in app ${appName}`);
    machine.lease = {
      nonce: ids.nonce(),
      owner: otherLeaseOwner,
      description: "held by another client (emulator fault)",
      expiresAt: Date.now() + ms,
      version: ids.version(),
    };
  }

  volumeDetachDelay(ms: number): void {
    this.detachDelayMs = ms;
  }

  appDeleteDelay(ms: number): void {
    this.appDeleteDelayMs = ms;
  }

  exitCode(appName: string, code: number): void {
    this.exitCodes.set(appName, code);
  }

  execResult(appName: string, result: ExecResult, count = Number.POSITIVE_INFINITY): void {
    if (count > 0) this.execResults.set(appName, { result, remaining: count });
  }

  /** The answer for the next exec on a machine of this app (consumes one of a counted result). */
  takeExecResult(appName: string): ExecResult {
    const entry = this.execResults.get(appName);
    if (!entry) return { exitCode: 0, stdout: "", stderr: "" };
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.execResults.delete(appName);
    return entry.result;
  }
}
