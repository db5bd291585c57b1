/**
 * Serializes dynamic providers the way `pulumi up` does: the repo is compiled with tsc (as the Pulumi
 * Node.js language host would load it) and a plain `node` child constructs the resources under the SDK's
 * mock runtime, so the closure serializer sees the same CommonJS modules it sees in a real deployment.
 */
import { execFile, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface ProviderSpec {
  /** Repo-relative module path without extension, e.g. "dynamic-providers/fly/app". */
  module: string;
  /** Name of the exported `pulumi.dynamic.Resource` subclass. */
  exportName: string;
  /** Resource name, also the key of the result. */
  name: string;
  /** Constructor args; must be JSON (plain values, no Outputs). */
  props: Record<string, unknown>;
}

export interface SerializedResource {
  /** Type token, e.g. "pulumi-nodejs:dynamic/fly:App". */
  type: string;
  /** The `__provider` string exactly as the engine stores it in state and hands to the provider host. */
  provider: string;
  /** True when the SDK marked `__provider` secret because the closure captured a secret Output. */
  providerIsSecret: boolean;
  /** Every other input the SDK registered (undefined output placeholders are dropped by the SDK). */
  inputs: Record<string, unknown>;
  /** The RegisterResource request's additionalSecretOutputs: the engine marks these outputs secret. */
  additionalSecretOutputs: string[];
}

export interface SerializeOptions {
  /** Extra environment for the serializing process (e.g. a credential, to prove it is not captured). */
  env?: Record<string, string>;
}

/** The directory holding package.json and tsconfig.json, found from this file in source or compiled form. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, "package.json")) && fs.existsSync(path.join(dir, "tsconfig.json"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`harness: no package.json + tsconfig.json above ${__dirname}`);
    dir = parent;
  }
}

const sourceRoots = ["index.ts", "config.ts", "components", "dynamic-providers", "test", "bench", "tsconfig.json"];

/** Hash of every compiled input's path, size and mtime: a build is reused only while nothing changed. */
function sourceFingerprint(root: string): string {
  const hash = crypto.createHash("sha256");
  const visit = (relative: string): void => {
    const absolute = path.join(root, relative);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(absolute);
    } catch {
      return;
    }
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(absolute).sort()) {
        if (entry === "node_modules") continue;
        visit(path.join(relative, entry));
      }
    } else if (/\.(ts|json)$/.test(relative)) {
      hash.update(`${relative}\0${stat.size}\0${stat.mtimeMs}\n`);
    }
  };
  for (const entry of sourceRoots) visit(entry);
  return hash.digest("hex").slice(0, 16);
}

function runTsc(root: string, outDir: string): Promise<string> {
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, "-p", "tsconfig.json", "--outDir", outDir], { cwd: root, maxBuffer: 32 * 1024 * 1024 }, (_error, stdout, stderr) => {
      // tsc emits even with type errors (noEmitOnError is off); other people's half-written files must not
      // stop us, so diagnostics are kept for the error raised when a module we need did not compile.
      resolve(`${stdout}${stderr}`);
    });
  });
}

function pruneOldBuilds(buildsDir: string, keep: string): void {
  const hourAgo = Date.now() - 60 * 60 * 1000;
  for (const entry of fs.readdirSync(buildsDir)) {
    const absolute = path.join(buildsDir, entry);
    if (absolute === keep) continue;
    try {
      if (fs.statSync(absolute).mtimeMs < hourAgo) fs.rmSync(absolute, { recursive: true, force: true });
    } catch {
      // Another process pruned it first.
    }
  }
}

let cachedBuild: { fingerprint: string; promise: Promise<string> } | undefined;
let lastDiagnostics = "";

async function build(root: string, fingerprint: string): Promise<string> {
  const buildsDir = path.join(root, ".tmp", "build");
  const finalDir = path.join(buildsDir, fingerprint);
  if (fs.existsSync(finalDir)) return finalDir;
  fs.mkdirSync(buildsDir, { recursive: true });
  // Build into a private folder and rename: test files run in parallel processes and must never see half a build.
  const partialDir = path.join(buildsDir, `${fingerprint}.partial-${process.pid}-${crypto.randomBytes(4).toString("hex")}`);
  lastDiagnostics = await runTsc(root, partialDir);
  fs.mkdirSync(partialDir, { recursive: true });
  try {
    fs.renameSync(partialDir, finalDir);
  } catch {
    fs.rmSync(partialDir, { recursive: true, force: true });
    if (!fs.existsSync(finalDir)) throw new Error(`harness: could not publish the build at ${finalDir}`);
  }
  pruneOldBuilds(buildsDir, finalDir);
  return finalDir;
}

/**
 * Compiles the repo with tsc into `.tmp/build/<fingerprint>` (inside the repo, so `require("pg")` from compiled
 * files resolves to the repo's node_modules) and returns that directory. Reused while sources are unchanged,
 * within this process and across the parallel test processes.
 */
export function buildProject(): Promise<string> {
  const root = repoRoot();
  const fingerprint = sourceFingerprint(root);
  if (cachedBuild === undefined || cachedBuild.fingerprint !== fingerprint) {
    cachedBuild = { fingerprint, promise: build(root, fingerprint) };
  }
  return cachedBuild.promise;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  // The child must be plain node: no loaders or transforms inherited from the test runner.
  delete env.NODE_OPTIONS;
  return env;
}

/**
 * Constructs each resource from the compiled module in a plain `node` child under `pulumi.runtime.setMocks`
 * and returns what RegisterResource carried: the `__provider` string, type token and inputs.
 */
export async function serializeProviders(
  specs: ProviderSpec[],
  options: SerializeOptions = {},
): Promise<Record<string, SerializedResource>> {
  const root = repoRoot();
  const buildDir = await buildProject();
  for (const spec of specs) {
    if (!fs.existsSync(path.join(buildDir, `${spec.module}.js`))) {
      throw new Error(`harness: ${spec.module}.ts did not compile into ${buildDir}\n${lastDiagnostics}`);
    }
  }
  const child = path.join(buildDir, "test", "harness", "serialize-child.js");
  const resultFile = path.join(os.tmpdir(), `serialize-${process.pid}-${crypto.randomBytes(6).toString("hex")}.json`);
  const output = await new Promise<string>((resolve, reject) => {
    const proc = spawn(process.execPath, [child, resultFile], { cwd: root, env: childEnv(options.env), stdio: ["pipe", "pipe", "pipe"] });
    let text = "";
    proc.stdout.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    proc.stderr.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    proc.on("error", reject);
    proc.on("close", () => resolve(text));
    proc.stdin.end(JSON.stringify({ buildDir, resources: specs }));
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(resultFile, "utf8"));
  } catch {
    throw new Error(`harness: serializing child wrote no result\n${output}`);
  } finally {
    fs.rmSync(resultFile, { force: true });
  }
  if (!isRecord(parsed)) throw new Error(`harness: malformed serializing result\n${output}`);
  if (typeof parsed.error === "string") throw new Error(`harness: serializing failed: ${parsed.error}\n${output}`);
  if (!isRecord(parsed.resources)) throw new Error(`harness: malformed serializing result\n${output}`);
  return parsed.resources as Record<string, SerializedResource>;
}
