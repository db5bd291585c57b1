/**
 * Whole-stack applies against the emulators: `applyStack` compiles the repository (test/harness/serialize.ts's
 * build) and runs apply-child.js in a plain `node` child with the emulators' environment, so every dynamic
 * resource's serialized provider really runs (see apply-child.ts). The state file lives in a temporary folder and
 * carries over from one call to the next, like a stack's state between `pulumi up` runs.
 */
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildProject, repoRoot } from "../harness/serialize";
import { programName, stackFile } from "../programs/program-harness";
import type { ApplyReport, ApplyRequest, StackState } from "./apply-child";

export type { ApplyReport, StackState, StateEntry } from "./apply-child";

export interface StackApplyOptions {
  /** The program's directory relative to the repository root. @default `.` (seed 000) */
  dir?: string;
  stack: string;
  /** Secrets by key without the namespace, as `pulumi config set --secret` leaves them. */
  secrets?: Record<string, string>;
  /** FLY_API_URL, FLY_GRAPHQL_URL, FLY_API_TOKEN, NEON_API_URL, NEON_API_KEY: where the providers go. */
  env: Record<string, string>;
}

export interface StackApply {
  statePath: string;
  /**
   * `killWhen` is polled (every 5 ms) while the child runs; once it holds, the child gets SIGKILL, as `pulumi up`
   * killed mid-call: what the calls in flight made is in neither the state nor the report (`killed: true`).
   */
  up(options?: { stopAfterWrites?: number; killWhen?: () => boolean }): Promise<ApplyReport>;
  destroy(options?: { unprotect?: boolean }): Promise<ApplyReport>;
  state(): StackState;
  /** Removes the state folder. */
  dispose(): void;
}

/** The config the engine hands the program: every key of the stack file as text (objects as JSON), plus the secrets. */
function configOf(dir: string, stack: string, secrets: Record<string, string>): { config: Record<string, string>; secretKeys: string[] } {
  const namespace = programName(dir);
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(stackFile(dir, stack))) {
    if (typeof value === "object" && value !== null && "secure" in value) throw new Error(`Pulumi.${stack}.yaml: ${key} is encrypted; pass it in \`secrets\``);
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const secretKeys = Object.keys(secrets).map((key) => (key.includes(":") ? key : `${namespace}:${key}`));
  Object.entries(secrets).forEach(([, value], index) => (config[secretKeys[index]] = value));
  return { config, secretKeys };
}

async function runChild(request: ApplyRequest, env: Record<string, string>, killWhen?: () => boolean): Promise<ApplyReport> {
  const child = path.join(request.buildDir, "test", "stack-apply", "apply-child.js");
  if (!fs.existsSync(child)) throw new Error(`stack-apply: ${child} did not compile`);
  const reportFile = path.join(os.tmpdir(), `stack-apply-${process.pid}-${crypto.randomBytes(6).toString("hex")}.json`);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.NODE_OPTIONS;
  const started = Date.now();
  let killed = false;
  const output = await new Promise<string>((resolve, reject) => {
    const proc = spawn(process.execPath, [child, reportFile], { cwd: repoRoot(), env: childEnv, stdio: ["pipe", "pipe", "pipe"] });
    let text = "";
    const watch = killWhen
      ? setInterval(() => {
          if (killed || !killWhen()) return;
          killed = true;
          proc.kill("SIGKILL");
        }, 5)
      : undefined;
    proc.stdout.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    proc.stderr.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    proc.on("error", reject);
    proc.on("close", () => {
      clearInterval(watch);
      resolve(text);
    });
    proc.stdin.end(JSON.stringify(request));
  });
  if (killed) {
    fs.rmSync(reportFile, { force: true });
    return { created: [], updated: [], replaced: [], unchanged: [], deleted: [], refused: [], killed: true, seconds: (Date.now() - started) / 1000 };
  }
  try {
    if (env.STACK_APPLY_TRACE) console.log(output);
    return JSON.parse(fs.readFileSync(reportFile, "utf8")) as ApplyReport;
  } catch {
    throw new Error(`stack-apply: the child wrote no report\n${output}`);
  } finally {
    fs.rmSync(reportFile, { force: true });
  }
}

/** A stack with its own state, applied and destroyed against whatever `options.env` points at. */
export function stackApply(options: StackApplyOptions): StackApply {
  const dir = options.dir ?? ".";
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "stack-apply-"));
  const statePath = path.join(folder, `${options.stack}.json`);
  const { config, secretKeys } = configOf(dir, options.stack, options.secrets ?? {});
  const base = async (action: ApplyRequest["action"]): Promise<ApplyRequest> => ({
    buildDir: await buildProject(),
    programDir: dir,
    project: programName(dir),
    stack: options.stack,
    config,
    secretKeys,
    statePath,
    action,
  });
  return {
    statePath,
    up: async ({ killWhen, ...up } = {}) => runChild({ ...(await base("up")), ...up }, options.env, killWhen),
    destroy: async (destroy = {}) => runChild({ ...(await base("destroy")), ...destroy }, options.env),
    state: () => (fs.existsSync(statePath) ? (JSON.parse(fs.readFileSync(statePath, "utf8")) as StackState) : { resources: [] }),
    dispose: () => fs.rmSync(folder, { recursive: true, force: true }),
  };
}
