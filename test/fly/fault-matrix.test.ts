/**
 * The Fly fault matrix (test/support/fault-matrix.ts): every call each resource's create and delete make × {429, 503,
 * dropped connection, answer lost after acting}, each followed by the run `pulumi up` / `destroy` would make next.
 */
import { appProvider } from "../../dynamic-providers/fly/app";
import { certificateProvider } from "../../dynamic-providers/fly/certificate";
import { ipAddressProvider } from "../../dynamic-providers/fly/ip-address";
import { machineProvider } from "../../dynamic-providers/fly/machine";
import { secretsProvider } from "../../dynamic-providers/fly/secrets";
import { volumeProvider } from "../../dynamic-providers/fly/volume";
import type { Fault } from "../emulators/fly/faults";
import { describeFaultMatrix, type FaultCase, type FaultKind } from "../support/fault-matrix";
import { useFlyEmulator } from "./support";

const appName = "fault-app";
const { emu } = useFlyEmulator({ apps: [appName] });

function app(name = appName) {
  const record = emu.state.apps.get(name);
  if (!record) throw new Error(`no app ${name}`);
  return record;
}
const live = (state: string) => state !== "destroyed" && state !== "destroying";

const faults: Record<FaultKind, Fault> = {
  "429": { kind: "status", status: 429, retryAfterSeconds: 0 },
  "5xx": { kind: "status", status: 503 },
  dropped: { kind: "drop" },
  "lost answer": { kind: "actThenDrop" },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a table of providers of different types
type AnyCase = FaultCase<any, any>;

const cases: AnyCase[] = [
  { resource: "App", provider: appProvider, inputs: () => ({ name: "fault-made-app", orgSlug: "personal" }), count: () => (emu.state.apps.has("fault-made-app") ? 1 : 0) },
  {
    resource: "Machine",
    provider: machineProvider,
    inputs: () => ({ appName, name: "web", region: "fra", image: "nginx:1" }),
    count: () => [...app().machines.values()].filter((m) => m.name === "web" && live(m.state)).length,
  },
  {
    resource: "Volume",
    provider: volumeProvider,
    inputs: () => ({ appName, name: "data", region: "fra", sizeGb: 1, encrypted: true, snapshotRetention: 5 }),
    count: () => [...app().volumes.values()].filter((v) => v.name === "data" && v.state !== "destroyed").length,
  },
  { resource: "IpAddress", provider: ipAddressProvider, inputs: () => ({ appName, type: "v6", region: "" }), count: () => app().ips.filter((ip) => ip.type === "v6").length },
  {
    resource: "Certificate",
    provider: certificateProvider,
    inputs: () => ({ appName, hostname: "fault.example.com" }),
    count: () => (app().certificates.has("fault.example.com") ? 1 : 0),
  },
  {
    resource: "Secrets",
    provider: secretsProvider,
    inputs: () => ({ appName, values: { DATABASE_URL: "postgres://x" } }),
    count: () => (app().secrets.has("DATABASE_URL") ? 1 : 0),
  },
];

describeFaultMatrix(
  "Fly",
  () => ({ calls: () => emu.calls, inject: (operationId, fault) => emu.faults.failNext(operationId, 1, faults[fault]), clear: () => emu.faults.clear() }),
  cases,
);
