/**
 * PostgreSQL name rules, shared by the postgres and neon providers, NeonProject and the stack config, so a name that
 * passes one passes all of them.
 */

/** Control characters (C0, DEL, C1), which PostgreSQL accepts in quoted identifiers but no log line or URL survives. */
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * PostgreSQL identifiers are at most 63 bytes (NAMEDATALEN - 1); longer ones are silently truncated by the
 * server, so two different inputs could name the same role. Any other printable character is fine once quoted.
 */
export function identifierProblem(value: string): string | undefined {
  if (value.length === 0) return "must not be empty";
  if (value.includes("\0")) return "must not contain a NUL character";
  if (controlCharacter.test(value)) return "must not contain control characters (newlines, tabs, ...)";
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes > 63) return `must be at most 63 bytes (PostgreSQL truncates longer identifiers), got ${bytes} bytes`;
  return undefined;
}

/**
 * Names the server reserves or reads as keywords in role specifications (`GRANT ... TO public`, `current_user`).
 * Compared case-insensitively: a role named "PUBLIC" is legal once quoted, and one unquoted slip grants to everyone.
 */
export const reservedRoleNames: readonly string[] = ["public", "none", "current_user", "current_role", "session_user"];

export function roleNameProblem(name: string): string | undefined {
  const problem = identifierProblem(name);
  if (problem) return problem;
  if (name.toLowerCase().startsWith("pg_")) return "must not start with pg_ (reserved for PostgreSQL's own roles)";
  if (reservedRoleNames.includes(name.toLowerCase())) return `must not be one of ${reservedRoleNames.join(", ")} (in any case)`;
  return undefined;
}
