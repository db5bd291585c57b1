import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { roleProvider, type RoleInputs, type RoleOutputs } from "../../dynamic-providers/postgres/role";
import { failure, newPassword, sql, startNeonLikeCluster, type NeonLikeCluster } from "./neon-like";

let pg: NeonLikeCluster;

const withoutDrift = ({ drift: _drift, ...inputs }: RoleOutputs): RoleInputs => inputs;
const login = (name: string, password: string, database = "postgres") => sql(pg.uriFor(name, password, database), "SELECT current_user AS who");

async function createRole(inputs: RoleInputs): Promise<RoleOutputs> {
  const checked = await roleProvider.check!({} as RoleInputs, inputs);
  expect(checked.failures).toEqual([]);
  const created = await roleProvider.create!(checked.inputs as RoleInputs);
  expect(created.id).toBe(inputs.name);
  return created.outs as RoleOutputs;
}

/** An error message must not carry any of these, in any usual spelling. */
function expectNoSecrets(message: string, secrets: string[]): void {
  for (const secret of secrets) {
    for (const form of [secret, encodeURIComponent(secret), secret.replace(/'/g, "''")]) expect(message).not.toContain(form);
  }
}

describe("postgres Role on a Neon-like cluster", () => {
  beforeAll(async () => {
    pg = await startNeonLikeCluster();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it("creates a LOGIN role whose password works, with the admin as a member", async () => {
    const password = newPassword();
    const role = await createRole({ adminUri: pg.ownerUri(), name: "pipeline", password });
    expect(role).toMatchObject({ name: "pipeline", drift: [] });
    expect(await login("pipeline", password)).toEqual([{ who: "pipeline" }]);
    const [attributes] = await sql(
      pg.ownerUri(),
      `SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolconnlimit,
         pg_has_role('neondb_owner', 'pipeline', 'MEMBER') AS admin_is_member
       FROM pg_roles WHERE rolname = 'pipeline'`,
    );
    expect(attributes).toEqual({
      rolcanlogin: true,
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolconnlimit: -1,
      admin_is_member: true,
    });
  });

  it("rotates the password with ALTER ROLE: the old one fails, the new one works", async () => {
    const oldPassword = newPassword();
    const olds = await createRole({ adminUri: pg.ownerUri(), name: "rotating", password: oldPassword });
    const news = { ...withoutDrift(olds), password: newPassword() };
    expect(await roleProvider.diff!("rotating", olds, news)).toMatchObject({ changes: true, replaces: [] });
    const updated = (await roleProvider.update!("rotating", olds, news)).outs as RoleOutputs;
    expect(await failure(login("rotating", oldPassword))).toMatch(/password authentication failed for user "rotating"/);
    expect(await login("rotating", news.password)).toEqual([{ who: "rotating" }]);

    const limited = { ...withoutDrift(updated), connectionLimit: 3 };
    await roleProvider.update!("rotating", updated, limited);
    expect(await sql(pg.ownerUri(), "SELECT rolconnlimit FROM pg_roles WHERE rolname = 'rotating'")).toEqual([{ rolconnlimit: 3 }]);
  });

  it("a name change replaces the role", async () => {
    const olds: RoleOutputs = { adminUri: pg.ownerUri(), name: "a", password: "p", drift: [] };
    expect(await roleProvider.diff!("a", olds, { ...withoutDrift(olds), name: "b" })).toMatchObject({ changes: true, replaces: ["name"] });
    expect(await roleProvider.diff!("a", olds, withoutDrift(olds))).toMatchObject({ changes: false, replaces: [] });
  });

  it("refresh sees a password or limit changed by hand, and a role dropped by hand", async () => {
    const password = newPassword();
    const role = await createRole({ adminUri: pg.ownerUri(), name: "drifting", password });
    expect((await roleProvider.read!("drifting", role)).props).toEqual(role);

    await sql(pg.ownerUri(), "ALTER ROLE drifting PASSWORD 'changed-by-hand' CONNECTION LIMIT 7");
    const read = (await roleProvider.read!("drifting", role)).props as RoleOutputs;
    expect(read).toMatchObject({ drift: ["password does not match"], connectionLimit: 7 });
    const inputs = withoutDrift(role);
    expect((await roleProvider.diff!("drifting", read, inputs)).changes).toBe(true);
    await roleProvider.update!("drifting", read, inputs);
    expect(await login("drifting", password)).toEqual([{ who: "drifting" }]);
    expect(await sql(pg.ownerUri(), "SELECT rolconnlimit FROM pg_roles WHERE rolname = 'drifting'")).toEqual([{ rolconnlimit: -1 }]);

    await sql(pg.ownerUri(), "DROP ROLE drifting");
    expect(await roleProvider.read!("drifting", role)).toEqual({ id: "" });
  });

  it("fails on an existing role unless adopt is set, then takes it over", async () => {
    await sql(pg.ownerUri(), "CREATE USER handmade WITH PASSWORD 'secure-password-here'");
    const password = newPassword();
    const message = await failure(roleProvider.create!({ adminUri: pg.ownerUri(), name: "handmade", password }));
    expect(message).toMatch(/postgres role 'handmade': creating the role failed: the role already exists; set `adopt: true`/);
    await roleProvider.create!({ adminUri: pg.ownerUri(), name: "handmade", password, adopt: true });
    expect(await login("handmade", password)).toEqual([{ who: "handmade" }]);
    expect(await failure(login("handmade", "secure-password-here"))).toMatch(/password authentication failed/);
  });

  it("delete reassigns what the role owns, drops it, and tolerates it being gone", async () => {
    const password = newPassword();
    const role = await createRole({ adminUri: pg.ownerUri(), name: "leaving", password });
    await sql(pg.ownerUri(), "GRANT CREATE ON SCHEMA public TO leaving");
    await sql(pg.uriFor("leaving", password), "CREATE TABLE left_behind (id int)", "INSERT INTO left_behind VALUES (1)");
    await roleProvider.delete!("leaving", role);
    expect(await sql(pg.ownerUri(), "SELECT rolname FROM pg_roles WHERE rolname = 'leaving'")).toEqual([]);
    expect(await sql(pg.ownerUri(), "SELECT tableowner FROM pg_tables WHERE tablename = 'left_behind'")).toEqual([
      { tableowner: "neondb_owner" },
    ]);
    await roleProvider.delete!("leaving", role);

    // The URI's database was dropped since: roles are cluster-wide, so another database serves.
    const other = await createRole({ adminUri: pg.ownerUri(), name: "orphan", password: newPassword() });
    await sql(pg.ownerUri(), "CREATE DATABASE doomed");
    await sql(pg.ownerUri(), "DROP DATABASE doomed");
    await roleProvider.delete!("orphan", { ...other, adminUri: pg.ownerUri("doomed") });
    expect(await sql(pg.ownerUri(), "SELECT rolname FROM pg_roles WHERE rolname = 'orphan'")).toEqual([]);
  });

  it("never puts the admin URI or a password in an error", async () => {
    const password = newPassword();
    const wrongAdminPassword = newPassword();
    const wrongUri = pg.uriFor("neondb_owner", wrongAdminPassword);
    const authFailure = await failure(roleProvider.create!({ adminUri: wrongUri, name: "never", password }));
    expect(authFailure).toMatch(/postgres role 'never': connecting as the admin failed: password authentication failed for user "neondb_owner" \[28P01\]/);
    expectNoSecrets(authFailure, [wrongAdminPassword, wrongUri, password, pg.ownerPassword]);

    // A statement that fails after the password was sent in it.
    const sqlFailure = await failure(roleProvider.create!({ adminUri: pg.ownerUri(), name: "never", password, connectionLimit: -5 }));
    expect(sqlFailure).toMatch(/postgres role 'never': creating the role failed: .*\[22023\]/);
    expectNoSecrets(sqlFailure, [password, pg.ownerUri(), pg.ownerPassword]);

    // A URI pg cannot even parse.
    const garbled = `postgresql://neondb_owner:${encodeURIComponent(wrongAdminPassword)}@127.0.0.1:99999/naluma_content`;
    const parseFailure = await failure(roleProvider.create!({ adminUri: garbled, name: "never", password }));
    expect(parseFailure).toMatch(/^postgres role 'never': connecting as the admin failed: Invalid URL/);
    expectNoSecrets(parseFailure, [wrongAdminPassword, garbled, password]);

    // read() logs in as the role itself; a failure there must not leak its password either.
    const readFailure = await failure(roleProvider.read!("never", { adminUri: wrongUri, name: "never", password, drift: [] }));
    expectNoSecrets(readFailure, [wrongAdminPassword, wrongUri, password]);
  });
});
