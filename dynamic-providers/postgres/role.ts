import * as pulumi from "@pulumi/pulumi";
import { changedFields, failures, isUnknown } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { clientConfig, inTransaction, isDatabaseGone, isPostgresUri, roleExists, sqlState, withConnection, type ConnectOptions } from "./connection";
import { roleNameProblem } from "./names";
import { quoteIdentifier } from "./profiles";
import { scramPasswordProblem, scramVerifier } from "./scram";

export { roleNameProblem };

export interface RoleInputs {
  /** The admin's (Neon project owner's) URI; secret. */
  adminUri: string;
  name: string;
  /** Secret; from a `random.RandomPassword`. */
  password: string;
  /** Maximum concurrent connections (-1 to 2147483647, PostgreSQL's int4); undefined means no limit (-1). */
  connectionLimit?: number;
  /** Take over a role of this name that already exists (made by hand from seed 000's SQL). */
  adopt?: boolean;
}

export interface RoleOutputs extends RoleInputs {
  /** What refresh found different from the inputs ("password does not match", ...); a non-empty list makes the next up an update. */
  drift: string[];
}

function label(name: string): string {
  return `postgres role '${name}'`;
}

function connectOptions(props: RoleInputs, database?: string): ConnectOptions {
  return { adminUri: props.adminUri, database, label: label(props.name), secrets: [props.password] };
}

function literal(value: string): string {
  const { escapeLiteral } = require("pg") as typeof import("pg");
  return escapeLiteral(value);
}

/** rolconnlimit is an int4; -1 means no limit. */
const maxConnectionLimit = 2_147_483_647;

/**
 * CREATE ROLE cannot take bind parameters, so whatever it sets is in the statement text, and the server writes that
 * text to its log when the statement fails (log_min_error_statement) or for every statement (log_statement = 'all').
 * The password therefore goes as a SCRAM verifier computed here, as psql's \password sends it; a fresh salt each time,
 * so the verifier is never compared or stored (diff() and the state only know the password, which is secret).
 */
function roleOptions(inputs: RoleInputs): string {
  return `LOGIN PASSWORD ${literal(scramVerifier(inputs.password))} CONNECTION LIMIT ${inputs.connectionLimit ?? -1}`;
}

/**
 * The admin becomes a member of every role it creates. On Neon the admin is not a superuser, and
 * PostgreSQL only lets a member of a role run ALTER DEFAULT PRIVILEGES FOR ROLE it, GRANT on the tables it
 * owns (otherwise GRANT ... ON ALL TABLES skips them with a mere warning), REASSIGN OWNED and DROP OWNED.
 */
const adminMembership = (name: string): string => `GRANT ${quoteIdentifier(name)} TO CURRENT_USER`;

export const roleProvider = dynamicProvider<RoleInputs, RoleOutputs>({
  async check(_olds, news) {
    const problems = failures("postgres role", news.name);
    if (!isUnknown(news.adminUri) && !isPostgresUri(news.adminUri)) problems.add("adminUri", "must be a postgresql:// URI");
    if (!isUnknown(news.name)) {
      if (typeof news.name !== "string") problems.add("name", "is required (a role name)");
      else {
        const problem = roleNameProblem(news.name);
        if (problem) problems.add("name", problem, news.name);
      }
    }
    if (!isUnknown(news.password)) {
      // Never the value: it is the password.
      const problem = scramPasswordProblem(news.password);
      if (problem) problems.add("password", problem);
    }
    if (!isUnknown(news.connectionLimit)) problems.integer("connectionLimit", news.connectionLimit, { min: -1, max: maxConnectionLimit });
    if (news.adopt !== undefined && typeof news.adopt !== "boolean") problems.add("adopt", "must be true or false", news.adopt);
    return { inputs: news, failures: problems.list };
  },

  async diff(_id, olds, news) {
    const replaces = changedFields({ ...olds }, { ...news }, ["name"]);
    const changed = changedFields({ ...olds }, { ...news }, ["adminUri", "password", "connectionLimit", "adopt"]);
    const drifted = (olds.drift ?? []).length > 0;
    return { changes: replaces.length + changed.length > 0 || drifted, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    await withConnection(connectOptions(inputs), "creating the role", (client) =>
      inTransaction(client, async () => {
        const { rows } = await client.query<{ admin: string }>("SELECT current_user AS admin");
        if (rows[0].admin === inputs.name) throw new Error("the role is the admin role of adminUri itself");
        if (await roleExists(client, inputs.name)) {
          if (!inputs.adopt) throw new Error("the role already exists; set `adopt: true` to take it over (its password is reset)");
          await client.query(`ALTER ROLE ${quoteIdentifier(inputs.name)} ${roleOptions(inputs)}`);
        } else {
          await client.query(`CREATE ROLE ${quoteIdentifier(inputs.name)} ${roleOptions(inputs)}`);
        }
        await client.query(adminMembership(inputs.name));
      }),
    );
    return { id: inputs.name, outs: { ...inputs, drift: [] } };
  },

  async read(id, props) {
    if (!props) return { id: "" };
    const live = await withConnection(connectOptions(props), "reading the role", async (client) => {
      const result = await client.query<{ rolcanlogin: boolean; rolconnlimit: number }>(
        "SELECT rolcanlogin, rolconnlimit FROM pg_roles WHERE rolname = $1",
        [props.name],
      );
      return result.rows[0];
    });
    if (!live) return { id: "" };
    const drift: string[] = [];
    if (!live.rolcanlogin) drift.push("cannot log in");
    else if (!(await passwordWorks(props))) drift.push("password does not match");
    // -1 is "no limit", which the inputs may spell as -1 or leave out; either way it is no drift.
    const connectionLimit = live.rolconnlimit === -1 ? (props.connectionLimit === -1 ? -1 : undefined) : live.rolconnlimit;
    return { id, props: { ...props, connectionLimit, drift } };
  },

  async update(_id, olds, news) {
    const rewrite = changedFields({ ...olds }, { ...news }, ["password", "connectionLimit"]).length > 0 || (olds.drift ?? []).length > 0;
    const newAdmin = olds.adminUri !== news.adminUri;
    if (rewrite || newAdmin) {
      await withConnection(connectOptions(news), "updating the role", (client) =>
        inTransaction(client, async () => {
          if (rewrite) await client.query(`ALTER ROLE ${quoteIdentifier(news.name)} ${roleOptions(news)}`);
          await client.query(adminMembership(news.name));
        }),
      );
    }
    return { outs: { ...news, drift: [] } };
  },

  async delete(_id, props) {
    const drop = (database?: string) =>
      withConnection(connectOptions(props, database), "dropping the role", async (client) => {
        if (!(await roleExists(client, props.name))) return;
        await inTransaction(client, async () => {
          const role = quoteIdentifier(props.name);
          // Objects the role still owns here are kept (owned by the admin), never dropped with it; DROP OWNED then
          // only removes privileges and default privileges left over, which would otherwise block DROP ROLE.
          await client.query(`REASSIGN OWNED BY ${role} TO CURRENT_USER`);
          await client.query(`DROP OWNED BY ${role}`);
          await client.query(`DROP ROLE IF EXISTS ${role}`);
        });
      });
    try {
      await drop();
    } catch (error) {
      // Roles belong to the cluster, not to a database: if the URI's database is gone, any other one will do.
      if (!isDatabaseGone(error)) throw error;
      await drop("postgres");
    }
  },
});

/** Logs in as the role to compare its password with ours; only a failed authentication counts as a mismatch. */
async function passwordWorks(props: RoleInputs): Promise<boolean> {
  const { Client } = require("pg") as typeof import("pg");
  const client = new Client({ ...clientConfig(props.adminUri), user: props.name, password: props.password, connectionTimeoutMillis: 15_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return true;
  } catch (error) {
    // 28P01 invalid_password; anything else (no CONNECT on this database, pg_hba) means the password was accepted or not checked.
    return sqlState(error) !== "28P01";
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface RoleArgs {
  /** The admin's connection URI (on Neon, the project owner's), e.g. from a Neon role's `connectionUri`. Secret. */
  adminUri: pulumi.Input<string>;
  /** Role name, e.g. `app_user` or `migrations`. Changing it replaces the role. */
  name: pulumi.Input<string>;
  /**
   * Login password, from a `random.RandomPassword`; replacing that resource rotates it (ALTER ROLE). Printable ASCII
   * only: it is sent as a SCRAM verifier computed here, and SASLprep of other characters differs between clients.
   */
  password: pulumi.Input<string>;
  /** Maximum concurrent connections, -1 (no limit) to 2147483647. @default `-1` (no limit) */
  connectionLimit?: pulumi.Input<number>;
  /** Take over an existing role of this name (its password is reset) instead of failing. @default `false` */
  adopt?: pulumi.Input<boolean>;
}

/** A PostgreSQL LOGIN role (a guide's `CREATE USER … WITH PASSWORD …`). */
export class Role extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly password: pulumi.Output<string>;
  declare readonly connectionLimit: pulumi.Output<number | undefined>;
  declare readonly drift: pulumi.Output<string[]>;

  constructor(name: string, args: RoleArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      roleProvider,
      name,
      { ...args, drift: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["adminUri", "password"] }),
      "postgres",
      "Role",
    );
  }
}
