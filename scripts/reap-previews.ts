/**
 * The preview reaper's selection: which `pr-<number>` stacks to destroy, given every program's stack list and
 * the repository's open pull requests and branches. A preview stack is reaped when its pull request is no
 * longer open (closed or merged, and the teardown on close failed or never ran), or when the pull request is
 * open but its head branch is gone from the repository. Every other stack (staging, production, the `preview`
 * template, anything not named exactly `pr-<number>`) is never selected.
 *
 * Run by .github/workflows/reap-previews.yml:
 *   tsx scripts/reap-previews.ts --stacks stacks.json --pulls pulls.json --branches branches.json
 * where
 *   stacks.json    [{ "program": ".", "name": "pr-12" }, …]   (`pulumi stack ls --json` per program directory)
 *   pulls.json     [{ "number": 12, "headRefName": "feature/x", "isCrossRepository": false }, …]
 *                  (`gh pr list --state open --json number,headRefName,isCrossRepository`)
 *   branches.json  ["main", "feature/x", …]                   (`gh api --paginate repos/{repo}/branches`)
 * It prints the stacks to destroy as a JSON array of `{ program, stack, pr, reason }` (a GitHub Actions matrix).
 */
import { readFileSync } from "node:fs";

/** A stack as the workflow lists it: the program directory it belongs to and its name as `pulumi stack ls` shows it. */
export interface StackEntry {
  program: string;
  name: string;
}

/** An open pull request; `state`, when given (`gh pr list --state all`), must be OPEN for it to count as open. */
export interface PullRequest {
  number: number;
  headRefName: string;
  /** True when the head branch lives in a fork: it cannot be checked against this repository's branches. */
  isCrossRepository?: boolean;
  state?: string;
}

export interface ReapInput {
  stacks: StackEntry[];
  pulls: PullRequest[];
  branches: string[];
}

/** One stack to destroy and remove. */
export interface Reap {
  program: string;
  /** The stack name exactly as listed, for `pulumi destroy --stack`. */
  stack: string;
  pr: number;
  reason: string;
}

const previewStack = /^pr-([1-9][0-9]{0,8})$/;

/**
 * The pull request number of a preview stack's name, or undefined for any other stack. Accepts the short name
 * (`pr-12`) and the qualified ones `pulumi stack ls` may print (`org/pr-12`, `org/project/pr-12`); refuses
 * anything else: `pr-`, `pr-0`, `pr-012`, `pr-12-old`, `PR-12`, `staging`.
 */
export function previewNumber(stackName: string): number | undefined {
  const segments = stackName.split("/");
  if (segments.length > 3 || segments.some((segment) => segment === "")) return undefined;
  const match = previewStack.exec(segments[segments.length - 1]);
  return match === null ? undefined : Number(match[1]);
}

/** The stacks to destroy, in input order, each with the reason it was chosen. */
export function selectStacksToReap(input: ReapInput): Reap[] {
  const open = new Map<number, PullRequest>();
  for (const pull of input.pulls) {
    if (pull.state === undefined || pull.state.toUpperCase() === "OPEN") open.set(pull.number, pull);
  }
  const branches = new Set(input.branches);
  const seen = new Set<string>();
  const reaps: Reap[] = [];
  for (const { program, name } of input.stacks) {
    const pr = previewNumber(name);
    const key = `${program}\u0000${name}`;
    if (pr === undefined || seen.has(key)) continue;
    seen.add(key);
    const pull = open.get(pr);
    if (pull === undefined) {
      reaps.push({ program, stack: name, pr, reason: `pull request #${pr} is not open (closed or merged)` });
    } else if (pull.isCrossRepository !== true && !branches.has(pull.headRefName)) {
      reaps.push({ program, stack: name, pr, reason: `branch '${pull.headRefName}' of pull request #${pr} is gone` });
    }
  }
  return reaps;
}

function fail(message: string): never {
  throw new Error(`reap-previews: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks the three JSON documents and returns them typed; every error names the file and the element. */
export function parseReapInput(stacks: unknown, pulls: unknown, branches: unknown): ReapInput {
  if (!Array.isArray(stacks)) fail(`stacks must be a JSON array of { program, name }, got ${JSON.stringify(stacks)}`);
  if (!Array.isArray(pulls)) fail(`pulls must be a JSON array of { number, headRefName }, got ${JSON.stringify(pulls)}`);
  if (!Array.isArray(branches)) fail(`branches must be a JSON array of branch names, got ${JSON.stringify(branches)}`);
  const stackEntries = stacks.map((entry: unknown, index): StackEntry => {
    if (!isRecord(entry) || typeof entry.program !== "string" || typeof entry.name !== "string" || entry.program === "") {
      return fail(`stacks[${index}] must be { program: string, name: string }, got ${JSON.stringify(entry)}`);
    }
    return { program: entry.program, name: entry.name };
  });
  const pullRequests = pulls.map((entry: unknown, index): PullRequest => {
    if (!isRecord(entry) || !Number.isSafeInteger(entry.number) || typeof entry.headRefName !== "string") {
      return fail(`pulls[${index}] must be { number: integer, headRefName: string }, got ${JSON.stringify(entry)}`);
    }
    const pull: PullRequest = { number: entry.number as number, headRefName: entry.headRefName };
    if (typeof entry.isCrossRepository === "boolean") pull.isCrossRepository = entry.isCrossRepository;
    if (typeof entry.state === "string") pull.state = entry.state;
    return pull;
  });
  const branchNames = branches.map((entry: unknown, index): string => {
    if (typeof entry !== "string") return fail(`branches[${index}] must be a branch name, got ${JSON.stringify(entry)}`);
    return entry;
  });
  return { stacks: stackEntries, pulls: pullRequests, branches: branchNames };
}

function readJson(path: string, flag: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as unknown;
  } catch (error) {
    return fail(`${flag} ${path}: ${(error as Error).message}`);
  }
}

/** `--stacks a.json --pulls b.json --branches c.json` → the JSON to print. */
export function main(argv: readonly string[]): string {
  const flags = new Map<string, string>();
  for (let index = 0; index < argv.length; index += 2) {
    const flag = argv[index];
    const value = argv[index + 1];
    if (!["--stacks", "--pulls", "--branches"].includes(flag) || value === undefined) {
      fail(`usage: reap-previews.ts --stacks <file> --pulls <file> --branches <file>; got ${JSON.stringify(argv)}`);
    }
    flags.set(flag, value);
  }
  const path = (flag: string): string => flags.get(flag) ?? fail(`${flag} <file> is required`);
  const input = parseReapInput(
    readJson(path("--stacks"), "--stacks"),
    readJson(path("--pulls"), "--pulls"),
    readJson(path("--branches"), "--branches"),
  );
  return JSON.stringify(selectStacksToReap(input));
}

if (require.main === module) {
  try {
    process.stdout.write(`${main(process.argv.slice(2))}\n`);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}
