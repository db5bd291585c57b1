/**
 * The Neon fault matrix (test/support/fault-matrix.ts): every call each resource's create and delete make × {429, 503,
 * dropped connection, answer lost after acting}, each followed by the run `pulumi up` / `destroy` would make next.
 */
import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, expect } from "vitest";
import { branchProvider } from "../../dynamic-providers/neon/branch";
import { neonApi, waitForOperations } from "../../dynamic-providers/neon/client";
import { databaseProvider } from "../../dynamic-providers/neon/database";
import { endpointProvider } from "../../dynamic-providers/neon/endpoint";
import { projectProvider } from "../../dynamic-providers/neon/project";
import { roleProvider } from "../../dynamic-providers/neon/role";
import type { Fault } from "../emulators/neon/emulator";
import { describeFaultMatrix, type FaultCase, type FaultKind } from "../support/fault-matrix";
import { useNeonEmulator } from "./support";

const { emu, project } = useNeonEmulator({ operationMs: 5, project: { name: "fault_project", region_id: "aws-eu-central-1" } });

let projectId: string;
let seq = 0;
let branchId = "";

beforeAll(() => {
  projectId = project.project.id;
});

const faults: Record<FaultKind, Fault> = {
  "429": { kind: "status", status: 429, retryAfterSeconds: 0 },
  "5xx": { kind: "status", status: 503 },
  dropped: { kind: "drop" },
  "lost answer": { kind: "actThenDrop" },
};

/** A fresh branch without endpoints, so every scenario starts from nothing. */
async function freshBranch(): Promise<string> {
  const api = neonApi();
  const { data } = await api.createProjectBranch(projectId, { branch: { name: `scenario-${++seq}` } });
  await waitForOperations(api, projectId, data.operations);
  return data.branch.id;
}

/** check() then the case's inputs, as the engine hands them to create. */
async function checked<I, O>(provider: pulumi.dynamic.ResourceProvider<I, O>, news: I): Promise<I> {
  const result = await (provider as Required<pulumi.dynamic.ResourceProvider<I, O>>).check({} as I, news);
  expect(result.failures ?? []).toEqual([]);
  return result.inputs as I;
}

const endpointsOf = (type: string) => () => emu.state.endpoints(projectId).filter((e) => e.branch_id === branchId && e.type === type).length;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a table of providers of different types
type AnyCase = FaultCase<any, any>;

const cases: AnyCase[] = [
  {
    resource: "Project",
    provider: projectProvider,
    // The Project and Branch classes always set a claim (a hash of stack and resource name unless given).
    inputs: () => checked(projectProvider, { name: "fault_made", regionId: "aws-eu-central-1", claim: "fault-project" }),
    count: () => emu.state.projects().filter((p) => p.name === "fault_made").length,
  },
  {
    resource: "Branch",
    provider: branchProvider,
    inputs: () => checked(branchProvider, { projectId, name: "made", claim: "fault-branch" }),
    count: () => emu.state.branches(projectId).filter((b) => b.name === "made").length,
  },
  {
    resource: "Endpoint read_only",
    provider: endpointProvider,
    async inputs() {
      branchId = await freshBranch();
      return checked(endpointProvider, { projectId, branchId, type: "read_only", name: "app-replica" });
    },
    count: endpointsOf("read_only"),
  },
  {
    // One read_write per branch: a create that got no answer and made nothing is sent once more.
    resource: "Endpoint read_write",
    provider: endpointProvider,
    async inputs() {
      branchId = await freshBranch();
      return checked(endpointProvider, { projectId, branchId, type: "read_write", name: "app-primary" });
    },
    count: endpointsOf("read_write"),
  },
  {
    resource: "Role",
    provider: roleProvider,
    async inputs() {
      branchId = await freshBranch();
      return checked(roleProvider, { projectId, branchId, name: "app_user" });
    },
    count: () => emu.state.roles(projectId, branchId).filter((r) => r.name === "app_user").length,
  },
  {
    resource: "Database",
    provider: databaseProvider,
    async inputs() {
      branchId = await freshBranch();
      return checked(databaseProvider, { projectId, branchId, name: "app_db", ownerName: "neondb_owner" });
    },
    count: () => emu.state.databases(projectId, branchId).filter((d) => d.name === "app_db").length,
  },
];

describeFaultMatrix(
  "Neon",
  () => ({ calls: () => emu.calls, inject: (operationId, fault) => emu.faults.failNext(operationId, 1, faults[fault]), clear: () => emu.faults.clear() }),
  cases,
);
