/**
 * Seed 000 §4 "Neon Database Setup", step by step, done by the providers (called directly, check → create or
 * check → diff → update as the engine does) against the Neon emulator, whose branches are real PostgreSQL
 * servers. Each `it` is one item of the seed, in the seed's order.
 *
 * Order: the seed creates the staging branch (§ Create Project and Branches) before `prefect_server` and the
 * SQL users (§ Create Databases, § Create Database Users). A branch is a copy of its parent at the moment it
 * is made, so staging does not get them from main: the program makes them on each branch, each environment
 * with its own passwords. A staging reset later copies main again, roles and their passwords included.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type * as pulumi from "@pulumi/pulumi";
import { branchProvider, type BranchInputs, type BranchOutputs } from "../../dynamic-providers/neon/branch";
import { connectionUriProvider, type ConnectionUriInputs, type ConnectionUriOutputs } from "../../dynamic-providers/neon/connection-uri";
import { databaseProvider, type DatabaseInputs, type DatabaseOutputs } from "../../dynamic-providers/neon/database";
import { endpointProvider, type EndpointInputs, type EndpointOutputs } from "../../dynamic-providers/neon/endpoint";
import { projectProvider, type ProjectInputs, type ProjectOutputs } from "../../dynamic-providers/neon/project";
import { grantProvider, type GrantInputs, type GrantOutputs } from "../../dynamic-providers/postgres/grant";
import { databaseLockdownProvider, type DatabaseLockdownInputs, type DatabaseLockdownOutputs } from "../../dynamic-providers/postgres/lockdown";
import { roleProvider, type RoleInputs, type RoleOutputs } from "../../dynamic-providers/postgres/role";
import { failure, sql } from "../postgres/neon-like";
import { useNeonEmulator } from "./support";

type Environment = "main" | "staging";
const environments: readonly Environment[] = ["main", "staging"];
const sqlUsers = ["migrations", "pipeline"] as const;
type SqlUser = (typeof sqlUsers)[number];

/** Stands in for @pulumi/random's RandomPassword: one per user and environment. */
const passwords: Record<Environment, Record<SqlUser, string>> = {
  main: { migrations: randomBytes(18).toString("base64url"), pipeline: randomBytes(18).toString("base64url") },
  staging: { migrations: randomBytes(18).toString("base64url"), pipeline: randomBytes(18).toString("base64url") },
};

const { emu } = useNeonEmulator({ operationMs: 5, assertContract: false });
let project: ProjectOutputs;
let staging: BranchOutputs;
const branchIds = {} as Record<Environment, string>;
const endpoints = {} as Record<Environment, EndpointOutputs>;
/** owner@naluma_content per branch: the admin URI the postgres resources get, as the Neon component wires it. */
const ownerUris = {} as Record<Environment, ConnectionUriOutputs>;
const prefectUris = {} as Record<Environment, ConnectionUriOutputs>;
const roles = {} as Record<Environment, Record<SqlUser, RoleOutputs>>;

/** check() then create(), as the engine does; returns the id and outputs. */
async function create<I, O>(provider: pulumi.dynamic.ResourceProvider<I, O>, inputs: I): Promise<{ id: string; outs: O }> {
  const checked = await provider.check!({} as I, inputs);
  expect(checked.failures ?? []).toEqual([]);
  const result = await provider.create!((checked.inputs ?? inputs) as I);
  return { id: result.id, outs: result.outs as O };
}

/** check() → diff() → update() as `pulumi up` does for a changed input; returns the new outputs. */
async function update<I, O>(provider: pulumi.dynamic.ResourceProvider<I, O>, id: string, olds: O, news: I): Promise<O> {
  const checked = await provider.check!(olds as unknown as I, news);
  expect(checked.failures ?? []).toEqual([]);
  const next = (checked.inputs ?? news) as I;
  const diff = await provider.diff!(id, olds, next);
  expect(diff).toMatchObject({ changes: true, replaces: [] });
  return (await provider.update!(id, olds, next)).outs as O;
}

/** A URI to the same endpoint as `uri` with another role's credentials (the program builds the app's URLs this way). */
function uriAs(uri: string, role: string, password: string): string {
  const url = new URL(uri);
  url.username = encodeURIComponent(role);
  url.password = encodeURIComponent(password);
  return url.toString();
}

const appUri = (env: Environment): string => uriAs(ownerUris[env].pooledUri, "pipeline", passwords[env].pipeline);
const migrationsUri = (env: Environment): string => uriAs(ownerUris[env].uri, "migrations", passwords[env].migrations);

function superuser(env: Environment, database = "naluma_content"): string {
  const cluster = emu.state.cluster(project.projectId, branchIds[env]);
  if (!cluster) throw new Error(`no cluster behind branch ${env}`);
  return cluster.adminUri(database);
}

async function roleNames(env: Environment): Promise<string[]> {
  const rows = await sql<{ name: string }>(superuser(env), "SELECT rolname AS name FROM pg_roles WHERE rolname IN ('pipeline', 'migrations') ORDER BY 1");
  return rows.map((row) => row.name);
}

async function connectionUri(env: Environment, databaseName: string): Promise<ConnectionUriOutputs> {
  const inputs: ConnectionUriInputs = {
    projectId: project.projectId,
    branchId: branchIds[env],
    endpointId: endpoints[env].endpointId,
    databaseName,
    roleName: project.defaultRoleName,
  };
  return (await create(connectionUriProvider, inputs)).outs;
}

describe("seed 000 §4 Neon Database Setup", () => {
  describe("Create Project and Branches", () => {
    it("2. Create project: naluma_content", async () => {
      const inputs: ProjectInputs = { name: "naluma_content", regionId: "aws-eu-central-1", defaultDatabaseName: "naluma_content" };
      project = (await create(projectProvider, inputs)).outs;
      expect(project).toMatchObject({ name: "naluma_content", defaultDatabaseName: "naluma_content", defaultRoleName: "naluma_content_owner" });
      expect(emu.state.projects().map((p) => p.name)).toEqual(["naluma_content"]);
      emu.assertContract();
    });

    it("3. The default branch is main (production), with its read_write compute", async () => {
      branchIds.main = project.defaultBranchId;
      expect(emu.state.branch(project.projectId, branchIds.main)).toMatchObject({ name: "main", default: true });
      // Neon makes main's compute with the project: the Endpoint resource adopts it instead of making a second one.
      const inputs: EndpointInputs = { projectId: project.projectId, branchId: branchIds.main, adopt: true };
      endpoints.main = (await create(endpointProvider, inputs)).outs;
      expect(endpoints.main).toMatchObject({ endpointId: project.defaultEndpointId, type: "read_write", adopted: true });
      ownerUris.main = await connectionUri("main", "naluma_content");
      expect(decodeURIComponent(new URL(ownerUris.main.uri).password)).toBe(project.ownerPassword);
      emu.assertContract();
    });

    it("4. Create a staging branch: Branches > Create Branch from main (with its own read_write endpoint)", async () => {
      const inputs: BranchInputs = { projectId: project.projectId, name: "staging", parentId: branchIds.main };
      const created = await create(branchProvider, inputs);
      staging = created.outs;
      branchIds.staging = created.id;
      expect(emu.state.branch(project.projectId, branchIds.staging)).toMatchObject({ name: "staging", parent_id: branchIds.main, default: false });
      endpoints.staging = (await create(endpointProvider, { projectId: project.projectId, branchId: branchIds.staging } as EndpointInputs)).outs;
      expect(endpoints.staging.endpointId).not.toBe(endpoints.main.endpointId);
      ownerUris.staging = await connectionUri("staging", "naluma_content");
      expect(await sql(ownerUris.staging.uri, "SELECT current_user AS who, current_database() AS db")).toEqual([
        { who: "naluma_content_owner", db: "naluma_content" },
      ]);
      emu.assertContract();
    });
  });

  describe("Configure IP Allowlist", () => {
    it("1-3. Allow Fly.io's fra egress IPs and the local development IP; reject unlisted IPs", async () => {
      // Documentation addresses stand in for Fly's egress ranges and a developer's IP (they come from stack config).
      const allowedIps = ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"];
      const inputs: ProjectInputs = { name: "naluma_content", regionId: "aws-eu-central-1", defaultDatabaseName: "naluma_content", allowedIps };
      emu.resetCalls();
      project = await update(projectProvider, project.projectId, project, inputs);
      expect(emu.calls.filter((call) => call.method !== "GET").map((call) => [call.operationId, call.requestBody])).toEqual([
        ["updateProject", { project: { settings: { allowed_ips: { ips: allowedIps, protected_branches_only: false } } } }],
      ]);
      expect(emu.state.project(project.projectId)?.settings.allowed_ips).toEqual({ ips: allowedIps, protected_branches_only: false });
      emu.assertContract();
    });
  });

  describe("Create Databases", () => {
    it("naluma_content is created automatically with the project (and copied to staging)", async () => {
      for (const env of environments) {
        expect(emu.state.databases(project.projectId, branchIds[env]).map((d) => [d.name, d.owner_name])).toEqual([["naluma_content", "naluma_content_owner"]]);
      }
    });

    it("CREATE DATABASE prefect_server, on each branch", async () => {
      for (const env of environments) {
        const inputs: DatabaseInputs = { projectId: project.projectId, branchId: branchIds[env], name: "prefect_server", ownerName: project.defaultRoleName };
        const created: DatabaseOutputs = (await create(databaseProvider, inputs)).outs;
        expect(created).toMatchObject({ name: "prefect_server", ownerName: "naluma_content_owner", adopted: false });
        const rows = await sql(superuser(env, "postgres"), "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'prefect_server'");
        expect(rows).toEqual([{ owner: "naluma_content_owner" }]);
        prefectUris[env] = await connectionUri(env, "prefect_server");
      }
      emu.assertContract();
    });
  });

  describe("Create Database Users", () => {
    it("CREATE USER pipeline / migrations WITH PASSWORD: on main, then on staging, which was branched before they existed", async () => {
      for (const env of environments) {
        roles[env] = {} as Record<SqlUser, RoleOutputs>;
        expect(await roleNames(env)).toEqual([]);
        for (const name of sqlUsers) {
          const inputs: RoleInputs = { adminUri: ownerUris[env].uri, name, password: passwords[env][name] };
          roles[env][name] = (await create(roleProvider, inputs)).outs;
        }
        expect(await roleNames(env)).toEqual(["migrations", "pipeline"]);
        if (env === "main") expect(await roleNames("staging")).toEqual([]);
      }
      // SQL roles are not Neon API roles (those join neon_superuser and could read every table).
      expect(emu.state.roles(project.projectId, branchIds.main).map((role) => role.name)).toEqual(["naluma_content_owner"]);
    });

    it("Only granted roles connect: PUBLIC loses CONNECT on naluma_content and prefect_server (the seed's GRANT CONNECT means it)", async () => {
      for (const env of environments) {
        for (const database of ["naluma_content", "prefect_server"]) {
          const inputs: DatabaseLockdownInputs = { adminUri: ownerUris[env].uri, database };
          const created: DatabaseLockdownOutputs = (await create(databaseLockdownProvider, inputs)).outs;
          expect(created.drift).toEqual([]);
        }
        const rows = await sql(
          ownerUris[env].uri,
          "SELECT has_database_privilege('public', 'naluma_content', 'CONNECT') AS app, has_database_privilege('public', 'prefect_server', 'CONNECT') AS prefect",
        );
        expect(rows).toEqual([{ app: false, prefect: false }]);
      }
    });

    it("Migrations user: CONNECT, USAGE + CREATE on public, ALL on tables and sequences, now and by default", async () => {
      for (const env of environments) {
        const inputs: GrantInputs = { adminUri: ownerUris[env].uri, database: "naluma_content", role: "migrations", profile: "migrations" };
        const created: GrantOutputs = (await create(grantProvider, inputs)).outs;
        expect(created).toMatchObject({ adminRole: "naluma_content_owner", drift: [] });
        const rows = await sql(
          ownerUris[env].uri,
          "SELECT has_database_privilege('migrations', 'naluma_content', 'CONNECT') AS connect, has_schema_privilege('migrations', 'public', 'CREATE') AS create",
        );
        expect(rows).toEqual([{ connect: true, create: true }]);
      }
    });

    it("Pipeline user (app runtime), no DDL: CONNECT, USAGE, SELECT/INSERT/UPDATE on all tables and on migrations' future ones", async () => {
      for (const env of environments) {
        const inputs: GrantInputs = {
          adminUri: ownerUris[env].uri,
          database: "naluma_content",
          role: "pipeline",
          profile: "app",
          migrationsRole: "migrations",
        };
        const created: GrantOutputs = (await create(grantProvider, inputs)).outs;
        expect(created).toMatchObject({ allowDelete: false, drift: [] });
        const defaults = await sql(
          ownerUris[env].uri,
          `SELECT pg_get_userbyid(d.defaclrole) AS creator, d.defaclobjtype AS kind, array_agg(a.privilege_type ORDER BY a.privilege_type) AS privileges
           FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) a
           WHERE a.grantee = 'pipeline'::regrole GROUP BY 1, 2 ORDER BY 1, 2`,
        );
        expect(defaults).toContainEqual({ creator: "migrations", kind: "r", privileges: ["INSERT", "SELECT", "UPDATE"] });
      }
    });
  });

  describe("Connection Strings", () => {
    it("App: pipeline@naluma_content through the pooler (DATABASE_URL): connects, no DDL, cannot reach prefect_server", async () => {
      const uri = new URL(appUri("main"));
      const endpoint = emu.state.endpoints(project.projectId).find((e) => e.id === endpoints.main.endpointId);
      expect(uri.port).toBe(String(endpoint?.pooler.port));
      expect(uri.pathname).toBe("/naluma_content");
      expect(await sql(appUri("main"), "SELECT current_user AS who")).toEqual([{ who: "pipeline" }]);
      expect(await failure(sql(appUri("main"), "CREATE TABLE nope (id int)"))).toMatch(/permission denied for schema public/);
      const toPrefect = new URL(appUri("main"));
      toPrefect.pathname = "/prefect_server";
      expect(await failure(sql(toPrefect.toString(), "SELECT 1"))).toMatch(/permission denied for database "prefect_server"/);
    });

    it("Migrations: migrations@naluma_content (DATABASE_URL_MIGRATIONS) creates a table with a serial key; the app then writes and reads it", async () => {
      await sql(migrationsUri("main"), "CREATE TABLE articles (id serial PRIMARY KEY, title text NOT NULL)");
      expect(await sql(appUri("main"), "INSERT INTO articles (title) VALUES ('from production') RETURNING id")).toEqual([{ id: 1 }]);
      expect(await sql(appUri("main"), "UPDATE articles SET title = 'edited' WHERE id = 1 RETURNING title")).toEqual([{ title: "edited" }]);
      expect(await sql(appUri("main"), "SELECT id, title FROM articles")).toEqual([{ id: 1, title: "edited" }]);
      expect(await failure(sql(appUri("main"), "DELETE FROM articles"))).toMatch(/permission denied/);
    });

    it("Prefect server (direct endpoint): owner@prefect_server (PREFECT_API_DATABASE_CONNECTION_URL) connects, not through the pooler", async () => {
      const uri = prefectUris.main.uri;
      const endpoint = emu.state.endpoints(project.projectId).find((e) => e.id === endpoints.main.endpointId);
      expect(new URL(uri).port).toBe(String(endpoint?.direct.port));
      expect(uri).not.toBe(prefectUris.main.pooledUri);
      expect(await sql(uri, "SELECT current_user AS who, current_database() AS db")).toEqual([{ who: "naluma_content_owner", db: "prefect_server" }]);
    });
  });

  describe("Staging Reset", () => {
    it("1-2. Delete staging and Create Branch from main → a new resetFromParent: staging has main's rows, same branch and endpoint", async () => {
      await sql(appUri("main"), "INSERT INTO articles (title) VALUES ('written on main before the reset')");
      expect(await failure(sql(ownerUris.staging.uri, "SELECT 1 FROM articles"))).toMatch(/relation "articles" does not exist/);
      const before = { branchId: branchIds.staging, endpointId: endpoints.staging.endpointId, uri: ownerUris.staging.uri };

      const inputs: BranchInputs = { projectId: project.projectId, name: "staging", parentId: branchIds.main, protected: false, resetFromParent: "2025-06-01" };
      emu.resetCalls();
      staging = await update(branchProvider, branchIds.staging, staging, inputs);
      expect(emu.calls.filter((call) => call.method !== "GET").map((call) => call.operationId)).toEqual(["restoreProjectBranch"]);
      expect(staging).toMatchObject({ branchId: before.branchId, resetFromParent: "2025-06-01", resetAt: expect.any(String) });

      const rows = await sql<{ title: string }>(ownerUris.staging.uri, "SELECT title FROM articles ORDER BY id");
      expect(rows.map((row) => row.title)).toEqual(["edited", "written on main before the reset"]);
      expect(emu.state.endpoints(project.projectId).find((e) => e.branch_id === before.branchId)?.id).toBe(before.endpointId);
      emu.assertContract();
    });

    it("3. Update staging connection strings if endpoint changed: it did not, and a refresh re-sets the SQL users' staging passwords", async () => {
      const refreshed = await connectionUriProvider.read!(`${branchIds.staging}`, ownerUris.staging);
      expect(refreshed.props).toMatchObject({ uri: ownerUris.staging.uri, pooledUri: ownerUris.staging.pooledUri });
      expect((await connectionUriProvider.diff!("id", ownerUris.staging, ownerUris.staging)).changes).toBe(false);

      // The reset copied main's roles, so staging's pipeline now has main's password: refresh sees it, `up` fixes it.
      expect(await failure(sql(appUri("staging"), "SELECT 1"))).toMatch(/password authentication failed/);
      for (const name of sqlUsers) {
        const read = await roleProvider.read!(name, roles.staging[name]);
        const drifted = read.props as RoleOutputs;
        expect(drifted.drift).toEqual(["password does not match"]);
        const diff = await roleProvider.diff!(name, drifted, { adminUri: ownerUris.staging.uri, name, password: passwords.staging[name] });
        expect(diff).toMatchObject({ changes: true, replaces: [] });
        roles.staging[name] = (await roleProvider.update!(name, drifted, { adminUri: ownerUris.staging.uri, name, password: passwords.staging[name] })).outs as RoleOutputs;
      }
      expect(await sql(appUri("staging"), "SELECT count(*)::int AS n FROM articles")).toEqual([{ n: 2 }]);
      expect(await failure(sql(appUri("staging").replace(passwords.staging.pipeline, passwords.main.pipeline), "SELECT 1"))).toMatch(
        /password authentication failed/,
      );
    });
  });

  describe("Test Migrations", () => {
    it("DATABASE_URL_MIGRATIONS on staging runs a migration; production does not see it", async () => {
      await sql(migrationsUri("staging"), "ALTER TABLE articles ADD COLUMN slug text", "CREATE TABLE briefs (id serial PRIMARY KEY, body text)");
      expect(await sql(appUri("staging"), "INSERT INTO briefs (body) VALUES ('staged') RETURNING id")).toEqual([{ id: 1 }]);
      expect(await failure(sql(appUri("main"), "SELECT 1 FROM briefs"))).toMatch(/relation "briefs" does not exist/);
      emu.assertContract();
    });
  });
});
