import * as pulumi from "@pulumi/pulumi";
import { changedFields, failures, isUnknown } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { inTransaction, isDatabaseGone, isPostgresUri, withConnection, type ConnectOptions } from "./connection";
import { identifierProblem } from "./names";
import { quoteIdentifier } from "./profiles";

export interface DatabaseLockdownInputs {
  /** The admin's URI (secret); the provider connects to `database` with its credentials. */
  adminUri: string;
  database: string;
}

export interface DatabaseLockdownOutputs extends DatabaseLockdownInputs {
  /** What refresh found open again ("PUBLIC can CONNECT", ...); non-empty makes the next up an update. */
  drift: string[];
}

/**
 * PostgreSQL gives every role (PUBLIC) CONNECT and TEMPORARY on a new database, and before 15 also CREATE on
 * its public schema. Without this, a role granted on one database can log in to every other.
 */
const lockdown = {
  revokeOnDatabase: (database: string) => `REVOKE CONNECT, TEMPORARY ON DATABASE ${quoteIdentifier(database)} FROM PUBLIC`,
  revokeOnPublicSchema: "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
  // Deleting the lockdown gives back PostgreSQL's defaults, except CREATE on public (not a default since 15).
  restore: (database: string) => [`GRANT CONNECT, TEMPORARY ON DATABASE ${quoteIdentifier(database)} TO PUBLIC`],
  inspect: `SELECT
      has_database_privilege('public', current_database(), 'CONNECT') AS connect,
      has_database_privilege('public', current_database(), 'TEMPORARY') AS temporary,
      COALESCE((SELECT has_schema_privilege('public', 'public', 'CREATE') FROM pg_namespace WHERE nspname = 'public'), false) AS create_on_public`,
};

function connectOptions(props: DatabaseLockdownInputs): ConnectOptions {
  return { adminUri: props.adminUri, database: props.database, label: `postgres database lockdown '${props.database}'` };
}

async function revoke(props: DatabaseLockdownInputs): Promise<void> {
  await withConnection(connectOptions(props), "revoking PUBLIC's privileges", (client) =>
    inTransaction(client, async () => {
      await client.query(lockdown.revokeOnDatabase(props.database));
      const publicSchema = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = 'public'");
      if ((publicSchema.rowCount ?? 0) > 0) await client.query(lockdown.revokeOnPublicSchema);
    }),
  );
}

export const databaseLockdownProvider = dynamicProvider<DatabaseLockdownInputs, DatabaseLockdownOutputs>({
  async check(_olds, news) {
    const problems = failures("postgres database lockdown", news.database);
    if (!isUnknown(news.adminUri) && !isPostgresUri(news.adminUri)) problems.add("adminUri", "must be a postgresql:// URI");
    if (!isUnknown(news.database)) {
      if (typeof news.database !== "string") problems.add("database", "is required (a database name)");
      else {
        const problem = identifierProblem(news.database);
        if (problem) problems.add("database", problem, news.database);
      }
    }
    return { inputs: news, failures: problems.list };
  },

  async diff(_id, olds, news) {
    const replaces = changedFields({ ...olds }, { ...news }, ["database"]);
    const changed = changedFields({ ...olds }, { ...news }, ["adminUri"]);
    return { changes: replaces.length + changed.length > 0 || (olds.drift ?? []).length > 0, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    await revoke(inputs);
    return { id: inputs.database, outs: { ...inputs, drift: [] } };
  },

  async read(id, props) {
    if (!props) return { id: "" };
    try {
      const live = await withConnection(connectOptions(props), "reading PUBLIC's privileges", async (client) => {
        const { rows } = await client.query<{ connect: boolean; temporary: boolean; create_on_public: boolean }>(lockdown.inspect);
        return rows[0];
      });
      const drift = [
        ...(live.connect ? ["PUBLIC can CONNECT"] : []),
        ...(live.temporary ? ["PUBLIC can create TEMPORARY tables"] : []),
        ...(live.create_on_public ? ["PUBLIC can CREATE in schema public"] : []),
      ];
      return { id, props: { ...props, drift } };
    } catch (error) {
      if (isDatabaseGone(error)) return { id: "" };
      throw error;
    }
  },

  async update(_id, olds, news) {
    if ((olds.drift ?? []).length > 0) await revoke(news);
    return { outs: { ...news, drift: [] } };
  },

  async delete(_id, props) {
    try {
      await withConnection(connectOptions(props), "restoring PUBLIC's privileges", (client) =>
        inTransaction(client, async () => {
          for (const statement of lockdown.restore(props.database)) await client.query(statement);
        }),
      );
    } catch (error) {
      if (!isDatabaseGone(error)) throw error;
    }
  },
});

export interface DatabaseLockdownArgs {
  /** The admin's connection URI (on Neon, the project owner's). Secret. Any database: the provider connects to `database`. */
  adminUri: pulumi.Input<string>;
  /** Database to close to PUBLIC, e.g. `prefect`. Changing it replaces the lockdown. */
  database: pulumi.Input<string>;
}

/**
 * Takes CONNECT and TEMPORARY on a database, and CREATE on its public schema, away from PUBLIC, so only its
 * owner and roles given a `Grant` can connect. Apply it to every database, also those no app role is granted
 * (e.g. a Prefect server's own database).
 */
export class DatabaseLockdown extends pulumi.dynamic.Resource {
  declare readonly database: pulumi.Output<string>;
  declare readonly drift: pulumi.Output<string[]>;

  constructor(name: string, args: DatabaseLockdownArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      databaseLockdownProvider,
      name,
      { ...args, drift: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["adminUri"] }),
      "postgres",
      "DatabaseLockdown",
    );
  }
}
