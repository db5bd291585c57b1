import * as pulumi from "@pulumi/pulumi";
import type { Role as NeonRole } from "@neondatabase/api-client";
import { changedFields, failures } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { ignoreNeonNotFound, isLostAnswer, isNameTaken, mutate, neonApi, neonCall, type NeonApi } from "./client";
import { checkPostgresName } from "./database";
import { isUnknown } from "../core/check";
import { checkNeonIds } from "./check";
import { roleNameProblem } from "../postgres/names";
import { sendOnceMore } from "../core/resend";

export interface RoleInputs {
  projectId: string;
  branchId: string;
  name: string;
  /** Take over an existing role of this name (the project's `<db>_owner`) and reveal its password. */
  adopt?: boolean;
  /** Any change resets the password (reset_password); the value itself means nothing. */
  rotatePassword?: string;
}

export interface RoleOutputs extends RoleInputs {
  /** Secret (additionalSecretOutputs). Never put into an error or log message. */
  password: string;
  adopted: boolean;
}

function label(inputs: RoleInputs): string {
  return `neon role '${inputs.name}' (branch '${inputs.branchId}' of project '${inputs.projectId}')`;
}

async function getRole(api: NeonApi, inputs: RoleInputs): Promise<NeonRole | undefined> {
  return ignoreNeonNotFound(() =>
    neonCall(() => api.getProjectBranchRole(inputs.projectId, inputs.branchId, inputs.name), { idempotent: true }).then((r) => r.role),
  );
}

/** Neon returns the password with create and reset_password; reveal_password is the fallback. */
async function passwordOf(api: NeonApi, inputs: RoleInputs, role: NeonRole | undefined): Promise<string> {
  if (role?.password) return role.password;
  const revealed = await neonCall(() => api.getProjectBranchRolePassword(inputs.projectId, inputs.branchId, inputs.name), { idempotent: true });
  return revealed.password;
}

export const roleProvider = dynamicProvider<RoleInputs, RoleOutputs>({
  async check(_olds, news) {
    const problems = failures("neon role", isUnknown(news.name) ? undefined : news.name);
    checkNeonIds(problems, { ...news }, ["projectId", "branchId"]);
    checkPostgresName(problems, "name", news.name, roleNameProblem);
    const rotate = news.rotatePassword;
    if (rotate !== undefined && !isUnknown(rotate) && typeof rotate !== "string") problems.add("rotatePassword", "must be a string", rotate);
    return { inputs: news, failures: problems.list };
  },

  async diff(_id, olds, news) {
    const replaces = changedFields({ ...olds }, { ...news }, ["projectId", "branchId", "name"]);
    const updates = changedFields({ ...olds }, { ...news }, ["rotatePassword", "adopt"]);
    return { changes: replaces.length + updates.length > 0, replaces, deleteBeforeReplace: true };
  },

  async create(inputs) {
    const api = neonApi();
    const id = `${inputs.branchId}/${inputs.name}`;
    if (inputs.adopt) {
      const existing = await getRole(api, inputs);
      if (existing && inputs.rotatePassword) {
        // A branch copies its parent's roles with their passwords: adopting with `rotatePassword` gives the
        // role this branch's own password instead of keeping the parent's.
        const reset = await mutate(api, inputs.projectId, () => api.resetProjectBranchRolePassword(inputs.projectId, inputs.branchId, inputs.name));
        return { id, outs: { ...inputs, password: await passwordOf(api, inputs, reset.role), adopted: true } };
      }
      if (existing) return { id, outs: { ...inputs, password: await passwordOf(api, inputs, undefined), adopted: true } };
    }
    const alreadyExists = (detail: string) =>
      new Error(
        `${label(inputs)} already exists (${detail}): it was made by hand, came with the project (its \`<db>_owner\`), ` +
          "or was left by an interrupted `pulumi up` (Neon keeps no mark of who made it). Set `adopt: true` on this resource to take it over, " +
          `or delete it (\`neon roles delete ${inputs.name} --project-id ${inputs.projectId} --branch ${inputs.branchId}\`) and run \`pulumi up\` again.`,
      );
    // Looked up first: a role of this name found only after a create that got no answer is then the one this
    // create made, never one that was there before. Role names are unique per branch, so a create that got no
    // answer and made nothing is sent once more (sendOnceMore).
    if (!inputs.adopt && (await getRole(api, inputs))) throw alreadyExists(`role '${inputs.name}' is on branch ${inputs.branchId}`);
    let outcome: { created: { role: NeonRole } } | { found: NeonRole };
    try {
      outcome = await sendOnceMore(
        () => mutate(api, inputs.projectId, () => api.createProjectBranchRole(inputs.projectId, inputs.branchId, { role: { name: inputs.name } })),
        { unanswered: isLostAnswer, conflict: isNameTaken, find: () => getRole(api, inputs) },
      );
    } catch (error) {
      if (!inputs.adopt && isNameTaken(error)) throw alreadyExists(error instanceof Error ? error.message : String(error));
      throw error;
    }
    const made = "created" in outcome ? outcome.created.role : undefined;
    return { id, outs: { ...inputs, password: await passwordOf(api, inputs, made), adopted: false } };
  },

  /** Neon reveals passwords only on request; the stored one stays unless the role is gone. */
  async read(id, props) {
    const known = props as RoleOutputs;
    const role = await getRole(neonApi(), known);
    if (!role) return { id: "" };
    return { id, props: { ...known, name: role.name } };
  },

  async update(_id, olds, news) {
    const api = neonApi();
    if (news.rotatePassword === olds.rotatePassword) {
      return { outs: { ...news, password: olds.password, adopted: olds.adopted ?? false } };
    }
    const result = await mutate(api, news.projectId, () => api.resetProjectBranchRolePassword(news.projectId, news.branchId, news.name));
    return { outs: { ...news, password: await passwordOf(api, news, result.role), adopted: olds.adopted ?? false } };
  },

  async delete(_id, props) {
    const api = neonApi();
    await ignoreNeonNotFound(() =>
      mutate(api, props.projectId, () => api.deleteProjectBranchRole(props.projectId, props.branchId, props.name), { idempotent: true }),
    );
  },
});

export interface RoleArgs {
  /** The Neon project id. Changing it replaces the role. */
  projectId: pulumi.Input<string>;
  /** The branch holding the role. Changing it replaces the role. */
  branchId: pulumi.Input<string>;
  /** Role name, at most 63 bytes, not `pg_…`. Changing it replaces the role (with a new password). */
  name: pulumi.Input<string>;
  /** Take over an existing role of this name (the project's `<db>_owner`) and reveal its password. @default `false` */
  adopt?: pulumi.Input<boolean>;
  /**
   * Change this value (e.g. to a date) to reset the role's password; dependants that read `password` get the new one.
   * @example `"2025-06-01"`
   */
  rotatePassword?: pulumi.Input<string>;
}

/**
 * A Postgres role made through the Neon API, with its password as a secret output.
 *
 * WARNING: every role made through the Neon API, console or CLI is a member of `neon_superuser` and can read and
 * write every table (neon.com/docs/manage/roles). Use Neon API roles for owners and admins only. Least-privilege
 * roles such as an app role and a migrations role are made with SQL by the PostgreSQL provider
 * (dynamic-providers/postgres), not with this resource.
 */
export class Role extends pulumi.dynamic.Resource {
  declare readonly projectId: pulumi.Output<string>;
  declare readonly branchId: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly password: pulumi.Output<string>;
  declare readonly adopted: pulumi.Output<boolean>;

  constructor(name: string, args: RoleArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      roleProvider,
      name,
      { ...args, password: undefined, adopted: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["password"] }),
      "neon",
      "Role",
    );
  }
}
