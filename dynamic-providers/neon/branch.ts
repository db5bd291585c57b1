import * as pulumi from "@pulumi/pulumi";
import type { AnnotationData, Branch as NeonBranch, BranchUpdateRequest } from "@neondatabase/api-client";
import { changedFields, failures, isUnknown } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { sendOnceMore } from "../core/resend";
import { branchExpiryProblem, branchNameProblem, neonIdPattern, neonIdRule, neonTimestampRule, normaliseNeonTimestamp, parseNeonTimestamp } from "./check";
import { carriesClaim, checkClaim, claimAnnotation, defaultClaim } from "./claim";
import { ignoreNeonNotFound, isLostAnswer, isNameTaken, mutate, neonApi, neonCall, type NeonApi, waitForRunningOperations } from "./client";

export interface BranchInputs {
  projectId: string;
  /** Branch name, unique within the project, e.g. `staging`. */
  name: string;
  /** Parent branch id; unset means the project's default branch (resolved at create). */
  parentId?: string;
  /** check() fills in `false`. */
  protected?: boolean;
  /**
   * A trigger: when this changes to a new value, update() resets the branch to its parent's latest state
   * (restoreProjectBranch). The branch id and its endpoints stay, so connection strings do not change.
   */
  resetFromParent?: string;
  /**
   * When Neon deletes the branch (`expires_at`), RFC 3339; check() turns it into Neon's form (UTC, whole
   * seconds, `Z`). Unset means the branch never expires: an expiry set by hand is removed.
   */
  expiresAt?: string;
  /** Take over an existing branch of this name instead of creating one. */
  adopt?: boolean;
  /**
   * Written as the branch's annotation at create; a branch of this name carrying it is the one an interrupted
   * create of this resource made, and is taken over. Only create reads it.
   */
  claim?: string;
}

export interface BranchOutputs extends BranchInputs {
  branchId: string;
  /** The parent branch id Neon reports (the default branch's id when none was given). */
  parentId?: string;
  protected: boolean;
  /** When the branch was last reset from its parent (ISO 8601), if ever. */
  resetAt?: string;
  /** The expiry Neon reports (Neon's form), so refresh sees one changed or removed by hand. */
  expiresAt?: string;
  logicalSize?: number;
  /** The project's default branch: Neon refuses to delete it, so delete() releases it instead. */
  isDefault: boolean;
  /** True when create() took over a branch that already existed. */
  adopted: boolean;
}

function label(inputs: { projectId?: unknown; name?: unknown }): string {
  return `neon branch '${String(inputs.name)}' (project '${String(inputs.projectId)}')`;
}

function outputs(inputs: BranchInputs, branch: NeonBranch, extra: { adopted: boolean; resetAt?: string }): BranchOutputs {
  return {
    ...inputs,
    name: branch.name,
    branchId: branch.id,
    parentId: branch.parent_id ?? inputs.parentId,
    protected: branch.protected,
    resetAt: branch.last_reset_at ?? extra.resetAt,
    expiresAt: branch.expires_at === undefined ? undefined : normaliseNeonTimestamp(branch.expires_at),
    logicalSize: branch.logical_size,
    isDefault: branch.default,
    adopted: extra.adopted,
  };
}

async function getBranch(api: NeonApi, projectId: string, branchId: string): Promise<NeonBranch> {
  const response = await neonCall(() => api.getProjectBranch(projectId, branchId), { idempotent: true });
  return response.branch;
}

/** The branch of exactly this name with its annotation (listProjectBranches' `search` matches substrings of names and ids). */
async function findBranch(api: NeonApi, projectId: string, name: string): Promise<{ branch: NeonBranch; annotation?: AnnotationData } | undefined> {
  const response = await neonCall(() => api.listProjectBranches({ projectId, search: name }), { idempotent: true });
  const branch = response.branches.find((candidate) => candidate.name === name);
  return branch && { branch, annotation: response.annotations?.[branch.id] };
}

/**
 * PATCH with only the fields that differ: Neon answers 400 "cannot set branch to the same name" otherwise. An
 * expiry to remove is sent as `null` (the spec's "If this field is set to null, the expiration timestamp is removed").
 */
function branchChanges(current: { name: string; protected?: boolean; expiresAt?: string }, wanted: BranchInputs): BranchUpdateRequest["branch"] {
  const change: BranchUpdateRequest["branch"] = {};
  if (current.name !== wanted.name) change.name = wanted.name;
  if ((current.protected ?? false) !== (wanted.protected ?? false)) change.protected = wanted.protected ?? false;
  if (current.expiresAt !== wanted.expiresAt) change.expires_at = wanted.expiresAt ?? null;
  return change;
}

/** The live branch's fields branchChanges compares. */
function current(branch: NeonBranch): { name: string; protected: boolean; expiresAt?: string } {
  return { name: branch.name, protected: branch.protected, expiresAt: branch.expires_at === undefined ? undefined : normaliseNeonTimestamp(branch.expires_at) };
}

async function patchBranch(api: NeonApi, projectId: string, branchId: string, change: BranchUpdateRequest["branch"]): Promise<NeonBranch | undefined> {
  if (Object.keys(change).length === 0) return undefined;
  return (await mutate(api, projectId, () => api.updateProjectBranch(projectId, branchId, { branch: change }))).branch;
}

/**
 * Takes over an existing branch as this resource's: its parent must be the declared one, then the declared
 * settings are applied. `adopted` says whether someone else made it (adopt) or an earlier create of this resource.
 */
async function takeOver(api: NeonApi, inputs: BranchInputs, existing: NeonBranch, adopted: boolean): Promise<{ id: string; outs: BranchOutputs }> {
  if (inputs.parentId !== undefined && existing.parent_id !== inputs.parentId) {
    throw new Error(
      `${label(inputs)}: ${adopted ? "adopt" : "create"} found branch ${existing.id} with parent '${existing.parent_id ?? "none"}', ` +
        `but parentId is '${inputs.parentId}'; set parentId to match or leave it unset`,
    );
  }
  const patched = await patchBranch(api, inputs.projectId, existing.id, branchChanges(current(existing), inputs));
  return { id: existing.id, outs: outputs(inputs, patched ?? existing, { adopted }) };
}

/** True when `news` asks for a reset: a trigger value that is set and differs from the last one applied. */
function resetRequested(olds: { resetFromParent?: string }, news: { resetFromParent?: string }): boolean {
  return news.resetFromParent !== undefined && news.resetFromParent !== olds.resetFromParent;
}

export const branchProvider = dynamicProvider<BranchInputs, BranchOutputs>({
  async check(olds, news) {
    const problems = failures("neon branch", isUnknown(news.name) ? undefined : news.name);
    if (!isUnknown(news.projectId)) problems.pattern("projectId", news.projectId, neonIdPattern, neonIdRule);
    if (!isUnknown(news.name)) {
      const problem = branchNameProblem(news.name);
      if (problem) problems.add("name", problem, news.name);
    }
    if (news.parentId !== undefined && !isUnknown(news.parentId)) problems.pattern("parentId", news.parentId, neonIdPattern, neonIdRule);
    for (const field of ["protected", "adopt"] as const) {
      const value = news[field];
      if (value !== undefined && !isUnknown(value) && typeof value !== "boolean") problems.add(field, "must be true or false", value);
    }
    if (news.resetFromParent !== undefined && !isUnknown(news.resetFromParent) && typeof news.resetFromParent !== "string") {
      problems.add("resetFromParent", "must be a string (any new value triggers a reset)", news.resetFromParent);
    }
    checkClaim(problems, news.claim);
    const inputs: BranchInputs = { ...news, protected: news.protected ?? false };
    if (news.expiresAt !== undefined && !isUnknown(news.expiresAt)) {
      if (parseNeonTimestamp(news.expiresAt) === undefined) {
        problems.add("expiresAt", `must be ${neonTimestampRule}`, news.expiresAt);
      } else {
        inputs.expiresAt = normaliseNeonTimestamp(news.expiresAt);
        // Only a new or changed expiry must lie ahead: an unchanged one keeps applying while its day comes closer.
        const problem = inputs.expiresAt === olds.expiresAt ? undefined : branchExpiryProblem(inputs.expiresAt, Date.now());
        if (problem !== undefined) problems.add("expiresAt", `must ${problem}`, news.expiresAt);
      }
      if (news.protected === true) {
        problems.add("expiresAt", "cannot be set on a protected branch (Neon neither expires protected branches nor protects expiring ones); set `protected: false` or remove expiresAt", news.expiresAt);
      }
    }
    return { inputs, failures: problems.list };
  },

  async diff(_id, olds, news) {
    const replaces = changedFields({ ...olds }, { ...news }, ["projectId"]);
    // An unset parentId means "the default branch", which create() resolved and stored: only an explicit,
    // different parent replaces the branch.
    if (news.parentId !== undefined && news.parentId !== olds.parentId) replaces.push("parentId");
    // `claim` is not compared: only create reads it, so a new claim (or one added to an older state) changes nothing.
    const updates = changedFields({ ...olds }, { protected: false, ...news }, ["name", "protected", "expiresAt"]);
    if (resetRequested(olds, news)) updates.push("resetFromParent");
    // Names are unique per project, so the old branch must go before its replacement can take the name.
    return { changes: replaces.length + updates.length > 0, replaces, deleteBeforeReplace: true };
  },

  async create(inputs) {
    const api = neonApi();
    if (inputs.adopt) {
      const existing = await findBranch(api, inputs.projectId, inputs.name);
      if (existing) return takeOver(api, inputs, existing.branch, true);
    }
    const annotation = claimAnnotation(inputs.claim);
    // No endpoint: computes are their own resource (neon:Endpoint). mutate() waits for create_branch.
    const send = () =>
      mutate(api, inputs.projectId, () =>
        api.createProjectBranch(inputs.projectId, {
          branch: {
            name: inputs.name,
            ...(inputs.parentId !== undefined ? { parent_id: inputs.parentId } : {}),
            protected: inputs.protected ?? false,
            ...(inputs.expiresAt !== undefined ? { expires_at: inputs.expiresAt } : {}),
          },
          ...(annotation ? { annotation_value: annotation } : {}),
        }),
      );
    // After no answer (Neon may have acted): the branch of this name carrying the claim is the one this create made
    // (without a claim nothing tells, and the name's conflict is reported). Branch names are unique per project, so
    // when there is none the create did not happen and is sent once more: had it gone through after all, the resend
    // is refused as a conflict and the branch found then is taken over.
    const mine = async (): Promise<NeonBranch | undefined> => {
      const found = await findBranch(api, inputs.projectId, inputs.name);
      return found && carriesClaim(found.annotation, inputs.claim) ? found.branch : undefined;
    };
    let outcome: { created: { branch: NeonBranch } } | { found: NeonBranch };
    try {
      outcome = await sendOnceMore(send, { unanswered: isLostAnswer, conflict: isNameTaken, find: mine });
    } catch (error) {
      // The name is taken (by an interrupted create of this resource, or by someone else): the branch of this name
      // carrying the claim is this resource's.
      const found = isNameTaken(error) ? await findBranch(api, inputs.projectId, inputs.name) : undefined;
      if (found && carriesClaim(found.annotation, inputs.claim)) {
        await waitForRunningOperations(api, inputs.projectId, found.branch.id);
        return takeOver(api, inputs, found.branch, false);
      }
      if (!inputs.adopt && isNameTaken(error)) {
        throw new Error(
          `${label(inputs)} could not be created: ${error instanceof Error ? error.message : String(error)}. ` +
            "Branch names are unique per project and this one was not made by this resource; set `adopt: true` to take it over.",
        );
      }
      throw error;
    }
    if ("found" in outcome) {
      await waitForRunningOperations(api, inputs.projectId, outcome.found.id);
      return takeOver(api, inputs, outcome.found, false);
    }
    const branch = outcome.created.branch;
    return { id: branch.id, outs: outputs(inputs, branch, { adopted: false }) };
  },

  async read(id, props) {
    const known = props as BranchOutputs;
    const api = neonApi();
    const branch = await ignoreNeonNotFound(() => getBranch(api, known.projectId, id));
    if (!branch) return { id: "" };
    return { id, props: outputs(known, branch, { adopted: known.adopted ?? false, resetAt: known.resetAt }) };
  },

  async update(id, olds, news) {
    const api = neonApi();
    const reset = resetRequested(olds, news);
    // Refuse before changing anything, so an update is not half applied.
    if (reset && news.protected) {
      throw new Error(
        `${label(news)}: resetFromParent changed, but a protected branch cannot be reset; set \`protected: false\` first ` +
          "(or in the same update) to reset it",
      );
    }
    await patchBranch(api, news.projectId, id, branchChanges({ name: olds.name, protected: olds.protected, expiresAt: olds.expiresAt }, news));
    let resetAt = olds.resetAt;
    if (reset) {
      const parentId = olds.parentId;
      if (!parentId) throw new Error(`${label(news)}: resetFromParent changed, but the branch has no parent (a root branch cannot be reset from one)`);
      // Restores the branch in place to the parent's head: same branch id, same endpoints and connection strings.
      const result = await mutate(api, news.projectId, () => api.restoreProjectBranch(news.projectId, id, { source_branch_id: parentId }));
      resetAt = result.branch.last_reset_at ?? new Date().toISOString();
    }
    let live = await getBranch(api, news.projectId, id);
    // A reset restarts the expiry from the reset time (Neon keeps ttl_interval_seconds); put the wanted one back.
    if (reset) live = (await patchBranch(api, news.projectId, id, branchChanges(current(live), { ...news, name: live.name, protected: live.protected }))) ?? live;
    return { outs: outputs({ ...news, parentId: olds.parentId }, live, { adopted: olds.adopted ?? false, resetAt }) };
  },

  /**
   * A protected branch is not unprotected behind the user's back: delete() refuses and says so. The project's
   * default branch (only reachable here through `adopt`) is released, not deleted: Neon refuses to delete it.
   */
  async delete(id, props) {
    if (props.isDefault) return;
    const api = neonApi();
    if (props.protected) {
      const live = await ignoreNeonNotFound(() => getBranch(api, props.projectId, id));
      if (!live) return;
      if (live.protected) {
        throw new Error(`${label(props)} is protected and cannot be deleted; set \`protected: false\` and apply first, then delete it`);
      }
    }
    await ignoreNeonNotFound(() =>
      mutate(api, props.projectId, () => api.deleteProjectBranch({ projectId: props.projectId, branchId: id }), { idempotent: true }),
    );
  },
});

export interface BranchArgs {
  /** The Neon project id. Changing it replaces the branch. */
  projectId: pulumi.Input<string>;
  /** Branch name, unique in the project, e.g. `staging`. Changed in place (renamed). */
  name: pulumi.Input<string>;
  /** Parent branch id. Changing it replaces the branch. @default the project's default branch */
  parentId?: pulumi.Input<string>;
  /** Protected branches cannot be deleted or reset. @default `false` */
  protected?: pulumi.Input<boolean>;
  /**
   * Reset trigger: set it to a new value (a date, a counter) to reset the branch to its parent's current data.
   * The branch keeps its id and endpoints, so connection strings stay the same. Replaces the console's
   * delete-and-recreate "staging reset".
   */
  resetFromParent?: pulumi.Input<string>;
  /**
   * When Neon deletes the branch: an RFC 3339 timestamp at most 30 days ahead (Neon's limit). A new value
   * updates it in place; removing it removes the expiry. Neon refuses it on a protected or default branch
   * and on a branch with children. @default none: the branch never expires
   * @example `"2026-07-01T00:00:00Z"`
   */
  expiresAt?: pulumi.Input<string>;
  /** Take over the existing branch of this name instead of failing. @default `false` */
  adopt?: pulumi.Input<boolean>;
  /**
   * Marks the branch as this resource's (its annotation), so a create interrupted after Neon made the branch
   * takes it over on the next `pulumi up` instead of refusing it. Read only at create: changing it changes
   * nothing. @default a hash of the Pulumi organization, project, stack and this resource's name
   * @example `"acme-staging-branch"`
   */
  claim?: pulumi.Input<string>;
}

/** A Neon branch (no compute: add a neon:Endpoint for it). */
export class Branch extends pulumi.dynamic.Resource {
  declare readonly projectId: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly branchId: pulumi.Output<string>;
  declare readonly parentId: pulumi.Output<string | undefined>;
  declare readonly protected: pulumi.Output<boolean>;
  declare readonly resetAt: pulumi.Output<string | undefined>;
  declare readonly expiresAt: pulumi.Output<string | undefined>;
  declare readonly logicalSize: pulumi.Output<number | undefined>;
  declare readonly isDefault: pulumi.Output<boolean>;
  declare readonly adopted: pulumi.Output<boolean>;

  constructor(name: string, args: BranchArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      branchProvider,
      name,
      {
        ...args,
        parentId: args.parentId,
        protected: args.protected,
        expiresAt: args.expiresAt,
        claim: args.claim ?? defaultClaim("neon:Branch", name),
        branchId: undefined,
        resetAt: undefined,
        logicalSize: undefined,
        isDefault: undefined,
        adopted: undefined,
      },
      opts,
      "neon",
      "Branch",
    );
  }
}
