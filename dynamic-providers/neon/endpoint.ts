import * as pulumi from "@pulumi/pulumi";
import type { Endpoint as NeonEndpoint, EndpointType, EndpointUpdateRequest } from "@neondatabase/api-client";
import { changedFields, failures, isUnknown, type Failures } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { sendOnceMore } from "../core/resend";
import { checkNeonIds } from "./check";
import { ignoreNeonNotFound, isNeonStatus, mutate, neonApi, neonCall, type NeonApi, isLostAnswer, waitForOperations } from "./client";

export type EndpointKind = "read_write" | "read_only";
const endpointKinds: readonly EndpointKind[] = ["read_write", "read_only"];

export interface EndpointInputs {
  projectId: string;
  branchId: string;
  /** check() fills in the default, `read_write`. */
  type?: EndpointKind;
  /** autoscaling_limit_min_cu; unset leaves Neon's project default. */
  minCu?: number;
  /** autoscaling_limit_max_cu; unset leaves Neon's project default. */
  maxCu?: number;
  /** suspend_timeout_seconds: 0 = Neon's default (300), -1 = never, else 60..604800. */
  suspendTimeoutSeconds?: number;
  /** Take over the branch's existing endpoint of this type instead of creating one. */
  adopt?: boolean;
  /**
   * The endpoint's Neon name (1..64 characters), set on the endpoints this resource creates. It makes a create
   * repeatable: an endpoint of this name and type already on the branch (left by a create whose result was lost)
   * is taken over instead of made again. Unset (state from before names) creates without one.
   */
  name?: string;
}

export interface EndpointOutputs extends EndpointInputs {
  type: EndpointKind;
  endpointId: string;
  /** Direct (unpooled) host, e.g. `ep-cool-darkness-a1b2c3d4.us-east-2.aws.neon.tech`. */
  host: string;
  /** PgBouncer host: `-pooler` after the endpoint id, e.g. `ep-cool-darkness-a1b2c3d4-pooler.us-east-2.aws.neon.tech`. */
  poolerHost: string;
  proxyHost?: string;
  regionId: string;
  currentState: string;
  /** True when create() took over an endpoint that already existed; delete() then leaves it in place. */
  adopted: boolean;
}

const maxCuSpread = 8;
/** Neon's limit on an endpoint name (EndpointCreateRequest.endpoint.name: minLength 1, maxLength 64). */
export const maxEndpointNameLength = 64;

/** Neon's pooled host: `-pooler` inserted after the endpoint id (the host's first label) [docs connect/connection-pooling]. */
export function poolerHostOf(host: string): string {
  const dot = host.indexOf(".");
  return dot < 0 ? `${host}-pooler` : `${host.slice(0, dot)}-pooler${host.slice(dot)}`;
}

/** Neon's compute sizes are 0.25, 0.5 and whole numbers of CU up to 16 (neon.com/docs/connect/connection-pooling). */
export function isComputeUnits(value: unknown): value is number {
  return typeof value === "number" && (value === 0.25 || value === 0.5 || Number.isInteger(value)) && value >= 0.25 && value <= 16;
}
export const computeUnitsRule = "must be 0.25, 0.5 or a whole number of compute units from 1 to 16";

/** suspend_timeout_seconds: 0 = Neon's default (300), -1 = never, else 60..604800. */
export function isSuspendTimeout(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && (value === 0 || value === -1 || (value >= 60 && value <= 604_800));
}
export const suspendTimeoutRule = "must be 0 (Neon's default), -1 (never suspend) or 60..604800 seconds";

function checkComputeUnits(problems: Failures, field: string, value: unknown): boolean {
  if (value === undefined || isUnknown(value)) return false;
  const valid = isComputeUnits(value);
  if (!valid) problems.add(field, computeUnitsRule, value);
  return valid;
}

function checkSuspend(problems: Failures, value: unknown): void {
  if (value === undefined || isUnknown(value)) return;
  if (!isSuspendTimeout(value)) problems.add("suspendTimeoutSeconds", suspendTimeoutRule, value);
}

function outputs(inputs: EndpointInputs, endpoint: NeonEndpoint, adopted: boolean): EndpointOutputs {
  return {
    ...inputs,
    type: endpoint.type === "read_only" ? "read_only" : "read_write",
    endpointId: endpoint.id,
    host: endpoint.host,
    poolerHost: poolerHostOf(endpoint.host),
    proxyHost: endpoint.proxy_host,
    regionId: endpoint.region_id,
    currentState: endpoint.current_state,
    adopted,
  };
}

function checkName(problems: Failures, value: unknown): void {
  if (value === undefined || isUnknown(value)) return;
  if (typeof value !== "string" || value.length < 1 || value.length > maxEndpointNameLength) {
    problems.add("name", `must be a string of 1 to ${maxEndpointNameLength} characters`, value);
  }
}

function label(inputs: { projectId: string; branchId: string; type?: string }): string {
  return `neon endpoint (${inputs.type ?? "read_write"} on branch '${inputs.branchId}' of project '${inputs.projectId}')`;
}

/**
 * The request fields for the settings this resource manages; only the ones the user set. The name is left out
 * for an adopted endpoint: it was made by someone else (Neon, with the project) and keeps its own name.
 */
function settings(inputs: EndpointInputs, adopted = false): EndpointUpdateRequest["endpoint"] {
  return {
    ...(inputs.name !== undefined && !adopted ? { name: inputs.name } : {}),
    ...(inputs.minCu !== undefined ? { autoscaling_limit_min_cu: inputs.minCu } : {}),
    ...(inputs.maxCu !== undefined ? { autoscaling_limit_max_cu: inputs.maxCu } : {}),
    ...(inputs.suspendTimeoutSeconds !== undefined ? { suspend_timeout_seconds: inputs.suspendTimeoutSeconds } : {}),
  };
}

/** The settings from `wanted` that the live endpoint does not have yet. */
function pendingSettings(wanted: EndpointInputs, live: NeonEndpoint, adopted: boolean): EndpointUpdateRequest["endpoint"] {
  const all = settings(wanted, adopted);
  return Object.fromEntries(
    Object.entries(all).filter(([key, value]) => live[key as keyof NeonEndpoint] !== value),
  ) as EndpointUpdateRequest["endpoint"];
}

function apiEndpointType(kind: EndpointKind): EndpointType {
  const { EndpointType: types } = require("@neondatabase/api-client") as typeof import("@neondatabase/api-client");
  return kind === "read_only" ? types.ReadOnly : types.ReadWrite;
}

async function getEndpoint(api: NeonApi, projectId: string, endpointId: string): Promise<NeonEndpoint> {
  const response = await neonCall(() => api.getProjectEndpoint(projectId, endpointId), { idempotent: true });
  return response.endpoint;
}

/** The branch's endpoint of this type; a branch has at most one read_write endpoint but may have many read_only. */
async function findEndpoint(api: NeonApi, inputs: EndpointInputs & { type: EndpointKind }): Promise<NeonEndpoint | undefined> {
  const response = await neonCall(() => api.listProjectBranchEndpoints(inputs.projectId, inputs.branchId), { idempotent: true });
  const matches = response.endpoints.filter((endpoint) => endpoint.type === inputs.type);
  if (matches.length > 1) {
    throw new Error(
      `${label(inputs)}: adopt found ${matches.length} ${inputs.type} endpoints (${matches.map((e) => e.id).join(", ")}); ` +
        "adopt needs exactly one. Delete the extra endpoints or set `adopt: false` to create a new one.",
    );
  }
  return matches[0];
}

/**
 * The branch's endpoint of this name and type: one a create of this resource made before its result was lost
 * (a crash between the call and Pulumi's record of it). None when the resource sets no name.
 */
async function findNamedEndpoint(api: NeonApi, inputs: EndpointInputs & { type: EndpointKind }): Promise<NeonEndpoint | undefined> {
  if (inputs.name === undefined) return undefined;
  const response = await neonCall(() => api.listProjectBranchEndpoints(inputs.projectId, inputs.branchId), { idempotent: true });
  return response.endpoints.find((endpoint) => endpoint.name === inputs.name && endpoint.type === inputs.type);
}

async function configure(api: NeonApi, inputs: EndpointInputs, endpoint: NeonEndpoint, adopted: boolean): Promise<NeonEndpoint> {
  const change = pendingSettings(inputs, endpoint, adopted);
  if (Object.keys(change).length === 0) return endpoint;
  const result = await mutate(api, inputs.projectId, () => api.updateProjectEndpoint(inputs.projectId, endpoint.id, { endpoint: change }));
  return result.endpoint;
}

export const endpointProvider = dynamicProvider<EndpointInputs, EndpointOutputs>({
  async check(_olds, news) {
    const problems = failures("neon endpoint", news.branchId);
    checkNeonIds(problems, { ...news }, ["projectId", "branchId"]);
    if (!isUnknown(news.type)) problems.oneOf("type", news.type, endpointKinds);
    const minKnown = checkComputeUnits(problems, "minCu", news.minCu);
    const maxKnown = checkComputeUnits(problems, "maxCu", news.maxCu);
    if (minKnown && maxKnown && news.minCu !== undefined && news.maxCu !== undefined) {
      if (news.maxCu < news.minCu) problems.add("maxCu", `must be at least minCu (${news.minCu})`, news.maxCu);
      else if (news.maxCu - news.minCu > maxCuSpread) {
        problems.add("maxCu", `must be at most ${maxCuSpread} compute units above minCu (${news.minCu})`, news.maxCu);
      }
    }
    checkSuspend(problems, news.suspendTimeoutSeconds);
    checkName(problems, news.name);
    return { inputs: { ...news, type: news.type ?? "read_write" }, failures: problems.list };
  },

  async diff(_id, olds, news) {
    const replaces = changedFields({ ...olds }, { ...news }, ["projectId", "branchId", "type"]);
    const updates = changedFields({ ...olds }, { ...news }, ["minCu", "maxCu", "suspendTimeoutSeconds", "adopt", "name"]);
    return { changes: replaces.length + updates.length > 0, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const api = neonApi();
    const wanted = { ...inputs, type: inputs.type ?? "read_write" };
    // A create that ran before and lost its result (a crash before Pulumi recorded it) left this endpoint: take it over.
    const mine = await findNamedEndpoint(api, wanted);
    if (mine) {
      await waitForOperations(api, inputs.projectId, (await neonCall(() => api.listProjectOperations({ projectId: inputs.projectId }), { idempotent: true })).operations);
      const endpoint = await configure(api, wanted, await getEndpoint(api, inputs.projectId, mine.id), false);
      return { id: endpoint.id, outs: outputs(wanted, endpoint, false) };
    }
    if (inputs.adopt) {
      const existing = await findEndpoint(api, wanted);
      if (existing) {
        const endpoint = await configure(api, wanted, existing, true);
        return { id: endpoint.id, outs: outputs(wanted, endpoint, true) };
      }
    }
    const before = (await neonCall(() => api.listProjectBranchEndpoints(inputs.projectId, inputs.branchId), { idempotent: true })).endpoints.map((e) => e.id);
    // After no answer (Neon may have acted): an endpoint of this type that was not there before is this create's.
    const made = async (): Promise<NeonEndpoint | undefined> => {
      const listed = (await neonCall(() => api.listProjectBranchEndpoints(inputs.projectId, inputs.branchId), { idempotent: true })).endpoints;
      return listed.find((endpoint) => endpoint.type === wanted.type && !before.includes(endpoint.id));
    };
    let outcome: { created: { endpoint: NeonEndpoint } } | { found: NeonEndpoint };
    try {
      outcome = await sendOnceMore(
        () =>
          mutate(api, inputs.projectId, () =>
            api.createProjectEndpoint(inputs.projectId, {
              endpoint: { branch_id: inputs.branchId, type: apiEndpointType(wanted.type), ...settings(inputs) },
            }),
          ),
        {
          unanswered: isLostAnswer,
          conflict: (error) => isNeonStatus(error, 400, 409, 422),
          find: made,
          // When nothing was made, a read_write create is sent once more: Neon allows one read_write per branch, so
          // had the first gone through after all, the second is refused and the first found then. A read_only one is
          // not: a branch may have many, and Neon documents no uniqueness for endpoint names (the emulator enforces
          // none either), so a late first request plus a resend would make two computes. The error stands instead
          // (it names the call); the next `pulumi up` finds the endpoint by its name if the first went through.
          resend: wanted.type === "read_write",
        },
      );
    } catch (error) {
      if (wanted.type === "read_write" && !inputs.adopt && isNeonStatus(error, 400, 409, 422)) {
        throw new Error(
          `${label(wanted)} could not be created: ${error instanceof Error ? error.message : String(error)}. ` +
            "A branch has at most one read_write endpoint and Neon makes one with the project (and with a branch created " +
            "with endpoints); set `adopt: true` to take it over.",
        );
      }
      throw error;
    }
    if ("found" in outcome) {
      await waitForOperations(api, inputs.projectId, (await neonCall(() => api.listProjectOperations({ projectId: inputs.projectId }), { idempotent: true })).operations);
      return { id: outcome.found.id, outs: outputs(wanted, await getEndpoint(api, inputs.projectId, outcome.found.id), false) };
    }
    const created = outcome.created.endpoint;
    return { id: created.id, outs: outputs(wanted, await getEndpoint(api, inputs.projectId, created.id), false) };
  },

  async read(id, props) {
    const known = props as EndpointOutputs;
    const api = neonApi();
    const endpoint = await ignoreNeonNotFound(() => getEndpoint(api, known.projectId, id));
    if (!endpoint) return { id: "" };
    // Settings the user left unset stay unset, so refresh shows drift only in what this resource manages.
    const live: EndpointInputs = {
      ...known,
      projectId: endpoint.project_id,
      branchId: endpoint.branch_id,
      minCu: known.minCu !== undefined ? endpoint.autoscaling_limit_min_cu : undefined,
      maxCu: known.maxCu !== undefined ? endpoint.autoscaling_limit_max_cu : undefined,
      suspendTimeoutSeconds: known.suspendTimeoutSeconds !== undefined ? endpoint.suspend_timeout_seconds : undefined,
      name: known.name !== undefined && !known.adopted ? endpoint.name : known.name,
    };
    return { id, props: outputs(live, endpoint, known.adopted ?? false) };
  },

  async update(id, olds, news) {
    const api = neonApi();
    const endpoint = await configure(api, news, await getEndpoint(api, news.projectId, id), olds.adopted ?? false);
    return { outs: outputs(news, endpoint, olds.adopted ?? false) };
  },

  /**
   * An adopted endpoint is released, not deleted: it was made by someone else (Neon makes the default branch's
   * read_write endpoint with the project, a branch create may make one too), the default branch must keep its
   * read_write compute, and the endpoint goes away with its branch or project.
   */
  async delete(id, props) {
    if (props.adopted) return;
    const api = neonApi();
    await ignoreNeonNotFound(() => mutate(api, props.projectId, () => api.deleteProjectEndpoint(props.projectId, id), { idempotent: true }));
  },
});

export interface EndpointArgs {
  /** The Neon project id. Changing it replaces the endpoint. */
  projectId: pulumi.Input<string>;
  /** The branch the compute serves. Changing it replaces the endpoint. */
  branchId: pulumi.Input<string>;
  /** `read_write` or `read_only`; a branch has at most one `read_write`. Changing it replaces the endpoint. @default `"read_write"` */
  type?: pulumi.Input<EndpointKind>;
  /** Autoscaling minimum: 0.25, 0.5 or a whole number of CU up to 16. @default the project's default (Neon: 0.25) */
  minCu?: pulumi.Input<number>;
  /** Autoscaling maximum: at least `minCu` and at most 8 CU above it. @default the project's default */
  maxCu?: pulumi.Input<number>;
  /** Scale-to-zero delay: `0` = Neon's default (300 s), `-1` = never suspend, else 60..604800. @default `0` */
  suspendTimeoutSeconds?: pulumi.Input<number>;
  /**
   * Take over the branch's existing endpoint of this `type` (picked by type, never the first endpoint listed) and
   * configure it, instead of creating one. Needed for the default branch, whose read_write endpoint Neon creates with
   * the project. An adopted endpoint is left in place when this resource is deleted. @default `false`
   */
  adopt?: pulumi.Input<boolean>;
  /**
   * The endpoint's Neon name (1..64 characters), set on an endpoint this resource creates (an adopted one keeps its
   * own). It lets a create that crashed before Pulumi recorded it find its endpoint again instead of making a second.
   * Changing it renames the endpoint in place.
   * @default the resource's Pulumi name (its first 64 characters)
   * @example "reporting-replica"
   */
  name?: pulumi.Input<string>;
}

/** A Neon compute endpoint (the Postgres server a branch is reached through). */
export class Endpoint extends pulumi.dynamic.Resource {
  declare readonly projectId: pulumi.Output<string>;
  declare readonly branchId: pulumi.Output<string>;
  declare readonly type: pulumi.Output<EndpointKind>;
  declare readonly endpointId: pulumi.Output<string>;
  declare readonly host: pulumi.Output<string>;
  declare readonly poolerHost: pulumi.Output<string>;
  declare readonly proxyHost: pulumi.Output<string | undefined>;
  declare readonly regionId: pulumi.Output<string>;
  declare readonly currentState: pulumi.Output<string>;
  declare readonly adopted: pulumi.Output<boolean>;

  constructor(name: string, args: EndpointArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      endpointProvider,
      name,
      {
        ...args,
        name: args.name ?? name.slice(0, maxEndpointNameLength),
        endpointId: undefined,
        host: undefined,
        poolerHost: undefined,
        proxyHost: undefined,
        regionId: undefined,
        currentState: undefined,
        adopted: undefined,
      },
      opts,
      "neon",
      "Endpoint",
    );
  }
}
