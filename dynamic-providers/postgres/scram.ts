/**
 * PostgreSQL's SCRAM-SHA-256 verifier for a password, the value `pg_authid.rolpassword` holds (RFC 5802, RFC 7677):
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, all base64. Computed on the client as psql's
 * `\password` and libpq's PQencryptPasswordConn do, and sent as `PASSWORD '<verifier>'`, which the server stores as
 * it is. The password itself then never appears in SQL text, which the server writes to its log for a failed
 * statement (log_min_error_statement) or for every statement (log_statement = 'all').
 */

/** PostgreSQL's default `scram_iterations`. */
export const scramIterations = 4096;
/** PostgreSQL's SCRAM_DEFAULT_SALT_LEN. */
export const scramSaltBytes = 16;

const printableAscii = /^[\x20-\x7e]+$/;

/**
 * SCRAM hashes the password after SASLprep (RFC 4013), which is the identity on printable ASCII. For anything else
 * the parties disagree: the server applies full SASLprep and falls back to the raw bytes when Unicode 3.2's tables
 * prohibit a character, node-postgres applies only the mapping and NFKC. A verifier computed here could then match
 * one client and not another, a role that silently cannot log in; such passwords are refused instead.
 */
export function scramPasswordProblem(password: unknown): string | undefined {
  if (typeof password !== "string" || password.length === 0) return "must be a non-empty string";
  if (!printableAscii.test(password)) {
    return "must be printable ASCII (letters, digits, punctuation and spaces; SASLprep of other characters differs between PostgreSQL and its clients)";
  }
  return undefined;
}

/** The verifier of `password`; a fresh random salt unless one is given (tests compare with the server's own). */
export function scramVerifier(password: string, salt?: Buffer, iterations: number = scramIterations): string {
  // Never the password itself in this message.
  const problem = scramPasswordProblem(password);
  if (problem) throw new Error(`SCRAM verifier: the password ${problem}`);
  const { createHash, createHmac, pbkdf2Sync, randomBytes } = require("node:crypto") as typeof import("node:crypto");
  const saltBytes = salt ?? randomBytes(scramSaltBytes);
  const saltedPassword = pbkdf2Sync(Buffer.from(password, "utf8"), saltBytes, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", saltedPassword).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", saltedPassword).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${saltBytes.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

export interface ScramVerifierParts {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** The parts of a verifier in PostgreSQL's format; undefined for anything else (an md5 hash, a plain password). */
export function parseScramVerifier(verifier: string): ScramVerifierParts | undefined {
  const match = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(verifier);
  if (!match) return undefined;
  const [, iterations, salt, storedKey, serverKey] = match;
  return {
    iterations: Number(iterations),
    salt: Buffer.from(salt, "base64"),
    storedKey: Buffer.from(storedKey, "base64"),
    serverKey: Buffer.from(serverKey, "base64"),
  };
}
