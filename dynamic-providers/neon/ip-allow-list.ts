import * as pulumi from "@pulumi/pulumi";
import { changedFields, failures, isUnknown } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { neonIdPattern, neonIdRule } from "./check";
import { ignoreNeonNotFound, mutate, neonApi, neonCall } from "./client";
import { isAllowedIpEntry } from "./project";

export interface IpAllowListInputs {
  /** The Neon project whose settings.allowed_ips this resource owns. */
  projectId: string;
  /** IP addresses, ranges (`a-b`) or CIDRs; check() drops repeats. Empty allows every IP. */
  ips: string[];
  /** Apply the list to protected branches only; check() fills in false. */
  protectedBranchesOnly?: boolean;
}

export interface IpAllowListOutputs extends IpAllowListInputs {
  protectedBranchesOnly: boolean;
}

/** The same addresses in any order: the order means nothing to Neon, so it is no change. A list not known yet (preview) differs. */
function sameIps(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (!Array.isArray(a) || !Array.isArray(b)) return false;
  const sorted = (list: readonly string[]): string => [...list].sort().join(",");
  return sorted(a) === sorted(b);
}

/** Writes the whole settings.allowed_ips; PATCH /projects answers 423 while operations run, which neonCall rides out. */
async function writeList(projectId: string, ips: string[], protectedBranchesOnly: boolean): Promise<void> {
  const api = neonApi();
  await mutate(api, projectId, () => api.updateProject(projectId, { project: { settings: { allowed_ips: { ips, protected_branches_only: protectedBranchesOnly } } } }));
}

/**
 * Seed 000 §4 "IP Allow": the project's allowlist as a resource of its own, so that it can be written after
 * the Fly apps whose egress addresses it lists, while those apps' secrets come from the project (no cycle).
 * The neon:Project it belongs to must leave `allowedIps` and `protectedBranchesOnly` unset.
 */
export const ipAllowListProvider = dynamicProvider<IpAllowListInputs, IpAllowListOutputs>({
  async check(_olds, news) {
    const problems = failures("neon ip allow list", isUnknown(news.projectId) ? undefined : news.projectId);
    if (!isUnknown(news.projectId)) problems.pattern("projectId", news.projectId, neonIdPattern, neonIdRule, true);
    let ips = news.ips;
    if (!isUnknown(ips)) {
      if (!Array.isArray(ips)) problems.add("ips", "must be a list of IP addresses, ranges or CIDRs", ips);
      else {
        ips.forEach((entry: unknown, index) => {
          if (isUnknown(entry)) return;
          if (typeof entry !== "string" || !isAllowedIpEntry(entry)) {
            problems.add(`ips[${index}]`, "must be an IP address (203.0.113.7), a CIDR (203.0.113.0/24) or a range (203.0.113.1-203.0.113.9)", entry);
          }
        });
        if (!ips.some(isUnknown)) ips = ips.filter((entry, index) => ips.indexOf(entry) === index);
      }
    }
    const onlyProtected = news.protectedBranchesOnly;
    if (onlyProtected !== undefined && !isUnknown(onlyProtected) && typeof onlyProtected !== "boolean") problems.add("protectedBranchesOnly", "must be true or false", onlyProtected);
    return { inputs: { ...news, ips, protectedBranchesOnly: onlyProtected ?? false }, failures: problems.list };
  },

  async diff(_id, olds, news) {
    const replaces = changedFields({ ...olds }, { ...news }, ["projectId"]);
    const changes = replaces.length > 0 || !sameIps(olds.ips, news.ips) || (olds.protectedBranchesOnly ?? false) !== (news.protectedBranchesOnly ?? false);
    return { changes, replaces, deleteBeforeReplace: false };
  },

  /** Overwrites whatever list the project had: this resource owns it from now on. */
  async create(inputs) {
    const outs: IpAllowListOutputs = { ...inputs, protectedBranchesOnly: inputs.protectedBranchesOnly ?? false };
    await writeList(outs.projectId, outs.ips, outs.protectedBranchesOnly);
    return { id: outs.projectId, outs };
  },

  async read(id, props) {
    const known: Partial<IpAllowListOutputs> = props ?? {};
    const projectId = known.projectId ?? id;
    const api = neonApi();
    const response = await ignoreNeonNotFound(() => neonCall(() => api.getProject(projectId), { idempotent: true }));
    if (!response) return { id: "" };
    const allowed = response.project.settings?.allowed_ips;
    const live: IpAllowListOutputs = { projectId, ips: allowed?.ips ?? [], protectedBranchesOnly: allowed?.protected_branches_only ?? false };
    // The declared order is kept when only the order differs, so refresh shows no false drift.
    if (known.ips && sameIps(known.ips, live.ips)) live.ips = known.ips;
    return { id, props: live };
  },

  async update(_id, _olds, news) {
    const outs: IpAllowListOutputs = { ...news, protectedBranchesOnly: news.protectedBranchesOnly ?? false };
    await writeList(outs.projectId, outs.ips, outs.protectedBranchesOnly);
    return { outs };
  },

  /** Clears the list (every IP allowed again, Neon's default); a project already gone counts as done. */
  async delete(id, props) {
    const projectId = props.projectId ?? id;
    await ignoreNeonNotFound(() => writeList(projectId, [], false));
  },
});

export interface IpAllowListArgs {
  /** The project, e.g. `NeonProject`'s `projectId`. Changing it moves the list to another project. */
  projectId: pulumi.Input<string>;
  /**
   * IP addresses, ranges (`a-b`) or CIDRs; needs Neon's Scale plan. An empty list allows every IP.
   * @example `["203.0.113.7", "198.51.100.0/24"]`
   */
  ips: pulumi.Input<pulumi.Input<string>[]>;
  /** Apply the list to protected branches (`main`) only. @default `false` */
  protectedBranchesOnly?: pulumi.Input<boolean>;
}

/**
 * A Neon project's IP allowlist (Console > Settings > Network security > IP Allow, seed 000 §4). Deleting it
 * allows every IP again. Use it instead of `neon:Project`'s `allowedIps`, never together with it.
 */
export class IpAllowList extends pulumi.dynamic.Resource {
  declare readonly projectId: pulumi.Output<string>;
  declare readonly ips: pulumi.Output<string[]>;
  declare readonly protectedBranchesOnly: pulumi.Output<boolean>;

  constructor(name: string, args: IpAllowListArgs, opts?: pulumi.CustomResourceOptions) {
    super(ipAllowListProvider, name, { ...args, protectedBranchesOnly: args.protectedBranchesOnly }, opts, "neon", "IpAllowList");
  }
}
