/**
 * A program's stack config, read by key: `readProgramConfig("acme", (read) => ({ ... }))` runs the
 * program's schema against its namespace, collects every problem (wrong values, missing keys, keys and
 * settings nobody reads) and throws one ConfigError listing each with its key, rule and fix command.
 */
import * as pulumi from "@pulumi/pulumi";
import type { MachineCheck, MachineGuest } from "../dynamic-providers/fly/machine-types";
import { readEnv, type ReservedNames } from "./env";
import { appNamePattern, flyAppNameRule, flyRegions, readChecks, readGuest } from "./fly";
import { ConfigError, configFailures, explain } from "./problems";
import { Reader } from "./reader";
import { envNameRule, patterns } from "./rules";
import { namespaceKeys, readValue } from "./source";

export interface TextOptions {
  /** Used when the key is not set; checked against `pattern` like a set value. */
  default?: string;
  pattern?: RegExp;
  /** What `pattern` asks for, completing "must be …", e.g. "1-63 lowercase letters or dashes". */
  rule?: string;
  /** A value shown in the fix command instead of `<value>`. */
  example?: string;
  /**
   * Take a number or a boolean as its text: `pulumi config set --path` stores `123` and `true` typed, so a
   * name that happens to read as one (a git branch called `123`) arrives as one.
   */
  scalar?: boolean;
}

export interface NumberOptions {
  default?: number;
  min?: number;
  max?: number;
  example?: string;
}

export interface BooleanOptions {
  default?: boolean;
}

export interface OneOfOptions<T extends string> {
  default?: T;
  /** @default the first allowed value */
  example?: string;
}

export interface ListOptions {
  default?: string[];
  /** Every item must match it. */
  pattern?: RegExp;
  /** What `pattern` asks of an item, completing "must be …". */
  rule?: string;
  example?: string;
}

export interface RecordOptions {
  /** Entries the stack's own entries are merged over. */
  default?: Record<string, string>;
  /** A rule for the names: `rule` completes "must be …". */
  names?: { pattern: RegExp; rule: string };
  /** Names the stack may not set. */
  reserved?: ReservedNames;
}

export interface SecretOptions {
  /** What the secret is, for the "is required" message: "the app's SECRET_KEY". */
  what: string;
  example?: string;
}

export interface ListOfOptions<T> {
  default?: T[];
}

export interface MapOfOptions<T> {
  default?: Record<string, T>;
  /** A rule for the names: `rule` completes "must be …". */
  names?: { pattern: RegExp; rule: string };
}

/**
 * Typed reads of one namespace's keys. A key is `name`, `section.setting` or `section.list[0].setting`
 * (as `pulumi config set --path` writes it). A key that is not set takes `default`; without one it is
 * required. Every problem is collected; the value returned then is a stand-in, never used, because
 * readProgramConfig throws once the schema has run.
 */
export interface ProgramReader {
  readonly namespace: string;
  /** Whether `key` is set (and not null). */
  has(key: string): boolean;
  /** `read(key)`'s result when `key` is set, undefined when not, so a component's own default applies. */
  optional<T>(key: string, read: (key: string) => T): T | undefined;
  text(key: string, options?: TextOptions): string;
  optionalText(key: string, options?: TextOptions): string | undefined;
  /** A number; text such as "0.5" is accepted, since `pulumi config set --path` may store either. */
  number(key: string, options?: NumberOptions): number;
  integer(key: string, options?: NumberOptions): number;
  boolean(key: string, options?: BooleanOptions): boolean;
  oneOf<T extends string>(key: string, allowed: readonly T[], options?: OneOfOptions<T>): T;
  /** A list of text. */
  list(key: string, options?: ListOptions): string[];
  /** A map of names to text (YAML numbers and booleans become text). */
  record(key: string, options?: RecordOptions): Record<string, string>;
  /** Environment variables: a record whose names are letters, digits and underscores. */
  env(key: string, options?: Omit<RecordOptions, "names">): Record<string, string>;
  /** A top-level key set with `pulumi config set --secret`; the value stays a secret Output. */
  secret(key: string, options: SecretOptions): pulumi.Output<string>;
  optionalSecret(key: string, options: SecretOptions): pulumi.Output<string> | undefined;
  /** A Fly region code such as `ams`. */
  flyRegion(key: string, options?: OneOfOptions<string>): string;
  /** `{ cpuKind, cpus, memoryMb }`, checked by the fly:Machine provider's rules. */
  flyGuest(key: string, options?: { default?: MachineGuest }): MachineGuest;
  /** A list of fly.toml health checks, checked by the fly:Machine provider's rules. */
  healthChecks(key: string, options?: { default?: MachineCheck[] }): MachineCheck[];
  /** A Fly app name (globally unique, `<name>.fly.dev`), checked by the fly:App provider's rule. */
  flyAppName(key: string, options?: Omit<TextOptions, "pattern">): string;
  /** A container image reference: `[registry/]name[:tag][@digest]`. */
  image(key: string, options?: Omit<TextOptions, "pattern" | "rule">): string;
  /** A reader of the section at `key`, whose keys are relative to it. */
  section(key: string): ProgramReader;
  /** A list of sections, each read by `read` with a reader relative to the item. */
  listOf<T>(key: string, read: (item: ProgramReader, index: number) => T, options?: ListOfOptions<T>): T[];
  /** A map of names to sections, each read by `read` with a reader relative to the entry. */
  mapOf<T>(key: string, read: (entry: ProgramReader, name: string) => T, options?: MapOfOptions<T>): Record<string, T>;
  /** A rule across keys the readers cannot know; never pass a secret as `value`. */
  problem(key: string, rule: string, value?: unknown): void;
}

export interface ProgramConfigOptions {
  /** Top-level keys the program accepts although this stack's settings did not read them (read only under another setting). */
  knownKeys?: readonly string[];
}

/** A namespace's config as plain data, for tests and tools; a running program uses readProgramConfig. */
export interface RawProgramConfig {
  /** Top-level keys without the namespace, sections as objects. A key read as a secret must not be here. */
  readonly values: Readonly<Record<string, unknown>>;
  /** Secrets by top-level key: plain strings or `config.getSecret()` outputs. */
  readonly secrets?: Readonly<Record<string, string | pulumi.Output<string>>>;
}

interface ConfigSource {
  readonly keys: readonly string[];
  value(key: string): unknown;
  secret(key: string): string | pulumi.Output<string> | undefined;
  /** Set in plain text although the program reads it as a secret. */
  isPlain(key: string): boolean;
}

type Segment = string | number;

const keySyntax = /^[^.[\]]+((?:\.[^.[\]]+|\[\d+\])*)$/;

function parseKey(key: string): Segment[] {
  if (!keySyntax.test(key)) throw new Error(`config key '${key}' is not \`name\`, \`section.setting\` or \`list[0]\``);
  return key.split(/\.|(?=\[)/).map((part) => (part.startsWith("[") ? Number(part.slice(1, -1)) : part));
}

function formatKey(segments: readonly Segment[]): string {
  return segments.map((segment, index) => (typeof segment === "number" ? `[${segment}]` : index === 0 ? segment : `.${segment}`)).join("");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

function describeNumber(integer: boolean, options: NumberOptions): string {
  const kind = integer ? "a whole number" : "a number";
  if (options.min !== undefined && options.max !== undefined) return `${kind} between ${options.min} and ${options.max}`;
  if (options.min !== undefined) return `${kind} of at least ${options.min}`;
  return options.max !== undefined ? `${kind} of at most ${options.max}` : kind;
}

const imageRule = "a container image reference, `[registry/]name[:tag][@digest]` such as `registry.fly.io/my-app:latest`";

interface Found {
  value: unknown;
  path: string;
  /** Muted when a parent is not an object or list: that parent's one problem says it all. */
  read: Reader;
}

/** One reading of a namespace: what was read, what went wrong, and what is set but never read. */
class Session {
  readonly root = configFailures();
  readonly read: Reader;
  private readonly muted: Reader;
  /** Keys a reader consumed whole; nothing under them is reported as unknown. */
  private readonly consumed = new Set<string>();
  /** Sections read setting by setting; their settings nobody read are reported. */
  private readonly visited = new Set<string>();
  /** Every key a reader asked for, set or not, for the "known:" lists. */
  private readonly asked: Segment[][] = [];
  private readonly misshapen = new Map<string, { segments: Segment[]; value: unknown; expected: "object" | "list" }>();
  readonly secretKeys: string[] = [];
  private readonly examples = new Map<string, string>();

  constructor(
    readonly namespace: string,
    readonly source: ConfigSource,
  ) {
    this.read = new Reader(this.root, namespace);
    this.muted = new Reader(configFailures(), namespace);
  }

  example(path: string, example: string | undefined): void {
    if (example !== undefined) this.examples.set(`${this.namespace}:${path}`, example);
  }

  /** The value at `segments`; `consume`: the reader takes the whole value, else it reads the section's settings itself. */
  find(segments: Segment[], consume: boolean, example?: string): Found {
    const path = formatKey(segments);
    this.asked.push(segments);
    for (let length = 1; length < segments.length; length++) this.visited.add(formatKey(segments.slice(0, length)));
    (consume ? this.consumed : this.visited).add(path);
    this.example(path, example);
    let value = this.source.value(segments[0] as string);
    for (let index = 1; index < segments.length && !isAbsent(value); index++) {
      const segment = segments[index];
      const expected = typeof segment === "number" ? "list" : "object";
      if (expected === "list" ? !Array.isArray(value) : !isObject(value)) {
        const parent = segments.slice(0, index);
        this.misshapen.set(formatKey(parent), { segments: parent, value, expected });
        return { value: undefined, path, read: this.muted };
      }
      value = (value as Record<Segment, unknown>)[segment];
    }
    return { value, path, read: this.read };
  }

  private known(parent: readonly Segment[]): string[] {
    const names = this.asked
      .filter((segments) => segments.length > parent.length && parent.every((segment, index) => segments[index] === segment))
      .map((segments) => segments[parent.length])
      .filter((segment): segment is string => typeof segment === "string");
    return [...new Set(names)];
  }

  private walk(segments: Segment[], value: unknown): void {
    const entries: [Segment, unknown][] = Array.isArray(value) ? value.map((item, index) => [index, item]) : isObject(value) ? Object.entries(value) : [];
    for (const [segment, inner] of entries) {
      const child = [...segments, segment];
      const path = formatKey(child);
      if (this.consumed.has(path)) continue;
      if (this.visited.has(path)) this.walk(child, inner);
      else if (typeof segment === "number") this.read.unknown(path, "is not read by this program");
      else this.read.unknown(path, `is not a setting this program reads (known: ${this.known(segments).join(", ") || "none"})`);
    }
  }

  /** Reports what is set but not read and the sections of the wrong shape, then throws if anything is wrong. */
  finish(options: ProgramConfigOptions): void {
    for (const { segments, value, expected } of this.misshapen.values()) {
      const path = formatKey(segments);
      if (expected === "list") this.read.problems.add(path, "must be a list", value);
      else this.read.problems.add(path, `must be an object with the settings ${this.known(segments).join(", ")}`, value);
    }
    const knownKeys = [...new Set([...this.known([]), ...(options.knownKeys ?? [])])];
    for (const key of this.source.keys) {
      if (this.consumed.has(key)) continue;
      // Unknown keys are named only: their value could be a secret set under a mistyped key.
      if (this.visited.has(key)) this.walk([key], this.source.value(key));
      else if (!knownKeys.includes(key)) this.read.unknown(key, `is not a key this program reads (known: ${knownKeys.join(", ") || "none"})`);
    }
    if (this.root.list.length === 0) return;
    const context = { unknownKeys: this.read.unknownKeys, secretKeys: this.secretKeys, examples: this.examples };
    throw new ConfigError(this.root.list.map((problem) => explain(problem, context)));
  }
}

class Scope implements ProgramReader {
  constructor(
    private readonly session: Session,
    private readonly prefix: readonly Segment[],
  ) {}

  get namespace(): string {
    return this.session.namespace;
  }

  private segments(key: string): Segment[] {
    return [...this.prefix, ...parseKey(key)];
  }

  private take(key: string, example?: string): Found {
    return this.session.find(this.segments(key), true, example);
  }

  has(key: string): boolean {
    return !isAbsent(this.session.find(this.segments(key), false).value);
  }

  optional<T>(key: string, read: (key: string) => T): T | undefined {
    return this.has(key) ? read(key) : undefined;
  }

  text(key: string, options: TextOptions = {}): string {
    const { value, path, read } = this.take(key, options.example);
    const before = read.problems.list.length;
    const scalar = options.scalar === true && (typeof value === "number" || typeof value === "boolean");
    const text = read.text(path, scalar ? String(value) : value, options.default);
    if (read.problems.list.length > before) return text ?? "";
    if (options.pattern) read.match(path, text, options.pattern, options.rule ?? `text matching ${options.pattern}`);
    else if (text === undefined) read.problems.add(path, options.rule ? `is required (${options.rule})` : "is required");
    return text ?? "";
  }

  optionalText(key: string, options: TextOptions = {}): string | undefined {
    return this.has(key) || options.default !== undefined ? this.text(key, options) : undefined;
  }

  private numeric(key: string, options: NumberOptions, integer: boolean): number {
    const { value, path, read } = this.take(key, options.example);
    if (isAbsent(value) && options.default === undefined) {
      read.problems.add(path, `is required (${describeNumber(integer, options)})`);
      return options.min ?? 0;
    }
    return read.number(path, value, options.default ?? 0, { min: options.min, max: options.max, integer });
  }

  number(key: string, options: NumberOptions = {}): number {
    return this.numeric(key, options, false);
  }

  integer(key: string, options: NumberOptions = {}): number {
    return this.numeric(key, options, true);
  }

  boolean(key: string, options: BooleanOptions = {}): boolean {
    const { value, path, read } = this.take(key, "true");
    if (isAbsent(value) && options.default === undefined) {
      read.problems.add(path, "is required (true or false)");
      return false;
    }
    return read.flag(path, value, options.default ?? false);
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], options: OneOfOptions<T> = {}): T {
    const { value, path, read } = this.take(key, options.example ?? allowed[0]);
    if (isAbsent(value) && options.default === undefined) {
      read.problems.oneOf(path, value, allowed, true);
      return allowed[0];
    }
    return read.oneOf(path, value, allowed, options.default ?? allowed[0]);
  }

  list(key: string, options: ListOptions = {}): string[] {
    const { value, path, read } = this.take(key, options.example);
    if (isAbsent(value) && options.default === undefined) {
      read.problems.add(path, options.rule ? `is required (a list of ${options.rule})` : "is required (a list)");
      return [];
    }
    const items = read.textList(path, value, options.default ?? []);
    const { pattern } = options;
    if (pattern) {
      items.forEach((item, index) => {
        this.session.example(`${path}[${index}]`, options.example);
        read.match(`${path}[${index}]`, item, pattern, options.rule ?? `text matching ${pattern}`);
      });
    }
    return items;
  }

  record(key: string, options: RecordOptions = {}): Record<string, string> {
    const { value, path, read } = this.take(key);
    if (isAbsent(value) && options.default === undefined) {
      read.problems.add(path, "is required (a map of names to text)");
      return {};
    }
    const map = read.textMap(path, value);
    for (const name of Object.keys(map)) {
      if (options.names && !options.names.pattern.test(name)) read.problems.add(`${path}.${name}`, `must be ${options.names.rule}`);
      else if (options.reserved?.names.includes(name)) read.unknown(`${path}.${name}`, options.reserved.rule);
    }
    return { ...options.default, ...map };
  }

  env(key: string, options: Omit<RecordOptions, "names"> = {}): Record<string, string> {
    const { value, path, read } = this.take(key);
    if (isAbsent(value) && options.default === undefined) {
      read.problems.add(path, `is required (a map of environment variables ${envNameRule})`);
      return {};
    }
    return readEnv(read, path, value, options.default ?? {}, options.reserved);
  }

  private readSecret(key: string, options: SecretOptions, required: boolean): pulumi.Output<string> | undefined {
    const segments = this.segments(key);
    if (segments.length !== 1) {
      throw new Error(`config key '${formatKey(segments)}': a secret is a top-level key (\`pulumi config set --secret ${this.namespace}:<key>\`)`);
    }
    const { path, read } = this.take(key, options.example);
    this.session.secretKeys.push(`${this.namespace}:${path}`);
    if (this.session.source.isPlain(path)) {
      read.problems.add(path, "is a secret and must be set with `--secret`, not in plain text");
      return undefined;
    }
    const value = this.session.source.secret(path);
    if (value === undefined || value === "") {
      if (required) read.problems.add(path, `is required: ${options.what}`);
      return undefined;
    }
    return pulumi.secret(value);
  }

  secret(key: string, options: SecretOptions): pulumi.Output<string> {
    return this.readSecret(key, options, true) ?? pulumi.secret("");
  }

  optionalSecret(key: string, options: SecretOptions): pulumi.Output<string> | undefined {
    return this.readSecret(key, options, false);
  }

  flyRegion(key: string, options: OneOfOptions<string> = {}): string {
    return this.oneOf(key, flyRegions, options);
  }

  flyGuest(key: string, options: { default?: MachineGuest } = {}): MachineGuest {
    const { value, path, read } = this.take(key);
    return readGuest(read, path, value, options.default);
  }

  healthChecks(key: string, options: { default?: MachineCheck[] } = {}): MachineCheck[] {
    const { value, path, read } = this.take(key);
    if (isAbsent(value) && options.default === undefined) {
      read.problems.add(path, "is required (a list of health checks)");
      return [];
    }
    return readChecks(read, path, value, options.default ?? []);
  }

  flyAppName(key: string, options: Omit<TextOptions, "pattern"> = {}): string {
    return this.text(key, { rule: flyAppNameRule, ...options, pattern: appNamePattern });
  }

  image(key: string, options: Omit<TextOptions, "pattern" | "rule"> = {}): string {
    return this.text(key, { ...options, pattern: patterns.image, rule: imageRule });
  }

  section(key: string): ProgramReader {
    const segments = this.segments(key);
    this.session.find(segments, false);
    return new Scope(this.session, segments);
  }

  private container(key: string): Found & { segments: Segment[] } {
    const segments = this.segments(key);
    return { segments, ...this.session.find(segments, false) };
  }

  listOf<T>(key: string, readItem: (item: ProgramReader, index: number) => T, options: ListOfOptions<T> = {}): T[] {
    const { segments, value, path, read } = this.container(key);
    if (isAbsent(value) || !Array.isArray(value)) {
      if (!isAbsent(value)) read.problems.add(path, "must be a list", value);
      else if (options.default === undefined) read.problems.add(path, "is required (a list)");
      return options.default ?? [];
    }
    return value.map((_item, index) => {
      const item = [...segments, index];
      this.session.find(item, false);
      return readItem(new Scope(this.session, item), index);
    });
  }

  mapOf<T>(key: string, readEntry: (entry: ProgramReader, name: string) => T, options: MapOfOptions<T> = {}): Record<string, T> {
    const { segments, value, path, read } = this.container(key);
    if (isAbsent(value) || !isObject(value)) {
      if (!isAbsent(value)) read.problems.add(path, "must be a map of names to settings", value);
      else if (options.default === undefined) read.problems.add(path, "is required (a map of names to settings)");
      return options.default ?? {};
    }
    const entries: Record<string, T> = {};
    for (const name of Object.keys(value)) {
      if (options.names && !options.names.pattern.test(name)) read.problems.add(`${path}.${name}`, `must be ${options.names.rule}`);
      const entry = [...segments, name];
      this.session.find(entry, false);
      entries[name] = readEntry(new Scope(this.session, entry), name);
    }
    return entries;
  }

  problem(key: string, rule: string, value?: unknown): void {
    this.session.read.problems.add(formatKey(this.segments(key)), rule, value);
  }
}

function run<T>(namespace: string, source: ConfigSource, schema: (read: ProgramReader) => T, options: ProgramConfigOptions): T {
  const session = new Session(namespace, source);
  const config = schema(new Scope(session, []));
  session.finish(options);
  return config;
}

/** Runs `schema` against plain data (tests, tools); throws one ConfigError listing every problem. */
export function parseProgramConfig<T>(namespace: string, raw: RawProgramConfig, schema: (read: ProgramReader) => T, options: ProgramConfigOptions = {}): T {
  const secrets = raw.secrets ?? {};
  const keys = [...new Set([...Object.keys(raw.values), ...Object.keys(secrets)])].filter((key) => raw.values[key] !== undefined || secrets[key] !== undefined);
  return run(
    namespace,
    {
      keys,
      value: (key) => raw.values[key],
      secret: (key) => secrets[key],
      isPlain: (key) => !isAbsent(raw.values[key]) && secrets[key] === undefined,
    },
    schema,
    options,
  );
}

/**
 * Runs `schema` against the running stack's `<namespace>:*` config (secrets through `getSecret`, so they
 * stay secret); throws one ConfigError listing every problem.
 */
export function readProgramConfig<T>(namespace: string, schema: (read: ProgramReader) => T, options: ProgramConfigOptions = {}): T {
  const config = new pulumi.Config(namespace);
  const values = new Map<string, unknown>();
  const value = (key: string): unknown => {
    if (!values.has(key)) values.set(key, readValue(config, key));
    return values.get(key);
  };
  return run(
    namespace,
    {
      keys: namespaceKeys(namespace),
      value,
      secret: (key) => {
        const text = config.get(key);
        return text === undefined || text === "" ? undefined : config.requireSecret(key);
      },
      // Which keys the engine holds as secrets is not public in the SDK, so a plain one is taken as given.
      isPlain: () => false,
    },
    schema,
    options,
  );
}
