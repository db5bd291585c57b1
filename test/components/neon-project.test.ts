import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { NeonProject as NeonProjectClass, NeonProjectArgs, NeonProjectBranchArgs, NeonProjectOwnerArgs } from "../../components/neon-project";
import { valueOf } from "./fly-mocks";
import { constructRecording, recordingMocks, type Child } from "./recording-mocks";

/** Generated passwords carry URL-special characters, so every URL shows its percent-encoding. */
const generatedPassword = (resourceName: string): string => `${resourceName}:p@ss/word`;
/** The owner password inside Neon's (percent-encoded) connection URI: `owner/pw@x`. */
const ownerPasswordEncoded = "owner%2Fpw%40x";
const host = "ep-cool-1.eu-central-1.aws.neon.tech";
const poolerHost = "ep-cool-1-pooler.eu-central-1.aws.neon.tech";

/** Neon-shaped outputs for the dynamic resources; everything else echoes its inputs. */
function outputsFor(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "pulumi-nodejs:dynamic/neon:Project":
      return { projectId: "prj-quiet-sea-123", defaultBranchId: "br-main-1", defaultRoleName: `${String(inputs.defaultDatabaseName)}_owner` };
    case "pulumi-nodejs:dynamic/neon:Branch":
      return { branchId: inputs.adopt ? "br-main-1" : `br-${String(inputs.name)}-2` };
    case "pulumi-nodejs:dynamic/neon:Endpoint":
      return { endpointId: "ep-cool-1", host, poolerHost };
    case "pulumi-nodejs:dynamic/neon:ConnectionUri":
      return { uri: `postgresql://${String(inputs.roleName)}:${ownerPasswordEncoded}@${host}/${String(inputs.databaseName)}?sslmode=require` };
    case "random:index/randomPassword:RandomPassword":
      return { result: generatedPassword(name) };
    default:
      return {};
  }
}

const { registered, install } = recordingMocks({ outputsFor });

let NeonProject: typeof NeonProjectClass;

beforeAll(async () => {
  await install();
  ({ NeonProject } = await import("../../components/neon-project"));
});

interface Built {
  component: NeonProjectClass;
  children: Child[];
  /** Alias names given to each child, by child name. */
  aliases: Map<string, string[]>;
}

const builds = new Map<string, Promise<Built>>();

/** Builds the component once per name and waits until the mock monitor has registered every child. */
function build(name: string, args: NeonProjectArgs): Promise<Built> {
  const known = builds.get(name);
  if (known) return known;
  const aliases = new Map<string, string[]>();
  const recordAliases: pulumi.ResourceTransformation = ({ name: child, props, opts }) => {
    const names = (opts.aliases ?? []).map((alias) => (typeof alias === "object" && alias !== null && "name" in alias ? String(alias.name) : String(alias)));
    aliases.set(child, names);
    return { props, opts };
  };
  const made = constructRecording((opts) => new NeonProject(name, args, pulumi.mergeOptions(opts, { transformations: [recordAliases] }))).then((built) => ({ ...built, aliases }));
  builds.set(name, made);
  return made;
}

const dynamic = (service: string, type: string): string => `pulumi-nodejs:dynamic/${service}:${type}`;
const types = {
  project: dynamic("neon", "Project"),
  branch: dynamic("neon", "Branch"),
  neonRole: dynamic("neon", "Role"),
  endpoint: dynamic("neon", "Endpoint"),
  database: dynamic("neon", "Database"),
  connectionUri: dynamic("neon", "ConnectionUri"),
  role: dynamic("postgres", "Role"),
  grant: dynamic("postgres", "Grant"),
  lockdown: dynamic("postgres", "DatabaseLockdown"),
  password: "random:index/randomPassword:RandomPassword",
};

function inputsOf(type: string, name: string): Record<string, unknown> {
  const found = registered.get(`${type}::${name}`);
  if (!found) throw new Error(`no ${type} '${name}' was registered (have: ${[...registered.keys()].join(", ")})`);
  return found.inputs;
}

function ofType(built: Built, type: string): Child[] {
  return built.children.filter((child) => child.type === type);
}

/** Two databases, an app role and a migrations role on the first: the layout of seed 000. */
const twoByTwo = {
  databases: { content: { protect: true }, jobs: {} },
  roles: {
    writer: { profile: "app", databases: ["content"] },
    migrations: { profile: "migrations", databases: ["content"] },
  },
} satisfies Pick<NeonProjectArgs, "databases" | "roles">;

const owner: NeonProjectOwnerArgs = {
  mode: "owner",
  ...twoByTwo,
  name: "shop",
  regionId: "aws-us-east-2",
  protect: true,
  protectMainBranch: true,
  allowedIps: ["203.0.113.7"],
  protectedBranchesOnly: true,
  compute: { minCu: 0.25, maxCu: 2, suspendTimeoutSeconds: 300 },
};
const branch: NeonProjectBranchArgs = {
  mode: "branch",
  ...twoByTwo,
  projectId: "prj-quiet-sea-123",
  parentBranchId: "br-main-1",
  name: "staging",
  ownerRoleName: "content_owner",
  resetFromParent: "2025-06-01",
  compute: { minCu: 0.25, maxCu: 1 },
};

describe.each([
  { mode: "owner", name: "prod", args: owner, extra: [[types.project, "project"], [types.branch, "main"]] },
  { mode: "branch", name: "stage", args: branch, extra: [[types.branch, "branch"], [types.neonRole, "owner"]] },
])("NeonProject in $mode mode, two databases and two roles", ({ name, args, extra }) => {
  let built: Built;
  beforeAll(async () => {
    built = await build(name, args);
  });

  it("creates exactly the resources of its mode and layout, each a child of the component", async () => {
    const expected = [
      ...extra,
      [types.endpoint, "endpoint"],
      [types.database, "content"],
      [types.database, "jobs"],
      [types.connectionUri, "owner"],
      [types.password, "writer-password"],
      [types.password, "migrations-password"],
      [types.role, "writer"],
      [types.role, "migrations"],
      [types.grant, "writer-content"],
      [types.grant, "migrations-content"],
      [types.lockdown, "content"],
      [types.lockdown, "jobs"],
    ].map(([type, child]) => [type, `${name}-${child}`]);
    expect(built.children.map((child) => [child.type, child.name]).sort()).toEqual(expected.sort());
    for (const child of built.children) expect(await valueOf(child.resource.urn)).toContain(`platform:index:NeonProject$${child.type}::`);
  });

  it("puts the compute on the stack's branch with the autoscaling and suspend settings", async () => {
    const endpoint = inputsOf(types.endpoint, `${name}-endpoint`);
    expect(endpoint).toMatchObject({ projectId: "prj-quiet-sea-123", type: "read_write", minCu: args.compute?.minCu, maxCu: args.compute?.maxCu, adopt: true });
    expect(endpoint.suspendTimeoutSeconds).toBe(args.compute?.suspendTimeoutSeconds);
    expect(endpoint.branchId).toBe(await valueOf(built.component.branchId));
  });

  it("closes every database to PUBLIC and grants each role its profile on its databases only", () => {
    expect(ofType(built, types.lockdown).map((child) => inputsOf(types.lockdown, child.name).database).sort()).toEqual(["content", "jobs"]);
    const grants = ofType(built, types.grant).map((child) => inputsOf(types.grant, child.name));
    expect(grants.map((grant) => [grant.role, grant.database, grant.profile]).sort()).toEqual([
      ["migrations", "content", "migrations"],
      ["writer", "content", "app"],
    ]);
    expect(grants.find((grant) => grant.role === "writer")).toMatchObject({ migrationsRole: "migrations" });
    expect(grants.find((grant) => grant.role === "migrations")).not.toHaveProperty("migrationsRole");
  });

  it("aliases each role's first Grant to `<name>-<role>`, its name while a role had one database", () => {
    expect(built.aliases.get(`${name}-writer-content`)).toEqual([`${name}-writer`]);
    expect(built.aliases.get(`${name}-migrations-content`)).toEqual([`${name}-migrations`]);
  });

  it("connects the postgres resources as the owner, directly, to the first database", () => {
    expect(inputsOf(types.connectionUri, `${name}-owner`)).toMatchObject({ roleName: "content_owner", databaseName: "content", endpointId: "ep-cool-1" });
    expect(String(inputsOf(types.role, `${name}-migrations`).adminUri)).toMatch(new RegExp(`^postgresql://content_owner:${ownerPasswordEncoded}@${host}/`));
  });

  it("makes role passwords with @pulumi/random and hands them to the roles", () => {
    expect(inputsOf(types.password, `${name}-writer-password`)).toMatchObject({ length: 32, special: false });
    expect(inputsOf(types.role, `${name}-writer`)).toMatchObject({ name: "writer", password: generatedPassword(`${name}-writer-password`) });
  });

  it("marks the ids and hosts plain", async () => {
    const { component } = built;
    for (const plain of [component.projectId, component.branchId, component.endpointId, component.host, component.poolerHost]) expect(await pulumi.isSecret(plain)).toBe(false);
    expect(await valueOf(component.projectId)).toBe("prj-quiet-sea-123");
    expect(await valueOf(component.ownerRoleName)).toBe("content_owner");
    expect(await valueOf(component.poolerHost)).toBe(poolerHost);
  });
});

describe("owner mode", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("prod", owner);
  });

  it("creates the project with Neon's default branch name and the first database as the one Neon creates", () => {
    expect(inputsOf(types.project, "prod-project")).toMatchObject({
      name: "shop",
      regionId: "aws-us-east-2",
      defaultBranchName: "main",
      defaultDatabaseName: "content",
      allowedIps: ["203.0.113.7"],
      protectedBranchesOnly: true,
    });
  });

  it("protects the project and its default branch with `protect`, and the databases that ask for it", () => {
    const protectedChildren = built.children.filter((child) => child.protect === true).map((child) => [child.type, child.name]);
    expect(protectedChildren.sort()).toEqual([[types.branch, "prod-main"], [types.database, "prod-content"], [types.project, "prod-project"]].sort());
  });

  it("adopts the default branch and the first database, creates the others, and exposes the default branch as branchId", async () => {
    expect(inputsOf(types.branch, "prod-main")).toMatchObject({ projectId: "prj-quiet-sea-123", name: "main", protected: true, adopt: true });
    expect(inputsOf(types.database, "prod-content")).toMatchObject({ adopt: true, ownerName: "content_owner", branchId: "br-main-1" });
    expect(inputsOf(types.database, "prod-jobs")).toMatchObject({ adopt: false, ownerName: "content_owner" });
    expect(inputsOf(types.role, "prod-writer").adopt).toBe(false);
    expect(await valueOf(built.component.branchId)).toBe("br-main-1");
  });

  it("gives the project and each branch a claim of their own: sha256 of organization/project/stack/type/name, 32 hex digits", async () => {
    const { createHash } = await import("node:crypto");
    const claimOf = (type: string, name: string) =>
      createHash("sha256").update(["organization", pulumi.getProject(), pulumi.getStack(), type, name].join("/")).digest("hex").slice(0, 32);
    expect(inputsOf(types.project, "prod-project").claim).toBe(claimOf("neon:Project", "prod-project"));
    expect(inputsOf(types.branch, "prod-main").claim).toBe(claimOf("neon:Branch", "prod-main"));
    expect(inputsOf(types.project, "prod-project").claim).toMatch(/^[0-9a-f]{32}$/);
    expect(inputsOf(types.branch, "prod-main").claim).not.toBe(inputsOf(types.project, "prod-project").claim);
  });

  it("ties passwords to rotatePasswords only", () => {
    expect(inputsOf(types.password, "prod-writer-password").keepers).toEqual({ rotate: "", reset: "" });
  });

  it("takes another default branch name", async () => {
    await build("renamed", { ...owner, defaultBranchName: "production", protect: false });
    expect(inputsOf(types.project, "renamed-project").defaultBranchName).toBe("production");
    expect(inputsOf(types.branch, "renamed-main").name).toBe("production");
  });
});

describe("branch mode", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("stage", branch);
  });

  it("branches from the parent with the reset trigger", async () => {
    expect(inputsOf(types.branch, "stage-branch")).toMatchObject({ projectId: "prj-quiet-sea-123", name: "staging", parentId: "br-main-1", resetFromParent: "2025-06-01" });
    expect(await valueOf(built.component.branchId)).toBe("br-staging-2");
  });

  it("creates no project and protects only the databases that ask for it", () => {
    expect(ofType(built, types.project)).toEqual([]);
    expect(built.children.filter((child) => child.protect === true).map((child) => child.name)).toEqual(["stage-content"]);
  });

  it("adopts the databases and roles the branch copied from its parent", () => {
    for (const child of ["stage-content", "stage-jobs"]) expect(inputsOf(types.database, child)).toMatchObject({ adopt: true, branchId: "br-staging-2" });
    expect(ofType(built, types.role).map((child) => inputsOf(types.role, child.name).adopt)).toEqual([true, true]);
  });

  it("gives the branch's copy of the owner role its own password, rotated again on every reset", () => {
    expect(inputsOf(types.neonRole, "stage-owner")).toMatchObject({ branchId: "br-staging-2", name: "content_owner", adopt: true, rotatePassword: "branch-own-password:2025-06-01" });
  });

  it("gives the roles new passwords and fetches the owner's credentials again when the branch is reset", () => {
    expect(inputsOf(types.password, "stage-migrations-password").keepers).toEqual({ rotate: "", reset: "2025-06-01" });
    expect(inputsOf(types.connectionUri, "stage-owner").refreshTrigger).toBe("2025-06-01");
  });
});

describe("branch mode with expiresAt", () => {
  it("hands the expiry to the branch, which a branch without one does not get", async () => {
    await build("preview", { ...branch, name: "preview/pr-12", resetFromParent: undefined, expiresAt: "2026-07-01T00:00:00Z" });
    expect(inputsOf(types.branch, "preview-branch")).toMatchObject({ name: "preview/pr-12", parentId: "br-main-1", expiresAt: "2026-07-01T00:00:00Z" });
    await build("stage", branch);
    expect(inputsOf(types.branch, "stage-branch").expiresAt).toBeUndefined();
  });

  it("lets the SQL objects go with an expiring branch: a destroy after Neon deleted it cannot connect to drop them", async () => {
    const sqlTypes: string[] = [types.role, types.grant, types.lockdown];
    const retained = (built: Built) => built.children.filter((child) => sqlTypes.includes(child.type)).map((child) => child.retainOnDelete);
    const preview = retained(await build("preview", { ...branch, name: "preview/pr-12", resetFromParent: undefined, expiresAt: "2026-07-01T00:00:00Z" }));
    expect(preview.length).toBeGreaterThan(0);
    expect(preview.every((flag) => flag === true)).toBe(true);
    // A lasting branch drops them for real when they leave the program.
    const stage = retained(await build("stage", branch));
    expect(stage.length).toBeGreaterThan(0);
    expect(stage.every((flag) => flag === false)).toBe(true);
  });
});

describe("connection URLs", () => {
  let component: NeonProjectClass;
  beforeAll(async () => {
    ({ component } = await build("prod", owner));
  });

  const writerPassword = encodeURIComponent(generatedPassword("prod-writer-password"));

  it("percent-encodes the password (`:`, `@`, `/`)", () => {
    expect(writerPassword).toBe("prod-writer-password%3Ap%40ss%2Fword");
  });

  it.each([
    ["sqlalchemy+asyncpg", `postgresql+asyncpg://writer:${writerPassword}@${host}/content?ssl=require`],
    ["sqlalchemy+psycopg", `postgresql+psycopg://writer:${writerPassword}@${host}/content?sslmode=require`],
    ["libpq", `postgresql://writer:${writerPassword}@${host}/content?sslmode=require`],
    ["node-postgres", `postgresql://writer:${writerPassword}@${host}/content?sslmode=verify-full`],
  ] as const)("driver %s: %s (secret)", async (driver, expected) => {
    const url = component.connectionUrl("writer", "content", { driver });
    expect(await valueOf(url)).toBe(expected);
    expect(await pulumi.isSecret(url)).toBe(true);
  });

  it("is direct libpq by default, and goes through the pooler with `pooled`", async () => {
    expect(await valueOf(component.connectionUrl("writer", "content"))).toBe(`postgresql://writer:${writerPassword}@${host}/content?sslmode=require`);
    expect(await valueOf(component.connectionUrl("writer", "content", { pooled: true, driver: "sqlalchemy+asyncpg" }))).toBe(
      `postgresql+asyncpg://writer:${writerPassword}@${poolerHost}/content?ssl=require`,
    );
  });

  it("ownerConnectionUrl logs in as the project owner with the password from Neon's URI, to any database (secret)", async () => {
    const url = component.ownerConnectionUrl("jobs", { driver: "sqlalchemy+asyncpg" });
    expect(await valueOf(url)).toBe(`postgresql+asyncpg://content_owner:${ownerPasswordEncoded}@${host}/jobs?ssl=require`);
    expect(await pulumi.isSecret(url)).toBe(true);
  });

  it.each([
    ["an unknown role", () => component.connectionUrl("reader", "content"), "connectionUrl: role 'reader' is not one of roles (writer, migrations)"],
    ["an unknown database", () => component.connectionUrl("writer", "archive"), "connectionUrl: database 'archive' is not one of databases (content, jobs)"],
    ["a database the role is not granted", () => component.connectionUrl("writer", "jobs"), "connectionUrl: role 'writer' may not connect to database 'jobs' (its databases: content)"],
    ["an unknown driver", () => component.connectionUrl("writer", "content", { driver: "jdbc" as never }), 'connectionUrl: driver must be one of sqlalchemy+asyncpg, sqlalchemy+psycopg, libpq, node-postgres, got "jdbc"'],
    ["an unknown database for the owner", () => component.ownerConnectionUrl("archive"), "ownerConnectionUrl: database 'archive' is not one of databases (content, jobs)"],
  ])("refuses %s, naming the allowed values", (_case, call, message) => {
    expect(call).toThrow(`NeonProject 'prod': ${message}`);
  });
});

describe("a layout of one database and one app role, no migrations role", () => {
  const solo: NeonProjectArgs = { mode: "owner", name: "blog", regionId: "aws-eu-west-2", databases: { app: {} }, roles: { web: { profile: "app", databases: ["app"], allowDelete: true } } };
  let built: Built;
  beforeAll(async () => {
    built = await build("solo", solo);
  });

  it("creates the one database with the project, one role, one grant and one lockdown, and protects nothing", () => {
    expect(built.children.map((child) => [child.type, child.name]).sort()).toEqual(
      [
        [types.project, "solo-project"],
        [types.branch, "solo-main"],
        [types.endpoint, "solo-endpoint"],
        [types.database, "solo-app"],
        [types.connectionUri, "solo-owner"],
        [types.password, "solo-web-password"],
        [types.role, "solo-web"],
        [types.grant, "solo-web-app"],
        [types.lockdown, "solo-app"],
      ].sort(),
    );
    expect(inputsOf(types.project, "solo-project")).toMatchObject({ name: "blog", regionId: "aws-eu-west-2", defaultDatabaseName: "app" });
    expect(built.children.filter((child) => child.protect === true)).toEqual([]);
  });

  it("gives the app role default privileges on the owner's future tables, and DELETE when asked", () => {
    expect(inputsOf(types.grant, "solo-web-app")).toMatchObject({ role: "web", database: "app", profile: "app", migrationsRole: "app_owner", allowDelete: true });
  });

  it("hands out web's node-postgres URL through the pooler", async () => {
    const url = built.component.connectionUrl("web", "app", { pooled: true, driver: "node-postgres" });
    expect(await valueOf(url)).toBe(`postgresql://web:${encodeURIComponent(generatedPassword("solo-web-password"))}@${poolerHost}/app?sslmode=verify-full`);
  });
});

describe("roles on several databases", () => {
  const several: NeonProjectArgs = {
    mode: "owner",
    name: "analytics",
    regionId: "aws-us-east-1",
    databases: { app: {}, warehouse: {}, scratch: {} },
    roles: {
      web: { profile: "app", databases: ["app"] },
      migrator: { profile: "migrations", databases: ["app", "warehouse"] },
      schema_b: { profile: "migrations", databases: ["warehouse"] },
      reporting: { profile: "app", databases: ["warehouse", "app"], migrationsRole: "migrator" },
    },
  };
  let built: Built;
  beforeAll(async () => {
    built = await build("multi", several);
  });

  it("makes one Grant per role and database, named after both, and none on a database no role lists", () => {
    const grants = ofType(built, types.grant).map((child) => [child.name, inputsOf(types.grant, child.name).role, inputsOf(types.grant, child.name).database]);
    expect(grants.sort()).toEqual(
      [
        ["multi-web-app", "web", "app"],
        ["multi-migrator-app", "migrator", "app"],
        ["multi-migrator-warehouse", "migrator", "warehouse"],
        ["multi-schema_b-warehouse", "schema_b", "warehouse"],
        ["multi-reporting-warehouse", "reporting", "warehouse"],
        ["multi-reporting-app", "reporting", "app"],
      ].sort(),
    );
    expect(ofType(built, types.lockdown).map((child) => inputsOf(types.lockdown, child.name).database).sort()).toEqual(["app", "scratch", "warehouse"]);
  });

  it("aliases only the Grant on a role's first database", () => {
    expect(built.aliases.get("multi-reporting-warehouse")).toEqual(["multi-reporting"]);
    expect(built.aliases.get("multi-reporting-app")).toEqual([]);
    expect(built.aliases.get("multi-migrator-warehouse")).toEqual([]);
  });

  it("follows the one migrations role on each database, or the one named", () => {
    expect(inputsOf(types.grant, "multi-web-app").migrationsRole).toBe("migrator");
    expect(inputsOf(types.grant, "multi-reporting-warehouse").migrationsRole).toBe("migrator");
  });

  it("connects a role to each of its databases and to no other", async () => {
    expect(await valueOf(built.component.connectionUrl("reporting", "app"))).toMatch(/^postgresql:\/\/reporting:[^@]+@[^/]+\/app\?sslmode=require$/);
    expect(await valueOf(built.component.connectionUrl("reporting", "warehouse"))).toMatch(/\/warehouse\?sslmode=require$/);
    expect(() => built.component.connectionUrl("reporting", "scratch")).toThrow("role 'reporting' may not connect to database 'scratch' (its databases: warehouse, app)");
  });
});

describe("arguments", () => {
  const ownerBase: NeonProjectOwnerArgs = { mode: "owner", name: "p", regionId: "aws-us-east-1", databases: { app: {} } };
  const branchBase: NeonProjectBranchArgs = { mode: "branch", projectId: "prj-1", parentBranchId: "br-1", name: "dev", ownerRoleName: "app_owner", databases: { app: {} } };
  const without = (args: NeonProjectArgs, field: string): NeonProjectArgs =>
    Object.fromEntries(Object.entries(args).filter(([key]) => key !== field)) as unknown as NeonProjectArgs;
  const app = (databases: string[], extra: object = {}) => ({ profile: "app" as const, databases, ...extra });

  it.each([
    ["no mode", { ...ownerBase, mode: undefined } as unknown as NeonProjectArgs, 'mode must be "owner" (the stack that creates the project) or "branch" (a branch of the owner stack\'s project), got undefined'],
    ["an unknown mode", { ...ownerBase, mode: "fork" } as unknown as NeonProjectArgs, 'got "fork"'],
    ["owner mode without name", without(ownerBase, "name"), "name is required in owner mode"],
    ["owner mode without regionId", without(ownerBase, "regionId"), "regionId is required in owner mode"],
    ["branch mode without projectId", without(branchBase, "projectId"), "projectId is required in branch mode"],
    ["branch mode without parentBranchId", without(branchBase, "parentBranchId"), "parentBranchId is required in branch mode"],
    ["branch mode without name", without(branchBase, "name"), "name is required in branch mode"],
    ["branch mode without ownerRoleName", without(branchBase, "ownerRoleName"), "ownerRoleName is required in branch mode"],
    ["an expiresAt without a time zone", { ...branchBase, expiresAt: "2026-07-01T00:00:00" }, 'expiresAt must be an RFC 3339 timestamp with seconds and a time zone, such as `2026-07-01T00:00:00Z` or `2026-07-01T02:00:00+02:00`, got "2026-07-01T00:00:00"'],
    ["an expiresAt that is a date only", { ...branchBase, expiresAt: "2026-07-01" }, "expiresAt must be an RFC 3339 timestamp"],
    ["no database", { ...ownerBase, databases: {} }, "databases must name at least one database"],
    ["a database name over 63 bytes", { ...ownerBase, databases: { ["d".repeat(64)]: {} } }, `databases['${"d".repeat(64)}'] must be at most 63 bytes`],
    ["a role on a database not in databases", { ...ownerBase, roles: { web: app(["app", "blog"]) } }, `roles['web'].databases must list only keys of databases (app), got "blog"`],
    ["a role on no database", { ...ownerBase, roles: { web: app([]) } }, "roles['web'].databases must list at least one of databases (app), got []"],
    ["a role listing a database twice", { ...ownerBase, roles: { web: app(["app", "app"]) } }, "roles['web'].databases must not list a database twice"],
    ["a reserved role name", { ...ownerBase, roles: { pg_web: app(["app"]) } }, "roles['pg_web'] must not start with pg_"],
    ["the owner's role name", { ...ownerBase, roles: { app_owner: app(["app"]) } }, "roles['app_owner'] is the project owner Neon creates with database 'app'"],
    ["an unknown profile", { ...ownerBase, roles: { web: { profile: "admin" as never, databases: ["app"] } } }, 'roles[\'web\'].profile must be one of app, migrations, got "admin"'],
    ["allowDelete on a migrations role", { ...ownerBase, roles: { m: { profile: "migrations", databases: ["app"], allowDelete: true } } }, "roles['m'].allowDelete is only allowed with profile app"],
    ["a migrationsRole that is not a migrations role there", { ...ownerBase, roles: { web: app(["app"], { migrationsRole: "m" }) } }, "roles['web'].migrationsRole must be a role with profile migrations on database 'app' (there: none)"],
    [
      "two migrations roles on an app role's database, none chosen",
      { ...ownerBase, roles: { web: app(["app"]), m1: { profile: "migrations", databases: ["app"] }, m2: { profile: "migrations", databases: ["app"] } } },
      "roles['web'].migrationsRole is required: database 'app' has several roles with profile migrations (m1, m2)",
    ],
  ] as [string, NeonProjectArgs, string][])("refuses %s before creating anything", async (_case, args, message) => {
    expect(() => new NeonProject("bad", args)).toThrow(message);
    expect(() => new NeonProject("bad", args)).toThrow(/^NeonProject 'bad': /);
    // Registration is asynchronous: give a component that slipped through time to reach the mock monitor.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([...registered.values()].filter((resource) => resource.name.startsWith("bad"))).toEqual([]);
  });
});
