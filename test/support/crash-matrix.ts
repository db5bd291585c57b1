/**
 * The crash-safety table's shared part: one scenario is a create hit by a fault, then the create `pulumi up`
 * would run next, then a delete of what was recorded; the outcome says whether the remote side ended with
 * exactly the one recorded object and nothing after its delete.
 */
import type * as pulumi from "@pulumi/pulumi";
import { afterAll, describe, expect, it } from "vitest";
import { forgetClaims } from "../../dynamic-providers/core/claims";
import type { FaultCase } from "./fault-matrix";

export type CrashFault = "lost answer" | "crash";
export const crashFaults: readonly CrashFault[] = ["lost answer", "crash"];

/**
 * - `survived`: one remote object, recorded, and nothing left once it was deleted;
 * - `clear error`: the create failed with a message that says what to do (and names what was left);
 * - `unclear error`: it failed with a message that does not;
 * - `duplicate`: two or more remote objects for one resource;
 * - `orphan`: one object per resource, but something is left after the recorded one was deleted;
 * - `ran twice at once`: a run (release command) overlapped another run of itself.
 */
export type CrashOutcome = "survived" | "clear error" | "unclear error" | "duplicate" | "orphan" | "ran twice at once";

/** A resource of the table; the same cases feed the fault matrix (test/support/fault-matrix.ts). */
export interface CrashCase<I, O> extends FaultCase<I, O> {
  /** Queues the fault "the server acted, then the answer was lost" on the create's call. */
  loseNextAnswer(): void;
  /** How the scenario runs when it is not the plain "create, lose, create again" (runs that can overlap). */
  custom?: (fault: CrashFault) => Promise<CrashOutcome>;
}

/** An error that tells the operator what to do, not only what failed. */
export function isActionable(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /adopt|revoke|destroy|delete|rename|import|`pulumi|by hand|run .* again/i.test(message);
}

export async function runScenario<I, O>(c: CrashCase<I, O>, fault: CrashFault): Promise<{ outcome: CrashOutcome; detail: string }> {
  if (c.custom) return { outcome: await c.custom(fault), detail: "" };
  const provider = c.provider as Required<pulumi.dynamic.ResourceProvider<I, O>>;
  const inputs = await c.inputs();
  let recorded: pulumi.dynamic.CreateResult<O> | undefined;
  let error: unknown;
  if (fault === "lost answer") {
    c.loseNextAnswer();
    try {
      recorded = await provider.create(inputs);
    } catch (first) {
      error = first;
    }
  } else {
    // The create succeeded but the engine never recorded it: its result is thrown away.
    await provider.create(inputs);
    // The provider host died with it: the next run starts a new process.
    forgetClaims();
  }
  if (!recorded) {
    try {
      recorded = await provider.create(inputs);
      error = undefined;
    } catch (second) {
      error = second;
    }
  }
  const live = await c.count();
  if (!recorded) {
    const detail = error instanceof Error ? error.message : String(error);
    return { outcome: isActionable(error) ? "clear error" : "unclear error", detail: `${live} left: ${detail}` };
  }
  await provider.delete(recorded.id, recorded.outs as O);
  const left = await c.count();
  if (live > 1) return { outcome: "duplicate", detail: `${live} remote objects` };
  if (left > 0) return { outcome: "orphan", detail: `${left} left after delete` };
  return { outcome: "survived", detail: "" };
}

/** The matrix as a table for the test output (and the README). */
export function formatMatrix(title: string, rows: ReadonlyMap<string, Partial<Record<CrashFault, CrashOutcome>>>): string {
  const header = `| ${title} | lost answer | crash between call and record |`;
  const lines = [header, "|---|---|---|"];
  for (const [resource, cells] of rows) lines.push(`| ${resource} | ${cells["lost answer"] ?? "-"} | ${cells.crash ?? "-"} |`);
  return lines.join("\n");
}

/**
 * One test per resource and fault, each expecting `expected[resource][fault]` (`survived` when not listed), and
 * the whole matrix printed once the file is done.
 */
export function describeCrashMatrix<I, O>(
  service: string,
  cases: readonly CrashCase<I, O>[],
  expected: Record<string, Partial<Record<CrashFault, CrashOutcome>>>,
): void {
  const results = new Map<string, Partial<Record<CrashFault, CrashOutcome>>>();
  afterAll(() => {
    console.log(`\n${formatMatrix(`${service} resource`, results)}\n`);
  });
  describe(`${service} crash safety: resource × fault`, () => {
    for (const c of cases) {
      for (const fault of crashFaults) {
        it(`${c.resource}: ${fault}`, async () => {
          const { outcome, detail } = await runScenario(c, fault);
          results.set(c.resource, { ...results.get(c.resource), [fault]: outcome });
          expect({ outcome, detail: outcome === "survived" ? "" : detail }).toMatchObject({ outcome: expected[c.resource]?.[fault] ?? "survived" });
        });
      }
    }
  });
}
