import * as pulumi from "@pulumi/pulumi";
import type { Client } from "pg";
import { changedFields, failures, isUnknown } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { inTransaction, isDatabaseGone, isPostgresUri, roleExists, withConnection, type ConnectOptions } from "./connection";
import { identifierProblem, roleNameProblem } from "./names";
import {
  describeKey,
  expandProfile,
  keyId,
  managedKeys,
  privilegeStatements,
  profileNames,
  quoteIdentifier,
  withoutKeys,
  type GrantContext,
  type PrivilegeKey,
  type Profile,
} from "./profiles";

export interface GrantInputs {
  /** The admin's URI (secret); the provider connects to `database` with its credentials, whatever database it names. */
  adminUri: string;
  database: string;
  role: string;
  /** @default `public` */
  schema?: string;
  profile: Profile;
  /** app profile only: also DELETE rows. @default `false` */
  allowDelete?: boolean;
  /** app profile (required): the role whose future tables and sequences the app must be able to use. */
  migrationsRole?: string;
}

export interface GrantOutputs extends GrantInputs {
  schema: string;
  allowDelete: boolean;
  /** The role that granted (current_user of adminUri): default privileges "for the admin" are keyed on it. */
  adminRole: string;
  /** What refresh found different from the profile ("missing ...", "unexpected ..."); non-empty makes the next up an update. */
  drift: string[];
}

function label(props: { role?: unknown; database?: unknown }): string {
  return `postgres grant '${String(props.role)} on ${String(props.database)}'`;
}

function connectOptions(props: GrantInputs): ConnectOptions {
  return { adminUri: props.adminUri, database: props.database, label: label(props) };
}

function normalise(inputs: GrantInputs): GrantInputs & { schema: string; allowDelete: boolean } {
  return { ...inputs, schema: inputs.schema ?? "public", allowDelete: inputs.allowDelete ?? false };
}

function contextOf(props: GrantInputs, adminRole: string): GrantContext {
  return {
    database: props.database,
    schema: props.schema ?? "public",
    role: props.role,
    adminRole,
    migrationsRole: props.profile === "app" ? props.migrationsRole : undefined,
  };
}

function wanted(props: GrantInputs, adminRole: string): PrivilegeKey[] {
  return expandProfile(props.profile, props.allowDelete ?? false, contextOf(props, adminRole));
}

async function currentUser(client: Client): Promise<string> {
  const { rows } = await client.query<{ admin: string }>("SELECT current_user AS admin");
  return rows[0].admin;
}

/** Drops keys whose schema or creator role no longer exists: REVOKE on them would fail, and there is nothing left to revoke. */
async function stillExisting(client: Client, keys: PrivilegeKey[]): Promise<PrivilegeKey[]> {
  const schemas = [...new Set(keys.map((key) => key.schema))];
  const creators = [...new Set(keys.flatMap((key) => (key.creator ? [key.creator] : [])))];
  const liveSchemas = (await client.query<{ name: string }>("SELECT nspname AS name FROM pg_namespace WHERE nspname = ANY($1)", [schemas])).rows.map(
    (row) => row.name,
  );
  const liveRoles = (await client.query<{ name: string }>("SELECT rolname AS name FROM pg_roles WHERE rolname = ANY($1)", [creators])).rows.map(
    (row) => row.name,
  );
  return keys.filter(
    (key) => key.on === "database" || (liveSchemas.includes(key.schema) && (key.creator === undefined || liveRoles.includes(key.creator))),
  );
}

async function run(client: Client, statements: string[]): Promise<void> {
  for (const statement of statements) await client.query(statement);
}

interface Inspection {
  missing: string[];
  unexpected: string[];
}

const tableKinds = "('r', 'p', 'v', 'm', 'f')";

/**
 * Compares the live catalog with `want`. Missing means the role lacks the privilege (through any path);
 * unexpected means a privilege this Grant manages is granted to the role directly although the profile does
 * not give it (ownership and PUBLIC are not counted: revoking could not remove them).
 */
async function inspect(client: Client, context: GrantContext, want: PrivilegeKey[]): Promise<Inspection> {
  const { role, schema, database } = context;
  const wantIds = want.map(keyId);
  const managed = managedKeys(context);
  const missing: string[] = [];
  const unexpected: string[] = [];
  const judge = (key: PrivilegeKey, has: boolean, direct: boolean, note = "") => {
    const wanted = wantIds.includes(keyId(key));
    if (wanted && !has) missing.push(`missing ${describeKey(key, database)}${note}`);
    if (!wanted && direct) unexpected.push(`unexpected ${describeKey(key, database)}`);
  };

  const objectQueries = [
    {
      on: "database" as const,
      sql: `SELECT p AS privilege, has_database_privilege(r.oid, d.oid, p) AS has,
              EXISTS (SELECT 1 FROM aclexplode(d.datacl) a WHERE a.grantee = r.oid AND a.privilege_type = p) AS direct
            FROM pg_database d, pg_roles r, unnest($3::text[]) AS p
            WHERE d.datname = current_database() AND r.rolname = $1 AND $2::text IS NOT NULL`,
    },
    {
      on: "schema" as const,
      sql: `SELECT p AS privilege, has_schema_privilege(r.oid, n.oid, p) AS has,
              EXISTS (SELECT 1 FROM aclexplode(n.nspacl) a WHERE a.grantee = r.oid AND a.privilege_type = p) AS direct
            FROM pg_namespace n, pg_roles r, unnest($3::text[]) AS p
            WHERE n.nspname = $2 AND r.rolname = $1`,
    },
  ];
  for (const { on, sql } of objectQueries) {
    const privileges = managed.filter((key) => key.on === on).map((key) => key.privilege);
    const { rows } = await client.query<{ privilege: string; has: boolean; direct: boolean }>(sql, [role, schema, privileges]);
    for (const row of rows) judge({ on, privilege: row.privilege, schema }, row.has, row.direct);
  }

  const relationQueries = [
    { on: "tables" as const, check: "has_table_privilege", kinds: tableKinds, noun: "tables" },
    { on: "sequences" as const, check: "has_sequence_privilege", kinds: "('S')", noun: "sequences" },
  ];
  for (const { on, check, kinds, noun } of relationQueries) {
    const privileges = managed.filter((key) => key.on === on).map((key) => key.privilege);
    const { rows } = await client.query<{ privilege: string; total: number; lacking: number; granted: number }>(
      `SELECT p AS privilege, count(c.oid)::int AS total,
         (count(c.oid) FILTER (WHERE NOT ${check}(r.oid, c.oid, p)))::int AS lacking,
         (count(c.oid) FILTER (WHERE c.relowner <> r.oid AND EXISTS (
            SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee = r.oid AND a.privilege_type = p)))::int AS granted
       FROM pg_roles r CROSS JOIN unnest($3::text[]) AS p
       LEFT JOIN pg_class c ON c.relkind IN ${kinds} AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $2)
       WHERE r.rolname = $1
       GROUP BY p`,
      [role, schema, privileges],
    );
    for (const row of rows) {
      judge({ on, privilege: row.privilege, schema }, row.lacking === 0, row.granted > 0, row.lacking > 0 ? ` (${row.lacking} of ${row.total} ${noun} lack it)` : "");
    }
  }

  const { rows: defaults } = await client.query<{ creator: string; objtype: string; privilege: string }>(
    `SELECT cr.rolname AS creator, d.defaclobjtype::text AS objtype, a.privilege_type AS privilege
     FROM pg_default_acl d
     JOIN pg_namespace n ON n.oid = d.defaclnamespace
     JOIN pg_roles cr ON cr.oid = d.defaclrole
     CROSS JOIN LATERAL aclexplode(d.defaclacl) a
     WHERE n.nspname = $2 AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $1)`,
    [role, schema],
  );
  const liveDefaults = defaults.map((row) =>
    keyId({ on: row.objtype === "S" ? "defaultSequences" : "defaultTables", privilege: row.privilege, schema, creator: row.creator }),
  );
  for (const key of managed.filter((k) => k.on === "defaultTables" || k.on === "defaultSequences")) {
    const present = liveDefaults.includes(keyId(key));
    judge(key, present, present);
  }
  return { missing, unexpected };
}

/**
 * Brings the role's privileges to the profile in one transaction: revoke what this Grant manages (now or in
 * `olds`) and the profile does not give, grant what it gives, then verify. GRANT ... ON ALL TABLES skips
 * tables the admin cannot grant on with only a warning, so an unverified apply could "succeed" empty.
 */
async function apply(client: Client, news: GrantInputs, olds?: GrantOutputs): Promise<string> {
  return inTransaction(client, async () => {
    const adminRole = await currentUser(client);
    const context = contextOf(news, adminRole);
    const want = wanted(news, adminRole);
    const previous = olds ? [...wanted(olds, olds.adminRole), ...managedKeys(contextOf(olds, olds.adminRole))] : [];
    const revoke = await stillExisting(client, withoutKeys([...managedKeys(context), ...previous], want));
    await run(client, privilegeStatements("REVOKE", revoke, news.database, news.role));
    await run(client, privilegeStatements("GRANT", want, news.database, news.role));
    const { missing } = await inspect(client, context, want);
    if (missing.length > 0) {
      throw new Error(
        `after granting, the role still lacks: ${missing.join("; ")}. Objects owned by a role the admin is not a member of ` +
          "cannot be granted on; create such roles with the postgres Role resource or GRANT them to the admin",
      );
    }
    return adminRole;
  });
}

export const grantProvider = dynamicProvider<GrantInputs, GrantOutputs>({
  async check(_olds, news) {
    const problems = failures("postgres grant", typeof news.role === "string" && typeof news.database === "string" ? `${news.role} on ${news.database}` : undefined);
    if (!isUnknown(news.adminUri) && !isPostgresUri(news.adminUri)) problems.add("adminUri", "must be a postgresql:// URI");
    // A role named "public" in GRANT ... TO means PUBLIC, quoted or not: every role.
    const identifiers: [keyof GrantInputs, unknown, boolean, (name: string) => string | undefined][] = [
      ["database", news.database, true, identifierProblem],
      ["role", news.role, true, roleNameProblem],
      ["schema", news.schema, false, identifierProblem],
      ["migrationsRole", news.migrationsRole, false, roleNameProblem],
    ];
    for (const [field, value, required, rule] of identifiers) {
      if (isUnknown(value) || (value === undefined && !required)) continue;
      if (typeof value !== "string") {
        problems.add(field, "is required (an identifier)", value);
        continue;
      }
      const problem = rule(value);
      if (problem) problems.add(field, problem, value);
    }
    problems.oneOf("profile", news.profile, profileNames, true);
    if (news.allowDelete !== undefined && !isUnknown(news.allowDelete)) {
      if (typeof news.allowDelete !== "boolean") problems.add("allowDelete", "must be true or false", news.allowDelete);
      else if (news.allowDelete && news.profile !== "app") problems.add("allowDelete", "is only allowed with profile app", news.allowDelete);
    }
    if (news.profile === "app" && news.migrationsRole === undefined) {
      problems.add("migrationsRole", "is required with profile app (the role whose future tables the app must be able to use)");
    }
    if (news.profile === "migrations" && news.migrationsRole !== undefined) {
      problems.add("migrationsRole", "is only allowed with profile app", news.migrationsRole);
    }
    if (typeof news.migrationsRole === "string" && news.migrationsRole === news.role) {
      problems.add("migrationsRole", "must be another role than role", news.migrationsRole);
    }
    return { inputs: problems.list.length > 0 ? news : normalise(news), failures: problems.list };
  },

  async diff(_id, olds, news) {
    const next = normalise(news);
    const replaces = changedFields({ ...olds }, { ...next }, ["database", "role"]);
    const changed = changedFields({ ...olds }, { ...next }, ["adminUri", "schema", "profile", "allowDelete", "migrationsRole"]);
    const drifted = (olds.drift ?? []).length > 0;
    return { changes: replaces.length + changed.length > 0 || drifted, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const news = normalise(inputs);
    const adminRole = await withConnection(connectOptions(news), "granting", (client) => apply(client, news));
    return { id: `${news.database}/${news.role}`, outs: { ...news, adminRole, drift: [] } };
  },

  async read(id, props) {
    if (!props) return { id: "" };
    try {
      return await withConnection(connectOptions(props), "reading privileges", async (client) => {
        if (!(await roleExists(client, props.role))) return { id: "" };
        const adminRole = props.adminRole ?? (await currentUser(client));
        const context = contextOf(props, adminRole);
        const { missing, unexpected } = await inspect(client, context, wanted(props, adminRole));
        return { id, props: { ...props, adminRole, drift: [...missing, ...unexpected] } };
      });
    } catch (error) {
      if (isDatabaseGone(error)) return { id: "" };
      throw error;
    }
  },

  async update(_id, olds, news) {
    const next = normalise(news);
    const adminRole = await withConnection(connectOptions(next), "updating privileges", (client) => apply(client, next, olds));
    return { outs: { ...next, adminRole, drift: [] } };
  },

  /**
   * Revokes everything this Grant manages, then hands objects the role created here to the admin, so that
   * DROP ROLE can succeed and the data survives. No DROP OWNED here: it would also remove default privileges
   * other Grants rely on (the app's "for role migrations" ones) and privileges from another schema's Grant.
   */
  async delete(_id, props) {
    try {
      await withConnection(connectOptions(props), "revoking", async (client) => {
        if (!(await roleExists(client, props.role))) return;
        await inTransaction(client, async () => {
          const admins = [...new Set([props.adminRole, await currentUser(client)].filter((name): name is string => Boolean(name)))];
          const keys = admins.flatMap((admin) => [...wanted(props, admin), ...managedKeys(contextOf(props, admin))]);
          await run(client, privilegeStatements("REVOKE", await stillExisting(client, keys), props.database, props.role));
          await client.query(`REASSIGN OWNED BY ${quoteIdentifier(props.role)} TO CURRENT_USER`);
        });
      });
    } catch (error) {
      if (!isDatabaseGone(error)) throw error;
    }
  },
});

export interface GrantArgs {
  /** The admin's connection URI (on Neon, the project owner's). Secret. Any database: the provider connects to `database`. */
  adminUri: pulumi.Input<string>;
  /** Database the privileges are on, e.g. `app`. Changing it replaces the grant. */
  database: pulumi.Input<string>;
  /** The role receiving the privileges, e.g. a `Role`'s `name`. Changing it replaces the grant. */
  role: pulumi.Input<string>;
  /** Schema the table privileges are on. @default `public` */
  schema?: pulumi.Input<string>;
  /**
   * `app`: read/write rows, no DDL (the app's runtime role); `migrations`: DDL in the schema (seed 000's
   * `migrations`). Changing it revokes what the old profile gave and the new one does not.
   */
  profile: pulumi.Input<Profile>;
  /** app profile only: also DELETE rows. @default `false` */
  allowDelete?: pulumi.Input<boolean>;
  /** app profile, required: the role Alembic runs as, whose future tables and sequences the app gets privileges on. */
  migrationsRole?: pulumi.Input<string>;
}

/**
 * A privilege profile of one role on one database and schema (seed 000's GRANT / ALTER DEFAULT PRIVILEGES
 * block). One Grant per role and database.
 */
export class Grant extends pulumi.dynamic.Resource {
  declare readonly database: pulumi.Output<string>;
  declare readonly role: pulumi.Output<string>;
  declare readonly schema: pulumi.Output<string>;
  declare readonly profile: pulumi.Output<Profile>;
  declare readonly allowDelete: pulumi.Output<boolean>;
  declare readonly adminRole: pulumi.Output<string>;
  declare readonly drift: pulumi.Output<string[]>;

  constructor(name: string, args: GrantArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      grantProvider,
      name,
      { ...args, adminRole: undefined, drift: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["adminUri"] }),
      "postgres",
      "Grant",
    );
  }
}
