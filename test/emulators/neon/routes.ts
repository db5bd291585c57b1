import type { PostgresCluster } from "../postgres/cluster";
import * as backing from "./backing";
import {
  type BranchRecord,
  type DatabaseRecord,
  type DefaultEndpointSettings,
  type EndpointRecord,
  type EndpointType,
  type OperationRecord,
  type ProjectSettings,
  type ProjectState,
  type RoleRecord,
  localConnectionUri,
  now,
  startOperations,
  toAnnotation,
  toBranch,
  toConnectionDetails,
  toDatabase,
  toEndpoint,
  toOperation,
  toProject,
  toProjectListItem,
  toRole,
} from "./model";
import * as names from "./names";
import { startTcpProxy } from "./proxy";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Reply {
  status: number;
  body?: unknown;
}

export interface RouteContext {
  pathParams: Record<string, string>;
  query: Record<string, string>;
  /** Already validated against the spec by the time a handler runs. */
  body: unknown;
}

/** What handlers need from the emulator around them. */
export interface EmulatorCore {
  readonly projects: Map<string, ProjectState>;
  readonly operationMs: number;
  startCluster(from?: PostgresCluster): Promise<PostgresCluster>;
  nextDatabaseId(): number;
}

type Handler = (core: EmulatorCore, ctx: RouteContext) => Promise<Reply>;

interface EndpointOptions {
  type: EndpointType;
  autoscaling_limit_min_cu?: number;
  autoscaling_limit_max_cu?: number;
  suspend_timeout_seconds?: number;
  name?: string;
}

interface ProjectCreateBody {
  project: {
    name?: string;
    region_id?: string;
    pg_version?: number;
    org_id?: string;
    history_retention_seconds?: number;
    settings?: ProjectSettings;
    default_endpoint_settings?: DefaultEndpointSettings;
    autoscaling_limit_min_cu?: number;
    autoscaling_limit_max_cu?: number;
    branch?: { name?: string; role_name?: string; database_name?: string; annotations?: Record<string, string> };
  };
}

interface ProjectUpdateBody {
  project: { name?: string; settings?: ProjectSettings; history_retention_seconds?: number; default_endpoint_settings?: DefaultEndpointSettings };
}

interface BranchCreateBody {
  endpoints?: EndpointOptions[];
  branch?: { parent_id?: string; name?: string; parent_lsn?: string; parent_timestamp?: string; protected?: boolean; init_source?: string; expires_at?: string };
  annotation_value?: Record<string, string>;
}

interface BranchUpdateBody {
  branch: { name?: string; protected?: boolean; expires_at?: string | null };
}

const DEFAULT_REGION = "aws-us-east-2";
const DEFAULT_PG_VERSION = 17;
/** Neon keeps one day of history by default [tf #113]. */
const DEFAULT_HISTORY_RETENTION_SECONDS = 86400;
/** From a live project listing [BEHAVIOUR-NOTES: default_endpoint_settings]. */
const DEFAULT_ENDPOINT_SETTINGS = { autoscaling_limit_min_cu: 0.25, autoscaling_limit_max_cu: 2, suspend_timeout_seconds: 0 };
/** "Maximum expiration is 30 days from the current time" [BEHAVIOUR-NOTES: Branch expiration]. */
const MAX_BRANCH_LIFETIME_MS = 30 * 86_400_000;

function projectState(core: EmulatorCore, id: string): ProjectState {
  const state = core.projects.get(id);
  if (!state) throw new ApiError(404, "project not found");
  return state;
}

function branchOf(state: ProjectState, id: string): BranchRecord {
  const branch = state.branches.get(id);
  if (!branch) throw new ApiError(404, "branch not found");
  return branch;
}

function endpointOf(state: ProjectState, id: string): EndpointRecord {
  const endpoint = state.endpoints.get(id);
  if (!endpoint) throw new ApiError(404, "endpoint not found");
  return endpoint;
}

function rolesOf(state: ProjectState, branchId: string): Map<string, RoleRecord> {
  let roles = state.roles.get(branchId);
  if (!roles) state.roles.set(branchId, (roles = new Map()));
  return roles;
}

function databasesOf(state: ProjectState, branchId: string): Map<string, DatabaseRecord> {
  let databases = state.databases.get(branchId);
  if (!databases) state.databases.set(branchId, (databases = new Map()));
  return databases;
}

function roleOf(state: ProjectState, branchId: string, name: string): RoleRecord {
  const role = rolesOf(state, branchId).get(name);
  if (!role) throw new ApiError(404, "role not found");
  return role;
}

function databaseOf(state: ProjectState, branchId: string, name: string): DatabaseRecord {
  const database = databasesOf(state, branchId).get(name);
  if (!database) throw new ApiError(404, "database not found");
  return database;
}

function defaultBranch(state: ProjectState): BranchRecord {
  const branch = [...state.branches.values()].find((b) => b.default);
  if (!branch) throw new ApiError(500, "project has no default branch");
  return branch;
}

function readWriteEndpoint(state: ProjectState, branchId: string): EndpointRecord | undefined {
  return [...state.endpoints.values()].find((e) => e.branch_id === branchId && e.type === "read_write");
}

/** PostgreSQL refusals become API errors; anything else is an emulator bug and surfaces as 500. */
async function sql<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
    if (/^[0-9A-Z]{5}$/.test(code)) {
      const conflict = ["42710", "42P04", "2BP01", "55006"].includes(code);
      throw new ApiError(conflict ? 409 : 400, error instanceof Error ? error.message : String(error));
    }
    throw error;
  }
}

/** CU values are 0.25, 0.5 or whole numbers (neon.com/docs/connect/connection-pooling), max − min ≤ 8, max ≤ 16 [BEHAVIOUR-NOTES: Compute size]. */
function checkCompute(min: number, max: number, suspend: number): void {
  for (const cu of [min, max]) {
    if (cu !== 0.25 && cu !== 0.5 && !Number.isInteger(cu)) throw new ApiError(400, `compute units must be 0.25, 0.5 or a whole number, got ${cu}`);
  }
  if (min > max) throw new ApiError(400, "autoscaling_limit_min_cu must not exceed autoscaling_limit_max_cu");
  if (max > 16) throw new ApiError(400, "autoscaling_limit_max_cu must not exceed 16");
  if (max - min > 8) throw new ApiError(400, "the difference between autoscaling_limit_max_cu and autoscaling_limit_min_cu must not exceed 8");
  if (suspend !== -1 && suspend !== 0 && (suspend < 60 || suspend > 604800)) {
    throw new ApiError(400, "suspend_timeout_seconds must be -1, 0 or between 60 and 604800");
  }
}

async function createEndpoint(state: ProjectState, branch: BranchRecord, options: EndpointOptions): Promise<EndpointRecord> {
  if (options.type === "read_write" && readWriteEndpoint(state, branch.id)) {
    throw new ApiError(409, "branch already has a read_write endpoint");
  }
  const defaults = { ...DEFAULT_ENDPOINT_SETTINGS, ...state.project.default_endpoint_settings };
  const min = options.autoscaling_limit_min_cu ?? defaults.autoscaling_limit_min_cu;
  const max = options.autoscaling_limit_max_cu ?? Math.max(defaults.autoscaling_limit_max_cu, min);
  const suspend = options.suspend_timeout_seconds ?? defaults.suspend_timeout_seconds;
  checkCompute(min, max, suspend);
  const id = names.endpointId();
  // The forwarders follow `branch.cluster`, which a restore swaps; look the branch up on every connection.
  const target = () => (state.branches.get(state.endpoints.get(id)?.branch_id ?? branch.id) ?? branch).cluster.port;
  const direct = await startTcpProxy(target);
  const pooler = await startTcpProxy(target);
  const at = now();
  const endpoint: EndpointRecord = {
    id,
    project_id: state.project.id,
    branch_id: branch.id,
    type: options.type,
    region_id: state.project.region_id,
    autoscaling_limit_min_cu: min,
    autoscaling_limit_max_cu: max,
    suspend_timeout_seconds: suspend,
    ...(options.name ? { name: options.name } : {}),
    created_at: at,
    updated_at: at,
    direct,
    pooler,
  };
  state.endpoints.set(id, endpoint);
  return endpoint;
}

async function removeEndpoint(state: ProjectState, endpoint: EndpointRecord): Promise<void> {
  state.endpoints.delete(endpoint.id);
  await Promise.all([endpoint.direct.close(), endpoint.pooler.close()]);
}

/** Every cluster and forwarder of a project; used by deleteProject and by the emulator's close(). */
export async function teardownProject(state: ProjectState): Promise<void> {
  await Promise.all([...state.endpoints.values()].map((e) => removeEndpoint(state, e)));
  await Promise.all([...state.branches.values()].map((b) => b.cluster.stop()));
}

function copyBranchObjects(state: ProjectState, from: string, to: string): void {
  const roles = new Map<string, RoleRecord>();
  for (const role of rolesOf(state, from).values()) roles.set(role.name, { ...role, branch_id: to });
  const databases = new Map<string, DatabaseRecord>();
  for (const database of databasesOf(state, from).values()) databases.set(database.name, { ...database, branch_id: to });
  state.roles.set(to, roles);
  state.databases.set(to, databases);
}

function ops(state: ProjectState, core: EmulatorCore, specs: Parameters<typeof startOperations>[2]): OperationRecord[] {
  return startOperations(state, core.operationMs, specs);
}

function applyConfig(core: EmulatorCore, state: ProjectState, branchId: string): OperationRecord[] {
  const endpoint = readWriteEndpoint(state, branchId);
  return ops(state, core, [{ action: "apply_config", branch_id: branchId, ...(endpoint ? { endpoint_id: endpoint.id } : {}) }]);
}

function connectionUris(state: ProjectState, endpoint: EndpointRecord | undefined, branchId: string) {
  if (!endpoint) return [];
  const roles = rolesOf(state, branchId);
  return [...databasesOf(state, branchId).values()].flatMap((db) => {
    const owner = roles.get(db.owner_name);
    return owner ? [toConnectionDetails(endpoint, owner, db.name)] : [];
  });
}

function uniqueBranchName(state: ProjectState, name: string, except?: string): void {
  if ([...state.branches.values()].some((b) => b.name === name && b.id !== except)) {
    throw new ApiError(409, `branch with name "${name}" already exists`);
  }
}

function hasChildren(state: ProjectState, branch: { id: string }): boolean {
  return [...state.branches.values()].some((b) => b.parent_id === branch.id);
}

/**
 * An expiry as Neon takes it [BEHAVIOUR-NOTES: Branch expiration]: in the future, at most 30 days ahead, stored
 * with whole seconds in UTC; never on a protected or default branch, nor on one with children. The spec already
 * checked the date-time format. Statuses and texts are unverified.
 */
function expiry(state: ProjectState, branch: Pick<BranchRecord, "id" | "protected" | "default">, expiresAt: string): { expires_at: string; ttl_interval_seconds: number } {
  const at = Date.parse(expiresAt);
  const nowMs = Date.now();
  if (Number.isNaN(at)) throw new ApiError(400, "expires_at must be an RFC 3339 timestamp");
  if (at <= nowMs) throw new ApiError(400, "expires_at must be in the future");
  if (at > nowMs + MAX_BRANCH_LIFETIME_MS) throw new ApiError(400, "expires_at must be at most 30 days in the future");
  if (branch.protected) throw new ApiError(400, "cannot set expiration on a protected branch");
  if (branch.default) throw new ApiError(400, "cannot set expiration on the default branch");
  if (hasChildren(state, branch)) throw new ApiError(400, "cannot set expiration on a branch that has child branches");
  const seconds = Math.floor(at / 1000);
  return { expires_at: utcSeconds(seconds), ttl_interval_seconds: seconds - Math.floor(nowMs / 1000) };
}

/** Neon's form of a timestamp: UTC, whole seconds, `Z`. */
function utcSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Drops a branch with its endpoints, roles, databases and server; the caller checked that it may go. */
async function removeBranch(core: EmulatorCore, state: ProjectState, branch: BranchRecord): Promise<OperationRecord[]> {
  const endpoints = [...state.endpoints.values()].filter((e) => e.branch_id === branch.id);
  for (const endpoint of endpoints) await removeEndpoint(state, endpoint);
  state.branches.delete(branch.id);
  state.roles.delete(branch.id);
  state.databases.delete(branch.id);
  await branch.cluster.stop();
  return ops(state, core, [
    ...endpoints.map((e) => ({ action: "suspend_compute" as const, branch_id: branch.id, endpoint_id: e.id })),
    { action: "delete_timeline", branch_id: branch.id },
  ]);
}

/**
 * Neon's background job: deletes every branch whose expiry is at or before `at`. Neon runs it on its own and
 * "may not [delete] exactly at the specified time"; here a test runs it. Returns the deleted branch ids.
 */
export async function expireBranches(core: EmulatorCore, at: number): Promise<string[]> {
  const deleted: string[] = [];
  for (const state of core.projects.values()) {
    for (const branch of [...state.branches.values()]) {
      if (branch.expires_at === undefined || Date.parse(branch.expires_at) > at || hasChildren(state, branch)) continue;
      await removeBranch(core, state, branch);
      deleted.push(branch.id);
    }
  }
  return deleted;
}

const createProject: Handler = async (core, { body }) => {
  const request = (body as ProjectCreateBody).project;
  const at = now();
  const id = names.projectId();
  const branchRequest = request.branch ?? {};
  const databaseName = branchRequest.database_name ?? "neondb";
  const roleName = branchRequest.role_name ?? `${databaseName}_owner`;
  const endpointDefaults: DefaultEndpointSettings = { ...DEFAULT_ENDPOINT_SETTINGS, ...request.default_endpoint_settings };
  if (request.autoscaling_limit_min_cu !== undefined) endpointDefaults.autoscaling_limit_min_cu = request.autoscaling_limit_min_cu;
  if (request.autoscaling_limit_max_cu !== undefined) endpointDefaults.autoscaling_limit_max_cu = request.autoscaling_limit_max_cu;
  const cluster = await core.startCluster();
  const branchId = names.branchId();
  const state: ProjectState = {
    project: {
      id,
      name: request.name ?? id,
      region_id: request.region_id ?? DEFAULT_REGION,
      pg_version: request.pg_version ?? DEFAULT_PG_VERSION,
      ...(request.org_id ? { org_id: request.org_id } : {}),
      history_retention_seconds: request.history_retention_seconds ?? DEFAULT_HISTORY_RETENTION_SECONDS,
      settings: request.settings ?? {},
      default_endpoint_settings: endpointDefaults,
      created_at: at,
      updated_at: at,
    },
    branches: new Map(),
    endpoints: new Map(),
    roles: new Map(),
    databases: new Map(),
    operations: [],
  };
  const branch: BranchRecord = {
    id: branchId,
    project_id: id,
    name: branchRequest.name ?? "main",
    default: true,
    protected: false,
    annotation: branchRequest.annotations ?? {},
    created_at: at,
    updated_at: at,
    cluster,
  };
  state.branches.set(branchId, branch);
  const password = names.rolePassword();
  try {
    await backing.prepareRootCluster(cluster);
    await sql(() => backing.createRole(cluster, roleName, password, true));
    await sql(() => backing.createDatabase(cluster, databaseName, roleName));
    const role: RoleRecord = { branch_id: branchId, name: roleName, password, protected: false, created_at: at, updated_at: at };
    rolesOf(state, branchId).set(roleName, role);
    databasesOf(state, branchId).set(databaseName, {
      id: core.nextDatabaseId(),
      branch_id: branchId,
      name: databaseName,
      owner_name: roleName,
      created_at: at,
      updated_at: at,
    });
    const endpoint = await createEndpoint(state, branch, { type: "read_write" });
    core.projects.set(id, state);
    const operations = ops(state, core, [
      { action: "create_timeline", branch_id: branchId },
      { action: "start_compute", branch_id: branchId, endpoint_id: endpoint.id },
    ]);
    return {
      status: 201,
      body: {
        project: toProject(state.project),
        connection_uris: connectionUris(state, endpoint, branchId),
        roles: [toRole(role, true)],
        databases: [...databasesOf(state, branchId).values()].map(toDatabase),
        operations: operations.map(toOperation),
        branch: toBranch(state, branch),
        endpoints: [toEndpoint(state, endpoint)],
      },
    };
  } catch (error) {
    await teardownProject(state);
    throw error;
  }
};

const getProject: Handler = async (core, { pathParams }) => ({ status: 200, body: { project: toProject(projectState(core, pathParams.project_id).project) } });

const listProjects: Handler = async (core, { query }) => {
  const search = query.search?.toLowerCase();
  let all = [...core.projects.values()].map((s) => s.project);
  if (search) all = all.filter((p) => p.name.toLowerCase().includes(search) || p.id.includes(search));
  if (query.cursor) {
    const index = all.findIndex((p) => p.id === query.cursor);
    all = index >= 0 ? all.slice(index + 1) : [];
  }
  const page = all.slice(0, query.limit ? Number(query.limit) : 10);
  return {
    status: 200,
    body: {
      projects: page.map(toProjectListItem),
      applications: {},
      integrations: {},
      ...(page.length > 0 ? { pagination: { cursor: page[page.length - 1].id } } : {}),
    },
  };
};

const IP_ALLOW_ENTRY = /^[0-9a-fA-F:.]+(\/\d{1,3}|-[0-9a-fA-F:.]+)?$/;

const updateProject: Handler = async (core, { pathParams, body }) => {
  const state = projectState(core, pathParams.project_id);
  const request = (body as ProjectUpdateBody).project;
  for (const ip of request.settings?.allowed_ips?.ips ?? []) {
    if (!IP_ALLOW_ENTRY.test(ip)) throw new ApiError(400, `settings.allowed_ips.ips: "${ip}" is not an IP address, range or CIDR`);
  }
  const project = state.project;
  if (request.name !== undefined) project.name = request.name;
  if (request.history_retention_seconds !== undefined) project.history_retention_seconds = request.history_retention_seconds;
  if (request.settings) project.settings = { ...project.settings, ...request.settings };
  if (request.default_endpoint_settings) project.default_endpoint_settings = { ...project.default_endpoint_settings, ...request.default_endpoint_settings };
  project.updated_at = now();
  return { status: 200, body: { project: toProject(project), operations: [] } };
};

const deleteProject: Handler = async (core, { pathParams }) => {
  const state = projectState(core, pathParams.project_id);
  core.projects.delete(state.project.id);
  await teardownProject(state);
  return { status: 200, body: { project: toProject(state.project) } };
};

const createProjectBranch: Handler = async (core, { pathParams, body }) => {
  const state = projectState(core, pathParams.project_id);
  const request = (body ?? {}) as BranchCreateBody;
  const options = request.branch ?? {};
  if (options.parent_lsn || options.parent_timestamp) throw new ApiError(400, "emulator: parent_lsn and parent_timestamp are not supported");
  if (options.init_source && options.init_source !== "parent-data") throw new ApiError(400, "emulator: only init_source parent-data is supported");
  const parent = options.parent_id ? branchOf(state, options.parent_id) : defaultBranch(state);
  if (parent.expires_at !== undefined) throw new ApiError(400, "cannot create a branch from a branch with expiration");
  const endpoints = request.endpoints ?? [];
  if (endpoints.filter((e) => e.type === "read_write").length > 1) throw new ApiError(400, "a branch can have only one read_write endpoint");
  const id = names.branchId();
  const name = options.name ?? id;
  uniqueBranchName(state, name);
  const expires = options.expires_at === undefined ? {} : expiry(state, { id, protected: options.protected ?? false, default: false }, options.expires_at);
  const cluster = await core.startCluster(parent.cluster);
  const at = now();
  const branch: BranchRecord = {
    id,
    project_id: state.project.id,
    name,
    parent_id: parent.id,
    default: false,
    protected: options.protected ?? false,
    annotation: request.annotation_value ?? {},
    created_at: at,
    updated_at: at,
    ...expires,
    cluster,
  };
  state.branches.set(id, branch);
  copyBranchObjects(state, parent.id, id);
  const created: EndpointRecord[] = [];
  for (const options of endpoints) created.push(await createEndpoint(state, branch, options));
  const operations = ops(state, core, [
    { action: "create_branch", branch_id: id },
    ...created.map((e) => ({ action: "start_compute" as const, branch_id: id, endpoint_id: e.id })),
  ]);
  const readWrite = created.find((e) => e.type === "read_write");
  return {
    status: 201,
    body: {
      branch: toBranch(state, branch),
      endpoints: created.map((e) => toEndpoint(state, e)),
      operations: operations.map(toOperation),
      roles: [...rolesOf(state, id).values()].map((r) => toRole(r)),
      databases: [...databasesOf(state, id).values()].map(toDatabase),
      ...(readWrite ? { connection_uris: connectionUris(state, readWrite, id) } : {}),
    },
  };
};

const getProjectBranch: Handler = async (core, { pathParams }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = branchOf(state, pathParams.branch_id);
  return { status: 200, body: { branch: toBranch(state, branch), annotation: toAnnotation(branch) } };
};

const listProjectBranches: Handler = async (core, { pathParams, query }) => {
  const state = projectState(core, pathParams.project_id);
  const search = query.search?.toLowerCase();
  const sortBy = (query.sort_by ?? "updated_at") as "name" | "created_at" | "updated_at";
  const direction = query.sort_order === "asc" ? 1 : -1;
  const branches = [...state.branches.values()]
    .filter((b) => !search || b.name.toLowerCase().includes(search) || b.id.includes(search))
    .sort((a, b) => direction * a[sortBy].localeCompare(b[sortBy]));
  const annotations: Record<string, ReturnType<typeof toAnnotation>> = {};
  for (const branch of branches) annotations[branch.id] = toAnnotation(branch);
  return { status: 200, body: { branches: branches.map((b) => toBranch(state, b)), annotations } };
};

const updateProjectBranch: Handler = async (core, { pathParams, body }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = branchOf(state, pathParams.branch_id);
  const request = (body as BranchUpdateBody).branch;
  // Every refusal before any change, so a refused PATCH changes nothing.
  if (request.name !== undefined) {
    // [BEHAVIOUR-NOTES: alchemy branch.ts]
    if (request.name === branch.name) throw new ApiError(400, "cannot set branch to the same name");
    uniqueBranchName(state, request.name, branch.id);
  }
  const isProtected = request.protected ?? branch.protected;
  let expires: Pick<BranchRecord, "expires_at" | "ttl_interval_seconds"> = { expires_at: branch.expires_at, ttl_interval_seconds: branch.ttl_interval_seconds };
  if (request.expires_at === null) expires = {};
  else if (request.expires_at !== undefined) expires = expiry(state, { id: branch.id, protected: isProtected, default: branch.default }, request.expires_at);
  if (isProtected && expires.expires_at !== undefined) throw new ApiError(400, "cannot protect a branch with expiration");
  if (request.name !== undefined) branch.name = request.name;
  branch.protected = isProtected;
  branch.expires_at = expires.expires_at;
  branch.ttl_interval_seconds = expires.ttl_interval_seconds;
  branch.updated_at = now();
  return { status: 200, body: { branch: toBranch(state, branch), operations: [] } };
};

const deleteProjectBranch: Handler = async (core, { pathParams }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = state.branches.get(pathParams.branch_id);
  if (!branch) return { status: 204 };
  if (branch.default) throw new ApiError(400, "cannot delete the project's default branch");
  if (!branch.parent_id) throw new ApiError(400, "cannot delete the project's root branch");
  if (hasChildren(state, branch)) throw new ApiError(400, "cannot delete a branch that has child branches");
  if (branch.protected) throw new ApiError(400, "cannot delete a protected branch");
  const operations = await removeBranch(core, state, branch);
  return { status: 200, body: { branch: toBranch(state, branch), operations: operations.map(toOperation) } };
};

const restoreProjectBranch: Handler = async (core, { pathParams, body }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = branchOf(state, pathParams.branch_id);
  const request = body as { source_branch_id: string; source_lsn?: string; source_timestamp?: string; preserve_under_name?: string };
  const source = state.branches.get(request.source_branch_id);
  if (!source) throw new ApiError(404, "source branch not found");
  if (request.source_lsn || request.source_timestamp || source.id === branch.id) {
    throw new ApiError(400, "emulator: restoring to a point in time (source_lsn, source_timestamp or the branch itself) is not supported");
  }
  if (branch.protected) throw new ApiError(400, "cannot restore a protected branch");
  const children = [...state.branches.values()].filter((b) => b.parent_id === branch.id);
  if (children.length > 0 && !request.preserve_under_name) {
    throw new ApiError(400, "preserve_under_name is required when the branch has child branches");
  }
  if (request.preserve_under_name) uniqueBranchName(state, request.preserve_under_name);
  const cluster = await core.startCluster(source.cluster);
  const old = branch.cluster;
  const at = now();
  if (request.preserve_under_name) {
    // The branch's previous state lives on under the new name and takes the children along.
    const preservedId = names.branchId();
    state.branches.set(preservedId, {
      ...branch,
      id: preservedId,
      name: request.preserve_under_name,
      default: false,
      protected: false,
      annotation: {},
      created_at: at,
      updated_at: at,
      cluster: old,
    });
    copyBranchObjects(state, branch.id, preservedId);
    for (const child of children) child.parent_id = preservedId;
  }
  branch.cluster = cluster;
  copyBranchObjects(state, source.id, branch.id);
  const endpoints = [...state.endpoints.values()].filter((e) => e.branch_id === branch.id);
  for (const endpoint of endpoints) {
    endpoint.direct.disconnectAll();
    endpoint.pooler.disconnectAll();
  }
  if (!request.preserve_under_name) await old.stop();
  if (source.id === branch.parent_id) branch.last_reset_at = at;
  // "If you reset the branch from its parent, the TTL countdown restarts using the original interval" [BEHAVIOUR-NOTES].
  if (branch.ttl_interval_seconds !== undefined && branch.expires_at !== undefined) {
    branch.expires_at = utcSeconds(Math.floor(Date.now() / 1000) + branch.ttl_interval_seconds);
  }
  branch.updated_at = at;
  const operations = ops(state, core, [
    { action: "create_timeline", branch_id: branch.id },
    ...endpoints.map((e) => ({ action: "start_compute" as const, branch_id: branch.id, endpoint_id: e.id })),
  ]);
  return { status: 200, body: { branch: toBranch(state, branch), operations: operations.map(toOperation) } };
};

const createProjectEndpoint: Handler = async (core, { pathParams, body }) => {
  const state = projectState(core, pathParams.project_id);
  const request = (body as { endpoint: EndpointOptions & { branch_id: string } }).endpoint;
  const branch = branchOf(state, request.branch_id);
  const endpoint = await createEndpoint(state, branch, request);
  const operations = ops(state, core, [{ action: "start_compute", branch_id: branch.id, endpoint_id: endpoint.id }]);
  return { status: 201, body: { endpoint: toEndpoint(state, endpoint), operations: operations.map(toOperation) } };
};

const getProjectEndpoint: Handler = async (core, { pathParams }) => {
  const state = projectState(core, pathParams.project_id);
  return { status: 200, body: { endpoint: toEndpoint(state, endpointOf(state, pathParams.endpoint_id)) } };
};

const listProjectEndpoints: Handler = async (core, { pathParams }) => {
  const state = projectState(core, pathParams.project_id);
  return { status: 200, body: { endpoints: [...state.endpoints.values()].map((e) => toEndpoint(state, e)) } };
};

const listProjectBranchEndpoints: Handler = async (core, { pathParams }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = branchOf(state, pathParams.branch_id);
  const endpoints = [...state.endpoints.values()].filter((e) => e.branch_id === branch.id);
  return { status: 200, body: { endpoints: endpoints.map((e) => toEndpoint(state, e)) } };
};

const updateProjectEndpoint: Handler = async (core, { pathParams, body }) => {
  const state = projectState(core, pathParams.project_id);
  const endpoint = endpointOf(state, pathParams.endpoint_id);
  const request = (body as { endpoint: Partial<EndpointOptions> & { branch_id?: string } }).endpoint;
  const min = request.autoscaling_limit_min_cu ?? endpoint.autoscaling_limit_min_cu;
  const max = request.autoscaling_limit_max_cu ?? endpoint.autoscaling_limit_max_cu;
  const suspend = request.suspend_timeout_seconds ?? endpoint.suspend_timeout_seconds;
  checkCompute(min, max, suspend);
  if (request.branch_id && request.branch_id !== endpoint.branch_id) {
    branchOf(state, request.branch_id);
    if (endpoint.type === "read_write" && readWriteEndpoint(state, request.branch_id)) {
      throw new ApiError(409, "branch already has a read_write endpoint");
    }
    endpoint.branch_id = request.branch_id;
    endpoint.direct.disconnectAll();
    endpoint.pooler.disconnectAll();
  }
  Object.assign(endpoint, {
    autoscaling_limit_min_cu: min,
    autoscaling_limit_max_cu: max,
    suspend_timeout_seconds: suspend,
    ...(request.name ? { name: request.name } : {}),
    updated_at: now(),
  });
  const operations = ops(state, core, [{ action: "apply_config", branch_id: endpoint.branch_id, endpoint_id: endpoint.id }]);
  return { status: 200, body: { endpoint: toEndpoint(state, endpoint), operations: operations.map(toOperation) } };
};

const deleteProjectEndpoint: Handler = async (core, { pathParams }) => {
  const state = projectState(core, pathParams.project_id);
  const endpoint = state.endpoints.get(pathParams.endpoint_id);
  if (!endpoint) return { status: 204 };
  if (state.branches.get(endpoint.branch_id)?.protected) throw new ApiError(400, "cannot delete an endpoint of a protected branch");
  await removeEndpoint(state, endpoint);
  const operations = ops(state, core, [{ action: "suspend_compute", branch_id: endpoint.branch_id, endpoint_id: endpoint.id }]);
  return { status: 200, body: { endpoint: toEndpoint(state, endpoint), operations: operations.map(toOperation) } };
};

const createProjectBranchDatabase: Handler = async (core, { pathParams, body }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = branchOf(state, pathParams.branch_id);
  const request = (body as { database: { name: string; owner_name: string } }).database;
  if (databasesOf(state, branch.id).has(request.name)) throw new ApiError(409, `database "${request.name}" already exists`);
  if (!rolesOf(state, branch.id).has(request.owner_name)) throw new ApiError(400, `owner role "${request.owner_name}" does not exist`);
  await sql(() => backing.createDatabase(branch.cluster, request.name, request.owner_name));
  const at = now();
  const database: DatabaseRecord = { id: core.nextDatabaseId(), branch_id: branch.id, name: request.name, owner_name: request.owner_name, created_at: at, updated_at: at };
  databasesOf(state, branch.id).set(database.name, database);
  const operations = applyConfig(core, state, branch.id);
  return { status: 201, body: { database: toDatabase(database), operations: operations.map(toOperation) } };
};

const listProjectBranchDatabases: Handler = async (core, { pathParams }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = branchOf(state, pathParams.branch_id);
  return { status: 200, body: { databases: [...databasesOf(state, branch.id).values()].map(toDatabase) } };
};

const getProjectBranchDatabase: Handler = async (core, { pathParams }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = branchOf(state, pathParams.branch_id);
  return { status: 200, body: { database: toDatabase(databaseOf(state, branch.id, pathParams.database_name)) } };
};

const updateProjectBranchDatabase: Handler = async (core, { pathParams, body }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = branchOf(state, pathParams.branch_id);
  const database = databaseOf(state, branch.id, pathParams.database_name);
  const request = (body as { database: { name?: string; owner_name?: string } }).database;
  if (request.owner_name && !rolesOf(state, branch.id).has(request.owner_name)) throw new ApiError(400, `owner role "${request.owner_name}" does not exist`);
  if (request.name && request.name !== database.name && databasesOf(state, branch.id).has(request.name)) {
    throw new ApiError(409, `database "${request.name}" already exists`);
  }
  await sql(() => backing.alterDatabase(branch.cluster, database.name, request));
  const databases = databasesOf(state, branch.id);
  databases.delete(database.name);
  if (request.name) database.name = request.name;
  if (request.owner_name) database.owner_name = request.owner_name;
  database.updated_at = now();
  databases.set(database.name, database);
  const operations = applyConfig(core, state, branch.id);
  return { status: 200, body: { database: toDatabase(database), operations: operations.map(toOperation) } };
};

const deleteProjectBranchDatabase: Handler = async (core, { pathParams }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = branchOf(state, pathParams.branch_id);
  const database = databasesOf(state, branch.id).get(pathParams.database_name);
  if (!database) return { status: 204 };
  await sql(() => backing.dropDatabase(branch.cluster, database.name));
  databasesOf(state, branch.id).delete(database.name);
  const operations = applyConfig(core, state, branch.id);
  return { status: 200, body: { database: toDatabase(database), operations: operations.map(toOperation) } };
};

/** Neon's own and PostgreSQL's reserved names; the exact Neon list is unverified [BEHAVIOUR-NOTES]. */
const RESERVED_ROLES = /^(pg_.*|neon_superuser|cloud_admin|postgres|public|none|current_user|session_user)$/i;

const createProjectBranchRole: Handler = async (core, { pathParams, body }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = branchOf(state, pathParams.branch_id);
  const request = (body as { role: { name: string; no_login?: boolean } }).role;
  if (Buffer.byteLength(request.name) > 63) throw new ApiError(400, "role name must be at most 63 bytes");
  if (RESERVED_ROLES.test(request.name)) throw new ApiError(400, `role name "${request.name}" is reserved`);
  if (rolesOf(state, branch.id).has(request.name)) throw new ApiError(409, `role "${request.name}" already exists`);
  const password = names.rolePassword();
  await sql(() => backing.createRole(branch.cluster, request.name, password, !request.no_login));
  const at = now();
  const role: RoleRecord = { branch_id: branch.id, name: request.name, password, protected: false, created_at: at, updated_at: at };
  rolesOf(state, branch.id).set(role.name, role);
  const operations = applyConfig(core, state, branch.id);
  return { status: 201, body: { role: toRole(role, true), operations: operations.map(toOperation) } };
};

const listProjectBranchRoles: Handler = async (core, { pathParams }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = branchOf(state, pathParams.branch_id);
  return { status: 200, body: { roles: [...rolesOf(state, branch.id).values()].map((r) => toRole(r)) } };
};

const getProjectBranchRole: Handler = async (core, { pathParams }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = branchOf(state, pathParams.branch_id);
  return { status: 200, body: { role: toRole(roleOf(state, branch.id, pathParams.role_name)) } };
};

const deleteProjectBranchRole: Handler = async (core, { pathParams }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = branchOf(state, pathParams.branch_id);
  const role = rolesOf(state, branch.id).get(pathParams.role_name);
  if (!role) return { status: 204 };
  const owned = [...databasesOf(state, branch.id).values()].find((d) => d.owner_name === role.name);
  if (owned) throw new ApiError(409, `role "${role.name}" owns database "${owned.name}"`);
  await sql(() => backing.dropRole(branch.cluster, role.name));
  rolesOf(state, branch.id).delete(role.name);
  const operations = applyConfig(core, state, branch.id);
  return { status: 200, body: { role: toRole(role), operations: operations.map(toOperation) } };
};

const getProjectBranchRolePassword: Handler = async (core, { pathParams }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = branchOf(state, pathParams.branch_id);
  return { status: 200, body: { password: roleOf(state, branch.id, pathParams.role_name).password } };
};

const resetProjectBranchRolePassword: Handler = async (core, { pathParams }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = branchOf(state, pathParams.branch_id);
  const role = roleOf(state, branch.id, pathParams.role_name);
  const password = names.rolePassword();
  await sql(() => backing.setRolePassword(branch.cluster, role.name, password));
  role.password = password;
  role.updated_at = now();
  const operations = applyConfig(core, state, branch.id);
  return { status: 200, body: { role: toRole(role, true), operations: operations.map(toOperation) } };
};

const getConnectionURI: Handler = async (core, { pathParams, query }) => {
  const state = projectState(core, pathParams.project_id);
  const branch = query.branch_id ? branchOf(state, query.branch_id) : defaultBranch(state);
  let endpoint: EndpointRecord | undefined;
  if (query.endpoint_id) {
    endpoint = endpointOf(state, query.endpoint_id);
    if (endpoint.branch_id !== branch.id) throw new ApiError(400, "endpoint does not belong to the branch");
  } else {
    endpoint = readWriteEndpoint(state, branch.id);
    if (!endpoint) throw new ApiError(404, "read_write endpoint not found for the branch");
  }
  const role = roleOf(state, branch.id, query.role_name);
  const database = databaseOf(state, branch.id, query.database_name);
  return { status: 200, body: { uri: localConnectionUri(endpoint, role, database.name, query.pooled === "true") } };
};

const listProjectOperations: Handler = async (core, { pathParams, query }) => {
  const state = projectState(core, pathParams.project_id);
  const all = [...state.operations].reverse();
  return { status: 200, body: { operations: all.slice(0, query.limit ? Number(query.limit) : all.length).map(toOperation) } };
};

const getProjectOperation: Handler = async (core, { pathParams }) => {
  const state = projectState(core, pathParams.project_id);
  const operation = state.operations.find((op) => op.id === pathParams.operation_id);
  if (!operation) throw new ApiError(404, "operation not found");
  return { status: 200, body: { operation: toOperation(operation) } };
};

/** Keyed by the spec's operationId. */
export const handlers: Record<string, Handler> = {
  createProject,
  getProject,
  listProjects,
  updateProject,
  deleteProject,
  createProjectBranch,
  getProjectBranch,
  listProjectBranches,
  updateProjectBranch,
  deleteProjectBranch,
  restoreProjectBranch,
  createProjectEndpoint,
  getProjectEndpoint,
  listProjectEndpoints,
  listProjectBranchEndpoints,
  updateProjectEndpoint,
  deleteProjectEndpoint,
  createProjectBranchDatabase,
  listProjectBranchDatabases,
  getProjectBranchDatabase,
  updateProjectBranchDatabase,
  deleteProjectBranchDatabase,
  createProjectBranchRole,
  listProjectBranchRoles,
  getProjectBranchRole,
  deleteProjectBranchRole,
  getProjectBranchRolePassword,
  resetProjectBranchRolePassword,
  getConnectionURI,
  listProjectOperations,
  getProjectOperation,
};
