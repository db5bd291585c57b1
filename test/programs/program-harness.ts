/**
 * Runs a Pulumi program (`<dir>/index.ts`) for one of its stack files under Pulumi's mock runtime: the stack's
 * `<dir>/Pulumi.<stack>.yaml`, plus what each user sets and never commits (`provided`, `secrets`), fed through
 * setAllConfig as the engine would. Every resource the program registers or reads is recorded with its type,
 * name, inputs (secret markers kept), parent, protect flag and direct dependencies; the mocks answer with
 * provider-shaped outputs (provider-mocks.ts) and the referenced stacks' outputs for each StackReference.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { expect, vi } from "vitest";
import { parse } from "yaml";
import { providerCall, providerOutputsFor, types } from "./provider-mocks";
import { settled } from "../components/fly-mocks";

export type Json = Record<string, unknown>;

export interface Registration {
  type: string;
  name: string;
  /** Parent URN; empty for the stack's direct children. */
  parent: string;
  protect: boolean;
  /** URNs of the direct dependencies. */
  dependencies: string[];
  /** Inputs as sent, secrets still wrapped (see isSecret / reveal); `__provider` left out. */
  inputs: Json;
  /** A read (`get`/StackReference) rather than a registration. */
  read: boolean;
  /** Structured aliases (`aliases: [{ name, parent }]`): the old name and the old parent's URN. */
  aliases: { name: string; parentUrn: string }[];
}

export interface StackRun {
  stack: string;
  registrations: Registration[];
  calls: pulumi.runtime.MockCallArgs[];
  /** index.ts's exports, as the module holds them (Outputs, plain values or undefined). */
  exports: Record<string, unknown>;
}

export interface ProgramRunOptions {
  /** The program's directory relative to the repository root: `examples/draftguru`, or `.` for the top-level program. */
  dir: string;
  /** Reads `<dir>/Pulumi.<stack>.yaml`. */
  stack: string;
  /** The config namespace. @default the `name` in `<dir>/Pulumi.yaml` */
  namespace?: string;
  /** Keys each user sets and never commits (without the namespace), merged under the stack file's. */
  provided?: Json;
  /** Keys merged over the stack file's: what a test changes. */
  overrides?: Json;
  /** Secrets by key (without the namespace, or `other:key` for another namespace), as `pulumi config set --secret` leaves them. */
  secrets?: Record<string, string>;
  /** Outputs of the stacks the program references, by the stack name it passes to StackReference. */
  stackReferences?: Record<string, Json> | ((name: string) => Json | undefined);
  /** Extra provider-shaped outputs, laid over provider-mocks.ts's; undefined to leave a type to those. */
  outputsFor?: (type: string, name: string, inputs: Json) => Json | undefined;
  /** Invoke results before provider-mocks.ts's; undefined to leave a call to those. */
  calls?: (args: pulumi.runtime.MockCallArgs) => Json | undefined;
}

const repositoryRoot = join(__dirname, "..", "..");

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = isObject(value) && isObject(out[key]) ? merge(out[key] as Json, value) : value;
  return out;
}

/** The program's name in `<dir>/Pulumi.yaml`, which is its config namespace. */
export function programName(dir: string): string {
  const project = parse(readFileSync(join(repositoryRoot, dir, "Pulumi.yaml"), "utf8")) as { name?: unknown };
  if (typeof project.name !== "string") throw new Error(`${join(dir, "Pulumi.yaml")} has no name`);
  return project.name;
}

/** The stacks that have a stack file in `dir`: `Pulumi.staging.yaml` → `staging`. */
export function stackNames(dir: string): string[] {
  return readdirSync(join(repositoryRoot, dir))
    .map((file) => /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1])
    .filter((stack): stack is string => stack !== undefined)
    .sort();
}

/** A stack file's `config:`, keys as written (`<namespace>:<key>`). */
export function stackFile(dir: string, stack: string): Json {
  const file = parse(readFileSync(join(repositoryRoot, dir, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Json } | null;
  return file?.config ?? {};
}

/** A stack file's keys of `namespace`, without the prefix (as `new pulumi.Config(namespace)` sees them). */
export function stackValues(dir: string, stack: string, namespace = programName(dir)): Json {
  const prefix = `${namespace}:`;
  return Object.fromEntries(
    Object.entries(stackFile(dir, stack))
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), value]),
  );
}

/** The engine hands the program every `project:key` as text (objects as JSON) and names the secret ones. */
function setStackConfig(options: ProgramRunOptions, namespace: string): void {
  const qualified = (key: string): string => (key.includes(":") ? key : `${namespace}:${key}`);
  const file = Object.fromEntries(Object.entries(stackFile(options.dir, options.stack)).map(([key, value]) => [qualified(key), value]));
  const secrets = Object.fromEntries(Object.entries(options.secrets ?? {}).map(([key, value]) => [qualified(key), value]));
  const ours = (entries: Json): Json => Object.fromEntries(Object.entries(entries).map(([key, value]) => [qualified(key), value]));
  const values = merge(merge(ours(options.provided ?? {}), file), ours(options.overrides ?? {}));
  const all: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (isObject(value) && typeof value.secure === "string") {
      if (secrets[key] === undefined) throw new Error(`Pulumi.${options.stack}.yaml: ${key} is encrypted; pass its value in \`secrets\``);
      continue;
    }
    all[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  Object.assign(all, secrets);
  pulumi.runtime.setAllConfig(all, Object.keys(secrets));
}

const secretSignatureKey = "4dabf18193072939515e22adb298388d";
const secretSignature = "1b47061264138c4ac30d75fd1eb44270";

/** The SDK's wire form of a secret, as the mock monitor is handed it. */
export function isSecret(value: unknown): value is { value: unknown } {
  return isObject(value) && value[secretSignatureKey] === secretSignature;
}

/** The value with every secret marker removed. */
export function reveal(value: unknown): unknown {
  if (isSecret(value)) return reveal(value.value);
  if (Array.isArray(value)) return value.map(reveal);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, reveal(inner)]));
  return value;
}

/** Every string in `value` that is not inside a secret, with its path. */
export function plainStrings(value: unknown, path = ""): { path: string; value: string }[] {
  if (typeof value === "string") return [{ path, value }];
  if (isSecret(value)) return [];
  if (Array.isArray(value)) return value.flatMap((item, index) => plainStrings(item, `${path}[${index}]`));
  if (isObject(value)) return Object.entries(value).flatMap(([key, inner]) => plainStrings(inner, path ? `${path}.${key}` : key));
  return [];
}

interface RequestLike {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProtect?(): boolean | undefined;
  getDependenciesList?(): string[];
  getObject?(): { toJavaScript(): Json } | undefined;
  getProperties?(): { toJavaScript(): Json } | undefined;
  getAdditionalsecretoutputsList?(): string[];
  getAliasesList?(): { getSpec(): { getName(): string; getParenturn(): string } | undefined }[];
}

type Callback = (error: unknown, response: unknown) => void;

interface PatchableMonitor {
  registerResource(req: RequestLike, callback: Callback): Promise<void>;
  readResource(req: RequestLike, callback: Callback): Promise<void>;
}

function record(registrations: Registration[], req: RequestLike, read: boolean): void {
  const raw = (read ? req.getProperties?.() : req.getObject?.())?.toJavaScript() ?? {};
  const { __provider: _provider, ...inputs } = raw;
  registrations.push({
    type: req.getType(),
    name: req.getName(),
    parent: req.getParent(),
    protect: req.getProtect?.() ?? false,
    dependencies: req.getDependenciesList?.() ?? [],
    inputs,
    read,
    aliases: (req.getAliasesList?.() ?? []).flatMap((alias) => {
      const spec = alias.getSpec();
      return spec ? [{ name: spec.getName(), parentUrn: spec.getParenturn() }] : [];
    }),
  });
}

/** Resolves an export: Outputs to `{ value, secret }`, plain values as they are. */
export async function exported(run: StackRun, name: string): Promise<{ value: unknown; secret: boolean }> {
  const value = run.exports[name];
  if (!pulumi.Output.isInstance(value)) return { value, secret: false };
  const output = value as pulumi.Output<unknown>;
  const resolved = await new Promise<unknown>((resolve) => output.apply(resolve));
  return { value: resolved, secret: await pulumi.isSecret(output) };
}

function referencedOutputs(options: ProgramRunOptions, name: string): Json | Error {
  const { stackReferences } = options;
  const outputs = typeof stackReferences === "function" ? stackReferences(name) : stackReferences?.[name];
  if (outputs !== undefined) return outputs;
  const known = typeof stackReferences === "object" ? Object.keys(stackReferences).join(", ") : "";
  return new Error(`${options.dir} (${options.stack}): StackReference '${name}' has no outputs in the test (stackReferences: ${known || "none"})`);
}

async function run(options: ProgramRunOptions): Promise<StackRun> {
  const namespace = options.namespace ?? programName(options.dir);
  setStackConfig(options, namespace);
  const registrations: Registration[] = [];
  const calls: pulumi.runtime.MockCallArgs[] = [];
  /** The engine marks `additionalSecretOutputs` secret (random's `result`, the dynamic resources' credentials); the mock monitor does not. */
  const secretOutputs = new Map<string, string[]>();
  const withSecrets = (type: string, name: string, state: Json): Json => {
    const names = secretOutputs.get(`${type}::${name}`) ?? [];
    return Object.fromEntries(Object.entries(state).map(([key, value]) => [key, names.includes(key) && value !== undefined ? pulumi.secret(value) : value]));
  };
  /** A mistake in the test's setup fails the run at once, instead of leaving the program's outputs unresolved. */
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<never>((_resolve, reject) => (fail = reject));
  failed.catch(() => undefined);
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Json } {
        const inputs = args.inputs as Json;
        if (args.type === "pulumi:pulumi:StackReference") {
          const outputs = referencedOutputs(options, String(inputs.name));
          if (outputs instanceof Error) fail(outputs);
          return { id: String(args.id), state: { name: inputs.name, outputs: outputs instanceof Error ? {} : outputs, secretOutputNames: [] } };
        }
        const outputs = { ...providerOutputsFor(args.type, args.name, inputs), ...options.outputsFor?.(args.type, args.name, inputs) };
        return { id: `${args.name}-id`, state: withSecrets(args.type, args.name, { ...inputs, ...outputs }) };
      },
      call(args: pulumi.runtime.MockCallArgs): Json {
        calls.push(args);
        const result = options.calls?.(args) ?? providerCall(args);
        if (result !== undefined) return result;
        const error = new Error(`${options.dir} (${options.stack}): unexpected call ${args.token}; answer it with \`calls\``);
        fail(error);
        throw error;
      },
    },
    namespace,
    options.stack,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as PatchableMonitor;
  const register = monitor.registerResource.bind(monitor);
  const readResource = monitor.readResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    record(registrations, req, false);
    secretOutputs.set(`${req.getType()}::${req.getName()}`, req.getAdditionalsecretoutputsList?.() ?? []);
    return register(req, callback);
  };
  monitor.readResource = (req, callback) => {
    record(registrations, req, true);
    return readResource(req, callback);
  };

  // An error thrown inside the program's applies (a check on a secret's value, say) leaves its outputs unresolved
  // and reaches Node only as an unhandled rejection: for the run's duration it fails the run instead of hanging it.
  const saved = process.listeners("unhandledRejection");
  const onRejection = (reason: unknown): void => fail(reason instanceof Error ? reason : new Error(String(reason)));
  process.removeAllListeners("unhandledRejection");
  process.on("unhandledRejection", onRejection);
  try {
    vi.resetModules();
    const program = (await Promise.race([import(join(repositoryRoot, options.dir, "index.ts")), failed])) as Record<string, unknown>;
    const exports = Object.fromEntries(Object.entries(program).filter(([key]) => key !== "default" && key !== "__esModule"));
    const result: StackRun = { stack: options.stack, registrations, calls, exports };
    await Promise.race([Promise.all(Object.keys(exports).map((name) => exported(result, name))), failed]);
    await Promise.race([settled(registrations), failed]);
    return result;
  } finally {
    process.off("unhandledRejection", onRejection);
    for (const listener of saved) process.on("unhandledRejection", listener);
  }
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs a program for one stack; runs are queued because the mock runtime is process-global. */
export function runProgram(options: ProgramRunOptions): Promise<StackRun> {
  const next = queue.then(() => run(options));
  queue = next.catch(() => undefined);
  return next;
}

/** Runs a program for every stack file in `dir`, by stack name. */
export async function runAllStacks(dir: string, options: Omit<ProgramRunOptions, "dir" | "stack"> = {}): Promise<Record<string, StackRun>> {
  const runs: Record<string, StackRun> = {};
  for (const stack of stackNames(dir)) runs[stack] = await runProgram({ ...options, dir, stack });
  return runs;
}

/**
 * Expects the run to fail with the config kit's ConfigError naming `key` (`<namespace>:<key>`, or the key
 * alone); returns that problem's text. The program's module copy of ConfigError differs from the test's
 * (vi.resetModules), so the error is recognised by its name and problems.
 */
export async function expectConfigError(run: Promise<unknown>, key: string): Promise<string> {
  let error: unknown;
  try {
    await run;
  } catch (caught) {
    error = caught;
  }
  const problems = (error as { problems?: unknown } | undefined)?.problems;
  expect((error as Error | undefined)?.name, `expected a ConfigError, got ${String(error)}`).toBe("ConfigError");
  if (!Array.isArray(problems)) throw new Error("the ConfigError lists no problems");
  const named = (problems as string[]).filter((problem) => {
    const problemKey = problem.split(" ")[0];
    return problemKey === key || problemKey.endsWith(`:${key}`);
  });
  expect(named, `no problem names ${key}:\n${problems.join("\n")}`).not.toEqual([]);
  return named[0];
}

/** The one registration of `type` named `name`; fails listing what there is. */
export function resource(run: StackRun, type: string, name: string): Registration {
  const found = run.registrations.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) {
    const names = run.registrations.filter((r) => r.type === type).map((r) => r.name);
    throw new Error(`${run.stack}: expected one ${type} '${name}', found ${found.length} (of that type: ${names.join(", ") || "none"})`);
  }
  return found[0];
}

/** A stack output's value (secret or not). */
export async function exportValue(run: StackRun, name: string): Promise<unknown> {
  return (await exported(run, name)).value;
}

/** A fly:Secrets resource's values, revealed, after checking the whole map went in as a secret. */
export function flySecrets(run: StackRun, name: string): Record<string, string> {
  const values = resource(run, types.flySecrets, name).inputs.values;
  expect(isSecret(values)).toBe(true);
  return reveal(values) as Record<string, string>;
}

/** Whether the registration depends on a resource of this name. */
export function dependsOn(registration: Registration, name: string): boolean {
  return registration.dependencies.some((urn) => urn.endsWith(`::${name}`));
}

export function resourcesOf(run: StackRun, type: string): Registration[] {
  return run.registrations.filter((r) => r.type === type);
}
