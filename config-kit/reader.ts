import type { Failures } from "../dynamic-providers/core/check";
import { under } from "./problems";

export interface NumberRange {
  min?: number;
  max?: number;
  /** @default `true` */
  integer?: boolean;
}

function rangeRule(range: { min?: number; max?: number }): string {
  if (range.min !== undefined && range.max !== undefined) return `must be between ${range.min} and ${range.max}`;
  return range.min !== undefined ? `must be at least ${range.min}` : `must be at most ${range.max}`;
}

/**
 * Typed reads of config values under one namespace; every problem lands in `problems` (properties are
 * `<namespace>:<path>`) and the fallback stands in, so one run reports every problem.
 */
export class Reader {
  /** Full keys (`<namespace>:<path>`) that are set but not read; their fix is `pulumi config rm`. */
  readonly unknownKeys: string[] = [];
  readonly problems: Failures;

  constructor(
    root: Failures,
    readonly namespace: string,
  ) {
    this.problems = under(root, `${namespace}:`);
  }

  /** Reports `path` as set but not read by this program. */
  unknown(path: string, rule: string): void {
    this.unknownKeys.push(`${this.namespace}:${path}`);
    this.problems.add(path, rule);
  }

  /** `known`: the settings the object may hold (others are reported); undefined for a map of names. */
  object(path: string, value: unknown, known?: readonly string[]): Record<string, unknown> {
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value)) {
      this.problems.add(path, known ? `must be an object with the settings ${known.join(", ")}` : "must be a map of names to settings", value);
      return {};
    }
    const record = value as Record<string, unknown>;
    if (!known) return record;
    for (const key of Object.keys(record)) {
      if (!known.includes(key)) this.unknown(`${path}.${key}`, `is not a setting this program reads (known: ${known.join(", ")})`);
    }
    return record;
  }

  text(path: string, value: unknown, fallback: string): string;
  text(path: string, value: unknown, fallback?: string): string | undefined;
  text(path: string, value: unknown, fallback?: string): string | undefined {
    if (value === undefined || value === null) return fallback;
    if (typeof value === "string") return value;
    this.problems.add(path, "must be text", value);
    return fallback;
  }

  /** Accepts numbers and numeric text: `pulumi config set --path` may store either. */
  number(path: string, value: unknown, fallback: number, range: NumberRange = {}): number {
    if (value === undefined || value === null) return fallback;
    const parsed = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
    if (typeof parsed !== "number" || Number.isNaN(parsed)) {
      this.problems.add(path, "must be a number", value);
      return fallback;
    }
    if (range.integer !== false) {
      const before = this.problems.list.length;
      this.problems.integer(path, parsed, range);
      return this.problems.list.length > before ? fallback : parsed;
    }
    if ((range.min !== undefined && parsed < range.min) || (range.max !== undefined && parsed > range.max)) {
      this.problems.add(path, rangeRule(range), value);
      return fallback;
    }
    return parsed;
  }

  flag(path: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined || value === null) return fallback;
    if (typeof value === "boolean") return value;
    if (value === "true" || value === "false") return value === "true";
    this.problems.add(path, "must be true or false", value);
    return fallback;
  }

  oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[], fallback: T): T {
    if (value === undefined || value === null) return fallback;
    const before = this.problems.list.length;
    this.problems.oneOf(path, value, allowed);
    return this.problems.list.length > before ? fallback : (value as T);
  }

  textList(path: string, value: unknown, fallback: string[]): string[] {
    if (value === undefined || value === null) return fallback;
    if (!Array.isArray(value)) {
      this.problems.add(path, "must be a list of text", value);
      return fallback;
    }
    return value.flatMap((item, index) => {
      if (typeof item === "string") return [item];
      this.problems.add(`${path}[${index}]`, "must be text", item);
      return [];
    });
  }

  /** A command: a list of arguments, or one line split on whitespace. */
  command(path: string, value: unknown): string[] | undefined {
    if (typeof value === "string") return value.trim().split(/\s+/).filter((part) => part !== "");
    const list = this.textList(path, value, []);
    return value === undefined || value === null ? undefined : list;
  }

  textMap(path: string, value: unknown): Record<string, string> {
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value)) {
      this.problems.add(path, "must be a map of names to text", value);
      return {};
    }
    const map: Record<string, string> = {};
    for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
      // YAML turns `PORT: 8000` into a number; an environment variable is text either way.
      if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") map[name] = String(item);
      else this.problems.add(`${path}.${name}`, "must be text", item);
    }
    return map;
  }

  list(path: string, value: unknown): unknown[] {
    if (value === undefined || value === null) return [];
    if (Array.isArray(value)) return value;
    this.problems.add(path, "must be a list", value);
    return [];
  }

  match(path: string, value: string | undefined, regex: RegExp, rule: string): void {
    this.problems.pattern(path, value, regex, rule);
  }
}
