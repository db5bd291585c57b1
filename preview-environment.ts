/**
 * Seed 000's pull-request previews (stack `pr-<number>`, made by .github/workflows/preview-environment.yml): the
 * config keys the workflow sets, the names a pull request's number gives its apps and Neon branch, and the Neon
 * branch's expiry. Plain rules, tested directly (test/stacks/preview.test.ts); config.ts applies them.
 */
import { appNamePattern } from "./dynamic-providers/fly/app";
import { maxBranchLifetimeDays, neonTimestamp } from "./dynamic-providers/neon/check";

/**
 * The keys the workflow sets on every `pr-<number>` stack (`pulumi config set --path platform:<key>`), after
 * copying the `preview` template stack's config.
 */
export const pullRequestKeys = { environment: "environment", prNumber: "preview.prNumber", branch: "preview.branch" } as const;

/** Where a preview's database branches from: staging's Neon branch (its data) or the project's `main`. */
export const databaseParents = ["staging", "main"] as const;
export type DatabaseParent = (typeof databaseParents)[number];

/** Fly's limit on an app name, a DNS label of `<app>.fly.dev`. */
const flyAppNameMaxLength = 63;
const dayMs = 86_400_000;

/** What is wrong with `prNumber` as a pull request's number, completing "must …"; undefined when it is one. */
export function pullRequestNumberProblem(prNumber: unknown): string | undefined {
  if (typeof prNumber !== "number" || !Number.isSafeInteger(prNumber) || prNumber < 1) return "be a pull request's number: a whole number from 1";
  return undefined;
}

function checkedNumber(prNumber: number): number {
  const problem = pullRequestNumberProblem(prNumber);
  if (problem !== undefined) throw new Error(`pull request number must ${problem}, got ${JSON.stringify(prNumber)}`);
  return prNumber;
}

/**
 * A pull request's Fly app name: `<base>-pr-<number>`, e.g. `naluma-content-pr-12`, a valid Fly app name for
 * any base and number. The base is lowercased, each run of characters an app name cannot hold becomes one
 * dash, and dashes are trimmed from both ends; when the whole would pass 63 characters the base is cut (and
 * trimmed again), never the number, so two pull requests never share an app.
 *
 * @example pullRequestAppName("naluma-content", 12) === "naluma-content-pr-12"
 */
export function pullRequestAppName(base: string, prNumber: number): string {
  const suffix = `-pr-${checkedNumber(prNumber)}`;
  const cleaned = base
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (cleaned === "") throw new Error(`pull request app name: base ${JSON.stringify(base)} has no letter or digit`);
  const name = `${cleaned.slice(0, flyAppNameMaxLength - suffix.length).replace(/-+$/, "")}${suffix}`;
  if (!appNamePattern.test(name)) throw new Error(`pull request app name '${name}' is not a Fly app name`);
  return name;
}

/** A pull request's Neon branch: `preview/pr-<number>`. */
export function pullRequestBranchName(prNumber: number): string {
  return `preview/pr-${checkedNumber(prNumber)}`;
}

/** A pull request's public dashboard host, when the preview has Access: `dashboard-pr-<number>.<domain>`. */
export function pullRequestDashboardHostname(prNumber: number, domain: string): string {
  return `dashboard-pr-${checkedNumber(prNumber)}.${domain}`;
}

/**
 * The preview database's expiry (Neon's `expires_at`): midnight UTC of `now`'s day plus `lifetimeDays`. Every
 * run on the same UTC day gives the same value, so `pulumi up` changes nothing; a push on a later day moves it
 * that many days on (an update in place). It is at least `lifetimeDays - 1` days and under `lifetimeDays` days
 * ahead, so 1-30 days keeps it in the future and inside Neon's 30 days.
 *
 * @example previewExpiry(new Date("2026-05-04T17:30:00Z"), 7) === "2026-05-11T00:00:00Z"
 */
export function previewExpiry(now: Date, lifetimeDays: number): string {
  if (!Number.isInteger(lifetimeDays) || lifetimeDays < 1 || lifetimeDays > maxBranchLifetimeDays) {
    throw new Error(`preview database lifetime must be 1-${maxBranchLifetimeDays} days (Neon's limit), got ${lifetimeDays}`);
  }
  const midnight = Math.floor(now.getTime() / dayMs) * dayMs;
  return neonTimestamp(midnight + lifetimeDays * dayMs);
}
