/** Shared bench plumbing: count an emulator's calls and our own wall time around one phase. */
import type * as pulumi from "@pulumi/pulumi";

export interface CallRecorder {
  calls: { method: string }[];
  resetCalls(): void;
}

export interface Figures {
  phase: string;
  reads: number;
  writes: number;
  ms: number;
}

export async function measure<T>(phase: string, emulator: CallRecorder, run: () => Promise<T>): Promise<{ value: T; figures: Figures }> {
  emulator.resetCalls();
  const started = process.hrtime.bigint();
  const value = await run();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const reads = emulator.calls.filter((call) => call.method === "GET").length;
  return { value, figures: { phase, reads, writes: emulator.calls.length - reads, ms: Math.round(ms * 10) / 10 } };
}

/** One resource as the engine drives it: create, then a plain re-apply (check + diff) or a refreshing one. */
export interface BenchStep {
  label: string;
  create(): Promise<Record<string, unknown>>;
  reapply(): Promise<void>;
  refresh(): Promise<void>;
}

export function benchStep<I, O>(label: string, provider: pulumi.dynamic.ResourceProvider<I, O>, inputs: I): BenchStep {
  let id = "";
  let outs: O | undefined;
  const diffNone = async (olds: O, news: I, phase: string): Promise<void> => {
    const diff = await provider.diff!(id, olds, news);
    if (diff.changes) throw new Error(`bench: ${label} reported changes on ${phase}: ${JSON.stringify(diff)}`);
  };
  return {
    label,
    async create() {
      const checked = await provider.check!({} as I, inputs);
      const result = await provider.create!(checked.inputs ?? inputs);
      id = result.id;
      outs = result.outs;
      return (outs ?? {}) as Record<string, unknown>;
    },
    async reapply() {
      const checked = await provider.check!(outs as unknown as I, inputs);
      await diffNone(outs as O, checked.inputs ?? inputs, "a no-op re-apply");
    },
    async refresh() {
      const read = await provider.read!(id, outs);
      const checked = await provider.check!(outs as unknown as I, inputs);
      await diffNone(read.props ?? (outs as O), checked.inputs ?? inputs, "refresh");
    },
  };
}

export function printTable(title: string, rows: Record<string, string | number>[]): void {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => String(row[column]).length)));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i])).join("  ");
  console.log(`\n${title}`);
  console.log(line(columns));
  console.log(line(widths.map((width) => "-".repeat(width))));
  for (const row of rows) console.log(line(columns.map((column) => String(row[column]))));
}
