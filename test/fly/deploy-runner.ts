/**
 * Applies one process group's Machine resources the way the Pulumi engine does, with the real Machine
 * provider against the emulator: each resource starts once its `dependsOn` have finished (no other
 * limit on parallelism); check → diff → create / update / replace; a create-before-delete replacement
 * leaves the old machine to be deleted after every other step has succeeded (Pulumi's delete-replaced
 * steps come last); after a failure no new step starts (in-flight ones finish) and nothing is deleted.
 * The resources are what FlyApp makes for a group (components/fly-deploy.ts decides the dependsOn, the
 * waits and bluegreen's generation name), with a health check and plain values instead of Outputs.
 */
import { generationOf, rolloutPlan, type FlyDeployArgs } from "../../components/fly-deploy";
import { machineProvider, type MachineInputs, type MachineOutputs } from "../../dynamic-providers/fly/machine";
import type { FlyEmulator } from "../emulators/fly/server";

export interface GroupSpec {
  appName: string;
  group: string;
  count: number;
  image: string;
  deploy?: FlyDeployArgs;
  /** Overrides the plan's smoke window (flyctl's 10 s), to keep tests short. */
  smokeSeconds?: number;
}

export interface PlannedMachine {
  /** The logical name FlyApp gives it: `<app>-<group>-<index>`. */
  urn: string;
  inputs: MachineInputs;
  dependsOn: string[];
}

export type EngineState = Map<string, { id: string; outs: MachineOutputs }>;

export interface ApplyResult {
  error: Error | undefined;
  /** Engine steps in the order they finished, e.g. `update web-app-0`. */
  steps: string[];
  ms: number;
}

/** The group's Machine resources as FlyApp registers them. */
export function groupMachines(spec: GroupSpec): PlannedMachine[] {
  const plan = rolloutPlan(spec.deploy, spec.count);
  const urn = (index: number): string => `${spec.appName}-${spec.group}-${index}`;
  return Array.from({ length: spec.count }, (_, index) => {
    const config = {
      image: spec.image,
      processGroup: spec.group,
      services: [
        {
          protocol: "tcp" as const,
          internalPort: 8080,
          ports: [{ port: 443, handlers: ["tls" as const, "http" as const] }],
          checks: [{ type: "http" as const, port: 8080, path: "/health", interval: "15s", timeout: "5s" }],
        },
      ],
    };
    const base = `${spec.group}-${index}`;
    return {
      urn: urn(index),
      inputs: {
        ...config,
        appName: spec.appName,
        name: plan.replaceOnChange ? `${base}-${generationOf(config)}` : base,
        region: "fra",
        waitForChecks: plan.waitForChecks,
        timeouts: { ...plan.timeouts, smokeSeconds: spec.smokeSeconds ?? plan.timeouts.smokeSeconds, leaseSeconds: 5 },
      },
      dependsOn: plan.dependsOn[index].map(urn),
    };
  });
}

export async function apply(state: EngineState, resources: PlannedMachine[]): Promise<ApplyResult> {
  const provider = machineProvider as Required<typeof machineProvider>;
  const started = Date.now();
  const steps: string[] = [];
  const finished = new Map<string, Promise<boolean>>();
  const deleteAfter: { urn: string; id: string; outs: MachineOutputs }[] = [];
  let error: Error | undefined;

  const create = async (news: MachineInputs): Promise<{ id: string; outs: MachineOutputs }> => {
    const { id, outs } = await provider.create(news);
    return { id, outs: outs as MachineOutputs };
  };

  const step = async (resource: PlannedMachine): Promise<boolean> => {
    const ready = await Promise.all(resource.dependsOn.map((urn) => finished.get(urn) ?? Promise.resolve(true)));
    if (error || ready.some((ok) => !ok)) return false;
    const old = state.get(resource.urn);
    try {
      const checked = await provider.check((old?.outs ?? {}) as MachineInputs, resource.inputs);
      if ((checked.failures ?? []).length > 0) throw new Error(`check failed: ${JSON.stringify(checked.failures)}`);
      const news = checked.inputs as MachineInputs;
      if (!old) {
        state.set(resource.urn, await create(news));
        steps.push(`create ${resource.urn}`);
        return true;
      }
      const diff = await provider.diff(old.id, old.outs, news);
      if (!diff.changes) return true;
      if ((diff.replaces ?? []).length > 0) {
        if (diff.deleteBeforeReplace) {
          await provider.delete(old.id, old.outs);
          state.delete(resource.urn);
          state.set(resource.urn, await create(news));
          steps.push(`delete-before-replace ${resource.urn}`);
        } else {
          const made = await create(news);
          deleteAfter.push({ urn: resource.urn, ...old });
          state.set(resource.urn, made);
          steps.push(`create-replacement ${resource.urn}`);
        }
        return true;
      }
      const { outs } = await provider.update(old.id, old.outs, news);
      state.set(resource.urn, { id: old.id, outs: outs as MachineOutputs });
      steps.push(`update ${resource.urn}`);
      return true;
    } catch (caught) {
      error ??= caught instanceof Error ? caught : new Error(String(caught));
      return false;
    }
  };

  for (const resource of resources) finished.set(resource.urn, step(resource));
  await Promise.all(finished.values());
  if (!error) {
    await Promise.all(
      deleteAfter.map(async (old) => {
        await provider.delete(old.id, old.outs);
        steps.push(`delete-replaced ${old.urn}`);
      }),
    );
  }
  return { error, steps, ms: Date.now() - started };
}

export interface Observed {
  /** Fewest and most machines of the group in state `started` at any moment of the deploy. */
  minServing: number;
  maxServing: number;
  /** Most machine leases held at once. */
  maxLeases: number;
  /** Write calls by kind: lease, release, update, create, delete. */
  counts: Record<"lease" | "release" | "update" | "create" | "delete", number>;
  /** Write calls in order, as `<kind> <machine name>`. */
  sequence: string[];
}

const kinds: Record<string, keyof Observed["counts"]> = {
  Machines_create_lease: "lease",
  Machines_release_lease: "release",
  Machines_update: "update",
  Machines_create: "create",
  Machines_delete: "delete",
};

/**
 * Runs `deploy` and reports, from the emulator's transitions and calls made meanwhile, how many of the
 * group's machines served (were `started`) at every moment, and the write calls.
 */
export async function observe<T>(emu: FlyEmulator, appName: string, group: string, deploy: () => Promise<T>): Promise<{ result: T; observed: Observed }> {
  const app = emu.state.apps.get(appName);
  const names = new Map<string, string>();
  const serving = new Set<string>();
  for (const machine of app?.machines.values() ?? []) {
    names.set(machine.id, machine.name);
    if (machine.state === "started" && machine.config.metadata?.["fly_process_group"] === group) serving.add(machine.id);
  }
  const fromTransition = emu.state.transitions.length;
  const fromCall = emu.calls.length;
  const result = await deploy();
  let minServing = serving.size;
  let maxServing = serving.size;
  for (const transition of emu.state.transitions.slice(fromTransition)) {
    names.set(transition.machineId, transition.name);
    if (transition.appName !== appName || transition.processGroup !== group) continue;
    if (transition.state === "started") serving.add(transition.machineId);
    else serving.delete(transition.machineId);
    minServing = Math.min(minServing, serving.size);
    maxServing = Math.max(maxServing, serving.size);
  }
  const counts = { lease: 0, release: 0, update: 0, create: 0, delete: 0 };
  const sequence: string[] = [];
  let held = 0;
  let maxLeases = 0;
  for (const call of emu.calls.slice(fromCall)) {
    const kind = kinds[call.operationId];
    if (!kind || call.status < 200 || call.status >= 300) continue;
    counts[kind] += 1;
    const id = /\/machines\/([^/]+)/.exec(call.path)?.[1];
    const createdName = (call.responseBody as { name?: string } | undefined)?.name;
    sequence.push(`${kind} ${id ? (names.get(id) ?? id) : (createdName ?? "?")}`);
    if (kind === "lease") maxLeases = Math.max(maxLeases, ++held);
    if (kind === "release") held = Math.max(0, held - 1);
  }
  return { result, observed: { minServing, maxServing, maxLeases, counts, sequence } };
}
