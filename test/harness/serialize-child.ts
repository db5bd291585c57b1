/**
 * Runs in a plain `node` child process from the compiled build (never under vitest, whose module transform
 * changes what the closure serializer sees). Reads a JSON request from stdin, constructs each dynamic
 * resource from the compiled modules under the SDK's mock runtime, and writes what the engine would have
 * received to the result file named in argv[2].
 *
 * Request: { buildDir, resources: [{ module, exportName, name, props }] }.
 * Result:  { [name]: { type, provider, inputs, additionalSecretOutputs, providerIsSecret } } or { error }.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

interface ChildResourceSpec {
  module: string;
  exportName: string;
  name: string;
  props: Record<string, unknown>;
}

interface ChildRequest {
  buildDir: string;
  resources: ChildResourceSpec[];
}

interface Recorded {
  type: string;
  provider: string;
  providerIsSecret: boolean;
  inputs: Record<string, unknown>;
  additionalSecretOutputs: string[];
}

const secretSignatureKey = "4dabf18193072939515e22adb298388d";
const secretSignature = "1b47061264138c4ac30d75fd1eb44270";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on("data", (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

function parseRequest(text: string): ChildRequest {
  const parsed: unknown = JSON.parse(text);
  if (!isRecord(parsed) || typeof parsed.buildDir !== "string" || !Array.isArray(parsed.resources)) {
    throw new Error("serialize-child: malformed request");
  }
  return parsed as unknown as ChildRequest;
}

/** Wraps the mock monitor so the RegisterResource request's additionalSecretOutputs are recorded too. */
function recordSecretOutputOptions(into: Map<string, string[]>): void {
  const settings: unknown = require("@pulumi/pulumi/runtime/settings");
  if (!isRecord(settings) || typeof settings.getMonitor !== "function") throw new Error("serialize-child: no getMonitor in the SDK");
  const monitor: unknown = settings.getMonitor();
  if (!isRecord(monitor) || typeof monitor.registerResource !== "function") throw new Error("serialize-child: mock monitor not set");
  const original = monitor.registerResource as (this: unknown, req: unknown, callback: unknown) => unknown;
  monitor.registerResource = function (this: unknown, req: unknown, callback: unknown): unknown {
    if (isRecord(req) && typeof req.getName === "function" && typeof req.getAdditionalsecretoutputsList === "function") {
      const name: unknown = req.getName();
      const outputs: unknown = req.getAdditionalsecretoutputsList();
      if (typeof name === "string" && Array.isArray(outputs)) into.set(name, outputs.map(String));
    }
    return original.call(this, req, callback);
  };
}

async function main(): Promise<void> {
  const resultFile = process.argv[2];
  if (resultFile === undefined) throw new Error("serialize-child: missing result file argument");
  try {
    const request = parseRequest(await readStdin());
    const recorded = new Map<string, Omit<Recorded, "additionalSecretOutputs">>();
    const secretOutputOptions = new Map<string, string[]>();

    // preview=false: the SDK serializes the __provider Output in both modes, but an `up` is what we mirror.
    await pulumi.runtime.setMocks(
      {
        newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
          const inputs: Record<string, unknown> = isRecord(args.inputs) ? { ...args.inputs } : {};
          let provider = inputs.__provider;
          let providerIsSecret = false;
          // Secrets reach the mock as {sig, value} when the captured closure contained a secret Output.
          if (isRecord(provider) && provider[secretSignatureKey] === secretSignature) {
            providerIsSecret = true;
            provider = provider.value;
          }
          if (typeof provider !== "string") throw new Error(`serialize-child: resource '${args.name}' has no __provider string`);
          delete inputs.__provider;
          recorded.set(args.name, { type: args.type, provider, providerIsSecret, inputs });
          return { id: `${args.name}-id`, state: args.inputs };
        },
        call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
          return args.inputs;
        },
      },
      "project",
      "stack",
      false,
    );
    recordSecretOutputOptions(secretOutputOptions);

    const urns: Promise<string>[] = [];
    for (const spec of request.resources) {
      const modulePath = path.join(request.buildDir, spec.module);
      const loaded: unknown = require(modulePath);
      if (!isRecord(loaded)) throw new Error(`serialize-child: ${spec.module} did not load as a module`);
      const ctor = loaded[spec.exportName];
      if (typeof ctor !== "function") throw new Error(`serialize-child: ${spec.module} has no export '${spec.exportName}'`);
      const Resource = ctor as new (name: string, props: Record<string, unknown>) => pulumi.CustomResource;
      const resource = new Resource(spec.name, spec.props);
      urns.push(new Promise<string>((resolve) => resource.urn.apply((urn) => resolve(urn))));
    }
    await Promise.all(urns);

    const result: Record<string, Recorded> = {};
    for (const spec of request.resources) {
      const entry = recorded.get(spec.name);
      if (entry === undefined) throw new Error(`serialize-child: resource '${spec.name}' was never registered`);
      result[spec.name] = { ...entry, additionalSecretOutputs: secretOutputOptions.get(spec.name) ?? [] };
    }
    fs.writeFileSync(resultFile, JSON.stringify({ resources: result }));
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    fs.writeFileSync(resultFile, JSON.stringify({ error: message }));
  }
}

void main();
