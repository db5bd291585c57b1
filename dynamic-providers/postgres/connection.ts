import type { Client, ClientConfig, DatabaseError } from "pg";
import { isConnectionError, withRetry, type RetryPolicy } from "../core/retry";

/** True for a `postgres://` or `postgresql://` URI with a host; never returns or logs the URI itself. */
export function isPostgresUri(value: unknown): boolean {
  if (typeof value !== "string") return false;
  try {
    const url = new URL(value);
    return (url.protocol === "postgres:" || url.protocol === "postgresql:") && url.hostname.length > 0;
  } catch {
    return false;
  }
}

/**
 * node-postgres's client settings for `uri` (host, credentials, sslmode and the other parameters, parsed by pg's
 * own pg-connection-string), connected to `database` if given, else to the URI's own database. The database is
 * set by name, not through the URI: pg decodes the URI's path with decodeURI, which leaves `%2B`, `%2F`, `%3F`, `%23`
 * and the other reserved characters encoded, so a database `a+b` written as `/a%2Bb` would be looked up as "a%2Bb".
 */
export function clientConfig(uri: string, database?: string): ClientConfig {
  // pg's own copy, wherever the package manager put it.
  const { parseIntoClientConfig } = require(require.resolve("pg-connection-string", { paths: [require.resolve("pg")] })) as typeof import("pg-connection-string");
  const config = parseIntoClientConfig(uri);
  const path = new URL(uri).pathname.slice(1);
  const name = database ?? (path.length > 0 ? decodeURIComponent(path) : undefined);
  return name === undefined ? config : { ...config, database: name };
}

/** Every form in which a secret of ours could show up in an error message. */
function secretForms(secrets: readonly (string | undefined)[]): string[] {
  const forms: string[] = [];
  for (const secret of secrets) {
    if (!secret) continue;
    forms.push(secret);
    try {
      const url = new URL(secret);
      if (url.password) forms.push(url.password, decodeURIComponent(url.password));
    } catch {
      // not a URI: a password
    }
    // As written in SQL by escapeLiteral (quotes and backslashes doubled) and in a URI.
    forms.push(encodeURIComponent(secret), secret.replace(/'/g, "''"), secret.replace(/\\/g, "\\\\").replace(/'/g, "''"));
  }
  // Longest first, so a URI is replaced whole before its password is.
  return forms.filter((form) => form.length >= 4).sort((a, b) => b.length - a.length);
}

export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  let result = text;
  for (const form of secretForms(secrets)) result = result.split(form).join("[secret]");
  return result;
}

function isDatabaseError(error: unknown): error is DatabaseError {
  return error instanceof Error && typeof (error as Partial<DatabaseError>).code === "string" && "severity" in error;
}

export function sqlState(error: unknown): string | undefined {
  if (isDatabaseError(error)) return error.code;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * A new error that says which resource failed doing what, with the server's message, detail and SQLSTATE,
 * and with every secret replaced. The original error is not attached as `cause`: pg's errors and Node's
 * URL errors can carry the connection string in their properties, and Pulumi prints causes.
 */
export function postgresError(label: string, action: string, error: unknown, secrets: readonly (string | undefined)[]): Error {
  const message = error instanceof Error ? error.message : String(error);
  const detail = isDatabaseError(error) && error.detail ? ` (${error.detail})` : "";
  const code = sqlState(error);
  const state = code ? ` [${code}]` : "";
  // The SQLSTATE stays on the new error so callers can still tell "already gone" from a real failure.
  return Object.assign(new Error(scrub(`${label}: ${action} failed: ${message}${detail}${state}`, secrets)), { code });
}

// An array, not a Set: the closure serializer cannot carry a module-level Set into the provider host.
// 57P03: the server is starting up (a Neon compute waking from suspend); 53300: too many connections.
const transientStates: readonly string[] = ["57P03", "53300", "08001", "08006"];

const connectRetry: RetryPolicy = { maxAttempts: 5, budgetMs: 30_000, baseDelayMs: 500, maxDelayMs: 5_000 };

export interface ConnectOptions {
  adminUri: string;
  /** Connect to this database instead of the one in the URI. */
  database?: string;
  /** Names the resource in errors, e.g. "postgres role 'app_user'". */
  label: string;
  /** Values that must never appear in an error (the URI is always included). */
  secrets?: readonly (string | undefined)[];
}

/**
 * Opens one connection (retrying only the connect, which is idempotent), runs `fn`, and closes it. Every
 * error leaving here is a `postgresError`: scrubbed and labelled.
 */
export async function withConnection<T>(options: ConnectOptions, action: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const { Client: PgClient } = require("pg") as typeof import("pg");
  const secrets = [options.adminUri, ...(options.secrets ?? [])];
  let client: Client;
  try {
    const config = clientConfig(options.adminUri, options.database);
    client = await withRetry(
      async () => {
        const attempt = new PgClient({ ...config, connectionTimeoutMillis: 15_000, application_name: "pulumi" });
        // An idle client's socket error would otherwise be an unhandled 'error' event that crashes the host.
        attempt.on("error", () => undefined);
        try {
          await attempt.connect();
          return attempt;
        } catch (error) {
          await attempt.end().catch(() => undefined);
          throw error;
        }
      },
      (outcome) => {
        if (!("error" in outcome)) return { retry: false };
        const state = sqlState(outcome.error);
        if (isConnectionError(outcome.error) || (state !== undefined && transientStates.includes(state))) {
          return { retry: true, reason: "connection failed" };
        }
        return { retry: false };
      },
      connectRetry,
    );
  } catch (error) {
    throw postgresError(options.label, `connecting as the admin${options.database ? ` to database '${options.database}'` : ""}`, error, secrets);
  }
  try {
    return await fn(client);
  } catch (error) {
    throw postgresError(options.label, action, error, secrets);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Runs `fn` in a transaction. The advisory lock serializes our applies within one database: Pulumi runs
 * resources in parallel, and two GRANTs on the same database or schema update the same catalog row, which
 * fails with "tuple concurrently updated" instead of waiting.
 */
export async function inTransaction<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('pulumi-postgres-privileges'))");
    const result = await fn();
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

export async function roleExists(client: Client, role: string): Promise<boolean> {
  const result = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]);
  return (result.rowCount ?? 0) > 0;
}

/** SQLSTATE 3D000: the database does not exist (connecting to a dropped database). */
export function isDatabaseGone(error: unknown): boolean {
  return sqlState(error) === "3D000";
}
