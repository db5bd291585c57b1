import { isUnknown, type Failures } from "../core/check";

/** Neon object ids (projects, branches, endpoints): the spec's `^[a-z0-9-]{1,60}$`. */
export const neonIdPattern = /^[a-z0-9-]{1,60}$/;
export const neonIdRule = "a Neon id (1-60 lowercase letters, digits or dashes)";

/** check() rules every Neon resource shares: the ids it lives under and the `adopt` flag. */
export function checkNeonIds(problems: Failures, news: Record<string, unknown>, fields: readonly string[]): void {
  for (const field of fields) problems.pattern(field, news[field], neonIdPattern, neonIdRule);
  const adopt = news.adopt;
  if (adopt !== undefined && !isUnknown(adopt) && typeof adopt !== "boolean") problems.add("adopt", "must be true or false", adopt);
}

/** C0 and C1 control characters and DEL. */
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A Neon branch name: 1 to 256 characters, not blank, no control characters (a newline in a name splits the console's
 * lists, log lines and `neon branches` output, and no one means it).
 */
export function branchNameProblem(value: unknown): string | undefined {
  if (typeof value !== "string" || value.trim().length === 0 || value.length > 256) return "is required (1 to 256 characters, not blank)";
  if (controlCharacter.test(value)) return "must not contain control characters (newlines, tabs, ...)";
  return undefined;
}

/** Neon's limit on a branch's expiry: "Maximum expiration is 30 days from the current time" [BEHAVIOUR-NOTES]. */
export const maxBranchLifetimeDays = 30;
const dayMs = 86_400_000;

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
export const neonTimestampRule = "an RFC 3339 timestamp with seconds and a time zone, such as `2026-07-01T00:00:00Z` or `2026-07-01T02:00:00+02:00`";

/**
 * Milliseconds since the epoch of an RFC 3339 timestamp (section 5.6: seconds and a zone are required), whole
 * seconds only: Neon keeps no fraction. Undefined for anything else, a day or hour out of range included
 * (`Date.parse` would roll `02-30` over to March).
 */
export function parseNeonTimestamp(text: unknown): number | undefined {
  if (typeof text !== "string") return undefined;
  const match = rfc3339.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (match[7] === undefined) {
    const [offsetHours, offsetMins] = [Number(match[9]), Number(match[10])];
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (match[8] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
}

/** The form Neon returns: UTC, whole seconds, `Z` (`2026-07-01T00:00:00Z`). */
export function neonTimestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** `text` in Neon's form when it is an RFC 3339 timestamp; unchanged otherwise (check() reports it). */
export function normaliseNeonTimestamp(text: string): string {
  const ms = parseNeonTimestamp(text);
  return ms === undefined ? text : neonTimestamp(ms);
}

/**
 * What is wrong with `expiresAt` as a branch expiry set at `now`, completing "must …"; undefined when Neon takes
 * it: a timestamp after `now` and at most 30 days ahead.
 */
export function branchExpiryProblem(expiresAt: unknown, now: number): string | undefined {
  const at = parseNeonTimestamp(expiresAt);
  if (at === undefined) return `be ${neonTimestampRule}`;
  if (at <= now) return `be in the future (it is ${neonTimestamp(now)} now)`;
  if (at > now + maxBranchLifetimeDays * dayMs) return `be at most ${maxBranchLifetimeDays} days ahead, Neon's limit (until ${neonTimestamp(now + maxBranchLifetimeDays * dayMs)})`;
  return undefined;
}
