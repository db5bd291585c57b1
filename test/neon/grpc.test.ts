/**
 * The Neon and PostgreSQL providers on the path `pulumi up` takes: compiled with tsc, serialized by the SDK
 * under the mock runtime in plain Node, then run by the SDK's own dynamic-provider host over gRPC against the
 * Neon emulator. The PostgreSQL resources get their admin URI the way a component wires it: the project
 * owner's ConnectionUri (which carries the owner's password).
 */
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startNeonEmulator, type NeonEmulator } from "../emulators/neon/emulator";
import { stopAllClusters } from "../emulators/postgres/cluster";
import { runLifecycle } from "../harness/lifecycle";
import { markSecrets, startProviderHost, urnFor, withProvider, type Properties, type ProviderHostClient, type ResourceOutcome } from "../harness/provider-host";
import { assertNoSecrets } from "../harness/secrets-scan";
import { serializeProviders, type SerializedResource } from "../harness/serialize";
import { failure, sql } from "../postgres/neon-like";

const passwords = { pipeline: `pl-${randomBytes(12).toString("hex")}`, migrations: `mg-${randomBytes(12).toString("hex")}`, rotated: `rt-${randomBytes(12).toString("hex")}` };
const placeholderUri = "postgresql://naluma_content_owner:placeholder@127.0.0.1:5432/naluma_content";

let emu: NeonEmulator;
let host: ProviderHostClient;
let serialized: Record<string, SerializedResource>;
/** Every secret value seen so far: none may appear in a serialized provider or in the host's logs. */
const seenSecrets: string[] = Object.values(passwords);

/** The long-lived project the other resources live in, made through the host like everything else. */
let project: Properties;
let ownerUri: string;

function string(value: unknown): string {
  if (typeof value !== "string") throw new Error(`expected a string, got ${JSON.stringify(value)}`);
  return value;
}

/** The same server as `uri`, logged in as another role and/or to another database. */
function uriAs(uri: string, change: { role?: string; password?: string; database?: string }): string {
  const url = new URL(uri);
  if (change.role !== undefined) url.username = encodeURIComponent(change.role);
  if (change.password !== undefined) url.password = encodeURIComponent(change.password);
  if (change.database !== undefined) url.pathname = `/${encodeURIComponent(change.database)}`;
  return url.toString();
}

/** A SerializedResource with the inputs a test needs (the serialized placeholders are dropped). */
function withInputs(name: string, inputs: Properties): SerializedResource {
  return { ...serialized[name], inputs };
}

/** Check + Create through the host, as the engine does for a resource other tests depend on. */
async function provision(name: string, urnName: string, inputs: Properties, secretInputs: string[] = []): Promise<ResourceOutcome> {
  const resource = serialized[name];
  const urn = urnFor(resource.type, urnName);
  await host.configure();
  const checked = await host.check(urn, {}, markSecrets(withProvider(resource.provider, inputs), secretInputs));
  expect(checked.failures).toEqual([]);
  return host.create(urn, markSecrets(checked.inputs, checked.secretPaths), { additionalSecretOutputs: resource.additionalSecretOutputs });
}

const superuser = (branchId: string, database = "naluma_content"): string => {
  const cluster = emu.state.cluster(string(project.projectId), branchId);
  if (!cluster) throw new Error(`no cluster for branch ${branchId}`);
  return cluster.adminUri(database);
};
const mainBranch = (): string => string(project.defaultBranchId);

beforeAll(async () => {
  emu = await startNeonEmulator({ operationMs: 5 });
  const env = { NEON_API_KEY: emu.apiKey, NEON_API_URL: emu.url };
  seenSecrets.push(emu.apiKey);
  const ids = { projectId: "placeholder-project", branchId: "placeholder-branch", endpointId: "ep-placeholder" };
  serialized = await serializeProviders(
    [
      { module: "dynamic-providers/neon/project", exportName: "Project", name: "project", props: { name: "naluma_content", regionId: "aws-eu-central-1" } },
      { module: "dynamic-providers/neon/branch", exportName: "Branch", name: "branch", props: { projectId: ids.projectId, name: "staging" } },
      { module: "dynamic-providers/neon/endpoint", exportName: "Endpoint", name: "endpoint", props: { projectId: ids.projectId, branchId: ids.branchId } },
      {
        module: "dynamic-providers/neon/database",
        exportName: "Database",
        name: "database",
        props: { projectId: ids.projectId, branchId: ids.branchId, name: "prefect_server", ownerName: "naluma_content_owner" },
      },
      { module: "dynamic-providers/neon/ip-allow-list", exportName: "IpAllowList", name: "ipAllowList", props: { projectId: ids.projectId, ips: ["192.0.2.10"] } },
      { module: "dynamic-providers/neon/role", exportName: "Role", name: "neonRole", props: { projectId: ids.projectId, branchId: ids.branchId, name: "admin" } },
      {
        module: "dynamic-providers/neon/connection-uri",
        exportName: "ConnectionUri",
        name: "connectionUri",
        props: { ...ids, databaseName: "naluma_content", roleName: "naluma_content_owner" },
      },
      { module: "dynamic-providers/postgres/role", exportName: "Role", name: "pgRole", props: { adminUri: placeholderUri, name: "pipeline", password: passwords.pipeline } },
      {
        module: "dynamic-providers/postgres/grant",
        exportName: "Grant",
        name: "grant",
        props: { adminUri: placeholderUri, database: "naluma_content", role: "pipeline", profile: "app", migrationsRole: "migrations" },
      },
      { module: "dynamic-providers/postgres/lockdown", exportName: "DatabaseLockdown", name: "lockdown", props: { adminUri: placeholderUri, database: "prefect_server" } },
    ],
    { env: { ...env, ...passwords } },
  );
  host = await startProviderHost({ env });

  const created = await provision("project", "naluma_content", {
    name: "naluma_content",
    regionId: "aws-eu-central-1",
    defaultDatabaseName: "naluma_content",
  });
  project = created.properties;
  seenSecrets.push(string(project.ownerPassword));
  const owner = await provision("connectionUri", "owner-uri", {
    projectId: project.projectId,
    branchId: project.defaultBranchId,
    endpointId: project.defaultEndpointId,
    databaseName: "naluma_content",
    roleName: "naluma_content_owner",
  });
  ownerUri = string(owner.properties.uri);
  seenSecrets.push(ownerUri, string(owner.properties.pooledUri));
});

afterEach(() => emu.assertContract());

afterAll(async () => {
  await host?.close();
  await emu?.close();
  await stopAllClusters();
});

describe("Neon providers through the dynamic-provider host", () => {
  it("serialized providers carry neither the API key nor any password, and name every secret output", () => {
    expect(Object.keys(serialized)).toHaveLength(10);
    for (const resource of Object.values(serialized)) {
      expect(resource.providerIsSecret).toBe(false);
      assertNoSecrets(resource.provider, seenSecrets);
    }
    expect(Object.fromEntries(Object.entries(serialized).map(([name, resource]) => [name, [resource.type, resource.additionalSecretOutputs]]))).toEqual({
      project: ["pulumi-nodejs:dynamic/neon:Project", ["ownerPassword"]],
      branch: ["pulumi-nodejs:dynamic/neon:Branch", []],
      endpoint: ["pulumi-nodejs:dynamic/neon:Endpoint", []],
      database: ["pulumi-nodejs:dynamic/neon:Database", []],
      ipAllowList: ["pulumi-nodejs:dynamic/neon:IpAllowList", []],
      neonRole: ["pulumi-nodejs:dynamic/neon:Role", ["password"]],
      connectionUri: ["pulumi-nodejs:dynamic/neon:ConnectionUri", ["uri", "pooledUri"]],
      pgRole: ["pulumi-nodejs:dynamic/postgres:Role", ["adminUri", "password"]],
      grant: ["pulumi-nodejs:dynamic/postgres:Grant", ["adminUri"]],
      lockdown: ["pulumi-nodejs:dynamic/postgres:DatabaseLockdown", ["adminUri"]],
    });
  });

  it("the owner's ConnectionUri is the admin URI: it carries the project's owner password and connects", async () => {
    expect(decodeURIComponent(new URL(ownerUri).password)).toBe(project.ownerPassword);
    expect(await sql(ownerUri, "SELECT current_user AS who")).toEqual([{ who: "naluma_content_owner" }]);
  });

  it("Project: create with its implicit branch/endpoint/database/owner, rename in place, replace on region, delete twice", async () => {
    let projectId = "";
    const outcome = await runLifecycle(
      host,
      {
        resource: withInputs("project", { name: "grpc-lifecycle", regionId: "aws-eu-central-1", defaultDatabaseName: "lifecycle" }),
        name: "grpc-lifecycle",
        update: { name: "grpc-lifecycle-renamed", historyRetentionSeconds: 3600 },
        replace: { regionId: "aws-us-east-2" },
        deleteBeforeReplace: true,
      },
      {
        afterCreate: (created) => {
          projectId = created.id;
          expect(created.secretPaths).toContain("ownerPassword");
          seenSecrets.push(string(created.properties.ownerPassword));
          expect(created.properties).toMatchObject({ defaultBranchName: "main", defaultDatabaseName: "lifecycle", defaultRoleName: "lifecycle_owner" });
          expect(emu.state.project(projectId)?.name).toBe("grpc-lifecycle");
          expect(emu.state.databases(projectId, string(created.properties.defaultBranchId)).map((d) => d.name)).toEqual(["lifecycle"]);
        },
        afterUpdate: (updated) => {
          expect(updated.secretPaths).toContain("ownerPassword");
          expect(emu.state.project(projectId)).toMatchObject({ name: "grpc-lifecycle-renamed", history_retention_seconds: 3600 });
        },
        afterDelete: () => expect(emu.state.project(projectId)).toBeUndefined(),
      },
    );
    expect(outcome.read.secretPaths).toContain("ownerPassword");
    expect(outcome.read.properties.ownerPassword).toBe(outcome.created.properties.ownerPassword);
  });

  it("IpAllowList: writes the project's allowlist, updates it in place, replaces on project, delete allows every IP", async () => {
    const projectId = string(project.projectId);
    await runLifecycle(
      host,
      {
        resource: withInputs("ipAllowList", { projectId, ips: ["203.0.113.7", "192.0.2.10"] }),
        name: "neon-ip-allow-list",
        update: { ips: ["203.0.113.7", "192.0.2.20"], protectedBranchesOnly: true },
        replace: { projectId: "other-project-12345678" },
        deleteBeforeReplace: false,
      },
      {
        afterCreate: () => expect(emu.state.project(projectId)?.settings.allowed_ips).toEqual({ ips: ["203.0.113.7", "192.0.2.10"], protected_branches_only: false }),
        afterUpdate: () => expect(emu.state.project(projectId)?.settings.allowed_ips).toEqual({ ips: ["203.0.113.7", "192.0.2.20"], protected_branches_only: true }),
        afterDelete: () => expect(emu.state.project(projectId)?.settings.allowed_ips).toEqual({ ips: [], protected_branches_only: false }),
      },
    );
  });

  it("Branch: create from main, rename and reset from parent in place, replace on parent, delete twice", async () => {
    const projectId = string(project.projectId);
    await sql(ownerUri, "CREATE TABLE IF NOT EXISTS marker (note text)", "INSERT INTO marker VALUES ('before staging')");
    let branchId = "";
    await runLifecycle(
      host,
      {
        resource: withInputs("branch", { projectId, name: "staging", parentId: mainBranch() }),
        name: "staging",
        update: { name: "staging-renamed", resetFromParent: "2025-06-01" },
        replace: { parentId: "br-some-other-12345678" },
        deleteBeforeReplace: true,
      },
      {
        afterCreate: (created) => {
          branchId = created.id;
          expect(emu.state.branch(projectId, branchId)).toMatchObject({ name: "staging", parent_id: mainBranch(), protected: false });
        },
        afterUpdate: async (updated) => {
          expect(emu.state.branch(projectId, branchId)?.name).toBe("staging-renamed");
          expect(updated.properties.resetAt).toEqual(expect.any(String));
          expect(updated.id).toBe(branchId);
        },
        afterDelete: () => expect(emu.state.branch(projectId, branchId)).toBeUndefined(),
      },
    );
    const restores = emu.calls.filter((call) => call.operationId === "restoreProjectBranch");
    expect(restores.map((call) => [call.path, call.requestBody])).toEqual([[`/projects/${projectId}/branches/${branchId}/restore`, { source_branch_id: mainBranch() }]]);
  });

  it("Endpoint: read_write compute on a new branch, resize in place, replace on type, delete twice", async () => {
    const projectId = string(project.projectId);
    const branch = await provision("branch", "endpoint-branch", { projectId, name: "endpoint-branch" });
    let endpointId = "";
    const outcome = await runLifecycle(
      host,
      {
        resource: withInputs("endpoint", { projectId, branchId: branch.id, minCu: 0.25, maxCu: 1 }),
        name: "endpoint",
        update: { maxCu: 2, suspendTimeoutSeconds: 600 },
        replace: { type: "read_only" },
        deleteBeforeReplace: false,
      },
      {
        afterCreate: (created) => {
          endpointId = created.id;
          const record = emu.state.endpoints(projectId).find((endpoint) => endpoint.id === endpointId);
          expect(record).toMatchObject({ branch_id: branch.id, type: "read_write", autoscaling_limit_max_cu: 1 });
          expect(created.properties.poolerHost).toBe(string(created.properties.host).replace(/^([^.]+)/, "$1-pooler"));
        },
        afterUpdate: () => {
          const record = emu.state.endpoints(projectId).find((endpoint) => endpoint.id === endpointId);
          expect(record).toMatchObject({ autoscaling_limit_max_cu: 2, suspend_timeout_seconds: 600 });
        },
        afterDelete: () => expect(emu.state.endpoints(projectId).some((endpoint) => endpoint.id === endpointId)).toBe(false),
      },
    );
    expect(outcome.read.properties.currentState).toBe("active");
  });

  it("Role (Neon API): password marked secret and working, rotated in place, replace on name, delete twice", async () => {
    const projectId = string(project.projectId);
    const branchId = mainBranch();
    let before = "";
    const outcome = await runLifecycle(
      host,
      {
        resource: withInputs("neonRole", { projectId, branchId, name: "grpc_admin" }),
        name: "grpc_admin",
        update: { rotatePassword: "2025-06-01" },
        replace: { name: "grpc_admin_2" },
        deleteBeforeReplace: true,
      },
      {
        afterCreate: async (created) => {
          expect(created.secretPaths).toContain("password");
          before = string(created.properties.password);
          seenSecrets.push(before);
          expect(await sql(uriAs(ownerUri, { role: "grpc_admin", password: before }), "SELECT current_user AS who")).toEqual([{ who: "grpc_admin" }]);
        },
        afterUpdate: async (updated) => {
          expect(updated.secretPaths).toContain("password");
          const after = string(updated.properties.password);
          seenSecrets.push(after);
          expect(after).not.toBe(before);
          expect(await failure(sql(uriAs(ownerUri, { role: "grpc_admin", password: before }), "SELECT 1"))).toMatch(/password authentication failed/);
          expect(await sql(uriAs(ownerUri, { role: "grpc_admin", password: after }), "SELECT current_user AS who")).toEqual([{ who: "grpc_admin" }]);
        },
        afterDelete: () => expect(emu.state.roles(projectId, branchId).some((role) => role.name === "grpc_admin")).toBe(false),
      },
    );
    expect(outcome.read.secretPaths).toContain("password");
  });

  it("Database: create on main, change owner in place, replace on name, delete twice", async () => {
    const projectId = string(project.projectId);
    const branchId = mainBranch();
    await provision("neonRole", "prefect_admin", { projectId, branchId, name: "prefect_admin" });
    const owners = async (): Promise<unknown[]> =>
      sql(superuser(branchId, "postgres"), "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'grpc_database'");
    await runLifecycle(
      host,
      {
        resource: withInputs("database", { projectId, branchId, name: "grpc_database", ownerName: "naluma_content_owner" }),
        name: "grpc_database",
        update: { ownerName: "prefect_admin" },
        replace: { name: "grpc_database_2" },
        deleteBeforeReplace: true,
      },
      {
        afterCreate: async () => expect(await owners()).toEqual([{ owner: "naluma_content_owner" }]),
        afterUpdate: async () => expect(await owners()).toEqual([{ owner: "prefect_admin" }]),
        afterDelete: async () => expect(await owners()).toEqual([]),
      },
    );
  });

  it("ConnectionUri: direct and pooled URIs marked secret and connecting, refreshed in place, replace on database", async () => {
    const projectId = string(project.projectId);
    const outcome = await runLifecycle(
      host,
      {
        resource: withInputs("connectionUri", {
          projectId,
          branchId: mainBranch(),
          endpointId: project.defaultEndpointId,
          databaseName: "naluma_content",
          roleName: "naluma_content_owner",
        }),
        name: "app-uri",
        update: { refreshTrigger: "2025-06-01" },
        replace: { databaseName: "prefect_server" },
        deleteBeforeReplace: false,
      },
      {
        afterCreate: async (created) => {
          expect(created.secretPaths).toEqual(expect.arrayContaining(["uri", "pooledUri"]));
          const endpoint = emu.state.endpoints(projectId).find((e) => e.id === project.defaultEndpointId);
          expect(new URL(string(created.properties.pooledUri)).port).toBe(String(endpoint?.pooler.port));
          for (const uri of [created.properties.uri, created.properties.pooledUri]) {
            expect(await sql(string(uri), "SELECT current_user AS who, current_database() AS db")).toEqual([{ who: "naluma_content_owner", db: "naluma_content" }]);
          }
        },
        afterUpdate: (updated) => expect(updated.secretPaths).toEqual(expect.arrayContaining(["uri", "pooledUri"])),
      },
    );
    expect(outcome.read.secretPaths).toEqual(expect.arrayContaining(["uri", "pooledUri"]));
    expect(outcome.updated.properties.uri).toBe(ownerUri);
  });

  it("postgres Role: LOGIN with the password, new password in place, replace on name, dropped on delete", async () => {
    const exists = async (): Promise<boolean> =>
      (await sql(superuser(mainBranch()), "SELECT 1 FROM pg_roles WHERE rolname = 'grpc_pipeline'")).length === 1;
    const outcome = await runLifecycle(
      host,
      {
        resource: withInputs("pgRole", { adminUri: ownerUri, name: "grpc_pipeline", password: passwords.pipeline }),
        name: "grpc_pipeline",
        update: { password: passwords.rotated },
        replace: { name: "grpc_pipeline_2" },
        deleteBeforeReplace: false,
        secretInputs: ["adminUri", "password"],
      },
      {
        afterCreate: async (created) => {
          expect(created.secretPaths).toEqual(expect.arrayContaining(["adminUri", "password"]));
          expect(await sql(uriAs(ownerUri, { role: "grpc_pipeline", password: passwords.pipeline }), "SELECT current_user AS who")).toEqual([{ who: "grpc_pipeline" }]);
        },
        afterUpdate: async (updated) => {
          expect(updated.secretPaths).toEqual(expect.arrayContaining(["adminUri", "password"]));
          expect(await failure(sql(uriAs(ownerUri, { role: "grpc_pipeline", password: passwords.pipeline }), "SELECT 1"))).toMatch(/password authentication failed/);
          expect(await sql(uriAs(ownerUri, { role: "grpc_pipeline", password: passwords.rotated }), "SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
        },
        afterDelete: async () => expect(await exists()).toBe(false),
      },
    );
    expect(outcome.read.properties.drift).toEqual([]);
    expect(outcome.read.secretPaths).toEqual(expect.arrayContaining(["adminUri", "password"]));
  });

  it("postgres Grant (app profile): pipeline reads/writes migrations' tables, DELETE added in place, revoked on delete", async () => {
    for (const name of ["migrations", "pipeline"] as const) {
      await provision("pgRole", name, { adminUri: ownerUri, name, password: passwords[name] }, ["adminUri", "password"]);
    }
    await provision(
      "grant",
      "migrations-grant",
      { adminUri: ownerUri, database: "naluma_content", role: "migrations", profile: "migrations" },
      ["adminUri"],
    );
    const asMigrations = (...statements: string[]) => sql(uriAs(ownerUri, { role: "migrations", password: passwords.migrations }), ...statements);
    const asPipeline = (...statements: string[]) => sql(uriAs(ownerUri, { role: "pipeline", password: passwords.pipeline }), ...statements);
    await asMigrations("CREATE TABLE articles (id serial PRIMARY KEY, title text NOT NULL)");

    const outcome = await runLifecycle(
      host,
      {
        resource: withInputs("grant", { adminUri: ownerUri, database: "naluma_content", role: "pipeline", profile: "app", migrationsRole: "migrations" }),
        name: "pipeline-grant",
        update: { allowDelete: true },
        replace: { database: "prefect_server" },
        deleteBeforeReplace: false,
        secretInputs: ["adminUri"],
      },
      {
        afterCreate: async (created) => {
          expect(created.secretPaths).toContain("adminUri");
          expect(created.properties).toMatchObject({ adminRole: "naluma_content_owner", drift: [] });
          expect(await asPipeline("INSERT INTO articles (title) VALUES ('one') RETURNING id")).toEqual([{ id: 1 }]);
          expect(await failure(asPipeline("DELETE FROM articles"))).toMatch(/permission denied/);
          expect(await failure(asPipeline("CREATE TABLE nope (id int)"))).toMatch(/permission denied/);
        },
        afterUpdate: async () => {
          expect(await asPipeline("DELETE FROM articles WHERE title = 'one' RETURNING title")).toEqual([{ title: "one" }]);
        },
        afterDelete: async () => {
          expect(await failure(asPipeline("SELECT * FROM articles"))).toMatch(/permission denied/);
        },
      },
    );
    expect(outcome.read.properties.drift).toEqual([]);
  });

  it("postgres DatabaseLockdown: PUBLIC loses CONNECT on prefect_server, replace on database, restored on delete", async () => {
    const projectId = string(project.projectId);
    await provision("database", "prefect_server", { projectId, branchId: mainBranch(), name: "prefect_server", ownerName: "naluma_content_owner" });
    const publicCanConnect = async (): Promise<unknown[]> =>
      sql(ownerUri, "SELECT has_database_privilege('public', 'prefect_server', 'CONNECT') AS connect");
    const pipelineToPrefect = () => sql(uriAs(ownerUri, { role: "pipeline", password: passwords.pipeline, database: "prefect_server" }), "SELECT 1 AS ok");
    expect(await pipelineToPrefect()).toEqual([{ ok: 1 }]);
    const outcome = await runLifecycle(
      host,
      {
        resource: withInputs("lockdown", { adminUri: ownerUri, database: "prefect_server" }),
        name: "prefect-lockdown",
        replace: { database: "naluma_content" },
        deleteBeforeReplace: false,
        secretInputs: ["adminUri"],
      },
      {
        afterCreate: async (created) => {
          expect(created.secretPaths).toContain("adminUri");
          expect(await publicCanConnect()).toEqual([{ connect: false }]);
          expect(await failure(pipelineToPrefect())).toMatch(/permission denied for database "prefect_server"/);
          expect(await sql(uriAs(ownerUri, { database: "prefect_server" }), "SELECT current_database() AS db")).toEqual([{ db: "prefect_server" }]);
        },
        afterDelete: async () => expect(await publicCanConnect()).toEqual([{ connect: true }]),
      },
    );
    expect(outcome.read.properties.drift).toEqual([]);
    expect(outcome.read.secretPaths).toContain("adminUri");
  });

  it("no API key, password or URI reached the host's logs or any serialized provider", () => {
    expect(seenSecrets.length).toBeGreaterThan(8);
    assertNoSecrets(JSON.stringify(host.logs), seenSecrets);
    for (const resource of Object.values(serialized)) assertNoSecrets(resource.provider, seenSecrets);
  });
});
