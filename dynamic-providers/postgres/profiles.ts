/**
 * Privilege profiles as data: every GRANT, REVOKE and ALTER DEFAULT PRIVILEGES the Grant resource runs is
 * rendered from these rules, and read() compares the live catalog against the same rules.
 */
export type Profile = "app" | "migrations";
export const profileNames: readonly Profile[] = ["app", "migrations"];

export type Target = "database" | "schema" | "tables" | "sequences" | "defaultTables" | "defaultSequences";

/** Whose future objects a default-privilege rule covers: the admin (URI owner) or the app's migrations role. */
export type Creator = "admin" | "migrationsRole";

export interface ProfileRule {
  on: Target;
  privileges: readonly string[];
  /** Default-privilege rules only: the roles whose future tables/sequences get these privileges. */
  creators?: readonly Creator[];
  /** The rule applies only with `allowDelete: true`. */
  onlyWithAllowDelete?: boolean;
}

/** Every privilege PostgreSQL knows on each kind of object: what a Grant manages (and revokes if unwanted). */
export const allPrivileges = {
  database: ["CONNECT", "CREATE", "TEMPORARY"],
  schema: ["USAGE", "CREATE"],
  tables: ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"],
  sequences: ["USAGE", "SELECT", "UPDATE"],
} as const;

const appTables = ["SELECT", "INSERT", "UPDATE"];
// INSERT into a table with a serial/identity key calls nextval(), which needs USAGE on the sequence.
const appSequences = ["USAGE", "SELECT"];
// Future tables come from Alembic (as the migrations role) and, rarely, from the admin by hand.
const appCreators: readonly Creator[] = ["migrationsRole", "admin"];

export const profiles: Record<Profile, readonly ProfileRule[]> = {
  /** Runtime role: read and write rows, no DDL. */
  app: [
    { on: "database", privileges: ["CONNECT"] },
    { on: "schema", privileges: ["USAGE"] },
    { on: "tables", privileges: appTables },
    { on: "tables", privileges: ["DELETE"], onlyWithAllowDelete: true },
    { on: "sequences", privileges: appSequences },
    { on: "defaultTables", creators: appCreators, privileges: appTables },
    { on: "defaultTables", creators: appCreators, privileges: ["DELETE"], onlyWithAllowDelete: true },
    { on: "defaultSequences", creators: appCreators, privileges: appSequences },
  ],
  /**
   * Alembic's role (seed 000's `migrations`): creates, alters and drops its own tables. Objects it creates
   * are its own (an owner holds every privilege implicitly), so its default privileges cover the admin's.
   */
  migrations: [
    { on: "database", privileges: ["CONNECT"] },
    { on: "schema", privileges: ["USAGE", "CREATE"] },
    { on: "tables", privileges: allPrivileges.tables },
    { on: "sequences", privileges: allPrivileges.sequences },
    { on: "defaultTables", creators: ["admin"], privileges: allPrivileges.tables },
    { on: "defaultSequences", creators: ["admin"], privileges: allPrivileges.sequences },
  ],
};

/** Who and where a profile applies: the names every rule is rendered with. */
export interface GrantContext {
  database: string;
  schema: string;
  role: string;
  /** The role the admin URI logs in as (`current_user`). */
  adminRole: string;
  migrationsRole?: string;
}

/** One privilege on one target; `creator` is the resolved role name for default privileges. */
export interface PrivilegeKey {
  on: Target;
  privilege: string;
  schema: string;
  creator?: string;
}

export function keyId(key: PrivilegeKey): string {
  return `${key.on}|${key.schema}|${key.creator ?? ""}|${key.privilege}`;
}

function creatorName(creator: Creator, context: GrantContext): string | undefined {
  return creator === "admin" ? context.adminRole : context.migrationsRole;
}

function unique(keys: PrivilegeKey[]): PrivilegeKey[] {
  const seen = new Map<string, PrivilegeKey>();
  for (const key of keys) if (!seen.has(keyId(key))) seen.set(keyId(key), key);
  return [...seen.values()];
}

/** What `profile` gives the role in `context`. */
export function expandProfile(profile: Profile, allowDelete: boolean, context: GrantContext): PrivilegeKey[] {
  const keys: PrivilegeKey[] = [];
  for (const rule of profiles[profile]) {
    if (rule.onlyWithAllowDelete && !allowDelete) continue;
    const creators = rule.creators
      ? rule.creators.map((creator) => creatorName(creator, context)).filter((name): name is string => name !== undefined)
      : [undefined];
    for (const creator of creators) {
      for (const privilege of rule.privileges) keys.push({ on: rule.on, privilege, schema: context.schema, creator });
    }
  }
  return unique(keys);
}

/** Every privilege a Grant in `context` manages, whichever profile: anything outside its profile is revoked. */
export function managedKeys(context: GrantContext): PrivilegeKey[] {
  const keys: PrivilegeKey[] = [];
  const { schema } = context;
  for (const on of ["database", "schema", "tables", "sequences"] as const) {
    for (const privilege of allPrivileges[on]) keys.push({ on, privilege, schema });
  }
  const creators = [context.adminRole, context.migrationsRole].filter((name): name is string => name !== undefined);
  for (const creator of creators) {
    for (const privilege of allPrivileges.tables) keys.push({ on: "defaultTables", privilege, schema, creator });
    for (const privilege of allPrivileges.sequences) keys.push({ on: "defaultSequences", privilege, schema, creator });
  }
  return unique(keys);
}

/** Keys in `from` that are not in `remove`. */
export function withoutKeys(from: PrivilegeKey[], remove: PrivilegeKey[]): PrivilegeKey[] {
  const removed = remove.map(keyId);
  return unique(from).filter((key) => !removed.includes(keyId(key)));
}

export function describeKey(key: PrivilegeKey, database: string): string {
  switch (key.on) {
    case "database":
      return `${key.privilege} on database ${database}`;
    case "schema":
      return `${key.privilege} on schema ${key.schema}`;
    case "tables":
      return `${key.privilege} on all tables in schema ${key.schema}`;
    case "sequences":
      return `${key.privilege} on all sequences in schema ${key.schema}`;
    case "defaultTables":
      return `default ${key.privilege} on tables created by ${key.creator} in schema ${key.schema}`;
    case "defaultSequences":
      return `default ${key.privilege} on sequences created by ${key.creator} in schema ${key.schema}`;
  }
}

/** A quoted identifier; pg is loaded at call time, as everywhere in provider code. */
export function quoteIdentifier(name: string): string {
  const { escapeIdentifier } = require("pg") as typeof import("pg");
  return escapeIdentifier(name);
}

function objectClause(key: PrivilegeKey, database: string): string {
  const schema = quoteIdentifier(key.schema);
  switch (key.on) {
    case "database":
      return `DATABASE ${quoteIdentifier(database)}`;
    case "schema":
      return `SCHEMA ${schema}`;
    case "tables":
      return `ALL TABLES IN SCHEMA ${schema}`;
    case "sequences":
      return `ALL SEQUENCES IN SCHEMA ${schema}`;
    case "defaultTables":
      return "TABLES";
    case "defaultSequences":
      return "SEQUENCES";
  }
}

/**
 * GRANT (or REVOKE) statements for `keys`, one per target, in a stable order: database, schema, then objects,
 * then default privileges (revokes run in the reverse order).
 */
export function privilegeStatements(action: "GRANT" | "REVOKE", keys: PrivilegeKey[], database: string, role: string): string[] {
  const order: Target[] = ["database", "schema", "tables", "sequences", "defaultTables", "defaultSequences"];
  const groups = new Map<string, { key: PrivilegeKey; privileges: string[] }>();
  for (const key of unique(keys)) {
    const group = `${order.indexOf(key.on)}|${key.schema}|${key.creator ?? ""}`;
    const entry = groups.get(group) ?? { key, privileges: [] };
    entry.privileges.push(key.privilege);
    groups.set(group, entry);
  }
  const grantee = quoteIdentifier(role);
  const statements = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, { key, privileges }]) => {
      const list = privileges.join(", ");
      const object = objectClause(key, database);
      const grant = action === "GRANT" ? `GRANT ${list} ON ${object} TO ${grantee}` : `REVOKE ${list} ON ${object} FROM ${grantee}`;
      if (key.on === "defaultTables" || key.on === "defaultSequences") {
        return `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdentifier(key.creator ?? "")} IN SCHEMA ${quoteIdentifier(key.schema)} ${grant}`;
      }
      return grant;
    });
  return action === "GRANT" ? statements : statements.reverse();
}
