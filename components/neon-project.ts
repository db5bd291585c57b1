import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { failures } from "../dynamic-providers/core/check";
import { Branch } from "../dynamic-providers/neon/branch";
import { neonTimestampRule, parseNeonTimestamp } from "../dynamic-providers/neon/check";
import { ConnectionUri } from "../dynamic-providers/neon/connection-uri";
import { checkPostgresName, Database } from "../dynamic-providers/neon/database";
import { Endpoint } from "../dynamic-providers/neon/endpoint";
import { Project, projectDefaults } from "../dynamic-providers/neon/project";
import { Role as NeonRole } from "../dynamic-providers/neon/role";
import { Grant } from "../dynamic-providers/postgres/grant";
import { DatabaseLockdown } from "../dynamic-providers/postgres/lockdown";
import { profileNames, type Profile } from "../dynamic-providers/postgres/profiles";
import { Role, roleNameProblem } from "../dynamic-providers/postgres/role";

/** A database on the branch. The key it is listed under in `databases` is its name. */
export interface NeonDatabaseArgs {
  /**
   * Pulumi's `protect` option on the database: `pulumi destroy`, a replacing change or removing it from
   * `databases` fails instead of dropping its data.
   * @default `false`
   */
  protect?: boolean;
}

/** A login role with a generated password. The key it is listed under in `roles` is its name. */
export interface NeonRoleArgs {
  /**
   * What the role may do on each of its databases (the postgres Grant's profiles): `app` reads and writes rows
   * without DDL, `migrations` owns the schema's DDL.
   * @example `"app"`
   */
  profile: Profile;
  /**
   * The databases the role may connect to; every one must be a key of `databases`. Each database is closed to
   * every role not listing it.
   * @example `["app"]`
   */
  databases: string[];
  /** `app` profile only: also DELETE rows. @default `false` */
  allowDelete?: pulumi.Input<boolean>;
  /**
   * `app` profile only: the role whose future tables and sequences this role gets default privileges on; a key of
   * `roles` with profile `migrations` on each of this role's databases.
   * @default on each database, the one role with profile `migrations` listing it; with none, the project owner
   * @example `"migrations"`
   */
  migrationsRole?: string;
}

/** The branch's read_write compute. */
export interface NeonComputeArgs {
  /** Autoscaling minimum in compute units (CU). @default Neon's project default (`0.25`) */
  minCu?: pulumi.Input<number>;
  /** Autoscaling maximum in compute units (CU). @default Neon's project default */
  maxCu?: pulumi.Input<number>;
  /** Scale-to-zero delay in seconds: `0` = Neon's default (300), `-1` = never. @default `0` (Neon's) */
  suspendTimeoutSeconds?: pulumi.Input<number>;
}

interface NeonProjectCommonArgs {
  /**
   * The databases on the branch, by name. Owner mode: the FIRST key is the database Neon creates with the project
   * (its owner role is `<first key>_owner`), adopted rather than created. Every database is closed to PUBLIC.
   * @example `{ app: { protect: true }, analytics: {} }`
   */
  databases: Record<string, NeonDatabaseArgs>;
  /**
   * Login roles by name, each with its privilege profile and the databases it may connect to.
   * @default `{}` (only the project owner)
   * @example `{ web: { profile: "app", databases: ["app"] }, migrations: { profile: "migrations", databases: ["app"] } }`
   */
  roles?: Record<string, NeonRoleArgs>;
  /** The branch's compute. @default Neon's defaults for every field */
  compute?: NeonComputeArgs;
  /**
   * Change it (a date, say) to give every role in `roles` a new password; `pulumi up --replace` on one password
   * resource does the same for one role.
   * @example `"2025-06-01"`
   */
  rotatePasswords?: pulumi.Input<string>;
}

/** The stack that creates the Neon project and owns its settings (usually production). */
export interface NeonProjectOwnerArgs extends NeonProjectCommonArgs {
  mode: "owner";
  /** Neon project name. @example `"shop"` */
  name: pulumi.Input<string>;
  /** Neon region; changing it replaces the project. @example `"aws-eu-central-1"` */
  regionId: pulumi.Input<string>;
  /** Postgres major version; changing it replaces the project. @default `17` (the neon:Project provider's) */
  pgVersion?: pulumi.Input<number>;
  /** Point-in-time restore window in seconds. @default `86400` (Neon's) */
  historyRetentionSeconds?: pulumi.Input<number>;
  /** Neon organization id. @default the API key's personal account */
  orgId?: pulumi.Input<string>;
  /**
   * Pulumi's `protect` option on the project and its default branch: `pulumi destroy` and a replacing change fail
   * instead of deleting them. Databases take their own `protect`.
   * @default `false`
   */
  protect?: boolean;
  /** Neon branch protection on the default branch (Neon refuses to delete or reset it). @default `false` */
  protectMainBranch?: pulumi.Input<boolean>;
  /** Name of the branch Neon creates with the project; a change renames it. @default `main` (Neon's) */
  defaultBranchName?: pulumi.Input<string>;
  /**
   * IP allow list of the project (IPs, CIDRs, `a-b` ranges). Applies to every branch unless
   * `protectedBranchesOnly`; needs Neon's Scale plan. Leave it unset when a neon:IpAllowList owns the list.
   * @default left as it is (a new project allows every IP)
   * @example `["203.0.113.7", "198.51.100.0/24"]`
   */
  allowedIps?: pulumi.Input<pulumi.Input<string>[]>;
  /** Apply `allowedIps` to protected branches only. @default `false` */
  protectedBranchesOnly?: pulumi.Input<boolean>;
  /** Take over a project, databases and roles built by hand (same names) instead of failing. @default `false` */
  adopt?: boolean;
}

/** A stack that works on its own branch of the owner stack's project (staging, previews). */
export interface NeonProjectBranchArgs extends NeonProjectCommonArgs {
  mode: "branch";
  /** The owner stack's `projectId` (read it with a StackReference). */
  projectId: pulumi.Input<string>;
  /** The branch to copy, usually the owner stack's `branchId`. Changing it replaces the branch. */
  parentBranchId: pulumi.Input<string>;
  /** Branch name. @example `"staging"` */
  name: pulumi.Input<string>;
  /** The project owner's Neon-managed role: the owner stack's `ownerRoleName`. */
  ownerRoleName: pulumi.Input<string>;
  /**
   * Set it to a new value (a date) to reset the branch to its parent's current data, keeping the branch id,
   * endpoint and hosts. The reset also restores the parent's role passwords, so a new value also makes new
   * passwords for the owner and every role on this branch.
   * @example `"2025-06-01"`
   */
  resetFromParent?: pulumi.Input<string>;
  /**
   * When Neon deletes the branch and its compute: an RFC 3339 timestamp at most 30 days ahead, e.g. a preview's
   * safety net should its teardown never run. A new value moves it in place; removing it removes the expiry. A
   * reset keeps it. Neon refuses an expiry on a branch with children.
   * @default none: the branch never expires
   * @example `"2026-07-01T00:00:00Z"`
   */
  expiresAt?: pulumi.Input<string>;
}

/** Owner mode creates the project; branch mode branches from an existing one. */
export type NeonProjectArgs = NeonProjectOwnerArgs | NeonProjectBranchArgs;

/** Connection URL formats `connectionUrl` writes; TLS is always required. */
export const postgresDrivers = ["sqlalchemy+asyncpg", "sqlalchemy+psycopg", "libpq", "node-postgres"] as const;
export type PostgresDriver = (typeof postgresDrivers)[number];

export interface NeonConnectionUrlOptions {
  /** Through Neon's PgBouncer (`-pooler` host, transaction mode) rather than the direct host. @default `false` */
  pooled?: boolean;
  /**
   * - `sqlalchemy+asyncpg`: `postgresql+asyncpg://…?ssl=require` (the asyncpg dialect passes query parameters to
   *   asyncpg.connect(), which takes `ssl`, not libpq's `sslmode`)
   * - `sqlalchemy+psycopg`: `postgresql+psycopg://…?sslmode=require` (SQLAlchemy's psycopg 3 dialect)
   * - `libpq`: `postgresql://…?sslmode=require`, for psql, psycopg.connect(), asyncpg.connect() and most others
   * - `node-postgres`: `postgresql://…?sslmode=verify-full` (pg-connection-string 2.x treats `require` as
   *   `verify-full` and warns; saying it avoids the warning and keeps the meaning in pg 9)
   * @default `libpq` (the format of Neon's own connection strings)
   */
  driver?: PostgresDriver;
}

const urlFormats: Record<PostgresDriver, { scheme: string; query: string }> = {
  "sqlalchemy+asyncpg": { scheme: "postgresql+asyncpg", query: "ssl=require" },
  "sqlalchemy+psycopg": { scheme: "postgresql+psycopg", query: "sslmode=require" },
  libpq: { scheme: "postgresql", query: "sslmode=require" },
  "node-postgres": { scheme: "postgresql", query: "sslmode=verify-full" },
};

/** The project, branch and owner this component works on, whichever mode made them. */
interface BranchTarget {
  projectId: pulumi.Output<string>;
  branchId: pulumi.Output<string>;
  ownerRoleName: pulumi.Output<string>;
  /** Changes when the branch is reset, so credentials are fetched and set again afterwards. */
  resetTrigger: pulumi.Input<string> | undefined;
  /** Whether the databases and roles exist before this stack runs (copied from a parent, or hand-made). */
  adopt: boolean;
  /**
   * The branch may vanish by itself (it expires): then the SQL objects on it (roles, grants, lock-downs) are only
   * dropped from the state on delete, since connecting to an expired branch to drop them would fail the destroy
   * and leave the stack's apps running; deleting the branch removes them anyway.
   */
  sqlGoesWithBranch: boolean;
}

/** A role's login and where it may connect, for `connectionUrl`. */
interface Login {
  user: pulumi.Output<string>;
  password: pulumi.Output<string>;
  /** Its Grant per database: a URL waits for it, so an app never gets credentials it cannot use yet. */
  grants: Map<string, Grant>;
}

/** The user's password in a Neon connection URI, decoded (Neon's URIs percent-encode it). */
function passwordOf(uri: string): string {
  return decodeURIComponent(new URL(uri).password);
}

/** The Grant's logical name: one per role and database, so reordering a role's databases changes nothing. */
function grantName(name: string, role: string, database: string): string {
  return `${name}-${role}-${database}`;
}

/**
 * A Neon project (owner mode) or a branch of one (branch mode), and on that branch a compute endpoint, the
 * databases and login roles the program names, each role granted its privilege profile on its databases only,
 * every database closed to PUBLIC, and `connectionUrl` for each role and database (secret).
 */
export class NeonProject extends pulumi.ComponentResource {
  /** Neon project id (export it from the owner stack for branch stacks). */
  public readonly projectId: pulumi.Output<string>;
  /** The branch this stack works on: the default branch in owner mode, the new branch in branch mode. */
  public readonly branchId: pulumi.Output<string>;
  /** The project owner's Neon-managed role, `<first database>_owner`. */
  public readonly ownerRoleName: pulumi.Output<string>;
  public readonly endpointId: pulumi.Output<string>;
  /** Direct host: migrations, and clients that keep prepared statements or session state. */
  public readonly host: pulumi.Output<string>;
  /** PgBouncer host (`-pooler`, transaction mode). */
  public readonly poolerHost: pulumi.Output<string>;

  private readonly componentName: string;
  private readonly databaseNames: Map<string, pulumi.Output<string>>;
  private readonly logins: Map<string, Login>;
  private readonly ownerPassword: pulumi.Output<string>;

  constructor(name: string, args: NeonProjectArgs, opts?: pulumi.ComponentResourceOptions) {
    validate(name, args);
    super("platform:index:NeonProject", name, {}, opts);
    this.componentName = name;
    const firstDatabase = Object.keys(args.databases)[0];

    const target = args.mode === "owner" ? this.createProject(name, args, firstDatabase) : this.createBranch(name, args);
    const endpoint = this.createEndpoint(name, target, args.compute ?? {});
    const databases = this.createDatabases(name, target, args.databases, firstDatabase);
    const owner = new ConnectionUri(
      `${name}-owner`,
      {
        projectId: target.projectId,
        branchId: target.branchId,
        endpointId: endpoint.endpointId,
        databaseName: databases.get(firstDatabase) as pulumi.Output<string>,
        roleName: target.ownerRoleName,
        refreshTrigger: target.resetTrigger,
      },
      { parent: this },
    );
    this.logins = this.createRoles(name, target, owner.uri, databases, args);
    for (const [database, databaseName] of databases) {
      new DatabaseLockdown(`${name}-${database}`, { adminUri: owner.uri, database: databaseName }, { parent: this, retainOnDelete: target.sqlGoesWithBranch });
    }

    this.databaseNames = databases;
    this.ownerPassword = pulumi.secret(owner.uri.apply(passwordOf));
    this.projectId = target.projectId;
    this.branchId = target.branchId;
    this.ownerRoleName = target.ownerRoleName;
    this.endpointId = endpoint.endpointId;
    this.host = endpoint.host;
    this.poolerHost = endpoint.poolerHost;
    this.registerOutputs({
      projectId: this.projectId,
      branchId: this.branchId,
      ownerRoleName: this.ownerRoleName,
      endpointId: this.endpointId,
      host: this.host,
      poolerHost: this.poolerHost,
    });
  }

  /**
   * The URL `role` logs in to `database` with (secret). It resolves once the role's Grant on the database is
   * applied, so a resource that takes it waits for the privileges.
   * @example `project.connectionUrl("web", "app", { pooled: true, driver: "node-postgres" })`
   */
  public connectionUrl(role: string, database: string, opts: NeonConnectionUrlOptions = {}): pulumi.Output<string> {
    const fail = (message: string): never => {
      throw new Error(`NeonProject '${this.componentName}': connectionUrl: ${message}`);
    };
    const login = this.logins.get(role);
    if (!login) return fail(`role '${role}' is not one of roles (${listOf([...this.logins.keys()])})`);
    const databaseName = this.databaseName(database, "connectionUrl");
    const grant = login.grants.get(database);
    if (!grant) return fail(`role '${role}' may not connect to database '${database}' (its databases: ${listOf([...login.grants.keys()])})`);
    return this.url(login.user, login.password, databaseName, opts, "connectionUrl", grant.urn);
  }

  /**
   * The URL the project owner logs in to `database` with (secret): for what needs more than a profile gives,
   * e.g. a server that creates its own schema in a database of its own.
   * @example `project.ownerConnectionUrl("jobs", { driver: "sqlalchemy+asyncpg" })`
   */
  public ownerConnectionUrl(database: string, opts: NeonConnectionUrlOptions = {}): pulumi.Output<string> {
    return this.url(this.ownerRoleName, this.ownerPassword, this.databaseName(database, "ownerConnectionUrl"), opts, "ownerConnectionUrl");
  }

  private databaseName(database: string, method: string): pulumi.Output<string> {
    const found = this.databaseNames.get(database);
    if (!found) throw new Error(`NeonProject '${this.componentName}': ${method}: database '${database}' is not one of databases (${listOf([...this.databaseNames.keys()])})`);
    return found;
  }

  private url(
    user: pulumi.Output<string>,
    password: pulumi.Output<string>,
    database: pulumi.Output<string>,
    opts: NeonConnectionUrlOptions,
    method: string,
    waitFor?: pulumi.Output<string>,
  ): pulumi.Output<string> {
    const driver: unknown = opts.driver ?? "libpq";
    if (!isDriver(driver)) throw new Error(`NeonProject '${this.componentName}': ${method}: driver must be one of ${postgresDrivers.join(", ")}, got ${JSON.stringify(driver)}`);
    const { scheme, query } = urlFormats[driver];
    const host = (opts.pooled ?? false) ? this.poolerHost : this.host;
    return pulumi.secret(
      pulumi
        .all([user, password, host, database, waitFor])
        .apply(([u, p, h, d]) => `${scheme}://${encodeURIComponent(u)}:${encodeURIComponent(p)}@${h}/${encodeURIComponent(d)}?${query}`),
    );
  }

  /** Owner mode: the project, and its implicit default branch taken over so it can be protected. */
  private createProject(name: string, owner: NeonProjectOwnerArgs, firstDatabase: string): BranchTarget {
    const protect = owner.protect ?? false;
    const project = new Project(
      `${name}-project`,
      {
        name: owner.name,
        regionId: owner.regionId,
        pgVersion: owner.pgVersion,
        historyRetentionSeconds: owner.historyRetentionSeconds,
        defaultBranchName: owner.defaultBranchName ?? projectDefaults.defaultBranchName,
        defaultDatabaseName: firstDatabase,
        allowedIps: owner.allowedIps,
        protectedBranchesOnly: owner.protectedBranchesOnly,
        orgId: owner.orgId,
        adopt: owner.adopt,
      },
      { parent: this, protect },
    );
    // Named `main` whatever the branch is called, so renaming the branch updates it in place.
    const defaultBranch = new Branch(
      `${name}-main`,
      { projectId: project.projectId, name: project.defaultBranchName, protected: owner.protectMainBranch ?? false, adopt: true },
      { parent: this, protect },
    );
    return { projectId: project.projectId, branchId: defaultBranch.branchId, ownerRoleName: project.defaultRoleName, resetTrigger: undefined, adopt: owner.adopt ?? false, sqlGoesWithBranch: false };
  }

  /**
   * Branch mode. A Neon branch copies its parent's databases and roles (with their passwords), so everything
   * on it may already exist: it is adopted, and the roles get this branch's own passwords.
   */
  private createBranch(name: string, branch: NeonProjectBranchArgs): BranchTarget {
    const created = new Branch(
      `${name}-branch`,
      { projectId: branch.projectId, name: branch.name, parentId: branch.parentBranchId, resetFromParent: branch.resetFromParent, expiresAt: branch.expiresAt },
      { parent: this },
    );
    // The copied owner role would keep the parent's password (and get it back on every reset): adopting it
    // with a rotation key gives this branch its own owner password, again after each reset.
    const owner = new NeonRole(
      `${name}-owner`,
      {
        projectId: branch.projectId,
        branchId: created.branchId,
        name: branch.ownerRoleName,
        adopt: true,
        rotatePassword: pulumi.output(branch.resetFromParent).apply((reset) => `branch-own-password:${reset ?? ""}`),
      },
      { parent: this },
    );
    return { projectId: pulumi.output(branch.projectId), branchId: created.branchId, ownerRoleName: owner.name, resetTrigger: branch.resetFromParent,
      adopt: true,
      // Whether the branch expires must be known now (it decides a resource option), so an expiry given as a
      // value not known until deploy counts as one.
      sqlGoesWithBranch: branch.expiresAt !== undefined,
    };
  }

  private createEndpoint(name: string, target: BranchTarget, compute: NeonComputeArgs): Endpoint {
    return new Endpoint(
      `${name}-endpoint`,
      {
        projectId: target.projectId,
        branchId: target.branchId,
        type: "read_write",
        minCu: compute.minCu,
        maxCu: compute.maxCu,
        suspendTimeoutSeconds: compute.suspendTimeoutSeconds,
        // Neon makes the default branch's read_write endpoint with the project. A branch made by neon:Branch has
        // none, so this creates one there; an adopted endpoint is left in place on delete, a created one is deleted.
        adopt: true,
      },
      { parent: this },
    );
  }

  /** The databases, owned by the project owner; by key, the `name` output (so users of it wait for the database). */
  private createDatabases(name: string, target: BranchTarget, databases: Record<string, NeonDatabaseArgs>, firstDatabase: string): Map<string, pulumi.Output<string>> {
    return new Map(
      Object.entries(databases).map(([database, options]): [string, pulumi.Output<string>] => {
        const created = new Database(
          `${name}-${database}`,
          {
            projectId: target.projectId,
            branchId: target.branchId,
            name: database,
            ownerName: target.ownerRoleName,
            // Owner mode: Neon made the first database with the project.
            adopt: database === firstDatabase || target.adopt,
          },
          { parent: this, protect: options.protect ?? false },
        );
        return [database, created.name];
      }),
    );
  }

  /** Each role with its password, and its Grant on each of its databases. */
  private createRoles(
    name: string,
    target: BranchTarget,
    adminUri: pulumi.Output<string>,
    databases: Map<string, pulumi.Output<string>>,
    args: NeonProjectArgs,
  ): Map<string, Login> {
    const roles = args.roles ?? {};
    const keepers = pulumi.all([args.rotatePasswords, target.resetTrigger]).apply(([rotate, reset]) => ({ rotate: rotate ?? "", reset: reset ?? "" }));
    const logins = new Map<string, Login>();
    for (const role of Object.keys(roles)) {
      const password = this.password(`${name}-${role}`, keepers);
      const created = new Role(`${name}-${role}`, { adminUri, name: role, password, adopt: target.adopt }, { parent: this, retainOnDelete: target.sqlGoesWithBranch });
      logins.set(role, { user: created.name, password, grants: new Map() });
    }
    const loginOf = (role: string) => logins.get(role) as Login;
    for (const [role, spec] of Object.entries(roles)) {
      spec.databases.forEach((database, index) => {
        const migrationsRole = migrationsRoleOf(roles, role, database);
        const appOnly =
          spec.profile === "app" ? { migrationsRole: migrationsRole === undefined ? target.ownerRoleName : loginOf(migrationsRole).user, allowDelete: spec.allowDelete } : {};
        const grant = new Grant(
          grantName(name, role, database),
          { adminUri, database: databases.get(database) as pulumi.Output<string>, role: loginOf(role).user, profile: spec.profile, ...appOnly },
          // Before a role could list several databases, its one Grant was named `<name>-<role>`.
          { parent: this, aliases: index === 0 ? [{ name: `${name}-${role}` }] : undefined, retainOnDelete: target.sqlGoesWithBranch },
        );
        loginOf(role).grants.set(database, grant);
      });
    }
    return logins;
  }

  private password(name: string, keepers: pulumi.Input<Record<string, pulumi.Input<string>>>): pulumi.Output<string> {
    // Letters and digits only: the password goes into URLs and `fly secrets` values unescaped by some tools.
    return new random.RandomPassword(`${name}-password`, { length: 32, special: false, keepers }, { parent: this }).result;
  }
}

function isDriver(value: unknown): value is PostgresDriver {
  return typeof value === "string" && (postgresDrivers as readonly string[]).includes(value);
}

function listOf(names: string[]): string {
  return names.length > 0 ? names.join(", ") : "none";
}

/** The migrations role an `app` role's future-object privileges follow on `database`; undefined means the owner. */
function migrationsRoleOf(roles: Record<string, NeonRoleArgs>, role: string, database: string): string | undefined {
  const named = roles[role].migrationsRole;
  if (named !== undefined) return named;
  const candidates = Object.entries(roles).filter(([, spec]) => spec.profile === "migrations" && spec.databases.includes(database));
  return candidates.length === 1 ? candidates[0][0] : undefined;
}

/** Checks the mode and the layout, before any resource is made; errors name the field and the allowed values. */
function validate(name: string, args: NeonProjectArgs): void {
  const fail = (message: string): never => {
    throw new Error(`NeonProject '${name}': ${message}`);
  };
  const mode: unknown = (args as { mode?: unknown }).mode;
  if (mode !== "owner" && mode !== "branch") {
    fail(`mode must be "owner" (the stack that creates the project) or "branch" (a branch of the owner stack's project), got ${JSON.stringify(mode)}`);
  }
  const required: readonly string[] = mode === "owner" ? ["name", "regionId"] : ["projectId", "parentBranchId", "name", "ownerRoleName"];
  const missing = required.filter((field) => (args as unknown as Record<string, unknown>)[field] === undefined);
  if (missing.length > 0) fail(`${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} required in ${String(mode)} mode`);

  const expiresAt = (args as { expiresAt?: unknown }).expiresAt;
  if (mode === "branch" && typeof expiresAt === "string" && parseNeonTimestamp(expiresAt) === undefined) {
    fail(`expiresAt must be ${neonTimestampRule}, got ${JSON.stringify(expiresAt)}`);
  }

  const databases = Object.keys(args.databases ?? {});
  if (databases.length === 0) fail("databases must name at least one database, e.g. `{ app: {} }`");
  // The providers' own name rules, so a layout that passes here also passes their check().
  const problems = failures("NeonProject", name);
  for (const database of databases) checkPostgresName(problems, `databases['${database}']`, database);
  const roles = Object.entries(args.roles ?? {});
  for (const [role, spec] of roles) {
    const field = `roles['${role}']`;
    const roleProblem = roleNameProblem(role);
    if (roleProblem) problems.add(field, roleProblem, role);
    if (mode === "owner" && role === `${databases[0]}_owner`) problems.add(field, `is the project owner Neon creates with database '${databases[0]}'; name the role differently`, role);
    if (!profileNames.includes(spec.profile)) problems.add(`${field}.profile`, `must be one of ${profileNames.join(", ")}`, spec.profile);
    if (!Array.isArray(spec.databases) || spec.databases.length === 0) {
      problems.add(`${field}.databases`, `must list at least one of databases (${databases.join(", ")})`, spec.databases);
      continue;
    }
    for (const database of spec.databases) {
      if (!databases.includes(database)) problems.add(`${field}.databases`, `must list only keys of databases (${databases.join(", ")})`, database);
    }
    if (new Set(spec.databases).size !== spec.databases.length) problems.add(`${field}.databases`, "must not list a database twice", spec.databases);
    if (spec.profile !== "app") {
      if (spec.allowDelete !== undefined) problems.add(`${field}.allowDelete`, "is only allowed with profile app", spec.allowDelete);
      if (spec.migrationsRole !== undefined) problems.add(`${field}.migrationsRole`, "is only allowed with profile app", spec.migrationsRole);
      continue;
    }
    for (const database of spec.databases) {
      const onDatabase = roles.filter(([, other]) => other.profile === "migrations" && Array.isArray(other.databases) && other.databases.includes(database)).map(([other]) => other);
      if (spec.migrationsRole !== undefined && !onDatabase.includes(spec.migrationsRole)) {
        problems.add(`${field}.migrationsRole`, `must be a role with profile migrations on database '${database}' (there: ${listOf(onDatabase)})`, spec.migrationsRole);
      } else if (spec.migrationsRole === undefined && onDatabase.length > 1) {
        problems.add(`${field}.migrationsRole`, `is required: database '${database}' has several roles with profile migrations (${onDatabase.join(", ")})`);
      }
    }
  }
  if (problems.list.length > 0) throw new Error(problems.list.map((problem) => problem.reason).join("; "));
}
