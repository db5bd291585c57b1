/**
 * Crash safety of every Neon resource that makes something remote, as in test/fly/crash-safety.test.ts: each
 * create is hit once by "Neon acted, then the answer was lost" and once by "crash between call and record",
 * created again as the next `pulumi up` would, and the recorded one deleted. The matrix is printed at the end.
 *
 * The same cases feed the fault matrix (test/support/fault-matrix.ts): every writing call of each create and delete ×
 * {dropped connection, lost answer}; `npm run faults` adds 429 and 5xx and the reads.
 */
import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, expect } from "vitest";
import { branchProvider } from "../../dynamic-providers/neon/branch";
import { neonApi, waitForOperations } from "../../dynamic-providers/neon/client";
import { databaseProvider } from "../../dynamic-providers/neon/database";
import { endpointProvider } from "../../dynamic-providers/neon/endpoint";
import { projectProvider } from "../../dynamic-providers/neon/project";
import { roleProvider } from "../../dynamic-providers/neon/role";
import { describeCrashMatrix, type CrashCase, type CrashFault, type CrashOutcome } from "../support/crash-matrix";
import { describeFaultMatrix } from "../support/fault-matrix";
import { useNeonEmulator } from "./support";

const { emu, project } = useNeonEmulator({ operationMs: 5, project: { name: "crash_project", region_id: "aws-eu-central-1" } });

let projectId: string;
let seq = 0;

beforeAll(() => {
  projectId = project.project.id;
});

/** A fresh branch without endpoints, so every scenario starts from nothing. */
async function freshBranch(): Promise<string> {
  const api = neonApi();
  const { data } = await api.createProjectBranch(projectId, { branch: { name: `scenario-${++seq}` } });
  await waitForOperations(api, projectId, data.operations);
  return data.branch.id;
}

const lose = (operationId: string) => () => emu.faults.failNext(operationId, 1, { kind: "actThenDrop" });

/** check() then the case's inputs, as the engine hands them to create. */
async function checked<I, O>(provider: pulumi.dynamic.ResourceProvider<I, O>, news: I): Promise<I> {
  const result = await (provider as Required<pulumi.dynamic.ResourceProvider<I, O>>).check({} as I, news);
  expect(result.failures ?? []).toEqual([]);
  return result.inputs as I;
}

let branchId = "";
const endpointsOf = (type: string) => () => emu.state.endpoints(projectId).filter((e) => e.branch_id === branchId && e.type === type).length;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a table of providers of different types
type AnyCase = CrashCase<any, any>;

const cases: AnyCase[] = [
  {
    resource: "Project",
    provider: projectProvider,
    // The Project and Branch classes always set a claim (a hash of stack and resource name unless given).
    inputs: () => checked(projectProvider, { name: `crash_made_${++seq}`, regionId: "aws-eu-central-1", claim: `claim-project-${seq}` }),
    loseNextAnswer: lose("createProject"),
    count: () => emu.state.projects().filter((p) => p.name.startsWith("crash_made_")).length,
  },
  {
    resource: "Branch",
    provider: branchProvider,
    inputs: () => checked(branchProvider, { projectId, name: `made-${++seq}`, claim: `claim-branch-${seq}` }),
    loseNextAnswer: lose("createProjectBranch"),
    count: () => emu.state.branches(projectId).filter((b) => b.name.startsWith("made-")).length,
  },
  {
    resource: "Endpoint read_write",
    provider: endpointProvider,
    async inputs() {
      branchId = await freshBranch();
      // The Endpoint class always sets a name (the resource's Pulumi name unless given).
      return checked(endpointProvider, { projectId, branchId, type: "read_write", name: "app-endpoint" });
    },
    loseNextAnswer: lose("createProjectEndpoint"),
    count: endpointsOf("read_write"),
  },
  {
    resource: "Endpoint read_only",
    provider: endpointProvider,
    async inputs() {
      branchId = await freshBranch();
      return checked(endpointProvider, { projectId, branchId, type: "read_only", name: "app-replica" });
    },
    loseNextAnswer: lose("createProjectEndpoint"),
    count: endpointsOf("read_only"),
  },
  {
    resource: "Role",
    provider: roleProvider,
    async inputs() {
      branchId = await freshBranch();
      return checked(roleProvider, { projectId, branchId, name: "app_user" });
    },
    loseNextAnswer: lose("createProjectBranchRole"),
    count: () => emu.state.roles(projectId, branchId).filter((r) => r.name === "app_user").length,
  },
  {
    resource: "Database",
    provider: databaseProvider,
    async inputs() {
      branchId = await freshBranch();
      return checked(databaseProvider, { projectId, branchId, name: "app_db", ownerName: "neondb_owner" });
    },
    loseNextAnswer: lose("createProjectBranchDatabase"),
    count: () => emu.state.databases(projectId, branchId).filter((d) => d.name === "app_db").length,
  },
];

/**
 * Where a repeat stops short. A project's default branch and a branch carry their resource's claim (an
 * annotation), and an endpoint the Neon name its resource sets, so one left by a crash is found and taken over.
 * Roles and databases have nothing to mark them with: names are unique per branch, so a create after a crash is
 * refused with "set `adopt: true`" (or delete it) rather than taking over an object that may be someone else's.
 */
const expected: Record<string, Partial<Record<CrashFault, CrashOutcome>>> = {
  Project: { "lost answer": "survived", crash: "survived" },
  Branch: { "lost answer": "survived", crash: "survived" },
  "Endpoint read_write": { crash: "survived" },
  "Endpoint read_only": { crash: "survived" },
  Role: { crash: "clear error" },
  Database: { crash: "clear error" },
};

describeCrashMatrix("Neon", cases, expected);

describeFaultMatrix("Neon", () => emu, cases.filter((c) => !c.custom));

