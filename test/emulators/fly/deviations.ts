/**
 * Where the live Machines API differs from specs/fly-machines/openapi.json, as recorded in
 * specs/fly-machines/BEHAVIOUR-NOTES.md. The contract check (contract.ts) consults this list and
 * nothing else: a response or request that differs from the spec in a way not listed here is a
 * violation. Each deviation appears once; `source` is the tag the notes give it. `POST /graphql` (Fly's GraphQL
 * API, deploy tokens) is outside that document and never checked here: specs/fly-graphql/SOURCE.md.
 */

/** A JSON Schema fragment; `#/components/schemas/X` refs resolve against the vendored spec. */
export type SchemaFragment = Readonly<Record<string, unknown>>;

/** Operation ids the deviation applies to; "*" means every operation. */
export type OperationIds = "*" | readonly string[];

export type Source = "[spec]" | "[fly-go]" | "[flyctl]" | "[docs]" | "[distilled]";

interface DeviationBase {
  what: string;
  source: Source;
}

/** The API answers with a status the spec does not declare for these operations. */
export interface UndeclaredStatus extends DeviationBase {
  kind: "status";
  operationIds: OperationIds;
  statuses: readonly number[];
  /** Body schema; error statuses default to the error body `{error, status?}`. */
  body?: SchemaFragment;
}

/** The API answers a declared status with a body of another shape than the spec's. */
export interface ResponseBody extends DeviationBase {
  kind: "responseBody";
  operationIds: OperationIds;
  status: number;
  body: SchemaFragment;
}

/** Clients send a query parameter the spec does not declare. */
export interface QueryParameter extends DeviationBase {
  kind: "queryParameter";
  operationIds: OperationIds;
  name: string;
  schema: SchemaFragment;
}

/** A property of a component schema has another shape on the wire (in requests or responses). */
export interface SchemaPatch extends DeviationBase {
  kind: "schemaPatch";
  direction: "request" | "response";
  component: string;
  /** Path inside the component schema, e.g. ["properties", "autostop"]. */
  path: readonly string[];
  schema: SchemaFragment;
}

/** The spec marks the request body required, but clients send none. */
export interface OptionalRequestBody extends DeviationBase {
  kind: "optionalRequestBody";
  operationIds: OperationIds;
}

/** Requests may carry a property the spec's component schema does not declare. */
export interface RequestProperty extends DeviationBase {
  kind: "requestProperty";
  component: string;
  name: string;
  schema: SchemaFragment;
}

export type Deviation = UndeclaredStatus | ResponseBody | QueryParameter | SchemaPatch | OptionalRequestBody | RequestProperty;

const leaseEnvelope: SchemaFragment = {
  type: "object",
  required: ["status", "data"],
  properties: {
    status: { type: "string", enum: ["success"] },
    data: {
      allOf: [{ $ref: "#/components/schemas/Lease" }],
      required: ["nonce", "expires_at", "owner", "version"],
    },
  },
};

export const deviations: readonly Deviation[] = [
  {
    kind: "status",
    operationIds: "*",
    statuses: [401],
    what: "401 {\"error\":\"Authenticate: token validation error\"} without a valid bearer token; right after app create, app-scoped calls may also briefly answer 401",
    source: "[distilled]",
  },
  {
    kind: "status",
    operationIds: "*",
    statuses: [404],
    what: "404 {\"error\":\"app not found\" | \"machine not found\" | \"volume not found\" | ...} for a missing app or object (also briefly right after app create)",
    source: "[distilled]",
  },
  {
    kind: "status",
    operationIds: "*",
    statuses: [400],
    what: "400 for malformed or invalid input on operations whose spec declares no 400 (flyctl treats 400 as fatal)",
    source: "[flyctl]",
  },
  {
    kind: "status",
    operationIds: "*",
    statuses: [429],
    what:
      "429 {\"error\":\"rate limit exceeded\"} with Retry-After when a rate limit is exceeded: 1 req/s per action, burst 3, per machine or app; " +
      "Get Machine 5 req/s, burst 10; app deletions 100/min (the emulator enforces them in its rate-limit mode, rate-limits.ts)",
    source: "[docs]",
  },
  {
    kind: "status",
    operationIds: "*",
    statuses: [500, 502, 503],
    what: "transient 5xx from the API or its proxy, which clients retry",
    source: "[fly-go]",
  },
  {
    kind: "status",
    operationIds: [
      "Machines_delete",
      "Machines_start",
      "Machines_stop",
      "Machines_restart",
      "Machines_suspend",
      "Machines_cordon",
      "Machines_uncordon",
      "Machines_exec",
    ],
    statuses: [409],
    what: "409 when the machine is leased by someone else and the fly-machine-lease-nonce header is missing or wrong",
    source: "[distilled]",
  },
  {
    kind: "status",
    operationIds: ["Machines_create_lease"],
    statuses: [409],
    what: "409 with an error containing \"lease currently held by\" when another lease is held",
    source: "[flyctl]",
  },
  {
    kind: "status",
    operationIds: ["Machines_release_lease"],
    statuses: [409],
    what: "409 when releasing with a nonce that does not hold the lease",
    source: "[docs]",
  },
  {
    kind: "status",
    operationIds: ["Machines_start"],
    statuses: [412],
    what: "412 \"failed_precondition: machine getting replaced, refusing to start\" / \"unable to start machine from current state: 'created'\"",
    source: "[distilled]",
  },
  {
    kind: "status",
    operationIds: ["Machines_wait"],
    statuses: [408],
    what: "408 {\"error\":\"deadline_exceeded: machine failed to reach desired state, <want>, currently <cur>\"} when the wait times out",
    source: "[distilled]",
  },
  {
    kind: "status",
    operationIds: ["Volume_delete"],
    statuses: [409],
    what: "409 \"failed_precondition: volume is currently bound to machine: <id>\" when the volume is attached",
    source: "[distilled]",
  },
  {
    kind: "status",
    operationIds: ["App_Certificates_acme_create"],
    statuses: [409],
    what: "409 when the hostname is already taken by another app",
    source: "[distilled]",
  },
  {
    kind: "status",
    operationIds: ["Secrets_update"],
    statuses: [409],
    what: "409 on a concurrent secrets update",
    source: "[distilled]",
  },
  {
    kind: "status",
    operationIds: ["Machines_create", "Machines_update"],
    statuses: [409],
    what: "409 when a mounted volume is already attached to another machine (busy resource)",
    source: "[distilled]",
  },
  {
    kind: "status",
    operationIds: ["Machines_create"],
    statuses: [409],
    what:
      "409 {\"error\":\"machine name ... is already in use by machine <id>\", \"status\":\"name_taken\"} for a second live machine of the same name " +
      "(the spec calls names unique but declares no answer for a duplicate; the live status is not documented, so clients treat 409 and 422 alike)",
    source: "[spec]",
  },
  {
    kind: "requestProperty",
    component: "CreateAppRequest",
    name: "app_name",
    schema: { type: "string" },
    what: "app create takes the app's name as `app_name`, the body Fly's docs still show (the spec calls it `name`)",
    source: "[docs]",
  },
  {
    kind: "responseBody",
    operationIds: ["Machines_create_lease"],
    status: 201,
    body: leaseEnvelope,
    what: "lease create answers an envelope {status:\"success\", data:{nonce, expires_at (unix s), owner, description, version}}, not the flat Lease",
    source: "[docs]",
  },
  {
    kind: "responseBody",
    operationIds: ["Machines_show_lease"],
    status: 200,
    body: leaseEnvelope,
    what: "GET lease answers the same envelope as lease create, not the flat Lease",
    source: "[docs]",
  },
  {
    kind: "queryParameter",
    operationIds: ["Machines_create_lease"],
    name: "ttl",
    schema: { type: "integer" },
    what: "lease ttl sent as ?ttl=<seconds> (fly-go, TF providers) instead of in the JSON body",
    source: "[fly-go]",
  },
  {
    kind: "optionalRequestBody",
    operationIds: ["Machines_create_lease"],
    what: "lease create without a body when the ttl is in the query (the spec marks the body required)",
    source: "[fly-go]",
  },
  {
    kind: "queryParameter",
    operationIds: ["Machines_delete"],
    name: "kill",
    schema: { type: "boolean" },
    what: "fly-go sends ?kill=true|false on machine delete",
    source: "[fly-go]",
  },
  {
    kind: "queryParameter",
    operationIds: ["Machines_restart"],
    name: "force_stop",
    schema: { type: "boolean" },
    what: "fly-go sends ?force_stop on restart",
    source: "[fly-go]",
  },
  {
    kind: "queryParameter",
    operationIds: ["Apps_create"],
    name: "wait",
    schema: { type: "boolean" },
    what: "flyctl creates apps with POST /v1/apps?wait=true",
    source: "[fly-go]",
  },
  {
    kind: "schemaPatch",
    direction: "request",
    component: "AppSecretsUpdateRequest",
    path: ["properties", "values", "additionalProperties"],
    schema: { type: "string", nullable: true },
    what: "secrets update takes null values to unset keys ({\"values\":{\"OLD\":null}})",
    source: "[fly-go]",
  },
  {
    kind: "schemaPatch",
    direction: "response",
    component: "fly.MachineService",
    path: ["properties", "autostop"],
    schema: { anyOf: [{ type: "boolean" }, { type: "string", enum: ["suspend"] }] },
    what: "services[].autostop reads back as false for \"off\" and true for \"stop\"; \"suspend\" stays a string",
    source: "[distilled]",
  },
  {
    kind: "schemaPatch",
    direction: "response",
    component: "IPAssignment",
    path: ["properties", "network"],
    schema: { anyOf: [{ $ref: "#/components/schemas/IPAssignmentNetwork" }, { type: "null" }] },
    what: "network is null on every IP type except private_v6",
    source: "[distilled]",
  },
  {
    kind: "schemaPatch",
    direction: "response",
    component: "AssignIPResponse",
    path: ["properties", "network"],
    schema: { anyOf: [{ $ref: "#/components/schemas/IPAssignmentNetwork" }, { type: "null" }] },
    what: "network is null on every IP type except private_v6 (assign response)",
    source: "[distilled]",
  },
  {
    kind: "schemaPatch",
    direction: "response",
    component: "Volume",
    path: ["properties", "attached_machine_id"],
    schema: { type: "string", nullable: true },
    what: "attached_machine_id is null while the volume is detached",
    source: "[distilled]",
  },
];
