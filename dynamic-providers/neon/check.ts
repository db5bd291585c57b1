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
