/** Reads .github/workflows/*.yml (and the vendored action.yml files) for the workflow tests. */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export const repoRoot = path.join(__dirname, "..", "..");
export const workflowsDir = path.join(repoRoot, ".github", "workflows");
export const vendoredActionsDir = path.join(__dirname, "actions");

export interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  "working-directory"?: string;
}

export interface Concurrency {
  group: string;
  "cancel-in-progress"?: boolean | string;
}

export interface Job {
  name?: string;
  if?: string;
  needs?: string | string[];
  "runs-on"?: string;
  environment?: string | { name: string; url?: string };
  concurrency?: string | Concurrency;
  strategy?: { "fail-fast"?: boolean; matrix?: Record<string, unknown> };
  env?: Record<string, unknown>;
  outputs?: Record<string, string>;
  steps?: Step[];
  /** A job that calls a reusable workflow. */
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: unknown;
}

export interface WorkflowInput {
  description?: string;
  type?: string;
  required?: boolean;
  default?: unknown;
  options?: string[];
}

export interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  env?: Record<string, unknown>;
  concurrency?: string | Concurrency;
  jobs: Record<string, Job>;
}

export interface WorkflowFile {
  /** The file name, e.g. `deploy.yml`. */
  file: string;
  text: string;
  workflow: Workflow;
}

export function loadWorkflows(): WorkflowFile[] {
  return fs
    .readdirSync(workflowsDir)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .map((file) => {
      const text = fs.readFileSync(path.join(workflowsDir, file), "utf8");
      return { file, text, workflow: parse(text) as Workflow };
    });
}

export function workflow(file: string): Workflow {
  const found = loadWorkflows().find((entry) => entry.file === file);
  if (found === undefined) throw new Error(`no workflow ${file} in ${workflowsDir}`);
  return found.workflow;
}

/** Every (workflow, job id, job) in the repository. */
export function allJobs(): Array<{ file: string; id: string; job: Job }> {
  return loadWorkflows().flatMap(({ file, workflow: wf }) => Object.entries(wf.jobs).map(([id, job]) => ({ file, id, job })));
}

export function steps(job: Job): Step[] {
  return job.steps ?? [];
}

/** The step that runs the given command in its script (exactly one expected). */
export function stepRunning(job: Job, pattern: RegExp): Step {
  const found = steps(job).filter((step) => step.run !== undefined && pattern.test(step.run));
  if (found.length !== 1) throw new Error(`expected one step running ${pattern}, found ${found.length}`);
  return found[0];
}

export function concurrencyOf(job: Job): Concurrency | undefined {
  return typeof job.concurrency === "string" ? { group: job.concurrency } : job.concurrency;
}

export function environmentName(job: Job): string | undefined {
  return typeof job.environment === "string" ? job.environment : job.environment?.name;
}

/** Every string anywhere in a YAML value (keys excluded). */
export function stringsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(stringsIn);
  return [];
}

/** A reference to a secret in an expression: `secrets.NAME` inside `${{ }}`. */
export const secretReference = /\$\{\{[^}]*\bsecrets\.[A-Za-z_][A-Za-z0-9_]*[^}]*\}\}/;

export interface ActionMetadata {
  inputs?: Record<string, { description?: string; required?: boolean | string; default?: unknown }>;
}

export function vendoredAction(owner: string, repo: string, ref: string): ActionMetadata | undefined {
  const file = path.join(vendoredActionsDir, owner, repo, ref, "action.yml");
  return fs.existsSync(file) ? (parse(fs.readFileSync(file, "utf8")) as ActionMetadata) : undefined;
}

/** The rows of test/workflows/actions/SOURCE.md: action, tag, commit. */
export function vendoredSources(): Array<{ action: string; tag: string; commit: string }> {
  const text = fs.readFileSync(path.join(vendoredActionsDir, "SOURCE.md"), "utf8");
  return [...text.matchAll(/^\| `([^`]+)` \| `([^`]+)` \| `([0-9a-f]{40})` \|/gm)].map((match) => ({ action: match[1], tag: match[2], commit: match[3] }));
}

/** The program directories every delivery workflow drives. */
export const programs = [".", "examples/chat-dev"];

/** The Pulumi CLI version the workflows install: the @pulumi/pulumi SDK version package.json pins. */
export function sdkVersion(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  return manifest.dependencies["@pulumi/pulumi"];
}

/**
 * The jobs that deploy, preview or tear down: they alone run `pulumi`, and so alone may see a credential
 * (`file id`, sorted).
 */
export const pulumiJobs: readonly string[] = [
  "deploy.yml production",
  "deploy.yml staging",
  "preview-diff.yml diff",
  "preview-environment.yml destroy",
  "preview-environment.yml up",
  "reap-previews.yml reap",
  "reap-previews.yml select",
  "ship-image.yml ship",
];
