/**
 * Drives the SDK's own dynamic-provider host (the process `pulumi up` starts for `pulumi-nodejs` resources)
 * over gRPC, marshalling properties the way the engine does. Tests speak to it in plain JS values.
 *
 * Wire conventions (google.protobuf.Struct, as the engine sends them):
 * - secrets are `{ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value }`;
 * - unknowns (preview only) are the string "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
 * - `__provider` is an ordinary string property of news/olds/props.
 *
 * Like the engine, the client honours the Configure answer: the Node.js host (3.248.0) answers
 * acceptSecrets=false and supportsPreview=false, so secrets are sent as plain values, results get their
 * secret bits back from the inputs (the engine's annotateSecrets) and from additionalSecretOutputs, and a
 * preview Create/Update never reaches the provider.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import * as enginerpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engineproto from "@pulumi/pulumi/proto/engine_pb";
import * as providerrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as providerproto from "@pulumi/pulumi/proto/provider_pb";
import { repoRoot } from "./serialize";

export const secretSignatureKey = "4dabf18193072939515e22adb298388d";
export const secretSignature = "1b47061264138c4ac30d75fd1eb44270";
export const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export const providerKey = "__provider";

export type Properties = Record<string, unknown>;

/** Wraps a value the way the engine marks a secret on the wire. */
export function secret(value: unknown): Properties {
  return { [secretSignatureKey]: secretSignature, value };
}

export function isSecret(value: unknown): value is { value: unknown } {
  return isRecord(value) && value[secretSignatureKey] === secretSignature;
}

/** Re-marks top-level keys as secrets, e.g. to pass check()'s inputs on to create() as the engine would. */
export function markSecrets(props: Properties, paths: string[]): Properties {
  return Object.fromEntries(Object.entries(props).map(([key, value]) => [key, paths.includes(key) && !isSecret(value) ? secret(value) : value]));
}

/** Inputs as the engine holds them for a dynamic resource: the user's inputs plus the `__provider` string. */
export function withProvider(provider: string, inputs: Properties): Properties {
  return { ...inputs, [providerKey]: provider };
}

/** The URN the engine would give a resource of this type and name. */
export function urnFor(type: string, name: string, project = "project", stack = "stack"): string {
  return `urn:pulumi:${stack}::${project}::${type}::${name}`;
}

export interface LogEntry {
  /** "DEBUG" | "INFO" | "WARNING" | "ERROR" for engine Log calls; "stdout" | "stderr" for host output lines. */
  severity: string;
  message: string;
}

export interface CheckOutcome {
  inputs: Properties;
  failures: { property: string; reason: string }[];
  secretPaths: string[];
}

export type DiffChanges = "DIFF_UNKNOWN" | "DIFF_NONE" | "DIFF_SOME";

export interface DiffOutcome {
  changes: DiffChanges;
  replaces: string[];
  stables: string[];
  deleteBeforeReplace: boolean;
  diffs: string[];
}

export interface ResourceOutcome {
  id: string;
  /** Secrets unwrapped; `__provider` included, as the engine stores it. */
  properties: Properties;
  /** Top-level keys the engine would store as secrets. */
  secretPaths: string[];
  /** read() only: inputs the provider returned for later diffs. */
  inputs?: Properties;
  /** false when the engine answers a preview itself because the host does not support previews. */
  sentToProvider: boolean;
}

export interface ConfigureOutcome {
  acceptSecrets: boolean;
  acceptResources: boolean;
  supportsPreview: boolean;
}

export interface OperationOptions {
  /** The engine's preview mode: unknowns are kept; Create/Update are answered by the engine if unsupported. */
  preview?: boolean;
  /** The resource's additionalSecretOutputs option (from SerializedResource.additionalSecretOutputs). */
  additionalSecretOutputs?: string[];
  /** Old inputs, sent alongside old outputs in Diff/Update/Delete (defaults to the old outputs). */
  oldInputs?: Properties;
  timeoutSeconds?: number;
}

export interface ProviderHostClient {
  readonly logs: LogEntry[];
  configure(options?: { config?: Properties }): Promise<ConfigureOutcome>;
  check(urn: string, olds: Properties, news: Properties, options?: OperationOptions): Promise<CheckOutcome>;
  diff(id: string, urn: string, olds: Properties, news: Properties, options?: OperationOptions): Promise<DiffOutcome>;
  create(urn: string, props: Properties, options?: OperationOptions): Promise<ResourceOutcome>;
  read(id: string, urn: string, props: Properties, inputs: Properties, options?: OperationOptions): Promise<ResourceOutcome>;
  update(id: string, urn: string, olds: Properties, news: Properties, options?: OperationOptions): Promise<ResourceOutcome>;
  delete(id: string, urn: string, props: Properties, options?: OperationOptions): Promise<void>;
  close(): Promise<void>;
}

export interface ProviderHostOptions {
  /** The only environment the host gets besides PATH/HOME/TMPDIR and Pulumi's own variables. */
  env: Record<string, string>;
  project?: string;
  stack?: string;
  /** Stack config as the engine passes it in PULUMI_CONFIG (JSON of "project:key" → string). */
  config?: Record<string, string>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

type JavaScriptValue = structproto.JavaScriptValue;

interface MarshalOptions {
  keepSecrets: boolean;
  keepUnknowns: boolean;
}

const dropped = Symbol("dropped");

/** Go's MarshalPropertyValue in miniature: strips secrets the provider cannot take, drops unknowns outside previews. */
function marshalValue(value: unknown, options: MarshalOptions, where: string): JavaScriptValue | typeof dropped {
  if (value === undefined) return dropped;
  if (value === unknownValue && !options.keepUnknowns) return dropped;
  if (isSecret(value)) {
    const inner = marshalValue(value.value, options, where);
    if (inner === dropped) return dropped;
    return options.keepSecrets ? { [secretSignatureKey]: secretSignature, value: inner } : inner;
  }
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`harness: ${where} is not a finite number`);
    return value;
  }
  if (Array.isArray(value)) {
    const out: JavaScriptValue[] = [];
    value.forEach((element, index) => {
      const marshalled = marshalValue(element, options, `${where}[${index}]`);
      if (marshalled !== dropped) out.push(marshalled);
    });
    return out;
  }
  if (isRecord(value)) return marshalObject(value, options, where);
  throw new Error(`harness: ${where} is a ${typeof value}, which the engine cannot send`);
}

function marshalObject(props: Properties, options: MarshalOptions, where: string): { [key: string]: JavaScriptValue } {
  const out: { [key: string]: JavaScriptValue } = {};
  for (const [key, value] of Object.entries(props)) {
    const marshalled = marshalValue(value, options, where === "" ? key : `${where}.${key}`);
    if (marshalled !== dropped) out[key] = marshalled;
  }
  return out;
}

function toStruct(props: Properties, options: MarshalOptions): structproto.Struct {
  return structproto.Struct.fromJavaScript(marshalObject(props, options, ""));
}

function unwrapSecrets(value: unknown): unknown {
  if (isSecret(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, unwrapSecrets(inner)]));
  return value;
}

function containsSecrets(value: unknown): boolean {
  if (isSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecrets);
  if (isRecord(value)) return Object.values(value).some(containsSecrets);
  return false;
}

/**
 * The secret bits the engine would store: secrets the provider returned itself, top-level keys whose input held
 * a secret (annotateSecrets, applied because the host does not accept secrets) and additionalSecretOutputs.
 */
function secretPathsOf(result: Properties, inputs: Properties, additionalSecretOutputs: string[] = []): string[] {
  const paths = new Set<string>();
  for (const [key, value] of Object.entries(result)) {
    if (containsSecrets(value)) paths.add(key);
    if (key in inputs && containsSecrets(inputs[key])) paths.add(key);
    if (additionalSecretOutputs.includes(key)) paths.add(key);
  }
  return [...paths].sort();
}

function fromStruct(struct: structproto.Struct | undefined): Properties {
  return struct === undefined ? {} : (struct.toJavaScript() as Properties);
}

const diffChangeNames: Record<number, DiffChanges> = {
  [providerproto.DiffResponse.DiffChanges.DIFF_UNKNOWN]: "DIFF_UNKNOWN",
  [providerproto.DiffResponse.DiffChanges.DIFF_NONE]: "DIFF_NONE",
  [providerproto.DiffResponse.DiffChanges.DIFF_SOME]: "DIFF_SOME",
};

const severityNames: Record<number, string> = {
  [engineproto.LogSeverity.DEBUG]: "DEBUG",
  [engineproto.LogSeverity.INFO]: "INFO",
  [engineproto.LogSeverity.WARNING]: "WARNING",
  [engineproto.LogSeverity.ERROR]: "ERROR",
};

/** A fake Engine service: records Log calls and keeps the root resource URN, as the real engine does. */
async function startFakeEngine(logs: LogEntry[]): Promise<{ address: string; server: grpc.Server }> {
  let rootResource = "";
  const implementation: enginerpc.IEngineServer = {
    log(call, callback) {
      logs.push({ severity: severityNames[call.request.getSeverity()] ?? String(call.request.getSeverity()), message: call.request.getMessage() });
      callback(null, new emptyproto.Empty());
    },
    getRootResource(_call, callback) {
      callback(null, new engineproto.GetRootResourceResponse().setUrn(rootResource));
    },
    setRootResource(call, callback) {
      rootResource = call.request.getUrn();
      callback(null, new engineproto.SetRootResourceResponse());
    },
    startDebugging(_call, callback) {
      callback(null, new emptyproto.Empty());
    },
    requirePulumiVersion(_call, callback) {
      callback(null, new engineproto.RequirePulumiVersionResponse());
    },
  };
  const server = new grpc.Server();
  server.addService(enginerpc.EngineService, implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return { address: `127.0.0.1:${port}`, server };
}

function hostEnvironment(options: ProviderHostOptions): NodeJS.ProcessEnv {
  const project = options.project ?? "project";
  // A minimal environment on purpose: a developer's real FLY_API_TOKEN or NEON_API_KEY must never reach a test.
  const env: NodeJS.ProcessEnv = {};
  for (const key of ["PATH", "HOME", "TMPDIR", "LANG", "TZ"]) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  // What the engine adds when it starts the pulumi-nodejs provider.
  env.PULUMI_NODEJS_PROJECT = project;
  env.PULUMI_PROJECT = project;
  if (options.config !== undefined) env.PULUMI_CONFIG = JSON.stringify(options.config);
  return { ...env, ...options.env };
}

function spawnHost(root: string, engineAddress: string, env: NodeJS.ProcessEnv, logs: LogEntry[]): Promise<{ child: ChildProcessWithoutNullStreams; port: number }> {
  const hostScript = path.join(root, "node_modules", "@pulumi", "pulumi", "cmd", "dynamic-provider", "index.js");
  const child = spawn(process.execPath, [hostScript, engineAddress], { cwd: root, env, stdio: ["pipe", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let port: number | undefined;
    let stdoutBuffer = "";
    let stderrBuffer = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`harness: provider host printed no port within 20s\n${stderrBuffer}`));
    }, 20_000);
    child.stdout.on("data", (chunk: Buffer) => {
      stdoutBuffer += chunk.toString("utf8");
      let newline = stdoutBuffer.indexOf("\n");
      while (newline >= 0) {
        const line = stdoutBuffer.slice(0, newline);
        stdoutBuffer = stdoutBuffer.slice(newline + 1);
        if (port === undefined && /^\d+$/.test(line.trim())) {
          port = Number(line.trim());
          clearTimeout(timer);
          resolve({ child, port });
        } else {
          logs.push({ severity: "stdout", message: line });
        }
        newline = stdoutBuffer.indexOf("\n");
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderrBuffer += chunk.toString("utf8");
      let newline = stderrBuffer.indexOf("\n");
      while (newline >= 0) {
        logs.push({ severity: "stderr", message: stderrBuffer.slice(0, newline) });
        stderrBuffer = stderrBuffer.slice(newline + 1);
        newline = stderrBuffer.indexOf("\n");
      }
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("exit", (code, signal) => {
      if (stdoutBuffer !== "") logs.push({ severity: "stdout", message: stdoutBuffer });
      if (stderrBuffer !== "") logs.push({ severity: "stderr", message: stderrBuffer });
      if (port === undefined) {
        clearTimeout(timer);
        reject(new Error(`harness: provider host exited (${code ?? signal}) before printing its port\n${stderrBuffer}`));
      }
    });
  });
}

/** Turns a gRPC failure into an Error whose message is the provider's own. */
function providerError(method: string, error: grpc.ServiceError): Error {
  const message = error.details !== "" ? error.details : error.message;
  const wrapped = new Error(message);
  wrapped.name = `ProviderError(${method})`;
  return wrapped;
}

type UnaryCallback<Response> = (error: grpc.ServiceError | null, response: Response) => void;

function unary<Response>(method: string, call: (callback: UnaryCallback<Response>) => unknown): Promise<Response> {
  return new Promise((resolve, reject) => {
    call((error, response) => (error !== null ? reject(providerError(method, error)) : resolve(response)));
  });
}

/**
 * Starts the SDK's dynamic-provider host (`node node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js
 * <engine>`) with the repo root as cwd, so `require("pg")` in serialized code resolves, and connects to it.
 */
export async function startProviderHost(options: ProviderHostOptions): Promise<ProviderHostClient> {
  const root = repoRoot();
  const logs: LogEntry[] = [];
  const engine = await startFakeEngine(logs);
  let child: ChildProcessWithoutNullStreams;
  let port: number;
  try {
    ({ child, port } = await spawnHost(root, engine.address, hostEnvironment(options), logs));
  } catch (error) {
    engine.server.forceShutdown();
    throw error;
  }
  const client = new providerrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  // Until Configure answers, assume the most conservative protocol.
  let protocol: ConfigureOutcome = { acceptSecrets: false, acceptResources: false, supportsPreview: false };
  let configured = false;

  const ensureConfigured = (): void => {
    if (!configured) throw new Error("harness: call configure() first; the engine always configures a provider before using it");
  };
  const wire = (keepUnknowns: boolean): MarshalOptions => ({ keepSecrets: protocol.acceptSecrets, keepUnknowns });
  const secretsFrom = (result: Properties, inputs: Properties, operation: OperationOptions): string[] =>
    secretPathsOf(result, inputs, operation.additionalSecretOutputs);

  return {
    logs,

    async configure(configureOptions = {}) {
      const config = configureOptions.config ?? {};
      const request = new providerproto.ConfigureRequest()
        .setAcceptsecrets(true)
        .setAcceptresources(true)
        .setSendsOldInputs(true)
        .setSendsOldInputsToDelete(true)
        .setArgs(toStruct(config, { keepSecrets: true, keepUnknowns: true }));
      const variables = request.getVariablesMap();
      for (const [key, value] of Object.entries(config)) {
        const plain = unwrapSecrets(value);
        variables.set(`pulumi-nodejs:config:${key}`, typeof plain === "string" ? plain : JSON.stringify(plain));
      }
      const response = await unary<providerproto.ConfigureResponse>("Configure", (callback) => client.configure(request, callback));
      protocol = {
        acceptSecrets: response.getAcceptsecrets(),
        acceptResources: response.getAcceptresources(),
        supportsPreview: response.getSupportspreview(),
      };
      configured = true;
      return { ...protocol };
    },

    async check(urn, olds, news, operation = {}) {
      ensureConfigured();
      const keep = wire(operation.preview === true);
      const request = new providerproto.CheckRequest()
        .setUrn(urn)
        .setOlds(toStruct(olds, keep))
        .setNews(toStruct(news, keep));
      const response = await unary<providerproto.CheckResponse>("Check", (callback) => client.check(request, callback));
      const inputs = fromStruct(response.getInputs());
      return {
        inputs: unwrapSecrets(inputs) as Properties,
        failures: response.getFailuresList().map((failure) => ({ property: failure.getProperty(), reason: failure.getReason() })),
        secretPaths: secretPathsOf(inputs, news),
      };
    },

    async diff(id, urn, olds, news, operation = {}) {
      ensureConfigured();
      const keep = wire(operation.preview === true);
      const request = new providerproto.DiffRequest()
        .setId(id)
        .setUrn(urn)
        .setOlds(toStruct(olds, keep))
        .setOldInputs(toStruct(operation.oldInputs ?? olds, keep))
        .setNews(toStruct(news, keep));
      const response = await unary<providerproto.DiffResponse>("Diff", (callback) => client.diff(request, callback));
      return {
        changes: diffChangeNames[response.getChanges()] ?? "DIFF_UNKNOWN",
        replaces: response.getReplacesList(),
        stables: response.getStablesList(),
        deleteBeforeReplace: response.getDeletebeforereplace(),
        diffs: response.getDiffsList(),
      };
    },

    async create(urn, props, operation = {}) {
      ensureConfigured();
      const preview = operation.preview === true;
      if (preview && !protocol.supportsPreview) {
        return { id: "", properties: unwrapSecrets(props) as Properties, secretPaths: secretsFrom(props, props, operation), sentToProvider: false };
      }
      const request = new providerproto.CreateRequest()
        .setUrn(urn)
        .setProperties(toStruct(props, wire(preview)))
        .setPreview(preview)
        .setTimeout(operation.timeoutSeconds ?? 0);
      const response = await unary<providerproto.CreateResponse>("Create", (callback) => client.create(request, callback));
      const properties = fromStruct(response.getProperties());
      return {
        id: response.getId(),
        properties: unwrapSecrets(properties) as Properties,
        secretPaths: secretsFrom(properties, props, operation),
        sentToProvider: true,
      };
    },

    async read(id, urn, props, inputs, operation = {}) {
      ensureConfigured();
      const request = new providerproto.ReadRequest()
        .setId(id)
        .setUrn(urn)
        .setProperties(toStruct(props, wire(false)))
        .setInputs(toStruct(inputs, wire(false)));
      const response = await unary<providerproto.ReadResponse>("Read", (callback) => client.read(request, callback));
      const properties = fromStruct(response.getProperties());
      const returnedInputs = response.getInputs();
      return {
        id: response.getId(),
        properties: unwrapSecrets(properties) as Properties,
        secretPaths: secretsFrom(properties, props, operation),
        ...(returnedInputs === undefined ? {} : { inputs: unwrapSecrets(fromStruct(returnedInputs)) as Properties }),
        sentToProvider: true,
      };
    },

    async update(id, urn, olds, news, operation = {}) {
      ensureConfigured();
      const preview = operation.preview === true;
      if (preview && !protocol.supportsPreview) {
        return { id, properties: unwrapSecrets(news) as Properties, secretPaths: secretsFrom(news, news, operation), sentToProvider: false };
      }
      const keep = wire(preview);
      const request = new providerproto.UpdateRequest()
        .setId(id)
        .setUrn(urn)
        .setOlds(toStruct(olds, keep))
        .setOldInputs(toStruct(operation.oldInputs ?? olds, keep))
        .setNews(toStruct(news, keep))
        .setPreview(preview)
        .setTimeout(operation.timeoutSeconds ?? 0);
      const response = await unary<providerproto.UpdateResponse>("Update", (callback) => client.update(request, callback));
      const properties = fromStruct(response.getProperties());
      return { id, properties: unwrapSecrets(properties) as Properties, secretPaths: secretsFrom(properties, news, operation), sentToProvider: true };
    },

    async delete(id, urn, props, operation = {}) {
      ensureConfigured();
      const request = new providerproto.DeleteRequest()
        .setId(id)
        .setUrn(urn)
        .setProperties(toStruct(props, wire(false)))
        .setOldInputs(toStruct(operation.oldInputs ?? props, wire(false)))
        .setTimeout(operation.timeoutSeconds ?? 0);
      await unary<emptyproto.Empty>("Delete", (callback) => client.delete(request, callback));
    },

    async close() {
      client.close();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      engine.server.forceShutdown();
    },
  };
}
