/**
 * Runs in a plain `node` child from the compiled build (never under vitest, whose module transform changes what the
 * closure serializer writes into `__provider`): applies or destroys a program's stack the way `pulumi up` and
 * `pulumi destroy` drive dynamic resources, with the SDK's mock monitor standing in for the engine.
 *
 * - A `pulumi-nodejs:dynamic/*` resource is handed to its real provider: the serialized `__provider` text is loaded
 *   as the SDK's dynamic-provider host loads it (require-from-string, then `.handler()`), and run with check() then
 *   create(), or, for a resource in the state, check(olds, news) then diff() and update() (or nothing). Its real
 *   outputs flow back into the program, so the next resources' inputs carry them.
 * - Every other resource (Cloudflare, GitHub, random) and every invoke is answered by test/programs/provider-mocks.ts.
 * - The state (URN → id, inputs, outputs, provider text, order) is written to a file after every change, as the
 *   engine checkpoints; `destroy` deletes in the reverse of that order, each resource with its stored provider.
 *
 * Request on stdin: ApplyRequest. Report in the file named by argv[2]: ApplyReport.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { providerCall, providerOutputsFor } from "../programs/provider-mocks";

type Json = Record<string, unknown>;

export interface ApplyRequest {
  /** The compiled build holding the program (`<buildDir>/<programDir>/index.js`). */
  buildDir: string;
  /** The program's directory relative to the repository root, `.` for seed 000's. */
  programDir: string;
  project: string;
  stack: string;
  /** Every `namespace:key` as text, as the engine hands config to the program. */
  config: Record<string, string>;
  secretKeys: string[];
  statePath: string;
  action: "up" | "destroy";
  /** up only: after this many remote writes (create/update/delete) every later registration fails, in-flight ones finish. */
  stopAfterWrites?: number;
  /** destroy only: delete protected resources too (as after `pulumi state unprotect`). */
  unprotect?: boolean;
}

export interface StateEntry {
  urn: string;
  type: string;
  name: string;
  id: string;
  /** The checked inputs, plain (secrets unwrapped), with `__provider`. */
  inputs: Json;
  /** The provider's outputs, plain. */
  outputs: Json;
  /** Output names the engine marks secret (additionalSecretOutputs and outputs whose input was secret). */
  secretOutputs: string[];
  protect: boolean;
}

export interface StackState {
  /** In the order their last create finished: every resource's dependencies come before it. */
  resources: StateEntry[];
}

export interface ApplyReport {
  created: string[];
  updated: string[];
  replaced: string[];
  unchanged: string[];
  deleted: string[];
  /** True when the parent killed the process (stack-apply.ts `killWhen`): the rest of the report is empty. */
  killed?: boolean;
  /** Registrations refused after `stopAfterWrites`. */
  refused: string[];
  error?: string;
  /** The whole run, from the child's start. */
  seconds: number;
  /** Until the program's module was loaded (SDK, providers' modules, program). */
  startupSeconds?: number;
}

interface DynamicProvider {
  check?(olds: Json, news: Json): Promise<{ inputs?: Json; failures?: { property: string; reason: string }[] }>;
  diff?(id: string, olds: Json, news: Json): Promise<{ changes?: boolean; replaces?: string[]; deleteBeforeReplace?: boolean }>;
  create(inputs: Json): Promise<{ id: string; outs?: Json }>;
  update?(id: string, olds: Json, news: Json): Promise<{ outs?: Json }>;
  delete?(id: string, props: Json): Promise<void>;
  configure?(req: { config: unknown }): Promise<void>;
}

const providerKey = "__provider";
const secretSignatureKey = "4dabf18193072939515e22adb298388d";
const secretSignature = "1b47061264138c4ac30d75fd1eb44270";

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSecretValue(value: unknown): value is { value: unknown } {
  return isRecord(value) && value[secretSignatureKey] === secretSignature;
}

/** The value without secret markers; the engine's dynamic host gets plain values (acceptSecrets=false). */
function unwrap(value: unknown): unknown {
  if (isSecretValue(value)) return unwrap(value.value);
  if (Array.isArray(value)) return value.map(unwrap);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).filter(([, inner]) => inner !== undefined).map(([key, inner]) => [key, unwrap(inner)]));
  return value;
}

function containsSecret(value: unknown): boolean {
  if (isSecretValue(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (isRecord(value)) return Object.values(value).some(containsSecret);
  return false;
}

function readRequest(): Promise<ApplyRequest> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on("data", (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as ApplyRequest));
    process.stdin.on("error", reject);
  });
}

function loadState(file: string): StackState {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as StackState) : { resources: [] };
}

function saveState(file: string, state: StackState): void {
  const partial = `${file}.partial`;
  fs.writeFileSync(partial, JSON.stringify(state, null, 1));
  fs.renameSync(partial, file);
}

/** The SDK's dynamic-provider host's loader: `requireFromString(text).handler()`, configured once per text. */
function providerLoader(project: string): (text: string) => Promise<DynamicProvider> {
  const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  const requireFromString = require(require.resolve("require-from-string", { paths: [sdkDir] })) as (code: string) => { handler(): DynamicProvider };
  const { Config } = require("@pulumi/pulumi/cmd/dynamic-provider/config") as { Config: new (raw: Json, project: string) => unknown };
  const cache = new Map<string, Promise<DynamicProvider>>();
  return (text) => {
    let loaded = cache.get(text);
    if (!loaded) {
      loaded = (async () => {
        const provider = requireFromString(text).handler();
        await provider.configure?.({ config: new Config({}, project) });
        return provider;
      })();
      cache.set(text, loaded);
    }
    return loaded;
  };
}

interface RequestLike {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProtect?(): boolean | undefined;
  getAdditionalsecretoutputsList?(): string[];
}

type Callback = (error: unknown, response: unknown) => void;

interface PatchableMonitor {
  registerResource(req: RequestLike, callback: Callback): Promise<void>;
  newUrn(parent: string, type: string, name: string): string;
}

function checkFailures(urn: string, failures: { property: string; reason: string }[] | undefined): void {
  if (failures && failures.length > 0) throw new Error(`${urn}: check failed: ${failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
}

/** The engine's view of a result: additionalSecretOutputs, plus every output whose input of the same name was secret. */
function secretOutputsOf(additional: string[], rawInputs: Json, outputs: Json): string[] {
  const fromInputs = Object.keys(outputs).filter((key) => containsSecret(rawInputs[key]));
  return [...new Set([...additional, ...fromInputs])].filter((key) => key in outputs);
}

function stateFor(entry: StateEntry): Json {
  const { [providerKey]: _provider, ...outputs } = entry.outputs;
  return Object.fromEntries(Object.entries(outputs).map(([key, value]) => [key, entry.secretOutputs.includes(key) ? pulumi.secret(value) : value]));
}

const traceStart = Date.now();
let reportFile = "";

async function up(request: ApplyRequest, report: ApplyReport, started: number): Promise<void> {
  const state = loadState(request.statePath);
  const previous = new Map(state.resources.map((entry) => [entry.urn, entry]));
  const seen = new Set<string>();
  const load = providerLoader(request.project);
  /** What the registration carried beyond the inputs, by `type::name` (unique in a program). */
  const options = new Map<string, { additionalSecretOutputs: string[]; protect: boolean; parent: string }>();
  let writes = 0;
  let stopping = false;
  let failure: Error | undefined;
  let inFlight = 0;

  const record = (entry: StateEntry): void => {
    const at = state.resources.findIndex((existing) => existing.urn === entry.urn);
    if (at >= 0) state.resources[at] = entry;
    else state.resources.push(entry);
    saveState(request.statePath, state);
  };
  const wrote = (): void => {
    writes += 1;
    if (request.stopAfterWrites !== undefined && writes >= request.stopAfterWrites) stopping = true;
  };

  pulumi.runtime.setAllConfig(request.config, request.secretKeys);
  await pulumi.runtime.setMocks(
    {
      async newResource(args: pulumi.runtime.MockResourceArgs): Promise<{ id: string | undefined; state: Json }> {
        const rawInputs = args.inputs as Json;
        if (!args.custom) return { id: undefined, state: {} };
        const opts = options.get(`${args.type}::${args.name}`) ?? { additionalSecretOutputs: [], protect: false, parent: "" };
        const urn = (pulumi.runtime.getMonitor() as unknown as PatchableMonitor).newUrn(opts.parent, args.type, args.name);
        if (!args.type.startsWith("pulumi-nodejs:dynamic/")) {
          const outputs = { ...rawInputs, ...providerOutputsFor(args.type, args.name, unwrap(rawInputs) as Json) };
          return { id: `${args.name}-id`, state: outputs };
        }
        seen.add(urn);
        if (process.env.STACK_APPLY_TRACE) process.stderr.write(`${((Date.now() - traceStart) / 1000).toFixed(2)} ${urn}\n`);
        if (stopping) {
          report.refused.push(urn);
          throw new Error(`${urn}: the apply was stopped`);
        }
        inFlight += 1;
        try {
          const news = unwrap(rawInputs) as Json;
          const text = news[providerKey];
          if (typeof text !== "string") throw new Error(`${urn}: no serialized ${providerKey} among the inputs`);
          const provider = await load(text);
          const old = previous.get(urn);
          const checked = provider.check ? await provider.check(old?.inputs ?? {}, news) : { inputs: news };
          checkFailures(urn, checked.failures);
          const inputs = { ...(checked.inputs ?? news), [providerKey]: text };
          if (old) {
            // The engine's dynamic host reports a changed provider text as a diff too; the program's providers are
            // serialized deterministically, so an unchanged program keeps its text.
            const diff = provider.diff ? await provider.diff(old.id, old.outputs, inputs) : { changes: JSON.stringify(old.inputs) !== JSON.stringify(inputs) };
            if (!diff.changes) {
              const kept: StateEntry = { ...old, inputs, protect: opts.protect };
              record(kept);
              report.unchanged.push(urn);
              return { id: old.id, state: stateFor(kept) };
            }
            if ((diff.replaces ?? []).length === 0) {
              if (!provider.update) throw new Error(`${urn}: changed, and its provider has no update()`);
              const result = await provider.update(old.id, old.outputs, inputs);
              wrote();
              const outputs = { ...(result.outs ?? {}), [providerKey]: text };
              const entry: StateEntry = { ...old, inputs, outputs, secretOutputs: secretOutputsOf(opts.additionalSecretOutputs, rawInputs, outputs), protect: opts.protect };
              record(entry);
              report.updated.push(urn);
              return { id: old.id, state: stateFor(entry) };
            }
            // Replace: delete first only when the provider asks (unique names), else create the new one first.
            if (diff.deleteBeforeReplace) await provider.delete?.(old.id, old.outputs);
            const created = await provider.create(inputs);
            if (!diff.deleteBeforeReplace) await (await load(String(old.inputs[providerKey]))).delete?.(old.id, old.outputs);
            wrote();
            const outputs = { ...(created.outs ?? {}), [providerKey]: text };
            const entry: StateEntry = { ...old, id: created.id, inputs, outputs, secretOutputs: secretOutputsOf(opts.additionalSecretOutputs, rawInputs, outputs), protect: opts.protect };
            record(entry);
            report.replaced.push(urn);
            return { id: created.id, state: stateFor(entry) };
          }
          const created = await provider.create(inputs);
          wrote();
          const outputs = { ...(created.outs ?? {}), [providerKey]: text };
          const entry: StateEntry = {
            urn,
            type: args.type,
            name: args.name,
            id: created.id,
            inputs,
            outputs,
            secretOutputs: secretOutputsOf(opts.additionalSecretOutputs, rawInputs, outputs),
            protect: opts.protect,
          };
          record(entry);
          report.created.push(urn);
          return { id: created.id, state: stateFor(entry) };
        } catch (error) {
          failure ??= error instanceof Error ? error : new Error(String(error));
          throw error;
        } finally {
          inFlight -= 1;
        }
      },
      call(args: pulumi.runtime.MockCallArgs): Json {
        const result = providerCall(args);
        if (result === undefined) throw new Error(`unexpected invoke ${args.token}`);
        return result;
      },
    },
    request.project,
    request.stack,
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as PatchableMonitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    options.set(`${req.getType()}::${req.getName()}`, {
      additionalSecretOutputs: req.getAdditionalsecretoutputsList?.() ?? [],
      protect: req.getProtect?.() ?? false,
      parent: req.getParent(),
    });
    return register(req, callback);
  };

  // A stopped apply leaves the program's outputs rejected; Node must not end the process over it.
  process.on("unhandledRejection", (reason) => {
    failure ??= reason instanceof Error ? reason : new Error(String(reason));
  });
  const program = require(path.join(request.buildDir, request.programDir, "index.js")) as Json;
  report.startupSeconds = (Date.now() - started) / 1000;
  // The exports resolve when the program is done; after a stop or a failure some never do (their resource was refused).
  let exportsDone = false;
  void Promise.all(
    Object.values(program)
      .filter((value): value is pulumi.Output<unknown> => pulumi.Output.isInstance(value))
      .map((output) => new Promise((resolve) => output.apply(resolve))),
  ).then(() => (exportsDone = true));
  // Children made inside applies register late: wait until nothing is in flight and nothing new registers.
  let quiet = 0;
  let lastSeen = -1;
  while (quiet < 10) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const busy = inFlight > 0 || options.size !== lastSeen || (!exportsDone && !stopping && !failure);
    lastSeen = options.size;
    quiet = busy ? 0 : quiet + 1;
  }
  if (stopping || failure) {
    report.error = failure?.message ?? "stopped";
    return;
  }
  // What the program no longer registers goes, newest first.
  for (const entry of [...state.resources].reverse()) {
    if (seen.has(entry.urn)) continue;
    await deleteEntry(entry, load);
    state.resources = state.resources.filter((other) => other.urn !== entry.urn);
    saveState(request.statePath, state);
    report.deleted.push(entry.urn);
  }
}

async function deleteEntry(entry: StateEntry, load: (text: string) => Promise<DynamicProvider>): Promise<void> {
  const provider = await load(String(entry.inputs[providerKey]));
  await provider.delete?.(entry.id, entry.outputs);
}

async function destroy(request: ApplyRequest, report: ApplyReport): Promise<void> {
  const state = loadState(request.statePath);
  const protectedOnes = state.resources.filter((entry) => entry.protect).map((entry) => entry.urn);
  if (protectedOnes.length > 0 && !request.unprotect) {
    report.error = `protected, so not deleted (pulumi state unprotect them first): ${protectedOnes.join(", ")}`;
    return;
  }
  const load = providerLoader(request.project);
  for (const entry of [...state.resources].reverse()) {
    await deleteEntry(entry, load);
    state.resources = state.resources.filter((other) => other.urn !== entry.urn);
    saveState(request.statePath, state);
    report.deleted.push(entry.urn);
  }
}

async function main(): Promise<void> {
  reportFile = process.argv[2] ?? "";
  if (reportFile === "") throw new Error("apply-child: missing report file argument");
  // From the process start, so loading the SDK counts too.
  const started = Date.now() - Math.round(process.uptime() * 1000);
  const report: ApplyReport = { created: [], updated: [], replaced: [], unchanged: [], deleted: [], refused: [], seconds: 0 };
  try {
    const request = await readRequest();
    if (request.action === "up") await up(request, report, started);
    else await destroy(request, report);
  } catch (error) {
    report.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
  }
  report.seconds = (Date.now() - started) / 1000;
  fs.writeFileSync(reportFile, JSON.stringify(report));
  // Open HTTP keep-alive sockets and pg pools must not keep the process alive.
  process.exit(0);
}

void main();
