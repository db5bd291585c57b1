import * as pulumi from "@pulumi/pulumi";
import type { Database as NeonDatabase } from "@neondatabase/api-client";
import { changedFields, failures, type Failures } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { ignoreNeonNotFound, isLostAnswer, isNameTaken, mutate, neonApi, neonCall, type NeonApi } from "./client";
import { isUnknown } from "../core/check";
import { checkNeonIds } from "./check";
import { identifierProblem, roleNameProblem } from "../postgres/names";
import { sendOnceMore } from "../core/resend";

/**
 * A database or role name by the postgres providers' rules (non-empty, at most 63 bytes, no control characters;
 * `roleNameProblem` for roles), so a name Neon makes is one the Grant and DatabaseLockdown accept too.
 */
export function checkPostgresName(problems: Failures, field: string, value: unknown, rule: (name: string) => string | undefined = identifierProblem): void {
  if (isUnknown(value)) return;
  if (typeof value !== "string" || value.length === 0) return problems.add(field, "is required (a PostgreSQL identifier)", value);
  const problem = rule(value);
  if (problem) problems.add(field, problem, value);
}

export interface DatabaseInputs {
  projectId: string;
  branchId: string;
  name: string;
  /** An existing role on the branch (a Neon Role resource, or the project's `<db>_owner`). */
  ownerName: string;
  /** Take over an existing database of this name instead of failing (the project's implicit database). */
  adopt?: boolean;
}

export interface DatabaseOutputs extends DatabaseInputs {
  databaseId: number;
  adopted: boolean;
}

function outputs(inputs: DatabaseInputs, database: NeonDatabase, adopted: boolean): DatabaseOutputs {
  return { ...inputs, name: database.name, ownerName: database.owner_name, databaseId: database.id, adopted };
}

function label(inputs: DatabaseInputs): string {
  return `neon database '${inputs.name}' (branch '${inputs.branchId}' of project '${inputs.projectId}')`;
}

async function getDatabase(api: NeonApi, inputs: DatabaseInputs): Promise<NeonDatabase | undefined> {
  return ignoreNeonNotFound(() =>
    neonCall(() => api.getProjectBranchDatabase(inputs.projectId, inputs.branchId, inputs.name), { idempotent: true }).then((r) => r.database),
  );
}

async function setOwner(api: NeonApi, inputs: DatabaseInputs): Promise<NeonDatabase> {
  const result = await mutate(api, inputs.projectId, () =>
    api.updateProjectBranchDatabase(inputs.projectId, inputs.branchId, inputs.name, { database: { owner_name: inputs.ownerName } }),
  );
  return result.database;
}

export const databaseProvider = dynamicProvider<DatabaseInputs, DatabaseOutputs>({
  async check(_olds, news) {
    const problems = failures("neon database", isUnknown(news.name) ? undefined : news.name);
    checkNeonIds(problems, { ...news }, ["projectId", "branchId"]);
    checkPostgresName(problems, "name", news.name);
    checkPostgresName(problems, "ownerName", news.ownerName, roleNameProblem);
    return { inputs: news, failures: problems.list };
  },

  async diff(_id, olds, news) {
    const replaces = changedFields({ ...olds }, { ...news }, ["projectId", "branchId", "name"]);
    const updates = changedFields({ ...olds }, { ...news }, ["ownerName", "adopt"]);
    // Names are unique per branch: the old database must go before one of the same name is made elsewhere.
    return { changes: replaces.length + updates.length > 0, replaces, deleteBeforeReplace: true };
  },

  async create(inputs) {
    const api = neonApi();
    if (inputs.adopt) {
      const existing = await getDatabase(api, inputs);
      if (existing) {
        const database = existing.owner_name === inputs.ownerName ? existing : await setOwner(api, inputs);
        return { id: String(database.id), outs: outputs(inputs, database, true) };
      }
    }
    const alreadyExists = (detail: string) =>
      new Error(
        `${label(inputs)} already exists (${detail}): it was made by hand, came with the project (its first database), ` +
          "or was left by an interrupted `pulumi up` (Neon keeps no mark of who made it). Set `adopt: true` on this resource to take it over, " +
          `or delete it (\`neon databases delete ${inputs.name} --project-id ${inputs.projectId} --branch ${inputs.branchId}\`) and run \`pulumi up\` again.`,
      );
    // Looked up first: a database of this name found only after a create that got no answer is then the one this
    // create made, never one that was there before. Database names are unique per branch, so a create that got no
    // answer and made nothing is sent once more (sendOnceMore).
    if (!inputs.adopt && (await getDatabase(api, inputs))) throw alreadyExists(`database '${inputs.name}' is on branch ${inputs.branchId}`);
    let outcome: { created: { database: NeonDatabase } } | { found: NeonDatabase };
    try {
      outcome = await sendOnceMore(
        () =>
          mutate(api, inputs.projectId, () =>
            api.createProjectBranchDatabase(inputs.projectId, inputs.branchId, { database: { name: inputs.name, owner_name: inputs.ownerName } }),
          ),
        { unanswered: isLostAnswer, conflict: isNameTaken, find: () => getDatabase(api, inputs) },
      );
    } catch (error) {
      if (!inputs.adopt && isNameTaken(error)) throw alreadyExists(error instanceof Error ? error.message : String(error));
      throw error;
    }
    const database = "created" in outcome ? outcome.created.database : outcome.found;
    return { id: String(database.id), outs: outputs(inputs, database, false) };
  },

  async read(id, props) {
    const known = props as DatabaseOutputs;
    const database = await getDatabase(neonApi(), known);
    if (!database) return { id: "" };
    return { id, props: outputs(known, database, known.adopted ?? false) };
  },

  async update(_id, olds, news) {
    const api = neonApi();
    const database = news.ownerName !== olds.ownerName ? await setOwner(api, news) : await getDatabase(api, news);
    if (!database) throw new Error(`${label(news)} no longer exists; run \`pulumi refresh\` to recreate it`);
    return { outs: outputs(news, database, olds.adopted ?? false) };
  },

  async delete(_id, props) {
    const api = neonApi();
    await ignoreNeonNotFound(() =>
      mutate(api, props.projectId, () => api.deleteProjectBranchDatabase(props.projectId, props.branchId, props.name), { idempotent: true }),
    );
  },
});

export interface DatabaseArgs {
  /** The Neon project id. Changing it replaces the database. */
  projectId: pulumi.Input<string>;
  /** The branch holding the database. Changing it replaces the database. */
  branchId: pulumi.Input<string>;
  /** Database name, at most 63 bytes, e.g. `app` or `prefect`. Changing it replaces the database (its data is lost). */
  name: pulumi.Input<string>;
  /** The owning role; must exist on the branch (pass a Role's `name` so it is made first). */
  ownerName: pulumi.Input<string>;
  /**
   * Take over an existing database of this name instead of failing: needed for the database Neon makes with the
   * project (`neondb`, or the name given at project create). @default `false`
   */
  adopt?: pulumi.Input<boolean>;
}

/** A database on a Neon branch (a guide's `CREATE DATABASE …`). */
export class Database extends pulumi.dynamic.Resource {
  declare readonly projectId: pulumi.Output<string>;
  declare readonly branchId: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly ownerName: pulumi.Output<string>;
  declare readonly databaseId: pulumi.Output<number>;
  declare readonly adopted: pulumi.Output<boolean>;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.CustomResourceOptions) {
    super(databaseProvider, name, { ...args, databaseId: undefined, adopted: undefined }, opts, "neon", "Database");
  }
}
