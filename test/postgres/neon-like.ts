import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { scramVerifier } from "../../dynamic-providers/postgres/scram";
import { startPostgresCluster, type PostgresCluster, type StartPostgresClusterOptions } from "../emulators/postgres/cluster";

/**
 * A cluster whose admin is shaped like a Neon project owner: a member of `neon_superuser` (CREATEDB,
 * CREATEROLE, pg_read_all_data, pg_write_all_data) but not a superuser, owning the seed's two databases.
 * Tests connect as this owner, never as the superuser, so privilege behaviour matches Neon's.
 */
export interface NeonLikeCluster {
  cluster: PostgresCluster;
  owner: string;
  ownerPassword: string;
  /** The owner's URI; `naluma_content` unless another database is named. */
  ownerUri(database?: string): string;
  uriFor(role: string, password: string, database?: string): string;
  stop(): Promise<void>;
}

export const owner = "neondb_owner";

export function newPassword(): string {
  // Characters that need quoting in SQL and in URIs, to prove escaping on both paths.
  return `${randomBytes(12).toString("base64url")}'"\\$@:/`;
}

/** `settings` go to the server, e.g. `{ log_statement: "all" }`. */
export async function startNeonLikeCluster(settings: StartPostgresClusterOptions["settings"] = {}): Promise<NeonLikeCluster> {
  const cluster = await startPostgresCluster({ settings });
  const ownerPassword = newPassword();
  const uriFor = (role: string, password: string, database = "naluma_content") =>
    `postgresql://${encodeURIComponent(role)}:${encodeURIComponent(password)}@127.0.0.1:${cluster.port}/${database}`;
  const superuser = new Client({ connectionString: cluster.adminUri() });
  await superuser.connect();
  try {
    await superuser.query("CREATE ROLE neon_superuser NOLOGIN CREATEDB CREATEROLE");
    await superuser.query("GRANT pg_read_all_data, pg_write_all_data TO neon_superuser");
    await superuser.query(
      // As a verifier, so that a server logging every statement never has the owner's password in its log.
      `CREATE ROLE ${owner} LOGIN CREATEDB CREATEROLE PASSWORD ${superuser.escapeLiteral(scramVerifier(ownerPassword))} IN ROLE neon_superuser`,
    );
    await superuser.query(`CREATE DATABASE naluma_content OWNER ${owner}`);
    await superuser.query(`CREATE DATABASE prefect_server OWNER ${owner}`);
  } finally {
    await superuser.end();
  }
  return {
    cluster,
    owner,
    ownerPassword,
    ownerUri: (database = "naluma_content") => uriFor(owner, ownerPassword, database),
    uriFor,
    stop: () => cluster.stop(),
  };
}

/** Runs statements in one session as whoever `uri` names; returns the last statement's rows. */
export async function sql<T = Record<string, unknown>>(uri: string, ...statements: string[]): Promise<T[]> {
  const client = new Client({ connectionString: uri });
  client.on("error", () => undefined);
  await client.connect();
  try {
    let rows: T[] = [];
    for (const statement of statements) rows = (await client.query(statement)).rows as T[];
    return rows;
  } finally {
    await client.end();
  }
}

/** The error message of a statement that must fail, or a failure if it succeeds. */
export async function failure(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error("expected the statement to fail, but it succeeded");
}
