/**
 * Every known way the emulator differs from Neon's API v2, in one place. `neon` says what Neon does and `source` where
 * that comes from ([spec] = specs/neon/public-v2-for-users.gen.yaml, [notes] = specs/neon/BEHAVIOUR-NOTES.md and the
 * source it cites there). "unverified" means nobody confirmed Neon's side; the emulator's choice is a guess.
 */
export interface Deviation {
  topic: string;
  neon: string;
  emulator: string;
  source: string;
}

export const deviations: readonly Deviation[] = [
  {
    topic: "connection URIs",
    neon: "postgresql://role:pw@ep-….<region>.aws.neon.tech/db?sslmode=require (newer: &channel_binding=require); pooled: ep-…-pooler host",
    emulator:
      "postgresql://role:pw@127.0.0.1:<port>/db?sslmode=disable. Each endpoint owns two loopback forwarders (direct and pooler) to its branch's cluster. This is the one addressing mapping (model.ts localConnectionUri). The servers accept TLS too, with a self-signed certificate for 127.0.0.1 (PostgresCluster.caCertFile); the URIs still say disable because node-postgres treats sslmode=require as verify-full, which a self-signed certificate fails",
    source: "[notes] Project create defaults, Hosts; neon.com faqs pooling",
  },
  {
    topic: "host names",
    neon: "Endpoint.host and connection_parameters.host/pooler_host resolve to Neon's proxy",
    emulator: "same Neon-shaped names (ep-<adjective>-<noun>-<8 alnum>.<region without aws->.aws.neon.tech), but they do not resolve; only the URIs connect",
    source: "[notes] IDs, Hosts",
  },
  {
    topic: "pooler",
    neon: "PgBouncer in transaction mode (no session state, no server-side prepared statements across transactions)",
    emulator: "a plain TCP forwarder to the same server: session features work on the pooled URI too",
    source: "[notes] Endpoints; [spec] EndpointPoolerMode",
  },
  {
    topic: "pg_version",
    neon: "14..18, default 17",
    emulator: "echoed in the API, but every branch runs the machine's PostgreSQL (Debian's package, e.g. 15)",
    source: "[spec] PgVersion",
  },
  {
    topic: "read_only endpoints",
    neon: "read-only computes refuse writes",
    emulator: "connect to the branch's single read-write cluster; writes are not refused",
    source: "[spec] EndpointType",
  },
  {
    topic: "compute lifecycle",
    neon: "computes suspend after suspend_timeout_seconds and start on connect; start/suspend/restart operations exist",
    emulator: "endpoints are always active (current_state init while start_compute runs, then active); CU limits and suspend timeout are validated and stored only; start/suspend/restart are not implemented",
    source: "[spec] EndpointState; [notes] Endpoints",
  },
  {
    topic: "branch points and restore targets",
    neon: "parent_lsn, parent_timestamp, init_source=schema-only; restore to source_lsn/source_timestamp or from the branch itself",
    emulator: "a branch is a pg_basebackup of the parent's current state; those options answer 400 'emulator: … not supported'. preserve_under_name is supported",
    source: "[notes] Branches; [spec] BranchCreateRequest, BranchRestoreRequest",
  },
  {
    topic: "operation actions",
    neon: "project create: create_timeline+start_compute; branch create: create_branch(+start_compute); role/database changes: apply_config",
    emulator:
      "as Neon for those; unverified guesses elsewhere: restore → create_timeline + start_compute per endpoint, branch delete → suspend_compute per endpoint + delete_timeline, endpoint create → start_compute, endpoint PATCH → apply_config, endpoint delete → suspend_compute, branch PATCH → no operations",
    source: "[notes] Operations (unverified beyond the listed actions)",
  },
  {
    topic: "operation timing",
    neon: "operations run for as long as the work takes; ops start as scheduling",
    emulator: "the real work finishes before the response; the returned operations then go scheduling → running (at operationMs/2) → finished (at operationMs)",
    source: "[notes] Operations; website PR#3439",
  },
  {
    topic: "423 scope",
    neon: "a project refuses overlapping operations with 423",
    emulator: "every POST/PATCH/PUT/DELETE on a project with an unfinished operation answers 423, including updateProject and deleteProject (unverified which calls Neon locks)",
    source: "[notes] Operations, Transport",
  },
  {
    topic: "roles and databases made with SQL",
    neon: "synced into the API (sync_dbs_and_roles_from_compute)",
    emulator: "the API lists only roles and databases made through the API (and those copied with a branch)",
    source: "[spec] OperationAction",
  },
  {
    topic: "neon_superuser",
    neon: "NOLOGIN with CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS and further grants; API roles are members",
    emulator:
      "NOLOGIN CREATEDB CREATEROLE, member of pg_read_all_data and pg_write_all_data; API roles are LOGIN (unless no_login) members and carry CREATEDB CREATEROLE themselves because attributes are not inherited",
    source: "[notes] Roles and databases; docs manage/roles",
  },
  {
    topic: "error texts and statuses",
    neon: "404 'branch not found' and the 423 text are verified; others unverified",
    emulator:
      "'project/endpoint/role/database/operation not found' (404); duplicate branch/role/database name 409; default/root/parent/protected branch deletion 400; deleting a role that owns a database 409; 401 'authentication required'",
    source: "[notes] Transport, Branches (unverified)",
  },
  {
    topic: "deletion",
    neon: "branch deletion is async (endpoints stay up until ops finish); soft delete for 7 days unless hard_delete; projects are recoverable",
    emulator: "deletion is immediate (servers and forwarders stop before the response); hard_delete is ignored; no recovery",
    source: "[notes] Branches; [spec] recoverProject",
  },
  {
    topic: "branch expiration",
    neon:
      "expires_at (RFC 3339) up to 30 days ahead, stored in whole seconds with ttl_interval_seconds; a reset restarts it with the same interval; not on protected, default or parent branches; a background job deletes expired branches (soft delete, 7-day recovery), not exactly on time; Early Access feature",
    emulator:
      "the same rules, stored as UTC `…Z` with whole seconds; refusals answer 400 with texts of the emulator's own (statuses and texts unverified); nothing expires on its own: a test runs the job with expireBranches(at), which deletes at once (no recovery); no Early Access check",
    source: "[notes] Branch expiration; [spec] Branch.expires_at, BranchUpdateRequest",
  },
  {
    topic: "IP allow list",
    neon: "settings.allowed_ips restricts connections (Scale plan and above)",
    emulator: "stored, entries checked to look like an IP, range or CIDR, not enforced: 127.0.0.1 always connects; no plan checks",
    source: "[notes] IP allow",
  },
  {
    topic: "defaults without a source",
    neon: "unverified: project name when omitted, branch name when omitted, password format, creation_source, logical_size",
    emulator: "project name = project id, branch name = branch id, passwords npg_<12 alnum>, creation_source 'console', consumption counters 0, logical_size 30 MiB",
    source: "unverified",
  },
  {
    topic: "connection_uris on branch create",
    neon: "ConnectionURIsOptionalResponse: shape of the list unverified",
    emulator: "one entry per database with its owner role, only when a read_write endpoint is created in the same call",
    source: "[spec] CreatedBranch (unverified)",
  },
  {
    topic: "pagination",
    neon: "cursor pagination on projects and branches",
    emulator: "listProjects: cursor = id of the last item, limit honoured; listProjectBranches: everything at once (search, sort_by, sort_order honoured); listProjectOperations: newest first, limit honoured",
    source: "[spec] listProjects, listProjectBranches",
  },
  {
    topic: "reserved role names",
    neon: "a reserved-name list exists (unverified contents)",
    emulator: "refuses pg_*, neon_superuser, cloud_admin, postgres, public, none, current_user, session_user with 400",
    source: "[notes] Roles and databases (unverified)",
  },
  {
    topic: "coverage",
    neon: "the whole API v2",
    emulator:
      "projects, branches, endpoints, databases, roles, connection_uri and operations as listed in routes.ts; every other operation of the spec answers 501 and records a contract violation so tests notice",
    source: "[spec]",
  },
  {
    topic: "auth and rate limits",
    neon: "org/project-scoped keys; 700 requests/min with 429",
    emulator: "one API key with access to everything; 429 only through faults.failNext",
    source: "[notes] Transport, Rate limits",
  },
];
