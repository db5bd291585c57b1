/**
 * Pulumi mocks for the Fly components' tests. Besides answering with Fly-shaped outputs, it records what
 * the engine is told at registration: the parent URN and every direct dependency (explicit `dependsOn`
 * and the resources whose outputs feed an input), which MockResourceArgs does not carry.
 */
import * as pulumi from "@pulumi/pulumi";

export interface Registration {
  type: string;
  name: string;
  parent: string;
  /** URNs of the direct dependencies. */
  dependencies: string[];
  /** Inputs without the serialized `__provider`. */
  inputs: Record<string, unknown>;
  /** Top-level inputs sent as secrets. */
  secretInputs: string[];
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}

interface PatchableMonitor {
  registerResource(req: RegisterRequest, callback: (error: unknown, response: unknown) => void): Promise<void>;
}

const secretSignatureKey = "4dabf18193072939515e22adb298388d";
const secretSignature = "1b47061264138c4ac30d75fd1eb44270";

export const flyType = (name: string): string => `pulumi-nodejs:dynamic/fly:${name}`;

/** Values a test harness may choose for the Fly outputs it asserts on. */
export interface FlyOutputChoices {
  secretsVersion: number;
  deployToken(name: string): string;
  ip(name: string, inputs: Record<string, unknown>): string;
}

const defaultChoices: FlyOutputChoices = {
  secretsVersion: 7,
  deployToken: (name) => `FlyV1 fm2_${name}`,
  ip: (name, inputs) => (String(inputs.type).endsWith("v6") ? `2001:db8::${name.length}` : `192.0.2.${name.length}`),
};

/** Fly-shaped outputs for the Fly dynamic resources (shared with test/stacks); undefined for any other type. */
export function flyOutputsFor(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  choices: FlyOutputChoices = defaultChoices,
): Record<string, unknown> | undefined {
  switch (type) {
    case flyType("App"):
      return { hostname: `${String(inputs.name)}.fly.dev`, privateHostname: `${String(inputs.name)}.internal`, appId: `id-${String(inputs.name)}` };
    case flyType("Machine"):
      return { machineId: `m-${name}`, state: "started", version: "v1" };
    case flyType("Secrets"): {
      const values = isSecretValue(inputs.values) ? inputs.values.value : inputs.values;
      return { version: choices.secretsVersion, names: Object.keys((values ?? {}) as Record<string, unknown>).sort() };
    }
    case flyType("Volume"):
      return { volumeId: `vol_${name.replace(/[^a-z0-9]/g, "")}` };
    case flyType("DeployToken"):
      return { token: choices.deployToken(name) };
    case flyType("Certificate"):
      return {
        status: "pending_validation",
        dnsCnameTarget: `${String(inputs.appName)}.fly.dev`,
        acmeChallengeName: `_acme-challenge.${String(inputs.hostname)}`,
        acmeChallengeTarget: `${String(inputs.hostname)}.x1y2z3.flydns.net`,
        ownershipName: `_fly-ownership.${String(inputs.hostname)}`,
        ownershipValue: "app-ownership-value",
        aRecords: ["203.0.113.10"],
        aaaaRecords: ["2a09:8280:1::1"],
      };
    case flyType("IpAddress"):
      return { ip: choices.ip(name, inputs), shared: inputs.type === "shared_v4", adopted: false };
    case flyType("ReleaseCommand"):
      return { machineId: `m-${name}`, exitCode: 0, ranImage: inputs.image };
    case flyType("MachineExec"):
      return { exitCode: 0, stdout: "", stderr: "" };
    default:
      return undefined;
  }
}

/** Fly outputs, a value for random passwords; everything else echoes its inputs. */
function outputsFor(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (type === "random:index/randomPassword:RandomPassword") return { result: `${name}-value` };
  return flyOutputsFor(type, name, inputs) ?? {};
}

/** Installs the mocks and returns the list that fills as resources register. */
export async function setFlyMocks(): Promise<Registration[]> {
  const registrations: Registration[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        const inputs = args.inputs as Record<string, unknown>;
        return { id: `${args.name}-id`, state: { ...inputs, ...outputsFor(args.type, args.name, inputs) } };
      },
      call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        throw new Error(`unexpected call ${args.token}`);
      },
    },
    "platform",
    "test",
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as PatchableMonitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const raw = req.getObject()?.toJavaScript() ?? {};
    const { __provider: _provider, ...rest } = raw;
    registrations.push({
      type: req.getType(),
      name: req.getName(),
      parent: req.getParent(),
      dependencies: req.getDependenciesList(),
      inputs: unwrapSecrets(rest) as Record<string, unknown>,
      secretInputs: Object.entries(rest)
        .filter(([, value]) => isSecretValue(value))
        .map(([key]) => key),
    });
    return register(req, callback);
  };
  return registrations;
}

export function isSecretValue(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[secretSignatureKey] === secretSignature;
}

function unwrapSecrets(value: unknown): unknown {
  if (isSecretValue(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, unwrapSecrets(inner)]));
  }
  return value;
}

export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** Waits until no resource has registered for a few ticks (children made inside applies register late). */
export async function settled(registrations: readonly unknown[]): Promise<void> {
  let seen = -1;
  let quiet = 0;
  for (let round = 0; round < 500 && quiet < 5; round++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    quiet = registrations.length === seen ? quiet + 1 : 0;
    seen = registrations.length;
  }
}

/** The logical name at the end of a URN. */
export function nameOf(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}
