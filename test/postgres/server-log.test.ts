/**
 * The server log never sees a password: a cluster that logs every statement (log_statement = 'all') and every failed
 * one with its text (log_min_error_statement = error) runs the Role provider's create, rotation, adoption and failing
 * statements; its log then holds none of the passwords, in any spelling, while the roles log in with them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "pg";
import { roleProvider, type RoleInputs, type RoleOutputs } from "../../dynamic-providers/postgres/role";
import { scramVerifier } from "../../dynamic-providers/postgres/scram";
import { failure, newPassword, sql, startNeonLikeCluster, type NeonLikeCluster } from "./neon-like";

let pg: NeonLikeCluster;
const passwords: string[] = [];

function password(): string {
  const made = newPassword();
  passwords.push(made);
  return made;
}

/** Every way a password could be written into a log line: as is, SQL-quoted, URL-encoded, base64. */
function spellings(secret: string): string[] {
  return [
    secret,
    secret.replace(/'/g, "''"),
    secret.replace(/\\/g, "\\\\").replace(/'/g, "''"),
    encodeURIComponent(secret),
    Buffer.from(secret).toString("base64"),
    Buffer.from(secret).toString("base64url"),
    // The part before the quoting characters newPassword() appends: random, so it cannot occur by chance.
    secret.slice(0, 16),
  ];
}

async function checked(inputs: RoleInputs): Promise<RoleInputs> {
  const result = await roleProvider.check!({} as RoleInputs, inputs);
  expect(result.failures).toEqual([]);
  return result.inputs as RoleInputs;
}

async function logsIn(role: string, secret: string): Promise<string> {
  const [row] = await sql<{ who: string }>(pg.uriFor(role, secret), "SELECT current_user AS who");
  return row.who;
}

describe("postgres Role: no password in the server log", () => {
  beforeAll(async () => {
    pg = await startNeonLikeCluster({ log_statement: "all", log_min_error_statement: "error" });
    passwords.push(pg.ownerPassword, pg.cluster.superuserPassword);
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it("creates, rotates, adopts and fails, and the log holds every statement but no password", async () => {
    // Create, then rotate: the old password stops working, the new one works.
    const first = password();
    const created = (await roleProvider.create!(await checked({ adminUri: pg.ownerUri(), name: "logged", password: first }))).outs as RoleOutputs;
    expect(await logsIn("logged", first)).toBe("logged");
    const second = password();
    const { drift: _drift, ...inputs } = created;
    const rotated = await checked({ ...inputs, password: second });
    expect(await roleProvider.diff!("logged", created, rotated)).toMatchObject({ changes: true, replaces: [] });
    await roleProvider.update!("logged", created, rotated);
    expect(await failure(logsIn("logged", first))).toMatch(/password authentication failed/);
    expect(await logsIn("logged", second)).toBe("logged");

    // Adopt a role made by hand (ALTER ROLE path).
    await sql(pg.ownerUri(), `CREATE ROLE handmade LOGIN PASSWORD '${scramVerifier(password())}'`);
    const adopted = password();
    await roleProvider.create!(await checked({ adminUri: pg.ownerUri(), name: "handmade", password: adopted, adopt: true }));
    expect(await logsIn("handmade", adopted)).toBe("handmade");

    // Failing statements, reached by skipping check() (which refuses these limits): CREATE ROLE with a limit PostgreSQL
    // cannot parse, and ALTER ROLE with one it refuses. The server logs both with their full text.
    const failing = password();
    expect(await failure(roleProvider.create!({ adminUri: pg.ownerUri(), name: "refused", password: failing, connectionLimit: 1e21 }))).toMatch(
      /postgres role 'refused': creating the role failed: syntax error .*\[42601\]/,
    );
    const failingRotation = password();
    expect(await failure(roleProvider.update!("logged", { ...rotated, drift: [] }, { ...rotated, password: failingRotation, connectionLimit: -5 }))).toMatch(
      /postgres role 'logged': updating the role failed: .*\[22023\]/,
    );
    expect(await logsIn("logged", second)).toBe("logged");

    const log = pg.cluster.serverLog();
    // The log really does record what the provider sent, failures with their statement text.
    expect(log).toMatch(/LOG: {2}statement: CREATE ROLE "logged" LOGIN PASSWORD 'SCRAM-SHA-256\$4096:[^']+' CONNECTION LIMIT -1/);
    expect(log).toMatch(/LOG: {2}statement: ALTER ROLE "logged" LOGIN PASSWORD 'SCRAM-SHA-256\$4096:/);
    expect(log).toMatch(/ERROR: {2}syntax error at or near "1e\+21"[\s\S]*?STATEMENT: {2}CREATE ROLE "refused" LOGIN PASSWORD 'SCRAM-SHA-256\$4096:/);
    expect(log).toMatch(/ERROR: {2}invalid connection limit: -5[\s\S]*?STATEMENT: {2}ALTER ROLE "logged" LOGIN PASSWORD 'SCRAM-SHA-256\$4096:/);
    expect(passwords.length).toBe(8);
    for (const secret of passwords) {
      for (const spelling of spellings(secret)) expect(log.includes(spelling), `a password spelled ${JSON.stringify(spelling)} is in the log`).toBe(false);
    }
  });

  it("control: a password sent in plain text does land in this log, so the check above can see one", async () => {
    const plain = `control-${newPassword()}`;
    const client = new Client({ connectionString: pg.ownerUri() });
    await client.connect();
    await client.query(`CREATE ROLE control_role LOGIN PASSWORD ${client.escapeLiteral(plain)}`);
    await client.end();
    expect(pg.cluster.serverLog()).toContain(plain.replace(/\\/g, "\\\\").replace(/'/g, "''").slice(0, 20));
  });
});
