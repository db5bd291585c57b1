import { describe, expect, it } from "vitest";
import { unknownValue } from "../../dynamic-providers/core/check";
import { clientConfig, scrub } from "../../dynamic-providers/postgres/connection";
import { grantProvider, type GrantInputs } from "../../dynamic-providers/postgres/grant";
import { databaseLockdownProvider, type DatabaseLockdownInputs } from "../../dynamic-providers/postgres/lockdown";
import { expandProfile, keyId, privilegeStatements, type GrantContext } from "../../dynamic-providers/postgres/profiles";
import { roleProvider, type RoleInputs } from "../../dynamic-providers/postgres/role";

const adminUri = "postgresql://neondb_owner:hunter2-secret@ep-x.neon.tech/naluma_content?sslmode=require";
const long = "x".repeat(64);
const asciiRule = "must be printable ASCII (letters, digits, punctuation and spaces; SASLprep of other characters differs between PostgreSQL and its clients)";

async function roleFailures(change: Record<string, unknown>) {
  const inputs = { adminUri, name: "pipeline", password: "pw", ...change } as RoleInputs;
  return (await roleProvider.check!({} as RoleInputs, inputs)).failures ?? [];
}

async function grantFailures(change: Record<string, unknown>) {
  const inputs = { adminUri, database: "naluma_content", role: "pipeline", profile: "app", migrationsRole: "migrations", ...change } as GrantInputs;
  return (await grantProvider.check!({} as GrantInputs, inputs)).failures ?? [];
}

describe("Role check()", () => {
  it.each([
    [{}, []],
    [{ name: long }, [`postgres role '${long}': name must be at most 63 bytes (PostgreSQL truncates longer identifiers), got 64 bytes, got "${long}"`]],
    [{ name: "pg_monitor" }, [`postgres role 'pg_monitor': name must not start with pg_ (reserved for PostgreSQL's own roles), got "pg_monitor"`]],
    [{ name: "PUBLIC" }, [`postgres role 'PUBLIC': name must not be one of public, none, current_user, current_role, session_user (in any case), got "PUBLIC"`]],
    [{ name: "Current_User" }, [`postgres role 'Current_User': name must not be one of public, none, current_user, current_role, session_user (in any case), got "Current_User"`]],
    [{ name: "PG_signal" }, [`postgres role 'PG_signal': name must not start with pg_ (reserved for PostgreSQL's own roles), got "PG_signal"`]],
    [{ name: "a\nb" }, [`postgres role 'a\nb': name must not contain control characters (newlines, tabs, ...), got "a\\nb"`]],
    [{ name: "a\u0000b" }, [`postgres role 'a\u0000b': name must not contain a NUL character, got "a\\u0000b"`]],
    [{ name: "" }, ["postgres role: name must not be empty, got \"\""]],
    [{ adminUri: "mysql://root:hunter2-secret@db/x" }, ["postgres role 'pipeline': adminUri must be a postgresql:// URI"]],
    [{ adminUri: "not a uri hunter2-secret" }, ["postgres role 'pipeline': adminUri must be a postgresql:// URI"]],
    [{ password: "" }, ["postgres role 'pipeline': password must be a non-empty string"]],
    [{ password: "pässwört" }, [`postgres role 'pipeline': password ${asciiRule}`]],
    [{ password: "tab\tinside" }, [`postgres role 'pipeline': password ${asciiRule}`]],
    [{ connectionLimit: -2 }, [`postgres role 'pipeline': connectionLimit must be between -1 and 2147483647, got -2`]],
    [{ connectionLimit: 1e21 }, [`postgres role 'pipeline': connectionLimit must be between -1 and 2147483647, got 1e+21`]],
    [{ connectionLimit: 2147483648 }, [`postgres role 'pipeline': connectionLimit must be between -1 and 2147483647, got 2147483648`]],
    [{ connectionLimit: 1.5 }, [`postgres role 'pipeline': connectionLimit must be a whole number, got 1.5`]],
    [{ connectionLimit: 2147483647 }, []],
    [{ adopt: "yes" }, [`postgres role 'pipeline': adopt must be true or false, got "yes"`]],
    [{ adminUri: unknownValue, password: unknownValue }, []],
  ])("%j → %j", async (change, expected) => {
    expect((await roleFailures(change)).map((f) => f.reason)).toEqual(expected);
  });
});

describe("Grant check()", () => {
  const label = "postgres grant 'pipeline on naluma_content'";
  it.each([
    [{}, []],
    [{ profile: "readonly" }, [`${label}: profile must be one of app, migrations, got "readonly"`]],
    [{ profile: undefined }, [`${label}: profile is required (one of app, migrations)`]],
    [{ profile: "migrations", migrationsRole: undefined, allowDelete: true }, [`${label}: allowDelete is only allowed with profile app, got true`]],
    [{ profile: "migrations" }, [`${label}: migrationsRole is only allowed with profile app, got "migrations"`]],
    [{ migrationsRole: undefined }, [`${label}: migrationsRole is required with profile app (the role whose future tables the app must be able to use)`]],
    [{ migrationsRole: "pipeline" }, [`${label}: migrationsRole must be another role than role, got "pipeline"`]],
    [{ schema: long }, [`${label}: schema must be at most 63 bytes (PostgreSQL truncates longer identifiers), got 64 bytes, got "${long}"`]],
    [{ database: "ü".repeat(32) }, [`postgres grant 'pipeline on ${"ü".repeat(32)}': database must be at most 63 bytes (PostgreSQL truncates longer identifiers), got 64 bytes, got "${"ü".repeat(32)}"`]],
    [{ allowDelete: "no" }, [`${label}: allowDelete must be true or false, got "no"`]],
    // GRANT ... TO "public" grants to every role, quoted or not.
    [{ role: "public" }, [`postgres grant 'public on naluma_content': role must not be one of public, none, current_user, current_role, session_user (in any case), got "public"`]],
    [{ migrationsRole: "PUBLIC" }, [`${label}: migrationsRole must not be one of public, none, current_user, current_role, session_user (in any case), got "PUBLIC"`]],
    [{ database: "a\u0000b" }, [`postgres grant 'pipeline on a\u0000b': database must not contain a NUL character, got "a\\u0000b"`]],
    [{ database: "a+b" }, []],
    [{ adminUri: "https://hunter2-secret@example.com" }, [`${label}: adminUri must be a postgresql:// URI`]],
    [{ adminUri: unknownValue, migrationsRole: unknownValue }, []],
  ])("%j → %j", async (change, expected) => {
    expect((await grantFailures(change)).map((f) => f.reason)).toEqual(expected);
  });

  it("never echoes the admin URI or its password", async () => {
    const reasons = JSON.stringify([...(await grantFailures({ adminUri: "ftp://u:hunter2-secret@h" })), ...(await roleFailures({ adminUri: "x:hunter2-secret" }))]);
    expect(reasons).not.toContain("hunter2-secret");
  });

  it("fills in defaults", async () => {
    const { inputs } = await grantProvider.check!({} as GrantInputs, { adminUri, database: "d", role: "r", profile: "app", migrationsRole: "m" });
    expect(inputs).toMatchObject({ schema: "public", allowDelete: false });
  });
});

describe("DatabaseLockdown check()", () => {
  it("validates the database name and the URI", async () => {
    const check = (inputs: Record<string, unknown>) => databaseLockdownProvider.check!({} as DatabaseLockdownInputs, inputs as unknown as DatabaseLockdownInputs);
    expect((await check({ adminUri, database: "prefect_server" })).failures).toEqual([]);
    expect((await check({ adminUri: "nope", database: long })).failures?.map((f) => f.reason)).toEqual([
      `postgres database lockdown '${long}': adminUri must be a postgresql:// URI`,
      `postgres database lockdown '${long}': database must be at most 63 bytes (PostgreSQL truncates longer identifiers), got 64 bytes, got "${long}"`,
    ]);
  });
});

describe("profiles", () => {
  const context: GrantContext = { database: "naluma_content", schema: "public", role: "pipeline", adminRole: "neondb_owner", migrationsRole: "migrations" };

  it("renders the app profile with FOR ROLE migrations and sequence USAGE", () => {
    expect(privilegeStatements("GRANT", expandProfile("app", false, context), "naluma_content", "pipeline")).toEqual([
      `GRANT CONNECT ON DATABASE "naluma_content" TO "pipeline"`,
      `GRANT USAGE ON SCHEMA "public" TO "pipeline"`,
      `GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA "public" TO "pipeline"`,
      `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "public" TO "pipeline"`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE "migrations" IN SCHEMA "public" GRANT SELECT, INSERT, UPDATE ON TABLES TO "pipeline"`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE "neondb_owner" IN SCHEMA "public" GRANT SELECT, INSERT, UPDATE ON TABLES TO "pipeline"`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE "migrations" IN SCHEMA "public" GRANT USAGE, SELECT ON SEQUENCES TO "pipeline"`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE "neondb_owner" IN SCHEMA "public" GRANT USAGE, SELECT ON SEQUENCES TO "pipeline"`,
    ]);
  });

  it("adds DELETE only with allowDelete, on tables and future tables", () => {
    const withDelete = expandProfile("app", true, context).map(keyId);
    const without = expandProfile("app", false, context).map(keyId);
    expect(withDelete.filter((id) => !without.includes(id))).toEqual([
      "tables|public||DELETE",
      "defaultTables|public|migrations|DELETE",
      "defaultTables|public|neondb_owner|DELETE",
    ]);
  });

  it("renders the migrations profile with CREATE on the schema and the admin's future objects", () => {
    const migrations = { ...context, role: "migrations", migrationsRole: undefined };
    expect(privilegeStatements("GRANT", expandProfile("migrations", false, migrations), "naluma_content", "migrations")).toEqual([
      `GRANT CONNECT ON DATABASE "naluma_content" TO "migrations"`,
      `GRANT USAGE, CREATE ON SCHEMA "public" TO "migrations"`,
      `GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA "public" TO "migrations"`,
      `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "public" TO "migrations"`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE "neondb_owner" IN SCHEMA "public" GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLES TO "migrations"`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE "neondb_owner" IN SCHEMA "public" GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "migrations"`,
    ]);
  });

  it("quotes identifiers and revokes in reverse order", () => {
    const odd = { ...context, schema: 'we"ird', role: "Ro le" };
    const revokes = privilegeStatements("REVOKE", expandProfile("app", false, odd), 'my"db', "Ro le");
    expect(revokes[0]).toBe(`ALTER DEFAULT PRIVILEGES FOR ROLE "neondb_owner" IN SCHEMA "we""ird" REVOKE USAGE, SELECT ON SEQUENCES FROM "Ro le"`);
    expect(revokes.at(-1)).toBe(`REVOKE CONNECT ON DATABASE "my""db" FROM "Ro le"`);
  });
});

describe("secrets in messages", () => {
  it("scrubs the URI, its password (raw and encoded) and SQL-quoted passwords", () => {
    const password = `p'a\\ss@:/word`;
    const uri = `postgresql://owner:${encodeURIComponent(password)}@h/db`;
    const text = `failed for ${uri} with ${password} / ${encodeURIComponent(password)} / 'p''a\\\\ss@:/word'`;
    const scrubbed = scrub(text, [uri, password]);
    expect(scrubbed).not.toContain("word");
    expect(scrubbed).toContain("[secret]");
  });

  it("points a URI at another database without touching the rest", () => {
    expect(clientConfig(adminUri, "prefect_server")).toMatchObject({
      host: "ep-x.neon.tech",
      user: "neondb_owner",
      password: "hunter2-secret",
      database: "prefect_server",
      ssl: {},
    });
    expect(clientConfig(adminUri)).toMatchObject({ database: "naluma_content" });
  });

  // pg decodes a URI's path with decodeURI, which leaves %2B, %2F, %3F and %23 encoded: `a%2Bb` would be "a%2Bb".
  it.each(["a+b", "a/b", "a?b#c", "50%", "ü ber"])("names database %j exactly, given or read from the URI's path", (database) => {
    expect(clientConfig(adminUri, database).database).toBe(database);
    const uri = `postgresql://neondb_owner:hunter2-secret@ep-x.neon.tech/${encodeURIComponent(database)}?sslmode=require`;
    expect(clientConfig(uri).database).toBe(database);
  });
});
