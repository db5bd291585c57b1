import * as pulumi from "@pulumi/pulumi";
import { changedFields, failures } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { ignoreNeonNotFound, neonApi, neonCall, type NeonApi } from "./client";
import { checkPostgresName } from "./database";
import { isUnknown } from "../core/check";
import { checkNeonIds } from "./check";
import { poolerHostOf } from "./endpoint";
import { roleNameProblem } from "../postgres/names";

export interface ConnectionUriInputs {
  projectId: string;
  branchId: string;
  endpointId: string;
  databaseName: string;
  roleName: string;
  /** Any change fetches the URIs again, e.g. the Role's `rotatePassword` so a reset password reaches the URI. */
  refreshTrigger?: string;
}

export interface ConnectionUriOutputs extends ConnectionUriInputs {
  /** Direct URI (secret): for clients that use prepared statements or session state, e.g. Prefect server. */
  uri: string;
  /** PgBouncer (transaction mode) URI (secret): for the app. */
  pooledUri: string;
  host: string;
  poolerHost: string;
}

const identityFields = ["projectId", "branchId", "endpointId", "databaseName", "roleName"] as const;

async function fetchUris(api: NeonApi, inputs: ConnectionUriInputs): Promise<ConnectionUriOutputs> {
  const endpoint = await neonCall(() => api.getProjectEndpoint(inputs.projectId, inputs.endpointId), { idempotent: true });
  const query = {
    projectId: inputs.projectId,
    branch_id: inputs.branchId,
    endpoint_id: inputs.endpointId,
    database_name: inputs.databaseName,
    role_name: inputs.roleName,
  };
  const direct = await neonCall(() => api.getConnectionUri({ ...query, pooled: false }), { idempotent: true });
  const pooled = await neonCall(() => api.getConnectionUri({ ...query, pooled: true }), { idempotent: true });
  return {
    ...inputs,
    uri: direct.uri,
    pooledUri: pooled.uri,
    host: endpoint.endpoint.host,
    poolerHost: poolerHostOf(endpoint.endpoint.host),
  };
}

export const connectionUriProvider = dynamicProvider<ConnectionUriInputs, ConnectionUriOutputs>({
  async check(_olds, news) {
    const problems = failures("neon connection uri", isUnknown(news.databaseName) ? undefined : news.databaseName);
    checkNeonIds(problems, { ...news }, ["projectId", "branchId", "endpointId"]);
    checkPostgresName(problems, "databaseName", news.databaseName);
    checkPostgresName(problems, "roleName", news.roleName, roleNameProblem);
    return { inputs: news, failures: problems.list };
  },

  async diff(_id, olds, news) {
    const replaces = changedFields({ ...olds }, { ...news }, identityFields);
    const updates = changedFields({ ...olds }, { ...news }, ["refreshTrigger"]);
    return { changes: replaces.length + updates.length > 0, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const outs = await fetchUris(neonApi(), inputs);
    return { id: identityFields.map((field) => inputs[field]).join("/"), outs };
  },

  /** Fetches the URIs again: the role's password may have been reset since. Gone endpoint, role or database: gone. */
  async read(id, props) {
    const known = props as ConnectionUriOutputs;
    const outs = await ignoreNeonNotFound(() => fetchUris(neonApi(), known));
    return outs ? { id, props: outs } : { id: "" };
  },

  async update(_id, _olds, news) {
    return { outs: await fetchUris(neonApi(), news) };
  },

  /** Nothing to delete: a connection URI is computed by Neon on request, not an object in the API. */
  async delete() {},
});

export interface ConnectionUriArgs {
  projectId: pulumi.Input<string>;
  branchId: pulumi.Input<string>;
  /** The compute to connect through (an Endpoint's `endpointId`). */
  endpointId: pulumi.Input<string>;
  databaseName: pulumi.Input<string>;
  roleName: pulumi.Input<string>;
  /** Change it to fetch the URIs again; pass the Role's `rotatePassword` so a reset password reaches the URIs. */
  refreshTrigger?: pulumi.Input<string>;
}

/**
 * Neon's connection URIs for one endpoint, database and role (GET /projects/{id}/connection_uri, direct and pooled).
 * `uri` and `pooledUri` are secret; they carry the role's password.
 */
export class ConnectionUri extends pulumi.dynamic.Resource {
  declare readonly uri: pulumi.Output<string>;
  declare readonly pooledUri: pulumi.Output<string>;
  declare readonly host: pulumi.Output<string>;
  declare readonly poolerHost: pulumi.Output<string>;

  constructor(name: string, args: ConnectionUriArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      connectionUriProvider,
      name,
      { ...args, uri: undefined, pooledUri: undefined, host: undefined, poolerHost: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["uri", "pooledUri"] }),
      "neon",
      "ConnectionUri",
    );
  }
}
