/**
 * How flyctl reads fly.toml values (internal/appconfig: patches.go, machines.go, validation.go; fly-go's
 * MachinePresets), and a reader that names every key it refuses by its path in the file. fly-toml.ts maps the
 * sections with these; nothing here knows FlyApp.
 */
import { failures, parseDuration, type Failures } from "../dynamic-providers/core/check";
import type { MachineGuest } from "../dynamic-providers/fly/machine-types";

export type TomlTable = Record<string, unknown>;

/** The label core/check's `failures` puts before each reason; TomlProblems takes it off again. */
const innerLabel = "fly.toml";

/**
 * Problems of one fly.toml, each `<file> <key path>: <rule>, got <value>`. The providers' rules (checkGuest,
 * checkHealthCheck, checkService) write into a `scope()`, whose property names are rewritten to the file's keys.
 */
export class TomlProblems {
  private readonly scopes: { failures: Failures; rename: (property: string) => string }[] = [];
  constructor(readonly file: string) {}

  /** A Failures for a provider rule; `rename` turns its property (`guest.memoryMb`) into a key path (`[[vm]][0].memory`). */
  scope(rename: (property: string) => string = (property) => property): Failures {
    const scoped = failures(innerLabel, undefined);
    this.scopes.push({ failures: scoped, rename });
    return scoped;
  }

  add(path: string, rule: string, value?: unknown): void {
    this.scope().add(path, rule, value);
  }

  messages(): string[] {
    return this.scopes.flatMap(({ failures: scoped, rename }) =>
      scoped.list.map(({ property, reason }) => `${this.file} ${rename(property)}: ${reason.slice(`${innerLabel}: ${property} `.length)}`),
    );
  }
}

/** Machine config names (camelCase) → fly.toml's, for the provider rules' messages. */
const tomlNames: Record<string, string> = {
  internalPort: "internal_port",
  forceHttps: "force_https",
  autostop: "auto_stop_machines",
  autostart: "auto_start_machines",
  minMachinesRunning: "min_machines_running",
  softLimit: "soft_limit",
  hardLimit: "hard_limit",
  gracePeriod: "grace_period",
  cpuKind: "cpu_kind",
  memoryMb: "memory_mb",
  extendThresholdPercent: "auto_extend_size_threshold",
  addSizeGb: "auto_extend_size_increment",
  sizeGbLimit: "auto_extend_size_limit",
  guestPath: "guest_path",
  urlPrefix: "url_prefix",
  secretName: "secret_name",
};

/** `[[services]][0].internalPort` → `[[services]][0].internal_port`. */
export function tomlPath(property: string): string {
  return property.replace(/[A-Za-z]+/g, (word) => tomlNames[word] ?? word);
}

function isTable(value: unknown): value is TomlTable {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * One table of the file. Every key read is marked; `finish()` refuses the rest, so no key is dropped unread.
 * `header` is how the table is named in messages: `` (top level), `[http_service]`, `[[vm]][0]`.
 */
export class TomlSection {
  private readonly read = new Set<string>();

  constructor(
    readonly problems: TomlProblems,
    readonly header: string,
    readonly values: TomlTable,
  ) {}

  path(key: string): string {
    return this.header === "" ? key : `${this.header}.${key}`;
  }

  has(key: string): boolean {
    return this.values[key] !== undefined;
  }

  raw(key: string): unknown {
    this.read.add(key);
    return this.values[key];
  }

  string(key: string): string | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== "string") return this.wrong(key, "must be a string", value);
    return value;
  }

  boolean(key: string): boolean | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") return this.wrong(key, "must be true or false", value);
    return value;
  }

  integer(key: string, range: { min?: number; max?: number } = {}): number | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    const scoped = this.problems.scope();
    scoped.integer(this.path(key), value, range);
    return scoped.list.length === 0 ? (value as number) : undefined;
  }

  number(key: string): number | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value)) return this.wrong(key, "must be a number", value);
    return value;
  }

  /** A list of strings; a single string is taken as a list of one, as flyctl does for `[experimental]` and `processes`. */
  strings(key: string): string[] | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value === "string") return [value];
    if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) return this.wrong(key, "must be a list of strings", value);
    return value as string[];
  }

  /** A table of string values (`[env]`, check `headers`). Integers and booleans are written out, as flyctl does. */
  stringMap(key: string): Record<string, string> | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (!isTable(value)) return this.wrong(key, "must be a table of strings", value);
    const out: Record<string, string> = {};
    for (const [name, item] of Object.entries(value)) {
      if (typeof item === "string") out[name] = item;
      else if (typeof item === "boolean" || (typeof item === "number" && Number.isInteger(item))) out[name] = String(item);
      else this.problems.add(`${this.childHeader(key)}.${name}`, "must be a string", item);
    }
    return out;
  }

  /** A duration as flyctl takes it: a Go duration string, or a whole number of `unit` (ms for checks, s for kill_timeout). */
  duration(key: string, unit: "ms" | "s"): string | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value === "number" && Number.isInteger(value) && value >= 0) return `${value}${unit}`;
    if (typeof value === "string" && parseDuration(value) !== undefined) return value;
    return this.wrong(key, `must be a duration such as "30s" or "1m30s", or a whole number of ${unit === "ms" ? "milliseconds" : "seconds"}`, value);
  }

  /** A sub-table; named `[parent.key]` under a table, `[[parent]][0].key` under an element of an array of tables. */
  table(key: string, header = this.childHeader(key)): TomlSection | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (!isTable(value)) return this.wrong(key, "must be a table", value);
    return new TomlSection(this.problems, header, value);
  }

  /** An array of tables (`[[vm]]`); a single table (`[mounts]`, `[metrics]`) counts as one, as flyctl reads it. */
  tables(key: string, header: (index: number) => string): TomlSection[] {
    const value = this.raw(key);
    if (value === undefined) return [];
    const items = isTable(value) ? [value] : value;
    if (!Array.isArray(items) || items.some((item) => !isTable(item))) return this.wrong(key, "must be a table or an array of tables", value) ?? [];
    return (items as TomlTable[]).map((item, index) => new TomlSection(this.problems, header(index), item));
  }

  /** A key fly.toml documents that FlyApp cannot honour: refused with the reason and what to do instead. */
  refuse(key: string, why: string): void {
    if (this.has(key)) this.problems.add(this.path(key), why);
    this.read.add(key);
  }

  /** Refuses every key not read: `hints` gives a reason for keys people write that fly.toml does not have. */
  finish(hints: Record<string, string> = {}): void {
    for (const key of Object.keys(this.values)) {
      if (this.read.has(key)) continue;
      const kind = isTable(this.values[key]) || Array.isArray(this.values[key]) ? "section" : "key";
      const hint = hints[key];
      this.problems.add(this.header === "" && kind === "section" ? `[${key}]` : this.path(key), `is not a fly.toml ${kind}${hint ? ` (${hint})` : ""}`);
    }
  }

  private childHeader(key: string): string {
    if (this.header === "") return `[${key}]`;
    const single = /^\[([^[\]]+)\]$/.exec(this.header);
    return single ? `[${single[1]}.${key}]` : this.path(key);
  }

  private wrong(key: string, rule: string, value: unknown): undefined {
    this.problems.add(this.path(key), rule, value);
    return undefined;
  }
}

/** fly-go's MachinePresets without the GPU ones (a100-40gb, a100-80gb, l40s, a10), which FlyApp's guest cannot carry. */
export const machinePresets: Readonly<Record<string, MachineGuest>> = {
  "shared-cpu-1x": { cpuKind: "shared", cpus: 1, memoryMb: 256 },
  "shared-cpu-2x": { cpuKind: "shared", cpus: 2, memoryMb: 512 },
  "shared-cpu-4x": { cpuKind: "shared", cpus: 4, memoryMb: 1024 },
  "shared-cpu-6x": { cpuKind: "shared", cpus: 6, memoryMb: 1536 },
  "shared-cpu-8x": { cpuKind: "shared", cpus: 8, memoryMb: 2048 },
  "performance-1x": { cpuKind: "performance", cpus: 1, memoryMb: 2048 },
  "performance-2x": { cpuKind: "performance", cpus: 2, memoryMb: 4096 },
  "performance-4x": { cpuKind: "performance", cpus: 4, memoryMb: 8192 },
  "performance-6x": { cpuKind: "performance", cpus: 6, memoryMb: 12288 },
  "performance-8x": { cpuKind: "performance", cpus: 8, memoryMb: 16384 },
  "performance-10x": { cpuKind: "performance", cpus: 10, memoryMb: 20480 },
  "performance-12x": { cpuKind: "performance", cpus: 12, memoryMb: 24576 },
  "performance-14x": { cpuKind: "performance", cpus: 14, memoryMb: 28672 },
  "performance-16x": { cpuKind: "performance", cpus: 16, memoryMb: 32768 },
};
export const gpuPresets = ["a100-40gb", "a100-80gb", "l40s", "a10"] as const;
/** flyctl's size when `[[vm]]` names none (fly-go's DefaultVMSize). */
export const defaultPreset = "shared-cpu-1x";

const sizePattern = /^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$/i;
const unitPowers: Record<string, number> = { "": 0, k: 1, m: 2, g: 3, t: 4, p: 5 };

/**
 * A size as flyctl's helpers.ParseSize reads it: a bare number is already in the target unit; with a unit it goes
 * through go-units (binary for memory, `RAMInBytes`; decimal for volumes, `FromHumanSize`), rounded down.
 */
function parseSize(value: unknown, base: 1024 | 1000, targetPower: number): number | undefined {
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string") return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  const match = sizePattern.exec(text.trim());
  if (!match) return undefined;
  const bytes = Number(match[1]) * base ** unitPowers[(match[2] ?? "").toLowerCase()];
  return Math.floor(bytes / base ** targetPower);
}

/** `[[vm]] memory`: "2gb", "512mb", "1.5GB" or a number of MB. */
export function memoryMb(value: unknown): number | undefined {
  return parseSize(value, 1024, 2);
}

/** `[[mounts]] initial_size` and the auto-extend sizes: "30gb" or a number of GB. */
export function sizeGb(value: unknown): number | undefined {
  return parseSize(value, 1000, 3);
}

/**
 * Splits a command line as flyctl does for `[processes]` and `release_command` (github.com/google/shlex): words
 * split on whitespace, '…' taken literally, "…" and bare words with backslash escapes, `#` at a word's start
 * beginning a comment. Undefined when a quote or an escape is left open.
 */
export function splitCommand(text: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      index++;
    } else if (char === "#" && word === undefined) {
      while (index < text.length && text[index] !== "\n") index++;
    } else if (char === "'") {
      const end = text.indexOf("'", index + 1);
      if (end < 0) return undefined;
      word = (word ?? "") + text.slice(index + 1, end);
      index = end + 1;
    } else if (char === '"') {
      word = word ?? "";
      index++;
      for (;;) {
        if (index >= text.length) return undefined;
        if (text[index] === '"') break;
        if (text[index] === "\\") index++;
        if (index >= text.length) return undefined;
        word += text[index++];
      }
      index++;
    } else if (char === "\\") {
      if (index + 1 >= text.length) return undefined;
      word = (word ?? "") + text[index + 1];
      index += 2;
    } else {
      word = (word ?? "") + char;
      index++;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}
