import * as pulumi from "@pulumi/pulumi";
import type { Branch as NeonBranch, Endpoint as NeonEndpoint, ProjectListItem, ProjectUpdateRequest } from "@neondatabase/api-client";
import { changedFields, failures, isUnknown } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { ignoreNeonNotFound, isLostAnswer, mutate, neonApi, neonCall, waitForOperations, waitForRunningOperations, type NeonApi } from "./client";
import { branchNameProblem } from "./check";
import { carriesClaim, checkClaim, claimAnnotation, defaultClaim } from "./claim";
import { checkPostgresName } from "./database";
import { roleNameProblem } from "../postgres/names";

/** Regions Neon offers (alchemy's list, see specs/neon/BEHAVIOUR-NOTES.md). `aws-eu-central-1` is next to Fly's `ams` and Frankfurt regions. */
export const neonRegions: readonly string[] = [
  "aws-us-east-1",
  "aws-us-east-2",
  "aws-us-west-2",
  "aws-eu-central-1",
  "aws-eu-west-2",
  "aws-ap-southeast-1",
  "aws-ap-southeast-2",
  "aws-sa-east-1",
  "azure-eastus2",
  "azure-westus3",
  "azure-gwc",
];

export const projectDefaults = {
  pgVersion: 17,
  historyRetentionSeconds: 86_400,
  defaultBranchName: "main",
  defaultDatabaseName: "neondb",
} as const;

export interface ProjectInputs {
  /** Project name, e.g. `acme`. Neon does not require names to be unique; this provider does (see create). */
  name: string;
  regionId: string;
  /** check() fills in 17. */
  pgVersion?: number;
  /** check() fills in 86400 (Neon's default, one day). */
  historyRetentionSeconds?: number;
  /** Name of the branch Neon creates with the project; check() fills in `main`. */
  defaultBranchName?: string;
  /** The database Neon creates with the project; check() fills in `neondb`. */
  defaultDatabaseName?: string;
  /** Its owner role; check() fills in `<defaultDatabaseName>_owner`. */
  defaultRoleName?: string;
  /**
   * settings.allowed_ips.ips: IP addresses, ranges (`a-b`) or CIDRs; empty allows every IP. Unset, with
   * protectedBranchesOnly unset too, leaves the list alone (never sent, diffed or read), for `neon:IpAllowList`.
   */
  allowedIps?: string[];
  /** settings.allowed_ips.protected_branches_only. */
  protectedBranchesOnly?: boolean;
  orgId?: string;
  /** Take over an existing project of this name instead of creating one. */
  adopt?: boolean;
  /**
   * Written as an annotation on the default branch at create; a project of this name whose default branch carries
   * it is the one an interrupted create of this resource made, and is taken over. Only create reads it.
   */
  claim?: string;
}

export interface ProjectOutputs extends ProjectInputs {
  pgVersion: number;
  historyRetentionSeconds: number;
  defaultBranchName: string;
  defaultDatabaseName: string;
  defaultRoleName: string;
  projectId: string;
  defaultBranchId: string;
  defaultEndpointId: string;
  defaultEndpointHost: string;
  /** Password of `defaultRoleName` (secret: listed in additionalSecretOutputs). */
  ownerPassword: string;
  /** `<region>.aws.neon.tech`: the host SNI-routed connections go through. */
  proxyHost: string;
  /** True when create() took over a project that already existed. */
  adopted: boolean;
}

function label(name: unknown): string {
  return typeof name === "string" && name.length > 0 ? `neon project '${name}'` : "neon project";
}

/** Postgres identifiers (database and role names): at most 63 bytes; Neon quotes them, so any non-empty text fits. */
/** One allowed_ips entry: an IPv4/IPv6 address, a CIDR (`10.0.0.0/8`) or a range (`10.0.0.1-10.0.0.9`) of one family. */
export function isAllowedIpEntry(entry: string): boolean {
  const { isIP } = require("node:net") as typeof import("node:net");
  const slash = entry.split("/");
  if (slash.length === 2) {
    const family = isIP(slash[0]);
    if (family === 0 || !/^\d{1,3}$/.test(slash[1])) return false;
    return Number(slash[1]) <= (family === 4 ? 32 : 128);
  }
  if (slash.length > 2) return false;
  const dash = entry.split("-");
  if (dash.length === 2) {
    const family = isIP(dash[0]);
    return family !== 0 && isIP(dash[1]) === family;
  }
  return dash.length === 1 && isIP(entry) !== 0;
}

function normalise(news: ProjectInputs): ProjectInputs {
  const defaultDatabaseName = news.defaultDatabaseName ?? projectDefaults.defaultDatabaseName;
  return {
    ...news,
    pgVersion: news.pgVersion ?? projectDefaults.pgVersion,
    historyRetentionSeconds: news.historyRetentionSeconds ?? projectDefaults.historyRetentionSeconds,
    defaultBranchName: news.defaultBranchName ?? projectDefaults.defaultBranchName,
    defaultDatabaseName,
    defaultRoleName: news.defaultRoleName ?? (isUnknown(defaultDatabaseName) ? undefined : `${defaultDatabaseName}_owner`),
  };
}

/** settings.allowed_ips as this resource declares it; unset ips means "every IP" (an empty list). */
function allowedIpsSetting(inputs: ProjectInputs): { ips: string[]; protected_branches_only: boolean } {
  return { ips: inputs.allowedIps ?? [], protected_branches_only: inputs.protectedBranchesOnly ?? false };
}

/** Whether this resource owns settings.allowed_ips; when neither field is set, a neon:IpAllowList may. */
function managesAllowedIps(inputs: ProjectInputs): boolean {
  return inputs.allowedIps !== undefined || inputs.protectedBranchesOnly !== undefined;
}

/** The updateProject body for what differs between `current` and `wanted` (only changed fields are sent). */
function projectChanges(current: ProjectInputs, wanted: ProjectInputs): ProjectUpdateRequest["project"] {
  const change: ProjectUpdateRequest["project"] = {};
  if (current.name !== wanted.name) change.name = wanted.name;
  if (current.historyRetentionSeconds !== wanted.historyRetentionSeconds) change.history_retention_seconds = wanted.historyRetentionSeconds;
  if (!managesAllowedIps(wanted)) return change;
  const currentIps = allowedIpsSetting(current);
  const wantedIps = allowedIpsSetting(wanted);
  if (currentIps.protected_branches_only !== wantedIps.protected_branches_only || currentIps.ips.join(",") !== wantedIps.ips.join(",")) {
    change.settings = { allowed_ips: wantedIps };
  }
  return change;
}

/** Every project with exactly this name (listProjects' `search` matches substrings of names and ids). */
async function findProjectsByName(api: NeonApi, name: string, orgId: string | undefined): Promise<ProjectListItem[]> {
  const found: ProjectListItem[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const limit = 100;
    const response = await neonCall(() => api.listProjects({ search: name, limit, ...(orgId ? { org_id: orgId } : {}), ...(cursor ? { cursor } : {}) }), {
      idempotent: true,
    });
    found.push(...response.projects.filter((project) => project.name === name));
    cursor = response.pagination?.cursor;
    if (response.projects.length < limit || !cursor) break;
  }
  return found;
}

async function defaultBranchOf(api: NeonApi, projectId: string): Promise<NeonBranch> {
  const response = await neonCall(() => api.listProjectBranches({ projectId }), { idempotent: true });
  const branch = response.branches.find((candidate) => candidate.default);
  if (!branch) throw new Error(`neon project '${projectId}' has no default branch`);
  return branch;
}

/** The branch's read_write endpoint, picked by type (never `endpoints[0]`). */
async function readWriteEndpointOf(api: NeonApi, projectId: string, branchId: string): Promise<NeonEndpoint | undefined> {
  const response = await neonCall(() => api.listProjectBranchEndpoints(projectId, branchId), { idempotent: true });
  return response.endpoints.find((endpoint) => endpoint.type === "read_write");
}

/** Whether the project's default branch carries this claim (the annotation its create wrote). */
async function isClaimed(api: NeonApi, projectId: string, claim: string | undefined): Promise<boolean> {
  if (claim === undefined) return false;
  const response = await neonCall(() => api.listProjectBranches({ projectId }), { idempotent: true });
  const branch = response.branches.find((candidate) => candidate.default);
  return branch !== undefined && carriesClaim(response.annotations?.[branch.id], claim);
}

/**
 * Takes over an existing project: checks that it is the one declared, then applies the declared settings. `how`
 * says why: `adopt` (made by someone else) or `claim` (made by an interrupted create of this resource).
 */
async function adoptProject(api: NeonApi, inputs: ProjectOutputsDraft, existing: ProjectListItem, how: "adopt" | "claim" = "adopt"): Promise<ProjectOutputs> {
  const who = how === "adopt" ? `${label(inputs.name)}: adopt found project ${existing.id}` : `${label(inputs.name)}: found project ${existing.id} made by an interrupted create`;
  if (existing.region_id !== inputs.regionId) {
    throw new Error(`${who} in region '${existing.region_id}', but regionId is '${inputs.regionId}'; set regionId to match or choose another name`);
  }
  if (existing.pg_version !== inputs.pgVersion) {
    throw new Error(`${who} on Postgres ${existing.pg_version}, but pgVersion is ${inputs.pgVersion}; set pgVersion to match`);
  }
  const branch = await defaultBranchOf(api, existing.id);
  if (branch.name !== inputs.defaultBranchName) {
    throw new Error(`${who} whose default branch is '${branch.name}', but defaultBranchName is '${inputs.defaultBranchName}'; set defaultBranchName to match`);
  }
  const databases = await neonCall(() => api.listProjectBranchDatabases(existing.id, branch.id), { idempotent: true });
  const database = databases.databases.find((candidate) => candidate.name === inputs.defaultDatabaseName);
  if (!database) {
    const names = databases.databases.map((candidate) => candidate.name).join(", ") || "none";
    throw new Error(`${who} without a database '${inputs.defaultDatabaseName}' on its default branch (it has: ${names}); set defaultDatabaseName to match`);
  }
  const roles = await neonCall(() => api.listProjectBranchRoles(existing.id, branch.id), { idempotent: true });
  if (!roles.roles.some((role) => role.name === inputs.defaultRoleName)) {
    const names = roles.roles.map((role) => role.name).join(", ") || "none";
    throw new Error(`${who} without a role '${inputs.defaultRoleName}' on its default branch (it has: ${names}); set defaultRoleName to match`);
  }
  const live: ProjectInputs = {
    ...inputs,
    name: existing.name,
    historyRetentionSeconds: existing.history_retention_seconds,
    allowedIps: existing.settings?.allowed_ips?.ips,
    protectedBranchesOnly: existing.settings?.allowed_ips?.protected_branches_only,
  };
  const change = projectChanges(live, inputs);
  const project = Object.keys(change).length > 0 ? (await mutate(api, existing.id, () => api.updateProject(existing.id, { project: change }))).project : existing;
  const endpoint = await readWriteEndpointOf(api, existing.id, branch.id);
  const password = await neonCall(() => api.getProjectBranchRolePassword(existing.id, branch.id, inputs.defaultRoleName), { idempotent: true });
  return {
    ...inputs,
    projectId: existing.id,
    defaultBranchId: branch.id,
    defaultEndpointId: endpoint?.id ?? "",
    defaultEndpointHost: endpoint?.host ?? "",
    ownerPassword: password.password,
    proxyHost: project.proxy_host,
    adopted: how === "adopt",
  };
}

/** The project an interrupted create of this resource made: its operations finished, then taken over as adopt does. */
async function takeOverClaimed(api: NeonApi, inputs: ProjectOutputsDraft, existing: ProjectListItem): Promise<ProjectOutputs> {
  await waitForRunningOperations(api, existing.id);
  return adoptProject(api, inputs, existing, "claim");
}

/** Inputs after check(): every default filled in. */
type ProjectOutputsDraft = ProjectInputs & {
  pgVersion: number;
  historyRetentionSeconds: number;
  defaultBranchName: string;
  defaultDatabaseName: string;
  defaultRoleName: string;
};

function withDefaults(inputs: ProjectInputs): ProjectOutputsDraft {
  const normal = normalise(inputs);
  return {
    ...normal,
    pgVersion: normal.pgVersion ?? projectDefaults.pgVersion,
    historyRetentionSeconds: normal.historyRetentionSeconds ?? projectDefaults.historyRetentionSeconds,
    defaultBranchName: normal.defaultBranchName ?? projectDefaults.defaultBranchName,
    defaultDatabaseName: normal.defaultDatabaseName ?? projectDefaults.defaultDatabaseName,
    defaultRoleName: normal.defaultRoleName ?? `${normal.defaultDatabaseName ?? projectDefaults.defaultDatabaseName}_owner`,
  };
}

/** Fields fixed when the project is made: changing one replaces the project. */
const replaceFields = ["regionId", "pgVersion", "orgId", "defaultDatabaseName", "defaultRoleName"] as const;
/** Fields changed in place: updateProject (name, retention, IP allow) and a rename of the default branch. */
const updateFields = ["name", "historyRetentionSeconds", "allowedIps", "protectedBranchesOnly", "defaultBranchName"] as const;

/**
 * Deleting a project deletes every branch and all data in it. Protection from accidental deletion is the
 * job of Pulumi's `protect` resource option, which the Neon component sets on this resource; the provider
 * itself deletes when asked.
 */
export const projectProvider = dynamicProvider<ProjectInputs, ProjectOutputs>({
  async check(_olds, news) {
    const problems = failures("neon project", isUnknown(news.name) ? undefined : news.name);
    if (!isUnknown(news.name)) {
      if (typeof news.name !== "string" || news.name.trim().length === 0 || news.name.length > 256) {
        problems.add("name", "is required (1 to 256 characters)", news.name);
      }
    }
    if (!isUnknown(news.regionId)) problems.oneOf("regionId", news.regionId, neonRegions, true);
    if (!isUnknown(news.pgVersion)) problems.integer("pgVersion", news.pgVersion, { min: 14, max: 18 });
    if (!isUnknown(news.historyRetentionSeconds)) problems.integer("historyRetentionSeconds", news.historyRetentionSeconds, { min: 0, max: 2_592_000 });
    if (news.defaultBranchName !== undefined && !isUnknown(news.defaultBranchName)) {
      const problem = branchNameProblem(news.defaultBranchName);
      if (problem) problems.add("defaultBranchName", problem, news.defaultBranchName);
    }
    if (news.defaultDatabaseName !== undefined) checkPostgresName(problems, "defaultDatabaseName", news.defaultDatabaseName);
    if (news.defaultRoleName !== undefined) checkPostgresName(problems, "defaultRoleName", news.defaultRoleName, roleNameProblem);
    if (news.allowedIps !== undefined && !isUnknown(news.allowedIps)) {
      if (!Array.isArray(news.allowedIps)) problems.add("allowedIps", "must be a list of IP addresses, ranges or CIDRs", news.allowedIps);
      else {
        news.allowedIps.forEach((entry: unknown, index) => {
          if (isUnknown(entry)) return;
          if (typeof entry !== "string" || !isAllowedIpEntry(entry)) {
            problems.add(`allowedIps[${index}]`, "must be an IP address (203.0.113.7), a CIDR (203.0.113.0/24) or a range (203.0.113.1-203.0.113.9)", entry);
          }
        });
      }
    }
    for (const field of ["protectedBranchesOnly", "adopt"] as const) {
      const value = news[field];
      if (value !== undefined && !isUnknown(value) && typeof value !== "boolean") problems.add(field, "must be true or false", value);
    }
    checkClaim(problems, news.claim);
    if (news.orgId !== undefined && !isUnknown(news.orgId)) problems.pattern("orgId", news.orgId, /^[a-z0-9-]{1,60}$/, "a Neon organization id such as `org-morning-bread-81040908`");
    return { inputs: normalise(news), failures: problems.list };
  },

  async diff(_id, olds, news) {
    const wanted = normalise(news);
    // `claim` is in neither list: only create reads it, so a new claim (or one added to an older state) changes nothing.
    const replaces = changedFields({ ...olds }, { ...wanted }, replaceFields);
    const updates = changedFields({ ...olds }, { ...wanted }, updateFields);
    // Neon allows duplicate project names, but delete-first keeps `adopt`'s lookup by name from finding the
    // project being replaced, and keeps the account's project count within its plan's quota.
    return { changes: replaces.length + updates.length > 0, replaces, deleteBeforeReplace: true };
  },

  async create(raw) {
    const inputs = withDefaults(raw);
    const api = neonApi();
    // Neon allows two projects of one name; a second would be a silent duplicate of a hand-made one. So look
    // first: adopt takes it over, one carrying this resource's claim (left by an interrupted create) is taken
    // over, any other is refused.
    const existing = await findProjectsByName(api, inputs.name, inputs.orgId);
    if (existing.length > 1) {
      throw new Error(`${label(inputs.name)}: ${existing.length} projects have this name (${existing.map((p) => p.id).join(", ")}); rename or delete all but one`);
    }
    if (existing.length === 1) {
      if (!inputs.adopt && !(await isClaimed(api, existing[0].id, inputs.claim))) {
        throw new Error(`${label(inputs.name)} already exists (${existing[0].id}) and was not made by this resource; set \`adopt: true\` to take it over`);
      }
      const outs = inputs.adopt ? await adoptProject(api, inputs, existing[0]) : await takeOverClaimed(api, inputs, existing[0]);
      return { id: outs.projectId, outs };
    }
    const annotations = claimAnnotation(inputs.claim);
    let result: Awaited<ReturnType<NeonApi["createProject"]>>["data"];
    try {
      result = await neonCall(() =>
        api.createProject({
          project: {
            name: inputs.name,
            region_id: inputs.regionId,
            pg_version: inputs.pgVersion,
            history_retention_seconds: inputs.historyRetentionSeconds,
            ...(inputs.orgId ? { org_id: inputs.orgId } : {}),
            branch: {
              name: inputs.defaultBranchName,
              database_name: inputs.defaultDatabaseName,
              role_name: inputs.defaultRoleName,
              ...(annotations ? { annotations } : {}),
            },
            ...(managesAllowedIps(inputs) ? { settings: { allowed_ips: allowedIpsSetting(inputs) } } : {}),
          },
        }),
      );
    } catch (error) {
      // The answer was lost (Neon may have acted): the project of this name carrying the claim is the one asked for.
      // When none is found the create is NOT sent once more (as Role, Database and Branch creates are): Neon allows
      // two projects of one name, so a first request that went through late and a resend would make two. The error
      // names the call, and the next `pulumi up` finds a late one by its name and claim.
      if (!isLostAnswer(error) || inputs.claim === undefined) throw error;
      const made = await findProjectsByName(api, inputs.name, inputs.orgId);
      if (made.length !== 1 || !(await isClaimed(api, made[0].id, inputs.claim))) throw error;
      const outs = await takeOverClaimed(api, inputs, made[0]);
      return { id: outs.projectId, outs };
    }
    const projectId = result.project.id;
    await waitForOperations(api, projectId, result.operations);
    const endpoint = result.endpoints.find((candidate) => candidate.type === "read_write");
    const role = result.roles.find((candidate) => candidate.name === inputs.defaultRoleName);
    const uriPassword = result.connection_uris?.find((uri) => uri.connection_parameters.role === inputs.defaultRoleName)?.connection_parameters.password;
    const password = role?.password ?? uriPassword;
    if (!password) throw new Error(`${label(inputs.name)}: Neon returned no password for the owner role '${inputs.defaultRoleName}'`);
    return {
      id: projectId,
      outs: {
        ...inputs,
        projectId,
        defaultBranchId: result.branch.id,
        defaultEndpointId: endpoint?.id ?? "",
        defaultEndpointHost: endpoint?.host ?? "",
        ownerPassword: password,
        proxyHost: result.project.proxy_host,
        adopted: false,
      },
    };
  },

  async read(id, props) {
    const known = props as ProjectOutputs;
    const api = neonApi();
    const response = await ignoreNeonNotFound(() => neonCall(() => api.getProject(id), { idempotent: true }));
    if (!response) return { id: "" };
    const project = response.project;
    const branch = await defaultBranchOf(api, id);
    const endpoint = await readWriteEndpointOf(api, id, branch.id);
    const managed = managesAllowedIps(known);
    const ips = project.settings?.allowed_ips?.ips;
    const onlyProtected = project.settings?.allowed_ips?.protected_branches_only;
    const live: ProjectOutputs = {
      ...known,
      name: project.name,
      regionId: project.region_id,
      pgVersion: project.pg_version,
      historyRetentionSeconds: project.history_retention_seconds,
      // Unset and empty both mean "every IP": keep the declared form so refresh shows no false drift. A list
      // this resource does not manage is not read at all: a neon:IpAllowList reports its drift.
      allowedIps: !managed || (known.allowedIps === undefined && (ips ?? []).length === 0) ? undefined : (ips ?? []),
      protectedBranchesOnly: !managed || (known.protectedBranchesOnly === undefined && !onlyProtected) ? undefined : (onlyProtected ?? false),
      orgId: known.orgId === undefined ? undefined : (project.org_id ?? known.orgId),
      defaultBranchName: branch.name,
      projectId: id,
      defaultBranchId: branch.id,
      defaultEndpointId: endpoint?.id ?? "",
      defaultEndpointHost: endpoint?.host ?? "",
      proxyHost: project.proxy_host,
    };
    return { id, props: live };
  },

  async update(id, olds, raw) {
    const news = withDefaults(raw);
    const api = neonApi();
    let proxyHost = olds.proxyHost;
    const change = projectChanges(olds, news);
    if (Object.keys(change).length > 0) {
      // PATCH /projects starts no operations but answers 423 while others run: neonCall retries that.
      const result = await mutate(api, id, () => api.updateProject(id, { project: change }));
      proxyHost = result.project.proxy_host;
    }
    if (olds.defaultBranchName !== news.defaultBranchName) {
      await mutate(api, id, () => api.updateProjectBranch(id, olds.defaultBranchId, { branch: { name: news.defaultBranchName } }));
    }
    return {
      outs: {
        ...news,
        projectId: id,
        defaultBranchId: olds.defaultBranchId,
        defaultEndpointId: olds.defaultEndpointId,
        defaultEndpointHost: olds.defaultEndpointHost,
        ownerPassword: olds.ownerPassword,
        proxyHost,
        adopted: olds.adopted ?? false,
      },
    };
  },

  async delete(id) {
    const api = neonApi();
    await ignoreNeonNotFound(() => neonCall(() => api.deleteProject(id), { idempotent: true }));
  },
});

export interface ProjectArgs {
  /** Project name, e.g. `acme`. Changed in place. */
  name: pulumi.Input<string>;
  /** Neon region, e.g. `aws-eu-central-1` (Frankfurt). Changing it replaces the project. */
  regionId: pulumi.Input<string>;
  /** Postgres major version 14..18. Changing it replaces the project. @default `17` */
  pgVersion?: pulumi.Input<number>;
  /** Point-in-time restore window in seconds, 0..2592000. @default `86400` */
  historyRetentionSeconds?: pulumi.Input<number>;
  /** Name of the default branch Neon creates with the project; a change renames it. @default `"main"` */
  defaultBranchName?: pulumi.Input<string>;
  /** The database Neon creates with the project, e.g. `app`. Changing it replaces the project. @default `"neondb"` */
  defaultDatabaseName?: pulumi.Input<string>;
  /** Its owner role, e.g. `app_owner`. Changing it replaces the project. @default `<defaultDatabaseName>_owner` */
  defaultRoleName?: pulumi.Input<string>;
  /**
   * IP allow list (IPs, `a-b` ranges, CIDRs); needs Neon's Scale plan. Leave it and `protectedBranchesOnly`
   * unset when a `neon:IpAllowList` owns the list. @default left as it is (a new project allows every IP)
   */
  allowedIps?: pulumi.Input<pulumi.Input<string>[]>;
  /** Apply the IP allow list to protected branches only. @default `false` */
  protectedBranchesOnly?: pulumi.Input<boolean>;
  /** Neon organization id. Changing it replaces the project. @default the key's personal account */
  orgId?: pulumi.Input<string>;
  /** Take over the existing project of this name (region, Postgres version and default names must match). @default `false` */
  adopt?: pulumi.Input<boolean>;
  /**
   * Marks the project as this resource's (an annotation on its default branch), so a create interrupted after
   * Neon made the project takes it over on the next `pulumi up` instead of refusing it. Read only at create:
   * changing it changes nothing. @default a hash of the Pulumi organization, project, stack and this resource's name
   * @example `"acme-production-db"`
   */
  claim?: pulumi.Input<string>;
}

/**
 * A Neon project with its implicit default branch, read_write endpoint, database and owner role. Those are
 * reported as outputs and never created or deleted separately. Set `protect: true` on it (the Neon component
 * does): deleting a project deletes its data.
 */
export class Project extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly regionId: pulumi.Output<string>;
  declare readonly pgVersion: pulumi.Output<number>;
  declare readonly projectId: pulumi.Output<string>;
  declare readonly defaultBranchId: pulumi.Output<string>;
  declare readonly defaultBranchName: pulumi.Output<string>;
  declare readonly defaultEndpointId: pulumi.Output<string>;
  declare readonly defaultEndpointHost: pulumi.Output<string>;
  declare readonly defaultDatabaseName: pulumi.Output<string>;
  declare readonly defaultRoleName: pulumi.Output<string>;
  declare readonly ownerPassword: pulumi.Output<string>;
  declare readonly proxyHost: pulumi.Output<string>;
  declare readonly adopted: pulumi.Output<boolean>;

  constructor(name: string, args: ProjectArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      projectProvider,
      name,
      {
        ...args,
        // Inputs with defaults are listed so they exist as outputs even when left unset.
        pgVersion: args.pgVersion,
        historyRetentionSeconds: args.historyRetentionSeconds,
        defaultBranchName: args.defaultBranchName,
        defaultDatabaseName: args.defaultDatabaseName,
        defaultRoleName: args.defaultRoleName,
        claim: args.claim ?? defaultClaim("neon:Project", name),
        projectId: undefined,
        defaultBranchId: undefined,
        defaultEndpointId: undefined,
        defaultEndpointHost: undefined,
        ownerPassword: undefined,
        proxyHost: undefined,
        adopted: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["ownerPassword"] }),
      "neon",
      "Project",
    );
  }
}
