import { randomUUID } from "node:crypto";
import type { PostgresCluster } from "../postgres/cluster";
import type { TcpProxy } from "./proxy";
import { endpointHost, proxyHost } from "./names";

/** What the emulator keeps per object; the API shapes are built from these by the `to*` functions below. */
export interface AllowedIps {
  ips?: string[];
  protected_branches_only?: boolean;
}

export interface ProjectSettings {
  allowed_ips?: AllowedIps;
  [setting: string]: unknown;
}

export interface DefaultEndpointSettings {
  autoscaling_limit_min_cu?: number;
  autoscaling_limit_max_cu?: number;
  suspend_timeout_seconds?: number;
  [setting: string]: unknown;
}

export interface ProjectRecord {
  id: string;
  name: string;
  region_id: string;
  pg_version: number;
  org_id?: string;
  history_retention_seconds: number;
  settings: ProjectSettings;
  default_endpoint_settings: DefaultEndpointSettings;
  created_at: string;
  updated_at: string;
}

export interface BranchRecord {
  id: string;
  project_id: string;
  name: string;
  parent_id?: string;
  default: boolean;
  protected: boolean;
  annotation: Record<string, string>;
  created_at: string;
  updated_at: string;
  last_reset_at?: string;
  /** When Neon deletes the branch (UTC, whole seconds, `Z`), and the interval it was set for, restarted by a reset. */
  expires_at?: string;
  ttl_interval_seconds?: number;
  /** The branch's own PostgreSQL cluster: every Neon branch is backed by a real server. */
  cluster: PostgresCluster;
}

export type EndpointType = "read_write" | "read_only";

export interface EndpointRecord {
  id: string;
  project_id: string;
  branch_id: string;
  type: EndpointType;
  region_id: string;
  autoscaling_limit_min_cu: number;
  autoscaling_limit_max_cu: number;
  suspend_timeout_seconds: number;
  name?: string;
  created_at: string;
  updated_at: string;
  /** Loopback ports standing in for `host` and its `-pooler` twin; see `localConnectionUri`. */
  direct: TcpProxy;
  pooler: TcpProxy;
}

export interface RoleRecord {
  branch_id: string;
  name: string;
  password: string;
  protected: boolean;
  created_at: string;
  updated_at: string;
}

export interface DatabaseRecord {
  id: number;
  branch_id: string;
  name: string;
  owner_name: string;
  created_at: string;
  updated_at: string;
}

export type OperationAction = "create_timeline" | "start_compute" | "create_branch" | "apply_config" | "suspend_compute" | "delete_timeline";

export interface OperationRecord {
  id: string;
  project_id: string;
  branch_id?: string;
  endpoint_id?: string;
  action: OperationAction;
  startedAt: number;
  finishesAt: number;
}

export type OperationStatus = "scheduling" | "running" | "finished";

export interface ProjectState {
  project: ProjectRecord;
  branches: Map<string, BranchRecord>;
  endpoints: Map<string, EndpointRecord>;
  /** branch id → role name → role */
  roles: Map<string, Map<string, RoleRecord>>;
  /** branch id → database name → database */
  databases: Map<string, Map<string, DatabaseRecord>>;
  operations: OperationRecord[];
}

export const now = () => new Date().toISOString();

/** Operations go scheduling → running → finished over `operationMs`, measured from when the call answered. */
export function operationStatus(op: OperationRecord, at = Date.now()): OperationStatus {
  if (at >= op.finishesAt) return "finished";
  if (at >= op.startedAt + (op.finishesAt - op.startedAt) / 2) return "running";
  return "scheduling";
}

export function hasRunningOperations(state: ProjectState, at = Date.now()): boolean {
  return state.operations.some((op) => operationStatus(op, at) !== "finished");
}

export function startOperations(
  state: ProjectState,
  operationMs: number,
  specs: { action: OperationAction; branch_id?: string; endpoint_id?: string }[],
): OperationRecord[] {
  const startedAt = Date.now();
  const ops = specs.map((spec) => ({ id: randomUUID(), project_id: state.project.id, ...spec, startedAt, finishesAt: startedAt + operationMs }));
  state.operations.push(...ops);
  return ops;
}

export function toOperation(op: OperationRecord) {
  const at = Date.now();
  const status = operationStatus(op, at);
  return {
    id: op.id,
    project_id: op.project_id,
    ...(op.branch_id ? { branch_id: op.branch_id } : {}),
    ...(op.endpoint_id ? { endpoint_id: op.endpoint_id } : {}),
    action: op.action,
    status,
    failures_count: 0,
    created_at: new Date(op.startedAt).toISOString(),
    updated_at: new Date(Math.min(at, op.finishesAt)).toISOString(),
    total_duration_ms: Math.min(at, op.finishesAt) - op.startedAt,
  };
}

/** Free-plan figures; consumption counters stay 0 because nothing is metered here. */
const LOGICAL_SIZE_LIMIT_MIB = 3072;

function projectCommon(p: ProjectRecord) {
  return {
    id: p.id,
    platform_id: "aws",
    region_id: p.region_id,
    name: p.name,
    provisioner: "k8s-neonvm",
    default_endpoint_settings: p.default_endpoint_settings,
    settings: p.settings,
    pg_version: p.pg_version,
    proxy_host: proxyHost(p.region_id),
    branch_logical_size_limit: LOGICAL_SIZE_LIMIT_MIB,
    branch_logical_size_limit_bytes: LOGICAL_SIZE_LIMIT_MIB * 1024 * 1024,
    store_passwords: true,
    cpu_used_sec: 0,
    creation_source: "console",
    history_retention_seconds: p.history_retention_seconds,
    created_at: p.created_at,
    updated_at: p.updated_at,
    owner_id: "emulator-user",
    ...(p.org_id ? { org_id: p.org_id } : {}),
  };
}

export function toProject(p: ProjectRecord) {
  const periodStart = new Date(p.created_at);
  periodStart.setUTCDate(1);
  periodStart.setUTCHours(0, 0, 0, 0);
  const periodEnd = new Date(periodStart);
  periodEnd.setUTCMonth(periodEnd.getUTCMonth() + 1);
  return {
    ...projectCommon(p),
    active_time_seconds: 0,
    compute_time_seconds: 0,
    written_data_bytes: 0,
    data_transfer_bytes: 0,
    data_storage_bytes_hour: 0,
    consumption_period_start: periodStart.toISOString(),
    consumption_period_end: periodEnd.toISOString(),
  };
}

export function toProjectListItem(p: ProjectRecord) {
  return { ...projectCommon(p), active_time: 0 };
}

function busy(state: ProjectState, match: (op: OperationRecord) => boolean): boolean {
  const at = Date.now();
  return state.operations.some((op) => match(op) && operationStatus(op, at) !== "finished");
}

export function toBranch(state: ProjectState, b: BranchRecord) {
  const initialising = busy(state, (op) => op.branch_id === b.id && (op.action === "create_branch" || op.action === "create_timeline"));
  return {
    id: b.id,
    project_id: b.project_id,
    ...(b.parent_id ? { parent_id: b.parent_id } : {}),
    name: b.name,
    current_state: initialising ? "init" : "ready",
    ...(initialising ? { pending_state: "ready" } : {}),
    state_changed_at: b.updated_at,
    logical_size: 30 * 1024 * 1024,
    creation_source: "console",
    primary: b.default,
    default: b.default,
    protected: b.protected,
    cpu_used_sec: 0,
    compute_time_seconds: 0,
    active_time_seconds: 0,
    written_data_bytes: 0,
    data_transfer_bytes: 0,
    created_at: b.created_at,
    updated_at: b.updated_at,
    ...(b.last_reset_at ? { last_reset_at: b.last_reset_at } : {}),
    ...(b.expires_at ? { expires_at: b.expires_at, ttl_interval_seconds: b.ttl_interval_seconds } : {}),
    init_source: "parent-data",
  };
}

export function toAnnotation(b: BranchRecord) {
  return { object: { type: "console/branch", id: b.id }, value: b.annotation, created_at: b.created_at, updated_at: b.updated_at };
}

export function toEndpoint(state: ProjectState, e: EndpointRecord) {
  const starting = busy(state, (op) => op.endpoint_id === e.id && op.action === "start_compute");
  return {
    host: endpointHost(e.id, e.region_id),
    id: e.id,
    ...(e.name ? { name: e.name } : {}),
    project_id: e.project_id,
    branch_id: e.branch_id,
    autoscaling_limit_min_cu: e.autoscaling_limit_min_cu,
    autoscaling_limit_max_cu: e.autoscaling_limit_max_cu,
    region_id: e.region_id,
    type: e.type,
    current_state: starting ? "init" : "active",
    ...(starting ? { pending_state: "active" } : {}),
    settings: {},
    pooler_enabled: false,
    pooler_mode: "transaction",
    disabled: false,
    passwordless_access: true,
    creation_source: "console",
    created_at: e.created_at,
    updated_at: e.updated_at,
    proxy_host: proxyHost(e.region_id),
    suspend_timeout_seconds: e.suspend_timeout_seconds,
    provisioner: "k8s-neonvm",
  };
}

export function toRole(r: RoleRecord, withPassword = false) {
  return {
    branch_id: r.branch_id,
    name: r.name,
    ...(withPassword ? { password: r.password } : {}),
    protected: r.protected,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

export function toDatabase(d: DatabaseRecord) {
  return { id: d.id, branch_id: d.branch_id, name: d.name, owner_name: d.owner_name, created_at: d.created_at, updated_at: d.updated_at };
}

/**
 * THE one place where the emulator departs from Neon's addressing. Neon URIs name `ep-….aws.neon.tech` (or its
 * `-pooler` twin) with `sslmode=require`; nothing resolves those names here, so URIs point at the endpoint's loopback
 * forwarder instead (a second forwarder stands in for the pooler) and say `sslmode=disable`: the servers do speak TLS,
 * but with a self-signed certificate, and node-postgres reads `sslmode=require` as verify-full. `Endpoint.host` and
 * `connection_parameters` keep the Neon-shaped names.
 */
export function localConnectionUri(endpoint: EndpointRecord, role: RoleRecord, database: string, pooled: boolean): string {
  const port = pooled ? endpoint.pooler.port : endpoint.direct.port;
  return `postgresql://${encodeURIComponent(role.name)}:${encodeURIComponent(role.password)}@127.0.0.1:${port}/${encodeURIComponent(database)}?sslmode=disable`;
}

export function toConnectionDetails(endpoint: EndpointRecord, role: RoleRecord, database: string) {
  return {
    connection_uri: localConnectionUri(endpoint, role, database, false),
    connection_parameters: {
      database,
      password: role.password,
      role: role.name,
      host: endpointHost(endpoint.id, endpoint.region_id),
      pooler_host: endpointHost(endpoint.id, endpoint.region_id, true),
    },
  };
}
