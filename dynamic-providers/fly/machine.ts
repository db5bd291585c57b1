import * as pulumi from "@pulumi/pulumi";
import { changedFields, sameValue } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { sendOnceMore } from "../core/resend";
import { sleep } from "../core/retry";
import { body, flyApi, type FlyApi, ignoreNotFound, isStatus, isUnanswered, type Machine as FlyMachine, waitForChecksPassing, waitForMachineState, withLease } from "./client";
import { checkMachine } from "./machine-check";
import { fromMachine, managedByKey, managedByValue, toConfig } from "./machine-config";
import type { MachineInputs, MachineOutputs } from "./machine-types";

export type * from "./machine-types";

/** Fields that are the machine's identity: a change makes a new machine. */
const replaceFields = ["appName", "name", "region"] as const;
/** Fields that end up in the machine's config (or its secrets): a change is an in-place update. */
const configFields = [
  "image",
  "guest",
  "env",
  "init",
  "services",
  "checks",
  "mounts",
  "schedule",
  "restart",
  "stop",
  "statics",
  "files",
  "metrics",
  "metadata",
  "processGroup",
  "minSecretsVersion",
  "autoDestroy",
] as const;
/** The provider's own options: recorded in state, but changing them touches nothing at Fly. */
const localFields = ["waitForChecks", "adopt", "timeouts"] as const;

const defaultStartSeconds = 300;
const defaultChecksSeconds = 300;
const defaultLeaseSeconds = 60;

function label(inputs: Pick<MachineInputs, "name" | "appName">, machineId?: string): string {
  return `fly machine '${inputs.name}'${machineId ? ` (${machineId})` : ""} in app '${inputs.appName}'`;
}

function outputs(inputs: MachineInputs, machine: FlyMachine, adopted: boolean): MachineOutputs {
  return {
    ...inputs,
    machineId: machine.id ?? "",
    instanceId: machine.instance_id ?? machine.version ?? "",
    version: machine.version ?? machine.instance_id ?? "",
    privateIp: machine.private_ip ?? "",
    state: machine.state ?? "",
    adopted,
  };
}

/** Scheduled and self-destroying machines run and exit on their own, so "started" is not a steady state. */
function runsToCompletion(inputs: MachineInputs): boolean {
  return inputs.schedule !== undefined || inputs.autoDestroy === true;
}

function hasHealthChecks(inputs: MachineInputs): boolean {
  return Object.keys(inputs.checks ?? {}).length > 0 || (inputs.services ?? []).some((service) => (service.checks ?? []).length > 0);
}

function machinePath(appName: string, machineId: string): { app_name: string; machine_id: string } {
  return { app_name: appName, machine_id: machineId };
}

function getMachine(api: FlyApi, appName: string, machineId: string): Promise<FlyMachine> {
  return body(api.GET("/v1/apps/{app_name}/machines/{machine_id}", { params: { path: machinePath(appName, machineId) } }));
}

/** Machine names are unique within an app; the list is paginated with the fly-next-cursor header. */
export async function findMachineByName(api: FlyApi, appName: string, name: string): Promise<FlyMachine | undefined> {
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const { data, response } = await api.GET("/v1/apps/{app_name}/machines", {
      params: { path: { app_name: appName }, query: { cursor, limit: 100 } },
    });
    const found = (data ?? []).find((machine) => machine.name === name && machine.state !== "destroyed" && machine.state !== "destroying");
    if (found) return found;
    cursor = response.headers.get("fly-next-cursor") ?? undefined;
    if (!cursor) return undefined;
  }
  return undefined;
}

/** The first non-zero exit flyd recorded at or after `sinceMs` (newest events first), as words; undefined if none. */
function crashSince(machine: FlyMachine, sinceMs: number): string | undefined {
  for (const event of machine.events ?? []) {
    if (event.type !== "exit" || (event.timestamp ?? 0) < sinceMs) continue;
    const request = (event.request ?? {}) as { exit_event?: { exit_code?: number; requested_stop?: boolean }; restart_count?: number };
    const exit = request.exit_event ?? {};
    if (exit.requested_stop === true || !exit.exit_code) continue;
    return `its process exited with code ${exit.exit_code}${request.restart_count ? ` (restart ${request.restart_count})` : ""}`;
  }
  return undefined;
}

/**
 * flyctl's smoke check (WaitForSmokeChecksToPass): for `timeouts.smokeSeconds` after the machine started,
 * it must not exit non-zero or stop; a crash loop fails the update. A machine still up at the end passes.
 */
async function smokeCheck(api: FlyApi, inputs: MachineInputs, machineId: string, sinceMs: number): Promise<void> {
  const seconds = inputs.timeouts?.smokeSeconds ?? 0;
  if (seconds <= 0) return;
  const deadline = Date.now() + seconds * 1000;
  let interval = 500;
  for (;;) {
    const machine = await getMachine(api, inputs.appName, machineId);
    const crash = crashSince(machine, sinceMs);
    const down = machine.state === "stopped" || machine.state === "failed" || machine.state === "destroyed" ? `it is ${machine.state}` : undefined;
    if (crash ?? down) {
      throw new Error(
        `${label(inputs, machineId)}: smoke check failed: ${crash ?? down} within ${seconds}s of starting ` +
          "(the app appears to be crashing; see `fly logs`)",
      );
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) return;
    await sleep(Math.min(interval, remaining));
    interval = Math.min(interval * 2, 2_000);
  }
}

/**
 * Waits until the machine is usable: started at `version`, through the smoke check, and, where it has
 * checks, healthy (flyctl's order). `sinceMs` is when the create or update was sent.
 */
async function settle(api: FlyApi, inputs: MachineInputs, machineId: string, version: string | undefined, sinceMs = Date.now()): Promise<FlyMachine> {
  const timeouts = inputs.timeouts ?? {};
  if (!runsToCompletion(inputs)) {
    await waitForMachineState(api, inputs.appName, machineId, "started", {
      version,
      timeoutMs: (timeouts.startSeconds ?? defaultStartSeconds) * 1000,
    });
    await smokeCheck(api, inputs, machineId, sinceMs);
    if (hasHealthChecks(inputs) && inputs.waitForChecks !== false) {
      try {
        return await waitForChecksPassing(api, inputs.appName, machineId, (timeouts.checksSeconds ?? defaultChecksSeconds) * 1000);
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        throw new Error(`${label(inputs, machineId)}: health checks did not pass: ${detail}`);
      }
    }
  }
  return getMachine(api, inputs.appName, machineId);
}

/** GET → POST the whole config with current_version under the machine's lease → wait for the new version. */
async function updateMachine(api: FlyApi, inputs: MachineInputs, machineId: string, adopted: boolean): Promise<MachineOutputs> {
  const timeouts = inputs.timeouts ?? {};
  const path = machinePath(inputs.appName, machineId);
  // The lease covers the rollout too, as flyctl's does, so its ttl spans the waits.
  const ttlSeconds =
    (timeouts.startSeconds ?? defaultStartSeconds) + (timeouts.smokeSeconds ?? 0) + (timeouts.checksSeconds ?? defaultChecksSeconds) + 30;
  return withLease(
    api,
    inputs.appName,
    machineId,
    async (nonce) => {
      const current = await getMachine(api, inputs.appName, machineId);
      const sentAt = Date.now();
      const updated = await body(
        api.POST("/v1/apps/{app_name}/machines/{machine_id}", {
          params: { path },
          headers: { "fly-machine-lease-nonce": nonce },
          body: {
            config: toConfig(inputs),
            current_version: current.version,
            min_secrets_version: inputs.minSecretsVersion,
            name: inputs.name,
            region: inputs.region,
          },
        }),
      );
      // A failed wait leaves Pulumi's state at the old config, so the next `pulumi up` updates again.
      const settled = await settle(api, inputs, machineId, updated.version, sentAt);
      return outputs(inputs, settled, adopted);
    },
    { heldTimeoutMs: (timeouts.leaseSeconds ?? defaultLeaseSeconds) * 1000, ttlSeconds },
  );
}

/** The config-bearing part of inputs, for comparing a live machine with what is wanted. */
function configOf(inputs: MachineInputs): Record<string, unknown> {
  return Object.fromEntries(configFields.filter((field) => field !== "minSecretsVersion").map((field) => [field, inputs[field]]));
}

/**
 * Takes over `existing`: updates it when its config differs. A machine left by a failed create() of ours is
 * waited for again (started, checks passing), as create() would have.
 */
async function adoptMachine(api: FlyApi, inputs: MachineInputs, existing: FlyMachine, leftByUs: boolean): Promise<MachineOutputs> {
  const machineId = existing.id ?? "";
  if (existing.region && existing.region !== inputs.region) {
    throw new Error(
      `${label(inputs, machineId)}: adopt found the machine in region '${existing.region}', not '${inputs.region}'; ` +
        "set `region` to match, or destroy the machine and let Pulumi create it",
    );
  }
  const live = fromMachine(existing, inputs);
  const secretsPending = inputs.minSecretsVersion !== undefined;
  if (sameValue(configOf(live), configOf(inputs)) && !secretsPending) {
    return outputs(inputs, leftByUs ? await settle(api, inputs, machineId, existing.version) : existing, true);
  }
  return updateMachine(api, inputs, machineId, true);
}

/** A machine of this name exists: ours from an interrupted run, or adopt is set; otherwise an actionable error. */
async function takeOver(api: FlyApi, inputs: MachineInputs, existing: FlyMachine): Promise<{ id: string; outs: MachineOutputs }> {
  const leftByUs = existing.config?.metadata?.[managedByKey] === managedByValue;
  if (!inputs.adopt && !leftByUs) {
    throw new Error(
      `${label(inputs)}: a machine of this name already exists (id ${existing.id}, state ${existing.state}). ` +
        "Set `adopt: true` to take it over (this is also how a machine left by an interrupted `pulumi up` is found again), or choose another name.",
    );
  }
  const outs = await adoptMachine(api, inputs, existing, leftByUs);
  return { id: outs.machineId, outs: { ...outs, adopted: inputs.adopt === true } };
}

export const machineProvider = dynamicProvider<MachineInputs, MachineOutputs>({
  async check(_olds, news) {
    return checkMachine(news);
  },

  async diff(_id, olds, news) {
    const replaces = changedFields({ ...olds }, { ...news }, replaceFields);
    const updates = changedFields({ ...olds }, { ...news }, [...configFields, ...localFields]);
    return {
      changes: replaces.length > 0 || updates.length > 0,
      replaces,
      // Names are unique within an app, so a new machine of the same name can only come after the old one
      // is gone; a renamed or moved-to-another-app machine is created first.
      deleteBeforeReplace: olds.name === news.name && olds.appName === news.appName,
    };
  },

  /**
   * Creates first, by name, and lists the app's machines only when that is not the whole story: Fly
   * refuses a second machine of the same name, or the answer was lost (5xx, dropped, timed out) and the
   * unique name tells whether the create happened; when it did not, the create is sent once more (the name
   * keeps that from making a second machine). `adopt` lists first, as
   * taking over a machine made by hand is its point.
   */
  async create(inputs) {
    const api = flyApi();
    if (inputs.adopt) {
      const existing = await findMachineByName(api, inputs.appName, inputs.name);
      if (existing) return takeOver(api, inputs, existing);
    }
    let created: FlyMachine;
    const sentAt = Date.now();
    const post = () =>
      body(
        api.POST("/v1/apps/{app_name}/machines", {
          params: { path: { app_name: inputs.appName } },
          body: { name: inputs.name, region: inputs.region, config: toConfig(inputs), min_secrets_version: inputs.minSecretsVersion },
        }),
      );
    const conflict = async (error: unknown) => {
      // A conflict: the name is taken (by a machine left by an interrupted `pulumi up`, or one made by hand),
      // or something else is busy (a mounted volume attached elsewhere), which the lookup tells apart.
      const existing = await findMachineByName(api, inputs.appName, inputs.name);
      if (!existing) throw error;
      return takeOver(api, inputs, existing);
    };
    try {
      // No answer: the unique name tells whether the create happened; if it did not, it is sent once more.
      const sent = await sendOnceMore(post, {
        unanswered: isUnanswered,
        conflict: (error) => isStatus(error, 409, 422),
        find: () => findMachineByName(api, inputs.appName, inputs.name),
      });
      created = "created" in sent ? sent.created : sent.found;
    } catch (error) {
      if (isStatus(error, 409, 422)) return conflict(error);
      throw error;
    }
    const machineId = created.id ?? "";
    try {
      const settled = await settle(api, inputs, machineId, created.version, sentAt);
      return { id: machineId, outs: outputs(inputs, settled, false) };
    } catch (error) {
      // Pulumi could record the machine through ErrorResourceInitFailed, but the host sends those
      // properties (with the ~60 KB serialized provider) in gRPC trailers, past HTTP/2's 64 KB header
      // block limit, so the answer never arrives. The machine is marked as ours instead and the next
      // create() takes it over.
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(
        `${message}. The machine ${machineId} is kept; the next \`pulumi up\` takes it over and waits again ` +
          `(or remove it with \`fly machine destroy ${machineId} --app ${inputs.appName} --force\`).`,
      );
    }
  },

  async read(id, props) {
    const known: Partial<MachineOutputs> = props ?? {};
    const appName = known.appName ?? "";
    const machine = await ignoreNotFound(() => getMachine(flyApi(), appName, id));
    if (!machine || machine.state === "destroyed" || machine.state === "destroying") return { id: "" };
    return { id, props: outputs(fromMachine(machine, { ...known, appName }), machine, known.adopted ?? false) };
  },

  async update(id, olds, news) {
    const configChanged = changedFields({ ...olds }, { ...news }, configFields).length > 0;
    if (!configChanged) return { outs: { ...olds, ...news } };
    return { outs: await updateMachine(flyApi(), news, id, olds.adopted ?? false) };
  },

  async delete(id, props) {
    const api = flyApi();
    const path = machinePath(props.appName, id);
    await ignoreNotFound(() =>
      withLease(
        api,
        props.appName,
        id,
        (nonce) =>
          api.DELETE("/v1/apps/{app_name}/machines/{machine_id}", {
            params: { path, query: { force: true } },
            headers: { "fly-machine-lease-nonce": nonce },
          }),
        { heldTimeoutMs: (props.timeouts?.leaseSeconds ?? defaultLeaseSeconds) * 1000 },
      ),
    );
  },
});

/** `T` with every field, at any depth, allowed to be a `pulumi.Input` (e.g. `mounts[0].volume = volume.volumeId`). */
export type DeepInput<T> = [T] extends [string | number | boolean]
  ? pulumi.Input<T>
  : [T] extends [(infer U)[]]
    ? pulumi.Input<DeepInput<U>[]>
    : pulumi.Input<{ [K in keyof T]: DeepInput<NonNullable<T[K]>> }>;

/** Arguments of a Machine: MachineInputs with inputs at any depth. See machine-types.ts for the fields. */
export type MachineArgs = { [K in keyof MachineInputs]: DeepInput<NonNullable<MachineInputs[K]>> };

/** A Fly Machine created through the Machines API (`fly machine run` / the machines of `fly deploy`). */
export class Machine extends pulumi.dynamic.Resource {
  declare readonly appName: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly region: pulumi.Output<string>;
  declare readonly image: pulumi.Output<string>;
  declare readonly machineId: pulumi.Output<string>;
  declare readonly instanceId: pulumi.Output<string>;
  declare readonly version: pulumi.Output<string>;
  declare readonly privateIp: pulumi.Output<string>;
  declare readonly state: pulumi.Output<string>;
  declare readonly adopted: pulumi.Output<boolean>;

  constructor(name: string, args: MachineArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      machineProvider,
      name,
      { ...args, machineId: undefined, instanceId: undefined, version: undefined, privateIp: undefined, state: undefined, adopted: undefined },
      opts,
      "fly",
      "Machine",
    );
  }
}
