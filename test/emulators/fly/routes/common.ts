import type { MatchedOperation } from "../contract";
import type { Faults } from "../faults";
import type { AppRecord, MachineRecord, Store } from "../state";

export interface RouteContext {
  store: Store;
  faults: Faults;
  op: MatchedOperation;
  params: Record<string, string>;
  query: Record<string, string>;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  /** Parsed JSON body, or undefined when the request had none. */
  body: unknown;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (ctx: RouteContext) => RouteResult | Promise<RouteResult>;

/** Thrown by handlers to answer with an error body {error, status?}. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: "unknown" | "insufficient_capacity" | "volume_placement_capacity" | "name_taken",
  ) {
    super(message);
  }
}

export const ok = (body?: unknown, status = 200): RouteResult => ({ status, body });

export function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function optionalString(source: Record<string, unknown>, key: string): string | undefined {
  const value = source[key];
  return typeof value === "string" ? value : undefined;
}

export function optionalNumber(source: Record<string, unknown>, key: string): number | undefined {
  const value = source[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

export function optionalBoolean(source: Record<string, unknown>, key: string): boolean | undefined {
  const value = source[key];
  return typeof value === "boolean" ? value : undefined;
}

export function queryBoolean(ctx: RouteContext, key: string): boolean {
  return ctx.query[key] === "true" || ctx.query[key] === "1";
}

export function param(ctx: RouteContext, key: string): string {
  const value = ctx.params[key];
  if (value === undefined) throw new HttpError(400, `missing path parameter ${key}`);
  return value;
}

/** The app named in the path; the server has already answered 404 for missing or not-ready apps. */
export function appOf(ctx: RouteContext): AppRecord {
  const app = ctx.store.apps.get(param(ctx, "app_name"));
  if (!app) throw new HttpError(404, "app not found");
  return app;
}

export function machineOf(ctx: RouteContext, app: AppRecord = appOf(ctx)): MachineRecord {
  const machine = app.machines.get(param(ctx, "machine_id"));
  if (!machine) throw new HttpError(404, "machine not found");
  return machine;
}

/** A machine that still exists (not destroying or destroyed). */
export function liveMachineOf(ctx: RouteContext, app: AppRecord = appOf(ctx)): MachineRecord {
  const machine = machineOf(ctx, app);
  if (machine.state === "destroyed" || machine.state === "destroying") throw new HttpError(404, "machine not found");
  return machine;
}
