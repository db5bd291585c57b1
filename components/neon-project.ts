import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { Branch } from "../dynamic-providers/neon/branch";
import { ConnectionUri } from "../dynamic-providers/neon/connection-uri";
import { Database } from "../dynamic-providers/neon/database";
import { Endpoint } from "../dynamic-providers/neon/endpoint";
import { Project } from "../dynamic-providers/neon/project";
import { Role as NeonRole } from "../dynamic-providers/neon/role";
import { Grant } from "../dynamic-providers/postgres/grant";
import { DatabaseLockdown } from "../dynamic-providers/postgres/lockdown";
import { Role } from "../dynamic-providers/postgres/role";

/** Seed 000 §4: the default branch of the project is `main` (production). */
const mainBranchName = "main";

/** The production stack: it creates the Neon project and owns its settings. */
export interface NeonProjectOwnerArgs {
  /** Neon project name. @default `naluma_content` (seed 000 §4 "Create project: naluma_content") */
  name?: pulumi.Input<string>;
  /** Neon region; changing it replaces the project. @default `aws-eu-central-1` (next to Fly's `fra`) */
  regionId?: pulumi.Input<string>;
  /** Postgres major version; changing it replaces the project. @default `17` */
  pgVersion?: pulumi.Input<number>;
  /** Point-in-time restore window in seconds. @default `86400` */
  historyRetentionSeconds?: pulumi.Input<number>;
  /** Neon organization id. @default the API key's personal account */
  orgId?: pulumi.Input<string>;
  /**
   * Pulumi's `protect` option on the project, its `main` branch and the `naluma_content` database: `pulumi destroy`
   * and a replacing change fail instead of deleting production data. Replaces "be careful in the console".
   * @default `false`
   */
  protect?: boolean;
  /** Neon branch protection on `main` (Neon refuses to delete or reset it). @default `false` */
  protectMainBranch?: pulumi.Input<boolean>;
  /**
   * IP allow list of the project (seed 000 §4 "IP Allow": Fly's egress IPs for `fra`, your development IP). Applies
   * to every branch of the project, staging included, unless `protectedBranchesOnly`. Needs Neon's Scale plan.
   * @default every IP
   * @example `["203.0.113.7", "198.51.100.0/24"]`
   */
  allowedIps?: pulumi.Input<pulumi.Input<string>[]>;
  /** Apply `allowedIps` to protected branches (`main`) only. @default `false` */
  protectedBranchesOnly?: pulumi.Input<boolean>;
  /** Take over a project, databases and roles built by hand from seed 000 instead of failing. @default `false` */
  adopt?: boolean;
}

/** A stack that works on its own branch of the owner's project (seed 000 §4 "Create a staging branch"). */
export interface NeonProjectBranchArgs {
  /** The owner stack's `projectId` (index.ts reads it from a StackReference). */
  projectId: pulumi.Input<string>;
  /** The branch to copy, the owner stack's `branchId` (`main`). Changing it replaces the branch. */
  parentBranchId: pulumi.Input<string>;
  /** Branch name. @default `staging` */
  name?: pulumi.Input<string>;
  /** The owner's Neon-managed role, the owner stack's `ownerRoleName`. @default `<databaseName>_owner` */
  ownerRoleName?: pulumi.Input<string>;
  /**
   * Set it to a new value (a date) to reset the branch to its parent's current data: seed 000 §4 "Staging Reset",
   * without delete-and-recreate, so the branch id, endpoint and hosts stay. The reset also restores the parent's
   * role passwords, so a new value also makes new `pipeline` and `migrations` passwords for this branch.
   * @example `"2025-06-01"`
   */
  resetFromParent?: pulumi.Input<string>;
}

export interface NeonProjectArgs {
  /** Create the project (production). Only one of `owner` or `branch` can be provided. */
  owner?: NeonProjectOwnerArgs;
  /** Branch from an existing project (staging). Only one of `owner` or `branch` can be provided. */
  branch?: NeonProjectBranchArgs;
  /** Autoscaling minimum of the branch's compute, in CU. @default Neon's project default (0.25) */
  minCu?: pulumi.Input<number>;
  /** Autoscaling maximum of the branch's compute, in CU. @default Neon's project default */
  maxCu?: pulumi.Input<number>;
  /** Scale-to-zero delay in seconds: `0` = Neon's default (300), `-1` = never. @default `0` */
  suspendTimeoutSeconds?: pulumi.Input<number>;
  /** The application database, created with the project. @default `naluma_content` (seed 000 §4) */
  databaseName?: string;
  /** Prefect server's state database (seed 000 §2/§4 `CREATE DATABASE prefect_server`). @default `prefect_server` */
  prefectDatabaseName?: string;
  /** The app's SQL role, DATABASE_URL's user (seed 000 §4 `CREATE USER pipeline`). @default `pipeline` */
  appRoleName?: string;
  /** The DDL role, DATABASE_URL_MIGRATIONS's user (seed 000 §4 `CREATE USER migrations`). @default `migrations` */
  migrationsRoleName?: string;
  /** Let `pipeline` DELETE rows, which seed 000's GRANT does not. @default `false` */
  pipelineAllowDelete?: pulumi.Input<boolean>;
  /**
   * Change it (a date) to give `pipeline` and `migrations` new passwords; `pulumi up --replace` on a password
   * resource does the same for one role. Replaces seed 000's `CREATE USER ... WITH PASSWORD 'secure-password-here'`.
   */
  rotatePasswords?: pulumi.Input<string>;
}

/** The project, branch and owner this component works on, whichever mode made them. */
interface BranchTarget {
  projectId: pulumi.Output<string>;
  branchId: pulumi.Output<string>;
  ownerRoleName: pulumi.Output<string>;
  /** Changes when the branch is reset, so credentials are fetched and set again afterwards. */
  resetTrigger: pulumi.Input<string> | undefined;
  /** Whether the databases and roles exist before this stack runs (copied from a parent, or hand-made). */
  adopt: boolean;
  /** Pulumi `protect` for what holds production data. */
  protect: boolean;
}

/** The asyncpg dialect of SQLAlchemy passes URL query parameters to asyncpg.connect(), which takes `ssl`, not libpq's `sslmode`. */
const sslQuery = "ssl=require";

function asyncpgUrl(user: pulumi.Input<string>, password: pulumi.Input<string>, host: pulumi.Input<string>, database: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([user, password, host, database])
      .apply(([u, p, h, d]) => `postgresql+asyncpg://${encodeURIComponent(u)}:${encodeURIComponent(p)}@${h}/${encodeURIComponent(d)}?${sslQuery}`),
  );
}

/** The user's password in a Neon connection URI, decoded (Neon's URIs percent-encode it). */
function passwordOf(uri: string): string {
  return decodeURIComponent(new URL(uri).password);
}

/**
 * Seed 000 §4 as code: a Neon project (owner mode, production) or a branch of one (branch mode, staging); on
 * that branch a compute endpoint, the `naluma_content` and `prefect_server` databases, the least-privilege SQL
 * roles `pipeline` and `migrations` with their grants, both databases closed to PUBLIC, and the connection
 * strings the apps need (secret).
 */
export class NeonProject extends pulumi.ComponentResource {
  /** Neon project id (export it from the owner stack for branch stacks). */
  public readonly projectId: pulumi.Output<string>;
  /** The branch this stack works on: `main` in owner mode, the new branch in branch mode. */
  public readonly branchId: pulumi.Output<string>;
  /** The project owner's Neon-managed role, e.g. `naluma_content_owner`. */
  public readonly ownerRoleName: pulumi.Output<string>;
  public readonly endpointId: pulumi.Output<string>;
  /** Direct host, for migrations and Prefect. */
  public readonly host: pulumi.Output<string>;
  /** PgBouncer host (`-pooler`), for the app. */
  public readonly poolerHost: pulumi.Output<string>;
  /** DATABASE_URL: `pipeline` through the pooler (secret). */
  public readonly appUrl: pulumi.Output<string>;
  /** DATABASE_URL_MIGRATIONS: `migrations`, direct (secret). */
  public readonly migrationsUrl: pulumi.Output<string>;
  /** PREFECT_API_DATABASE_CONNECTION_URL: the owner on the direct host; Prefect's prepared statements do not survive PgBouncer (secret). */
  public readonly prefectUrl: pulumi.Output<string>;

  constructor(name: string, args: NeonProjectArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:NeonProject", name, {}, opts);
    if ((args.owner === undefined) === (args.branch === undefined)) {
      throw new Error(
        `neon project '${name}': only one of \`owner\` or \`branch\` can be provided, and one is required ` +
          "(`owner` in the stack that creates the project, `branch` with its projectId and main branch id elsewhere)",
      );
    }
    const databaseName = args.databaseName ?? "naluma_content";
    const prefectDatabaseName = args.prefectDatabaseName ?? "prefect_server";

    const target = args.owner ? this.createProject(name, args.owner, databaseName) : this.createBranch(name, args.branch as NeonProjectBranchArgs, databaseName);
    const endpoint = new Endpoint(
      `${name}-endpoint`,
      {
        projectId: target.projectId,
        branchId: target.branchId,
        type: "read_write",
        minCu: args.minCu,
        maxCu: args.maxCu,
        suspendTimeoutSeconds: args.suspendTimeoutSeconds,
        // Neon makes main's read_write endpoint with the project. A branch made by neon:Branch has none, so this
        // creates one there; an adopted endpoint is left in place on delete, a created one is deleted.
        adopt: true,
      },
      { parent: this },
    );
    const appDatabase = new Database(
      `${name}-${databaseName}`,
      { projectId: target.projectId, branchId: target.branchId, name: databaseName, ownerName: target.ownerRoleName, adopt: true },
      { parent: this, protect: target.protect },
    );
    const prefectDatabase = new Database(
      `${name}-${prefectDatabaseName}`,
      { projectId: target.projectId, branchId: target.branchId, name: prefectDatabaseName, ownerName: target.ownerRoleName, adopt: target.adopt },
      { parent: this },
    );
    const owner = new ConnectionUri(
      `${name}-owner`,
      {
        projectId: target.projectId,
        branchId: target.branchId,
        endpointId: endpoint.endpointId,
        databaseName: appDatabase.name,
        roleName: target.ownerRoleName,
        refreshTrigger: target.resetTrigger,
      },
      { parent: this },
    );
    const adminUri = owner.uri;

    const keepers = pulumi.all([args.rotatePasswords, target.resetTrigger]).apply(([rotate, reset]) => ({ rotate: rotate ?? "", reset: reset ?? "" }));
    const migrationsPassword = this.password(`${name}-migrations`, keepers);
    const pipelinePassword = this.password(`${name}-pipeline`, keepers);
    const migrations = new Role(
      `${name}-migrations`,
      { adminUri, name: args.migrationsRoleName ?? "migrations", password: migrationsPassword, adopt: target.adopt },
      { parent: this },
    );
    const pipeline = new Role(`${name}-pipeline`, { adminUri, name: args.appRoleName ?? "pipeline", password: pipelinePassword, adopt: target.adopt }, { parent: this });
    new Grant(`${name}-migrations`, { adminUri, database: appDatabase.name, role: migrations.name, profile: "migrations" }, { parent: this });
    new Grant(
      `${name}-pipeline`,
      { adminUri, database: appDatabase.name, role: pipeline.name, profile: "app", migrationsRole: migrations.name, allowDelete: args.pipelineAllowDelete },
      { parent: this },
    );
    new DatabaseLockdown(`${name}-${databaseName}`, { adminUri, database: appDatabase.name }, { parent: this });
    new DatabaseLockdown(`${name}-${prefectDatabaseName}`, { adminUri, database: prefectDatabase.name }, { parent: this });

    this.projectId = target.projectId;
    this.branchId = target.branchId;
    this.ownerRoleName = target.ownerRoleName;
    this.endpointId = endpoint.endpointId;
    this.host = endpoint.host;
    this.poolerHost = endpoint.poolerHost;
    this.appUrl = asyncpgUrl(pipeline.name, pipelinePassword, endpoint.poolerHost, appDatabase.name);
    this.migrationsUrl = asyncpgUrl(migrations.name, migrationsPassword, endpoint.host, appDatabase.name);
    this.prefectUrl = asyncpgUrl(target.ownerRoleName, owner.uri.apply(passwordOf), endpoint.host, prefectDatabase.name);
    this.registerOutputs({
      projectId: this.projectId,
      branchId: this.branchId,
      ownerRoleName: this.ownerRoleName,
      endpointId: this.endpointId,
      host: this.host,
      poolerHost: this.poolerHost,
      appUrl: this.appUrl,
      migrationsUrl: this.migrationsUrl,
      prefectUrl: this.prefectUrl,
    });
  }

  /** Owner mode: the project, and its implicit `main` branch taken over so it can be protected. */
  private createProject(name: string, owner: NeonProjectOwnerArgs, databaseName: string): BranchTarget {
    const protect = owner.protect ?? false;
    const project = new Project(
      `${name}-project`,
      {
        name: owner.name ?? "naluma_content",
        regionId: owner.regionId ?? "aws-eu-central-1",
        pgVersion: owner.pgVersion,
        historyRetentionSeconds: owner.historyRetentionSeconds,
        defaultBranchName: mainBranchName,
        defaultDatabaseName: databaseName,
        allowedIps: owner.allowedIps,
        protectedBranchesOnly: owner.protectedBranchesOnly,
        orgId: owner.orgId,
        adopt: owner.adopt,
      },
      { parent: this, protect },
    );
    const main = new Branch(
      `${name}-${mainBranchName}`,
      { projectId: project.projectId, name: project.defaultBranchName, protected: owner.protectMainBranch ?? false, adopt: true },
      { parent: this, protect },
    );
    return {
      projectId: project.projectId,
      branchId: main.branchId,
      ownerRoleName: project.defaultRoleName,
      resetTrigger: undefined,
      adopt: owner.adopt ?? false,
      protect,
    };
  }

  /**
   * Branch mode. A Neon branch copies its parent's databases and roles (with their passwords), so everything
   * on it already exists: it is adopted, and `pipeline` and `migrations` get this branch's own passwords.
   */
  private createBranch(name: string, branch: NeonProjectBranchArgs, databaseName: string): BranchTarget {
    const created = new Branch(
      `${name}-branch`,
      { projectId: branch.projectId, name: branch.name ?? "staging", parentId: branch.parentBranchId, resetFromParent: branch.resetFromParent },
      { parent: this },
    );
    // The copied owner role would keep production's password (and get it back on every reset): adopting it
    // with a rotation key gives this branch its own owner password, again after each reset.
    const owner = new NeonRole(
      `${name}-owner`,
      {
        projectId: branch.projectId,
        branchId: created.branchId,
        name: branch.ownerRoleName ?? `${databaseName}_owner`,
        adopt: true,
        rotatePassword: pulumi.output(branch.resetFromParent).apply((reset) => `branch-own-password:${reset ?? ""}`),
      },
      { parent: this },
    );
    return {
      projectId: pulumi.output(branch.projectId),
      branchId: created.branchId,
      ownerRoleName: owner.name,
      resetTrigger: branch.resetFromParent,
      adopt: true,
      protect: false,
    };
  }

  private password(name: string, keepers: pulumi.Input<Record<string, pulumi.Input<string>>>): pulumi.Output<string> {
    // Letters and digits only: the password goes into URLs and `fly secrets` values unescaped by some tools.
    return new random.RandomPassword(`${name}-password`, { length: 32, special: false, keepers }, { parent: this }).result;
  }
}
