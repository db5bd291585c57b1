/**
 * One pull-request comment per (program, stack), written by the delivery workflows: the `pulumi preview --diff`
 * of staging and production, and a preview environment's URLs (`pr-<number>`). Each comment starts with a
 * hidden marker naming its program directory and stack; a run edits the comment that starts with its own
 * marker and never another one. The marker ends with ` -->`, so `stack="pr-1"` never matches `stack="pr-12"`;
 * every page of comments is read; comments that merely quote a marker (not starting with it) are left alone.
 *
 * pulumi/actions' `comment-on-pr` + `edit-pr-comment` is not used for this: it finds its comment by a heading
 * prefix (`pulumi preview on <project>/<stack>`, so `pr-1` matches `pr-12`) on the first page of comments only,
 * and it cannot post a stack's URLs.
 *
 *   tsx scripts/pr-comment.ts diff        --program . --stack staging --outcome success --log preview.log
 *   tsx scripts/pr-comment.ts environment --program . --stack pr-12   --outcome success --log up.log --outputs outputs.json
 *   tsx scripts/pr-comment.ts destroyed   --program . --stack pr-12   --outcome success --log destroy.log [--reason …]
 * Environment: GH_TOKEN (the workflow's token), GITHUB_REPOSITORY, PR_NUMBER; GITHUB_API_URL, GITHUB_SERVER_URL
 * and GITHUB_RUN_ID as GitHub Actions sets them.
 */
import { readFileSync } from "node:fs";

/** GitHub's limit on a comment body is 65536 characters; the log is cut from its start to stay under this. */
export const maxBodyLength = 60_000;

export interface CommentTarget {
  /** The program directory, `.` for seed 000, `examples/chat-dev`, … */
  program: string;
  stack: string;
}

export type Outcome = "success" | "failure" | "cancelled" | "skipped";
const outcomes: readonly Outcome[] = ["success", "failure", "cancelled", "skipped"];
const markerValue = /^[A-Za-z0-9._\/-]+$/;

/** The hidden first line of a target's comment. */
export function commentMarker(target: CommentTarget): string {
  for (const [field, value] of [["program", target.program], ["stack", target.stack]]) {
    if (!markerValue.test(value)) {
      throw new Error(`pr-comment: ${field} must be letters, digits, '.', '_', '/' or '-', got ${JSON.stringify(value)}`);
    }
  }
  return `<!-- pulumi-pr-comment program="${target.program}" stack="${target.stack}" -->`;
}

/** Removes terminal colour codes, which a comment cannot show. */
export function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;?]*[ -\/]*[@-~]/g, "");
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The log (escaped) in a collapsed block; when too long, its start is cut at a line (Pulumi prints the summary last). */
function logBlock(summary: string, log: string, room: number): string {
  let text = escapeHtml(stripAnsi(log).trimEnd());
  let note = "";
  if (text.length > room) {
    text = text.slice(text.length - room);
    text = text.slice(text.indexOf("\n") + 1);
    note = "\n\n(The start of the log was cut to fit a comment; the run's log has all of it.)";
  }
  return `<details><summary>${summary}</summary>\n\n<pre>\n${text}\n</pre>${note}\n</details>`;
}

function heading(target: CommentTarget, what: string, outcome: Outcome): string {
  const mark = outcome === "success" ? "✅" : outcome === "failure" ? "❌" : "⚠️";
  return `${mark} **${what}** · program \`${target.program}\` · stack \`${target.stack}\` · ${outcome}`;
}

function finish(parts: string[], log: string, summary: string, runUrl?: string): string {
  if (runUrl !== undefined) parts.push(`[Workflow run](${runUrl})`);
  const head = parts.join("\n\n");
  return `${head}\n\n${logBlock(summary, log, Math.max(1000, maxBodyLength - head.length - 500))}`;
}

export interface DiffComment extends CommentTarget {
  outcome: Outcome;
  log: string;
  runUrl?: string;
}

/** The `pulumi preview --diff` of a stack. */
export function diffBody(comment: DiffComment): string {
  return finish([commentMarker(comment), heading(comment, "pulumi preview --diff", comment.outcome)], comment.log, "Preview", comment.runUrl);
}

/** Every string in a `pulumi stack output --json` document that is an http(s) URL, with its output path. */
export function urlsOf(outputs: unknown, path = ""): Array<{ name: string; url: string }> {
  if (typeof outputs === "string") return /^https?:\/\/\S+$/.test(outputs) ? [{ name: path, url: outputs }] : [];
  if (Array.isArray(outputs)) return outputs.flatMap((item, index) => urlsOf(item, `${path}[${index}]`));
  if (typeof outputs === "object" && outputs !== null) {
    return Object.entries(outputs).flatMap(([key, value]) => urlsOf(value, path === "" ? key : `${path}.${key}`));
  }
  return [];
}

export interface EnvironmentComment extends DiffComment {
  /** The stack's outputs (`pulumi stack output --json`; secrets already shown as `[secret]`). */
  outputs: unknown;
}

/** A preview environment after `pulumi up`: its URLs, then the log. */
export function environmentBody(comment: EnvironmentComment): string {
  const urls = urlsOf(comment.outputs);
  const list =
    urls.length === 0
      ? comment.outcome === "success"
        ? "No stack output is a URL."
        : "No URLs: the update did not finish."
      : urls.map(({ name, url }) => `- \`${name}\`: ${url}`).join("\n");
  return finish(
    [commentMarker(comment), heading(comment, "Preview environment", comment.outcome), list, "Updated on every push to this pull request; destroyed when it closes."],
    comment.log,
    "pulumi up",
    comment.runUrl,
  );
}

export interface DestroyedComment extends DiffComment {
  /** Why it was destroyed, e.g. the reaper's reason. */
  reason?: string;
}

/** A preview environment after `pulumi destroy` + `pulumi stack rm` (or their failure). */
export function destroyedBody(comment: DestroyedComment): string {
  const what = comment.outcome === "success" ? "Preview environment destroyed and its stack removed" : "Preview environment teardown";
  const parts = [commentMarker(comment), heading(comment, what, comment.outcome)];
  if (comment.reason !== undefined && comment.reason !== "") parts.push(`Reason: ${comment.reason}.`);
  if (comment.outcome !== "success") parts.push("The scheduled reaper (`reap-previews` workflow) retries the teardown.");
  return finish(parts, comment.log, "pulumi destroy", comment.runUrl);
}

/** The few GitHub REST calls made, over an injectable `fetch`. */
export interface GitHubClient {
  apiUrl: string;
  token: string;
  fetch: typeof fetch;
}

interface IssueComment {
  id: number;
  body?: string | null;
}

async function call(client: GitHubClient, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await client.fetch(`${client.apiUrl}${path}`, {
    method,
    headers: {
      accept: "application/vnd.github+json",
      authorization: `Bearer ${client.token}`,
      "x-github-api-version": "2022-11-28",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`pr-comment: ${method} ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as unknown;
}

const perPage = 100;

/** Creates the target's comment, or edits it when one starting with its marker exists (any page). */
export async function upsertComment(
  client: GitHubClient,
  request: { repository: string; issue: number; body: string },
): Promise<{ action: "created" | "updated"; id: number }> {
  const marker = request.body.split("\n", 1)[0];
  if (!/^<!-- pulumi-pr-comment .* -->$/.test(marker)) throw new Error("pr-comment: the body must start with its marker (commentMarker)");
  for (let page = 1; ; page += 1) {
    const comments = (await call(client, "GET", `/repos/${request.repository}/issues/${request.issue}/comments?per_page=${perPage}&page=${page}`)) as IssueComment[];
    const mine = comments.find((comment) => (comment.body ?? "").split("\n", 1)[0] === marker);
    if (mine !== undefined) {
      await call(client, "PATCH", `/repos/${request.repository}/issues/comments/${mine.id}`, { body: request.body });
      return { action: "updated", id: mine.id };
    }
    if (comments.length < perPage) break;
  }
  const created = (await call(client, "POST", `/repos/${request.repository}/issues/${request.issue}/comments`, { body: request.body })) as IssueComment;
  return { action: "created", id: created.id };
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value === "") throw new Error(`pr-comment: environment variable ${name} is required`);
  return value;
}

function readText(path: string | undefined): string {
  if (path === undefined) return "";
  try {
    return readFileSync(path, "utf8");
  } catch {
    return `(no log: ${path} was not written)`;
  }
}

/** Parses the command line and the environment into the comment body and where it goes. */
export function commentFromArgs(argv: readonly string[], env: NodeJS.ProcessEnv): { repository: string; issue: number; body: string } {
  const [kind, ...rest] = argv;
  const flags = new Map<string, string>();
  for (let index = 0; index < rest.length; index += 2) {
    if (!rest[index].startsWith("--") || rest[index + 1] === undefined) throw new Error(`pr-comment: expected --flag value pairs, got ${JSON.stringify(rest)}`);
    flags.set(rest[index].slice(2), rest[index + 1]);
  }
  const flag = (name: string): string => {
    const value = flags.get(name);
    if (value === undefined || value === "") throw new Error(`pr-comment: --${name} is required`);
    return value;
  };
  const outcome = flags.get("outcome") ?? "success";
  if (!outcomes.includes(outcome as Outcome)) throw new Error(`pr-comment: --outcome must be one of ${outcomes.join(", ")}, got '${outcome}'`);
  const issue = Number(required(env, "PR_NUMBER"));
  if (!Number.isSafeInteger(issue) || issue < 1) throw new Error(`pr-comment: PR_NUMBER must be a pull request number, got '${env.PR_NUMBER}'`);
  const runUrl =
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : undefined;
  const base = { program: flag("program"), stack: flag("stack"), outcome: outcome as Outcome, log: readText(flags.get("log")), runUrl };
  let body: string;
  if (kind === "diff") body = diffBody(base);
  else if (kind === "environment") {
    const outputsText = readText(flags.get("outputs"));
    let outputs: unknown = {};
    try {
      outputs = JSON.parse(outputsText === "" ? "{}" : outputsText) as unknown;
    } catch {
      outputs = {};
    }
    body = environmentBody({ ...base, outputs });
  } else if (kind === "destroyed") body = destroyedBody({ ...base, reason: flags.get("reason") });
  else throw new Error(`pr-comment: the first argument must be diff, environment or destroyed, got '${kind}'`);
  return { repository: required(env, "GITHUB_REPOSITORY"), issue, body };
}

if (require.main === module) {
  (async () => {
    const request = commentFromArgs(process.argv.slice(2), process.env);
    const client: GitHubClient = { apiUrl: process.env.GITHUB_API_URL ?? "https://api.github.com", token: required(process.env, "GH_TOKEN"), fetch };
    const result = await upsertComment(client, request);
    process.stdout.write(`${result.action} comment ${result.id} on #${request.issue}\n`);
  })().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  });
}
