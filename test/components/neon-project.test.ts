import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { NeonProject as NeonProjectClass, NeonProjectArgs } from "../../components/neon-project";
import { valueOf } from "./fly-mocks";
import { constructRecording, recordingMocks } from "./recording-mocks";

/** Neon-shaped outputs for the dynamic resources; everything else echoes its inputs. */
function outputsFor(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "pulumi-nodejs:dynamic/neon:Project":
      return {
        projectId: "prj-quiet-sea-123",
        defaultBranchId: "br-main-1",
        defaultRoleName: `${String(inputs.defaultDatabaseName)}_owner`,
        ownerPassword: "owner-pw",
      };
    case "pulumi-nodejs:dynamic/neon:Branch":
      return { branchId: inputs.adopt ? "br-main-1" : `br-${String(inputs.name)}-2`, isDefault: Boolean(inputs.adopt) };
    case "pulumi-nodejs:dynamic/neon:Endpoint":
      return {
        endpointId: "ep-cool-1",
        host: "ep-cool-1.eu-central-1.aws.neon.tech",
        poolerHost: "ep-cool-1-pooler.eu-central-1.aws.neon.tech",
      };
    case "pulumi-nodejs:dynamic/neon:ConnectionUri":
      return { uri: `postgresql://${String(inputs.roleName)}:owner%2Fpw@ep-cool-1.eu-central-1.aws.neon.tech/${String(inputs.databaseName)}?sslmode=require` };
    case "random:index/randomPassword:RandomPassword":
      return { result: `${name}-value` };
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
  /** Child resources with the options they were given, in construction order. */
  children: { resource: pulumi.Resource; type: string; name: string; protect: boolean | undefined }[];
}

const builds = new Map<string, Promise<Built>>();

/** Builds the component once per name and waits until the mock monitor has registered every child. */
function build(name: string, args: NeonProjectArgs): Promise<Built> {
  const known = builds.get(name);
  if (known) return known;
  const made = construct(name, args);
  builds.set(name, made);
  return made;
}

function construct(name: string, args: NeonProjectArgs): Promise<Built> {
  return constructRecording((opts) => new NeonProject(name, args, opts));
}

function inputsOf(type: string, name: string): Record<string, unknown> {
  const found = registered.get(`${type}::${name}`);
  if (!found) throw new Error(`no resource '${name}' was registered (have: ${[...registered.keys()].join(", ")})`);
  return found.inputs;
}

const owner: NeonProjectArgs = {
  owner: { protect: true, protectMainBranch: true, allowedIps: ["203.0.113.7"], protectedBranchesOnly: true },
  minCu: 0.25,
  maxCu: 2,
  suspendTimeoutSeconds: 300,
};
const branch: NeonProjectArgs = {
  branch: { projectId: "prj-quiet-sea-123", parentBranchId: "br-main-1", resetFromParent: "2025-06-01" },
  minCu: 0.25,
  maxCu: 1,
};

const dynamic = (service: string, type: string): string => `pulumi-nodejs:dynamic/${service}:${type}`;
const randomPassword = "random:index/randomPassword:RandomPassword";
const commonChildren = [
  [dynamic("neon", "Endpoint"), "endpoint"],
  [dynamic("neon", "Database"), "naluma_content"],
  [dynamic("neon", "Database"), "prefect_server"],
  [dynamic("neon", "ConnectionUri"), "owner"],
  [randomPassword, "pipeline-password"],
  [randomPassword, "migrations-password"],
  [dynamic("postgres", "Role"), "pipeline"],
  [dynamic("postgres", "Role"), "migrations"],
  [dynamic("postgres", "Grant"), "pipeline"],
  [dynamic("postgres", "Grant"), "migrations"],
  [dynamic("postgres", "DatabaseLockdown"), "naluma_content"],
  [dynamic("postgres", "DatabaseLockdown"), "prefect_server"],
];

describe.each([
  { mode: "owner", name: "prod", args: owner, extra: [[dynamic("neon", "Project"), "project"], [dynamic("neon", "Branch"), "main"]] },
  { mode: "branch", name: "stage", args: branch, extra: [[dynamic("neon", "Branch"), "branch"], [dynamic("neon", "Role"), "owner"]] },
])("NeonProject in $mode mode", ({ name, args, extra }) => {
  let built: Built;
  beforeAll(async () => {
    built = await build(name, args);
  });

  it("creates exactly the resources of its mode, each a child of the component", async () => {
    const made = built.children.map((child) => [child.type, child.name]);
    const expected = [...extra, ...commonChildren].map(([type, child]) => [type, `${name}-${child}`]);
    expect(made.sort()).toEqual(expected.sort());
    for (const child of built.children) {
      expect(await valueOf(child.resource.urn)).toContain(`platform:index:NeonProject$${child.type}::`);
    }
  });

  it("puts the compute on the environment's branch with the autoscaling and suspend settings", async () => {
    const endpoint = inputsOf(dynamic("neon", "Endpoint"), `${name}-endpoint`);
    expect(endpoint).toMatchObject({ projectId: "prj-quiet-sea-123", type: "read_write", minCu: args.minCu, maxCu: args.maxCu, adopt: true });
    expect(endpoint.suspendTimeoutSeconds).toBe(args.suspendTimeoutSeconds);
    expect(endpoint.branchId).toBe(await valueOf(built.component.branchId));
  });

  it("grants pipeline the app profile (migrations' future tables) and migrations the migrations profile on naluma_content", () => {
    const grants = [...registered.values()].filter((r) => r.type === dynamic("postgres", "Grant") && r.name.startsWith(`${name}-`));
    const byRole = Object.fromEntries(grants.map((grant) => [grant.inputs.role, grant.inputs]));
    expect(byRole.pipeline).toMatchObject({ database: "naluma_content", profile: "app", migrationsRole: "migrations" });
    expect(byRole.migrations).toMatchObject({ database: "naluma_content", profile: "migrations" });
    const lockdowns = [...registered.values()].filter((r) => r.type === dynamic("postgres", "DatabaseLockdown") && r.name.startsWith(`${name}-`));
    expect(lockdowns.map((lockdown) => lockdown.inputs.database).sort()).toEqual(["naluma_content", "prefect_server"]);
  });

  it("connects the postgres resources as the owner, directly", () => {
    const ownerUri = inputsOf(dynamic("neon", "ConnectionUri"), `${name}-owner`);
    expect(ownerUri).toMatchObject({ roleName: "naluma_content_owner", databaseName: "naluma_content", endpointId: "ep-cool-1" });
    const role = [...registered.values()].find((r) => r.type === dynamic("postgres", "Role") && r.name === `${name}-migrations`);
    expect(String(role?.inputs.adminUri)).toMatch(/^postgresql:\/\/naluma_content_owner:owner%2Fpw@ep-cool-1\.eu-central-1/);
  });

  it("makes role passwords with @pulumi/random and hands them to the roles", () => {
    const password = inputsOf(randomPassword, `${name}-pipeline-password`);
    expect(password).toMatchObject({ length: 32, special: false });
    const role = [...registered.values()].find((r) => r.type === dynamic("postgres", "Role") && r.name === `${name}-pipeline`);
    expect(role?.inputs.password).toBe(`${name}-pipeline-password-value`);
  });

  it("builds asyncpg URLs with ssl=require: pooled for the app, direct for migrations and Prefect", async () => {
    const { component } = built;
    expect(await valueOf(component.appUrl)).toBe(
      `postgresql+asyncpg://pipeline:${name}-pipeline-password-value@ep-cool-1-pooler.eu-central-1.aws.neon.tech/naluma_content?ssl=require`,
    );
    expect(await valueOf(component.migrationsUrl)).toBe(
      `postgresql+asyncpg://migrations:${name}-migrations-password-value@ep-cool-1.eu-central-1.aws.neon.tech/naluma_content?ssl=require`,
    );
    expect(await valueOf(component.prefectUrl)).toBe(
      "postgresql+asyncpg://naluma_content_owner:owner%2Fpw@ep-cool-1.eu-central-1.aws.neon.tech/prefect_server?ssl=require",
    );
  });

  it("marks the connection strings secret and the ids plain", async () => {
    const { component } = built;
    for (const url of [component.appUrl, component.migrationsUrl, component.prefectUrl]) expect(await pulumi.isSecret(url)).toBe(true);
    for (const plain of [component.projectId, component.branchId, component.endpointId, component.host, component.poolerHost]) {
      expect(await pulumi.isSecret(plain)).toBe(false);
    }
    expect(await valueOf(component.projectId)).toBe("prj-quiet-sea-123");
    expect(await valueOf(component.poolerHost)).toBe("ep-cool-1-pooler.eu-central-1.aws.neon.tech");
  });
});

describe("owner mode (production)", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("prod", owner);
  });

  it("creates project naluma_content with default branch main and database naluma_content, and the IP allow list", () => {
    expect(inputsOf(dynamic("neon", "Project"), "prod-project")).toMatchObject({
      name: "naluma_content",
      regionId: "aws-eu-central-1",
      defaultBranchName: "main",
      defaultDatabaseName: "naluma_content",
      allowedIps: ["203.0.113.7"],
      protectedBranchesOnly: true,
    });
  });

  it("protects the project, main and the application database with Pulumi's protect, and nothing else", () => {
    const protectedNames = built.children.filter((child) => child.protect === true).map((child) => child.name);
    expect(protectedNames.sort()).toEqual(["prod-main", "prod-naluma_content", "prod-project"].sort());
    expect(built.children.find((child) => child.name === "prod-naluma_content")?.type).toBe(dynamic("neon", "Database"));
  });

  it("adopts main as a Neon-protected branch and the implicit database, and exposes main as branchId", async () => {
    expect(inputsOf(dynamic("neon", "Branch"), "prod-main")).toMatchObject({ projectId: "prj-quiet-sea-123", name: "main", protected: true, adopt: true });
    const databases = [...registered.values()].filter((r) => r.type === dynamic("neon", "Database") && r.name.startsWith("prod-"));
    const byName = Object.fromEntries(databases.map((database) => [database.inputs.name, database.inputs]));
    expect(byName.naluma_content).toMatchObject({ adopt: true, ownerName: "naluma_content_owner", branchId: "br-main-1" });
    expect(byName.prefect_server).toMatchObject({ adopt: false, ownerName: "naluma_content_owner" });
    expect(await valueOf(built.component.branchId)).toBe("br-main-1");
  });

  it("does not tie passwords to a reset trigger", () => {
    expect(inputsOf(randomPassword, "prod-pipeline-password").keepers).toEqual({ rotate: "", reset: "" });
  });
});

describe("branch mode (staging)", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("stage", branch);
  });

  it("branches `staging` from the referenced main branch, with the reset trigger", async () => {
    expect(inputsOf(dynamic("neon", "Branch"), "stage-branch")).toMatchObject({ projectId: "prj-quiet-sea-123", name: "staging", parentId: "br-main-1", resetFromParent: "2025-06-01" });
    expect(await valueOf(built.component.branchId)).toBe("br-staging-2");
  });

  it("creates no project and protects nothing", () => {
    expect(built.children.some((child) => child.type === dynamic("neon", "Project"))).toBe(false);
    expect(built.children.filter((child) => child.protect === true)).toEqual([]);
  });

  it("adopts the databases and roles the branch copied from its parent", () => {
    for (const child of ["stage-naluma_content", "stage-prefect_server"]) expect(inputsOf(dynamic("neon", "Database"), child)).toMatchObject({ adopt: true, branchId: "br-staging-2" });
    const roles = [...registered.values()].filter((r) => r.type === dynamic("postgres", "Role") && r.name.startsWith("stage-"));
    expect(roles.map((role) => role.inputs.adopt)).toEqual([true, true]);
  });

  it("gives the branch's copy of the owner role its own password, rotated again on every reset", () => {
    expect(inputsOf(dynamic("neon", "Role"), "stage-owner")).toMatchObject({
      branchId: "br-staging-2",
      name: "naluma_content_owner",
      adopt: true,
      rotatePassword: "branch-own-password:2025-06-01",
    });
  });

  it("gives the branch new passwords and fresh owner credentials when it is reset", () => {
    expect(inputsOf(randomPassword, "stage-migrations-password").keepers).toEqual({ rotate: "", reset: "2025-06-01" });
    expect(inputsOf(dynamic("neon", "ConnectionUri"), "stage-owner").refreshTrigger).toBe("2025-06-01");
  });
});

describe("arguments", () => {
  it("refuses both modes at once, and neither", () => {
    expect(() => new NeonProject("both", { owner: {}, branch: { projectId: "p", parentBranchId: "b" } })).toThrow(/only one of `owner` or `branch`/);
    expect(() => new NeonProject("neither", {})).toThrow(/only one of `owner` or `branch`/);
  });
});
