/**
 * One resource's whole life through the SDK's dynamic-provider host, as `pulumi up` drives it:
 * Configure → Check → Create → Diff (no change) → Read → Diff (change) → Update → Diff (replace) →
 * Delete → Delete again (a stored provider must tolerate "already gone"). Shared by the Fly and Neon
 * provider tests; each caller asserts on the remote state through the returned outcomes and its emulator.
 */
import { expect } from "vitest";
import { markSecrets, urnFor, withProvider, type ProviderHostClient, type Properties, type ResourceOutcome } from "./provider-host";
import type { SerializedResource } from "./serialize";

export interface LifecycleSpec {
  resource: SerializedResource;
  name: string;
  /** Input changes that update in place; omitted for resources with nothing to update in place. */
  update?: Properties;
  /** Input changes that must replace; the keys are the expected `replaces`. */
  replace: Properties;
  /** Expected deleteBeforeReplace for `replace`. */
  deleteBeforeReplace: boolean;
  /** Inputs sent as engine secrets (e.g. a password). */
  secretInputs?: string[];
}

export interface LifecycleOutcome {
  created: ResourceOutcome;
  read: ResourceOutcome;
  /** The read outcome when the resource has no in-place update. */
  updated: ResourceOutcome;
}

export async function runLifecycle(
  host: ProviderHostClient,
  spec: LifecycleSpec,
  hooks: { afterCreate?: (created: ResourceOutcome) => Promise<void> | void; afterUpdate?: (updated: ResourceOutcome) => Promise<void> | void; afterDelete?: () => Promise<void> | void } = {},
): Promise<LifecycleOutcome> {
  const urn = urnFor(spec.resource.type, spec.name);
  const secrets = { additionalSecretOutputs: spec.resource.additionalSecretOutputs };
  await host.configure();

  const news = withProvider(spec.resource.provider, spec.resource.inputs);
  const checked = await host.check(urn, {}, markSecrets(news, spec.secretInputs ?? []));
  expect(checked.failures).toEqual([]);
  const created = await host.create(urn, markSecrets(checked.inputs, checked.secretPaths), secrets);
  expect(created.id).not.toBe("");
  await hooks.afterCreate?.(created);

  const unchanged = await host.diff(created.id, urn, created.properties, checked.inputs, { oldInputs: checked.inputs });
  expect(unchanged.changes).toBe("DIFF_NONE");

  const read = await host.read(created.id, urn, created.properties, checked.inputs, secrets);
  expect(read.id).toBe(created.id);

  let updated = read;
  let updatedInputs = checked.inputs;
  if (spec.update) {
    updatedInputs = (await host.check(urn, checked.inputs, { ...checked.inputs, ...spec.update })).inputs;
    const changed = await host.diff(read.id, urn, read.properties, updatedInputs, { oldInputs: checked.inputs });
    expect(changed).toMatchObject({ changes: "DIFF_SOME", replaces: [] });
    updated = await host.update(read.id, urn, read.properties, updatedInputs, { ...secrets, oldInputs: checked.inputs });
    await hooks.afterUpdate?.(updated);
  }

  const replaced = await host.diff(updated.id, urn, updated.properties, { ...updatedInputs, ...spec.replace }, { oldInputs: updatedInputs });
  expect(replaced.changes).toBe("DIFF_SOME");
  expect([...replaced.replaces].sort()).toEqual(Object.keys(spec.replace).sort());
  expect(replaced.deleteBeforeReplace).toBe(spec.deleteBeforeReplace);

  await host.delete(updated.id, urn, updated.properties, { oldInputs: updatedInputs });
  await hooks.afterDelete?.();
  await host.delete(updated.id, urn, updated.properties, { oldInputs: updatedInputs });
  return { created, read, updated };
}
