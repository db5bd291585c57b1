import { Client } from "pg";
import type { PostgresCluster } from "../postgres/cluster";

/** The superuser the emulator manages branches with; Neon's own control plane uses a role of this name. */
export const CONTROL_PLANE_SUPERUSER = "cloud_admin";

async function withAdmin<T>(cluster: PostgresCluster, fn: (client: Client) => Promise<T>, database = "postgres"): Promise<T> {
  const client = new Client({ connectionString: cluster.adminUri(database) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const ident = (client: Client, name: string) => client.escapeIdentifier(name);

/**
 * Neon's `neon_superuser`: the role every API-created role joins [docs manage/roles]. pg_read_all_data and
 * pg_write_all_data (PostgreSQL 14+) give its members access to every table, which SQL-created roles lack.
 */
export async function prepareRootCluster(cluster: PostgresCluster): Promise<void> {
  await withAdmin(cluster, async (c) => {
    await c.query("CREATE ROLE neon_superuser NOLOGIN CREATEDB CREATEROLE");
    await c.query("GRANT pg_read_all_data, pg_write_all_data TO neon_superuser");
  });
}

/** Role attributes are not inherited through membership, so API roles get CREATEDB/CREATEROLE themselves. */
export async function createRole(cluster: PostgresCluster, name: string, password: string, login: boolean): Promise<void> {
  await withAdmin(cluster, (c) =>
    c.query(
      `CREATE ROLE ${ident(c, name)} ${login ? "LOGIN" : "NOLOGIN"} CREATEDB CREATEROLE PASSWORD ${c.escapeLiteral(password)} IN ROLE neon_superuser`,
    ),
  );
}

export async function setRolePassword(cluster: PostgresCluster, name: string, password: string): Promise<void> {
  await withAdmin(cluster, (c) => c.query(`ALTER ROLE ${ident(c, name)} PASSWORD ${c.escapeLiteral(password)}`));
}

export async function dropRole(cluster: PostgresCluster, name: string): Promise<void> {
  await withAdmin(cluster, (c) => c.query(`DROP ROLE IF EXISTS ${ident(c, name)}`));
}

export async function createDatabase(cluster: PostgresCluster, name: string, owner: string): Promise<void> {
  await withAdmin(cluster, (c) => c.query(`CREATE DATABASE ${ident(c, name)} OWNER ${ident(c, owner)}`));
}

export async function dropDatabase(cluster: PostgresCluster, name: string): Promise<void> {
  await withAdmin(cluster, (c) => c.query(`DROP DATABASE IF EXISTS ${ident(c, name)} WITH (FORCE)`));
}

export async function alterDatabase(cluster: PostgresCluster, name: string, change: { name?: string; owner_name?: string }): Promise<void> {
  await withAdmin(cluster, async (c) => {
    if (change.owner_name) await c.query(`ALTER DATABASE ${ident(c, name)} OWNER TO ${ident(c, change.owner_name)}`);
    if (change.name && change.name !== name) {
      // A rename needs the database idle; Neon's control plane also kicks sessions for config changes.
      await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
      await c.query(`ALTER DATABASE ${ident(c, name)} RENAME TO ${ident(c, change.name)}`);
    }
  });
}
