/**
 * The fault matrix: every call a resource's create and delete make, hit once by each fault (a 429, a 5xx, a
 * connection dropped before the server acted, an answer lost after it acted), then the step run again as the next
 * `pulumi up` / `pulumi destroy` would. The calls are found by running the resource once without a fault, so a
 * call added to a provider is faulted too without editing a list.
 *
 * Outcomes, worst last:
 * - `survived`: the step succeeded (the client's retries absorbed the fault), one remote object, nothing left after
 *   its delete;
 * - `clear error`: the step failed with an error naming the call (method and path) and its cause, and the run after
 *   it ended with one object and nothing left after the delete; or both runs failed, and what is left is named by an
 *   error saying how to take it over (`adopt: true`);
 * - `unclear error`: it failed with an error that names no call;
 * - `orphan`: something is left after the recorded object was deleted;
 * - `duplicate`: two or more remote objects for one resource.
 */
import type * as pulumi from "@pulumi/pulumi";
import { afterAll, describe, expect, it } from "vitest";
import type { RecordedCall } from "../emulators/recorded-call";
import { forgetClaims } from "../../dynamic-providers/core/claims";

export type FaultKind = "429" | "5xx" | "dropped" | "lost answer";
export const faultKinds: readonly FaultKind[] = ["429", "5xx", "dropped", "lost answer"];

/**
 * The suite runs the faults that can leave something behind (a dropped connection, a lost answer) on the calls
 * that write; `FAULT_MATRIX=full` (`npm run faults`) runs every fault on every call, reads included (a 429 or 5xx
 * is a refusal the retrying fetch absorbs, which test/core and the rate-limit tests cover on their own).
 */
export function matrixMode(): { faults: readonly FaultKind[]; reads: boolean } {
  return process.env.FAULT_MATRIX === "full" ? { faults: faultKinds, reads: true } : { faults: ["dropped", "lost answer"], reads: false };
}

export type FaultOutcome = "survived" | "clear error" | "unclear error" | "orphan" | "duplicate";
const severity: readonly FaultOutcome[] = ["survived", "clear error", "unclear error", "orphan", "duplicate"];

export interface FaultCase<I, O> {
  resource: string;
  provider: pulumi.dynamic.ResourceProvider<I, O>;
  /** Arranges what the create needs and returns its inputs (its own calls are not faulted). */
  inputs(): Promise<I> | I;
  /** Remote objects this resource's inputs stand for (live ones only). */
  count(): Promise<number> | number;
  /** Removes what a scenario left (after an error the run after it could not clear), so the next one starts clean. */
  cleanUp?(): Promise<void> | void;
}

/** The faults both emulators (Fly's and Neon's) inject, in the shape their `failNext` takes. */
export type InjectedFault = { kind: "status"; status: 429 | 503; retryAfterSeconds?: number } | { kind: "drop" } | { kind: "actThenDrop" };

/** A 429 with Retry-After 0 keeps the run short; the wait itself is the retry tests' business. */
const injected: Record<FaultKind, InjectedFault> = {
  "429": { kind: "status", status: 429, retryAfterSeconds: 0 },
  "5xx": { kind: "status", status: 503 },
  dropped: { kind: "drop" },
  "lost answer": { kind: "actThenDrop" },
};

/** What the matrix needs of an emulator: its recorded calls and its fault queue. */
export interface FaultingEmulator {
  calls: readonly RecordedCall[];
  faults: { failNext(operationId: string, count: number, fault: InjectedFault): void; clear(): void };
}

export interface FaultResult {
  resource: string;
  step: "create" | "delete";
  operationId: string;
  fault: FaultKind;
  outcome: FaultOutcome;
  detail: string;
}

/** An error that names the call it comes from (`POST /v1/apps/...`), as every provider error must. */
export function namesTheCall(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /\b(GET|POST|PUT|PATCH|DELETE) \/\S*/.test(message);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** How a scenario reaches the emulator. */
interface FaultTarget {
  calls(): readonly RecordedCall[];
  /** Queues `fault` on the next call of `operationId`. */
  inject(operationId: string, fault: FaultKind): void;
  /** Drops faults queued but never hit (a call the faulted run did not make). */
  clear(): void;
}

function targetOf(emu: FaultingEmulator): FaultTarget {
  return { calls: () => emu.calls, inject: (operationId, fault) => emu.faults.failNext(operationId, 1, injected[fault]), clear: () => emu.faults.clear() };
}

type Steps<I, O> = Required<Pick<pulumi.dynamic.ResourceProvider<I, O>, "create" | "delete">>;

/** The operations a clean create and delete call, in order of first use. */
async function operationsOf<I, O>(c: FaultCase<I, O>, target: FaultTarget): Promise<{ create: string[]; delete: string[] }> {
  const provider = c.provider as Steps<I, O>;
  const inputs = await c.inputs();
  const from = target.calls().length;
  const made = await provider.create(inputs);
  const middle = target.calls().length;
  await provider.delete(made.id, made.outs as O);
  const { reads } = matrixMode();
  const ops = (calls: readonly RecordedCall[]) => [...new Set(calls.filter((call) => reads || call.method !== "GET").map((call) => call.operationId).filter((op) => op !== ""))];
  return { create: ops(target.calls().slice(from, middle)), delete: ops(target.calls().slice(middle)) };
}

async function outcomeAfter(c: FaultCase<unknown, unknown>, firstError: unknown, liveAfterRun: number, leftAfterDelete: number): Promise<{ outcome: FaultOutcome; detail: string }> {
  if (liveAfterRun > 1) return { outcome: "duplicate", detail: `${liveAfterRun} remote objects` };
  if (leftAfterDelete > 0) return { outcome: "orphan", detail: `${leftAfterDelete} left after delete` };
  if (firstError === undefined) return { outcome: "survived", detail: "" };
  return { outcome: namesTheCall(firstError) ? "clear error" : "unclear error", detail: messageOf(firstError) };
}

/** One create step hit by `fault` on `operationId`, then created again if it failed, then deleted. */
export async function createScenario<I, O>(c: FaultCase<I, O>, target: FaultTarget, operationId: string, fault: FaultKind): Promise<FaultResult> {
  const provider = c.provider as Steps<I, O>;
  const inputs = await c.inputs();
  target.inject(operationId, fault);
  let recorded: pulumi.dynamic.CreateResult<O> | undefined;
  let firstError: unknown;
  try {
    recorded = await provider.create(inputs);
  } catch (error) {
    firstError = error;
  }
  target.clear();
  let secondError: unknown;
  if (!recorded) {
    // The next `pulumi up` runs in a new provider process.
    forgetClaims();
    try {
      recorded = await provider.create(inputs);
    } catch (error) {
      secondError = error;
    }
  }
  const live = await c.count();
  const base = { resource: c.resource, step: "create" as const, operationId, fault };
  if (!recorded) {
    // Both runs failed. What is left must be named by an error that says how to take it over; anything else left
    // is an orphan, and nothing left needs an error naming the call.
    const message = messageOf(secondError);
    const takeOver = /`adopt: true`/.test(message);
    const outcome: FaultOutcome =
      live > 1 ? "duplicate" : live > 0 ? (takeOver ? "clear error" : "orphan") : namesTheCall(secondError) || takeOver ? "clear error" : "unclear error";
    return { ...base, outcome, detail: `the run after it failed too (${live} left): ${message}` };
  }
  await provider.delete(recorded.id, recorded.outs as O);
  const left = await c.count();
  return { ...base, ...(await outcomeAfter(c as FaultCase<unknown, unknown>, firstError, live, left)) };
}

/** One delete step hit by `fault` on `operationId`, deleted again if it failed. */
export async function deleteScenario<I, O>(c: FaultCase<I, O>, target: FaultTarget, operationId: string, fault: FaultKind): Promise<FaultResult> {
  const provider = c.provider as Steps<I, O>;
  const inputs = await c.inputs();
  const made = await provider.create(inputs);
  target.inject(operationId, fault);
  let firstError: unknown;
  try {
    await provider.delete(made.id, made.outs as O);
  } catch (error) {
    firstError = error;
  }
  target.clear();
  const base = { resource: c.resource, step: "delete" as const, operationId, fault };
  if (firstError !== undefined) {
    try {
      await provider.delete(made.id, made.outs as O);
    } catch (error) {
      return { ...base, outcome: "orphan", detail: `the delete after it failed too: ${messageOf(error)}` };
    }
  }
  const left = await c.count();
  return { ...base, ...(await outcomeAfter(c as FaultCase<unknown, unknown>, firstError, 1, left)) };
}

/** Worst outcome per resource and fault, with how many scenarios each cell stands for. */
export function formatFaultMatrix(title: string, results: readonly FaultResult[]): string {
  const kinds = faultKinds.filter((fault) => results.some((result) => result.fault === fault));
  const lines = [`| ${title} | ${kinds.join(" | ")} |`, `|---|${kinds.map(() => "---").join("|")}|`];
  const resources = [...new Set(results.map((result) => result.resource))];
  for (const resource of resources) {
    const cells = kinds.map((fault) => {
      const mine = results.filter((result) => result.resource === resource && result.fault === fault);
      if (mine.length === 0) return "-";
      const counts = severity.map((outcome) => [outcome, mine.filter((result) => result.outcome === outcome).length] as const).filter(([, n]) => n > 0);
      return counts.map(([outcome, n]) => `${n} ${outcome}`).join(", ");
    });
    lines.push(`| ${resource} | ${cells.join(" | ")} |`);
  }
  const totals = severity.map((outcome) => `${results.filter((result) => result.outcome === outcome).length} ${outcome}`).join(", ");
  lines.push("", `${results.length} scenarios: ${totals}`);
  for (const result of results.filter((r) => r.outcome !== "survived")) {
    lines.push(`- ${result.resource} ${result.step}, ${result.operationId} × ${result.fault}: ${result.outcome}: ${result.detail.slice(0, 300)}`);
  }
  return lines.join("\n");
}

/**
 * One test per resource: every create and delete call × every fault. Each scenario must end as `allowed` says
 * (`survived` or `clear error` unless listed); the matrix is printed once the file is done.
 */
export function describeFaultMatrix<I, O>(
  service: string,
  emulator: () => FaultingEmulator,
  cases: readonly FaultCase<I, O>[],
  allowed: Record<string, readonly FaultOutcome[]> = {},
): void {
  const results: FaultResult[] = [];
  afterAll(() => {
    const { reads } = matrixMode();
    console.log(`\n${service} fault matrix (${reads ? "every" : "every writing"} call of create and delete × fault):\n${formatFaultMatrix(`${service} resource`, results)}\n`);
  });
  describe(`${service} fault matrix: every call of create and delete × fault`, () => {
    for (const c of cases) {
      it(`${c.resource}`, async () => {
        const target = () => targetOf(emulator());
        const ops = await operationsOf(c, target());
        const mine: FaultResult[] = [];
        for (const fault of matrixMode().faults) {
          for (const op of ops.create) {
            mine.push(await createScenario(c, target(), op, fault));
            await c.cleanUp?.();
          }
          for (const op of ops.delete) {
            mine.push(await deleteScenario(c, target(), op, fault));
            await c.cleanUp?.();
          }
        }
        results.push(...mine);
        const ok = allowed[c.resource] ?? ["survived", "clear error"];
        expect(mine.filter((result) => !ok.includes(result.outcome)).map((r) => `${r.step} ${r.operationId} × ${r.fault}: ${r.outcome} ${r.detail}`)).toEqual([]);
      });
    }
  });
}
