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
