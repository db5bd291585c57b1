import * as pulumi from "@pulumi/pulumi";
import { changedFields, failures, isUnknown } from "../core/check";
import { claim } from "../core/claims";
import { dynamicProvider } from "../core/provider";
import { appNamePattern } from "./app";
import { body, flyApi, ignoreNotFound, isUnanswered, type Schemas } from "./client";
import { checkRegion } from "./regions";

/** `egress_pair` is left out: it answers with `ip_pair` and a null `ip`, so it is not one address (BEHAVIOUR-NOTES "IPs"). */
export const ipTypes = ["v4", "v6", "shared_v4", "private_v6", "egress_v4", "egress_v6"] as const;
export type IpType = (typeof ipTypes)[number];

/** Egress addresses are the source address of the app's outgoing traffic in one region, so they need a region. */
export const egressIpTypes: readonly IpType[] = ["egress_v4", "egress_v6"];

export interface IpAddressInputs {
  appName: string;
  type: IpType;
  /** Region code such as `ams`; "" (the default) allocates a global address. Required for egress types. */
  region?: string;
  /** Custom private network; only for `private_v6`. */
  network?: string;
  /** Take over an existing address of the same type, region (and network) instead of allocating one. */
  adopt?: boolean;
}

export interface IpAddressOutputs extends IpAddressInputs {
  ip: string;
  region: string;
  shared: boolean;
  adopted: boolean;
}

type Assignment = Schemas["IPAssignment"];

/**
 * The API does not say which type an assignment has, so it is told from what it does say: egress
 * addresses carry `egress`, shared v4 ones `shared`, private v6 ones a network (null on every other type,
 * BEHAVIOUR-NOTES "IPs") and an address in Fly's private fdaa::/16 range.
 */
export function typeOf(assignment: Assignment): IpType | undefined {
  const { isIP } = require("node:net") as typeof import("node:net");
  const ip = assignment.ip ?? "";
  if (assignment.egress) return isIP(ip) === 4 ? "egress_v4" : isIP(ip) === 6 ? "egress_v6" : undefined;
  if (isIP(ip) === 4) return assignment.shared ? "shared_v4" : "v4";
  if (isIP(ip) === 6) return assignment.network || /^fdaa:/i.test(ip) ? "private_v6" : "v6";
  return undefined;
}

function networkOf(assignment: Assignment): string {
  const name = assignment.network?.name ?? "";
  return name === "default" ? "" : name;
}

function matches(inputs: IpAddressInputs, assignment: Assignment): boolean {
  return (
    typeOf(assignment) === inputs.type &&
    (assignment.region ?? "") === (inputs.region ?? "") &&
    (inputs.type !== "private_v6" || networkOf(assignment) === (inputs.network ?? ""))
  );
}

const claimKind = "fly-ip";

function outputs(inputs: IpAddressInputs, assignment: Assignment, adopted: boolean): IpAddressOutputs {
  return {
    ...inputs,
    ip: assignment.ip ?? "",
    region: assignment.region ?? inputs.region ?? "",
    shared: assignment.shared ?? inputs.type === "shared_v4",
    adopted,
  };
}

function label(inputs: Partial<IpAddressInputs>): string {
  return `fly ip address (${inputs.type ?? "?"}) of app '${inputs.appName ?? "?"}'`;
}

async function listAssignments(appName: string): Promise<Assignment[] | undefined> {
  const api = flyApi();
  const listed = await ignoreNotFound(() => body(api.GET("/v1/apps/{app_name}/ip_assignments", { params: { path: { app_name: appName } } })));
  return listed ? (listed.ips ?? []) : undefined;
}

export const ipAddressProvider = dynamicProvider<IpAddressInputs, IpAddressOutputs>({
  async check(_olds, news) {
    const problems = failures("fly ip address", isUnknown(news.appName) ? undefined : news.appName);
    if (!isUnknown(news.appName)) problems.pattern("appName", news.appName, appNamePattern, "a Fly app name");
    if (!isUnknown(news.type)) problems.oneOf("type", news.type, ipTypes, true);
    checkRegion(problems, "region", news.region, { required: false });
    if (!isUnknown(news.type) && egressIpTypes.includes(news.type) && !isUnknown(news.region) && !news.region) {
      problems.add("region", `is required for ${news.type} (an egress address belongs to one region), e.g. \`ams\``);
    }
    if (news.network !== undefined && news.network !== "" && !isUnknown(news.network)) {
      if (news.type !== "private_v6" && !isUnknown(news.type)) problems.add("network", `can only be set when type is private_v6 (type is ${String(news.type)})`, news.network);
      else problems.pattern("network", news.network, /^[a-z0-9][a-z0-9-]*$/, "a network name");
    }
    if (news.adopt !== undefined && typeof news.adopt !== "boolean" && !isUnknown(news.adopt)) problems.add("adopt", "must be true or false", news.adopt);
    // Normalised so that "" and an absent region or network never show up as a change.
    const inputs: IpAddressInputs = { ...news, region: news.region ?? "" };
    if (!inputs.network) delete inputs.network;
    return { inputs, failures: problems.list };
  },

  async diff(_id, olds, news) {
    const replaces = changedFields({ ...olds, region: olds.region ?? "" }, { ...news, region: news.region ?? "" }, ["appName", "type", "region", "network"]);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },

  /**
   * Allocating is not idempotent, and addresses carry no name or tag. So create is crash safe by type: an
   * address of this type, region (and network) that no other resource of this run made or took is taken as
   * the one an interrupted earlier create allocated (its answer lost, or the engine stopped before recording
   * it), and an allocation whose answer is lost looks again for the address it made. `adopt` marks a found
   * address as someone else's, so delete leaves it.
   */
  async create(inputs) {
    const before = (await listAssignments(inputs.appName)) ?? [];
    const existing = before.find((assignment) => matches(inputs, assignment) && claim(claimKind, assignment.ip ?? ""));
    if (existing?.ip) return { id: existing.ip, outs: outputs(inputs, existing, inputs.adopt ?? false) };
    const api = flyApi();
    let created: Assignment;
    try {
      created = await body(
        api.POST("/v1/apps/{app_name}/ip_assignments", {
          params: { path: { app_name: inputs.appName } },
          body: { type: inputs.type, region: inputs.region || undefined, network: inputs.network || undefined },
        }),
      );
    } catch (error) {
      // No answer (or a 5xx): Fly may have allocated the address; one that was not there before is this create's.
      // When none is found the create is NOT sent once more (as a machine's or certificate's is): an address has no
      // name to keep a second allocation from succeeding, so a late first request and a resend would allocate two.
      // The error names the call, and the next `pulumi up` takes a late one over (a matching unclaimed address).
      if (!isUnanswered(error)) throw error;
      const known = before.map((assignment) => assignment.ip);
      const made = ((await listAssignments(inputs.appName)) ?? []).find(
        (assignment) => !known.includes(assignment.ip) && matches(inputs, assignment) && claim(claimKind, assignment.ip ?? ""),
      );
      if (!made?.ip) throw error;
      created = made;
    }
    if (!created.ip) throw new Error(`${label(inputs)}: the API allocated no address (answer had no ip)`);
    claim(claimKind, created.ip);
    return { id: created.ip, outs: outputs(inputs, created, false) };
  },

  async read(id, props) {
    const known: Partial<IpAddressOutputs> = props ?? {};
    if (!known.appName) throw new Error(`fly ip address '${id}': the state lacks appName, so the address cannot be looked up`);
    const assignment = ((await listAssignments(known.appName)) ?? []).find((candidate) => candidate.ip === id);
    if (!assignment) return { id: "" };
    const live: IpAddressInputs = {
      appName: known.appName,
      type: typeOf(assignment) ?? known.type ?? "v4",
      region: assignment.region ?? "",
      network: known.network,
      adopt: known.adopt,
    };
    if (live.type === "private_v6" && networkOf(assignment) !== "") live.network = networkOf(assignment);
    if (live.network === undefined) delete live.network;
    if (live.adopt === undefined) delete live.adopt;
    return { id, props: outputs(live, assignment, known.adopted ?? false) };
  },

  /** Releases the address by its text; an address (or app) already gone counts as done. */
  async delete(id, props) {
    const api = flyApi();
    await ignoreNotFound(() => api.DELETE("/v1/apps/{app_name}/ip_assignments/{ip}", { params: { path: { app_name: props.appName, ip: id } } }));
  },
});

export interface IpAddressArgs {
  /** The Fly app that gets the address. */
  appName: pulumi.Input<string>;
  /**
   * `v4` (dedicated, billed), `shared_v4`, `v6`, `private_v6` (Flycast), or `egress_v4`/`egress_v6` (the static
   * source address of the app's outgoing traffic in `region`). Changing it allocates a new address.
   * @example `"shared_v4"`
   */
  type: pulumi.Input<IpType>;
  /** Region code such as `ams`; required for egress types. @default `""` (global) */
  region?: pulumi.Input<string>;
  /** Private network for a `private_v6` address. @default the org's default network */
  network?: pulumi.Input<string>;
  /** Take over an address of the same type and region that was allocated by hand. @default `false` */
  adopt?: pulumi.Input<boolean>;
}

/** An IP address of a Fly app (`fly ips allocate-v4 --shared`, `fly ips allocate-v6 [--private]`, `fly ips allocate-egress -r fra`). Any change replaces it. */
export class IpAddress extends pulumi.dynamic.Resource {
  declare readonly appName: pulumi.Output<string>;
  declare readonly type: pulumi.Output<IpType>;
  declare readonly ip: pulumi.Output<string>;
  declare readonly region: pulumi.Output<string>;
  declare readonly shared: pulumi.Output<boolean>;
  declare readonly adopted: pulumi.Output<boolean>;

  constructor(name: string, args: IpAddressArgs, opts?: pulumi.CustomResourceOptions) {
    super(ipAddressProvider, name, { ...args, ip: undefined, shared: undefined, adopted: undefined }, opts, "fly", "IpAddress");
  }
}
