/**
 * Neon figures for seed 000's database layout: API calls (reads, writes) and our own wall time against the
 * Neon emulator with instant operations (operationMs 0), for creating it, for a no-op re-apply (check + diff
 * per resource, as `pulumi up` does: no call at all) and for a refreshing re-apply (`pulumi up --refresh`:
 * one read per resource). The PostgreSQL roles, grants and lock-downs make no Neon API call; their time is
 * SQL against the branch's real server.
 */
import { randomBytes } from "node:crypto";
import { branchProvider } from "../dynamic-providers/neon/branch";
import { connectionUriProvider } from "../dynamic-providers/neon/connection-uri";
import { databaseProvider } from "../dynamic-providers/neon/database";
import { endpointProvider } from "../dynamic-providers/neon/endpoint";
import { projectProvider } from "../dynamic-providers/neon/project";
import { grantProvider } from "../dynamic-providers/postgres/grant";
import { databaseLockdownProvider } from "../dynamic-providers/postgres/lockdown";
import { roleProvider } from "../dynamic-providers/postgres/role";
import { startNeonEmulator } from "../test/emulators/neon/emulator";
import { stopAllClusters } from "../test/emulators/postgres/cluster";
import { benchStep, measure, type BenchStep, type Figures } from "./measure";

function text(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "") throw new Error(`bench: ${what} missing from the outputs`);
  return value;
}

export async function benchNeon(): Promise<Figures[]> {
  const emulator = await startNeonEmulator({ operationMs: 0 });
  process.env.NEON_API_URL = emulator.url;
  process.env.NEON_API_KEY = emulator.apiKey;
  try {
    const neonSteps: BenchStep[] = [];
    const postgresSteps: BenchStep[] = [];
    const run = async (steps: BenchStep[], step: BenchStep): Promise<Record<string, unknown>> => {
      steps.push(step);
      return step.create();
    };

    let adminUri = "";
    const created = await measure("neon create: project, main endpoint, staging branch + endpoint, 2× prefect_server, 4 URIs", emulator, async () => {
      const project = await run(
        neonSteps,
        benchStep("project", projectProvider, { name: "naluma_content", regionId: "aws-eu-central-1", defaultDatabaseName: "naluma_content" }),
      );
      const projectId = text(project.projectId, "projectId");
      const owner = text(project.defaultRoleName, "defaultRoleName");
      const branches = [{ name: "main", branchId: text(project.defaultBranchId, "defaultBranchId") }];
      const staging = await run(neonSteps, benchStep("staging branch", branchProvider, { projectId, name: "staging", parentId: branches[0].branchId }));
      branches.push({ name: "staging", branchId: text(staging.branchId, "branchId") });
      for (const { name, branchId } of branches) {
        // main's compute comes with the project and is adopted; staging gets its own.
        const endpoint = await run(neonSteps, benchStep(`${name} endpoint`, endpointProvider, { projectId, branchId, adopt: name === "main" }));
        const endpointId = text(endpoint.endpointId, "endpointId");
        await run(neonSteps, benchStep(`${name} prefect_server`, databaseProvider, { projectId, branchId, name: "prefect_server", ownerName: owner }));
        for (const databaseName of ["naluma_content", "prefect_server"]) {
          const uri = await run(
            neonSteps,
            benchStep(`${name} ${databaseName} uri`, connectionUriProvider, { projectId, branchId, endpointId, databaseName, roleName: owner }),
          );
          if (name === "main" && databaseName === "naluma_content") adminUri = text(uri.uri, "uri");
        }
      }
    });

    const postgres = await measure("postgres create on main: pipeline + migrations, 2 grants, 2 lock-downs (SQL only)", emulator, async () => {
      for (const name of ["migrations", "pipeline"]) {
        await run(postgresSteps, benchStep(`role ${name}`, roleProvider, { adminUri, name, password: randomBytes(18).toString("base64url") }));
      }
      for (const database of ["naluma_content", "prefect_server"]) {
        await run(postgresSteps, benchStep(`lockdown ${database}`, databaseLockdownProvider, { adminUri, database }));
      }
      await run(postgresSteps, benchStep("grant migrations", grantProvider, { adminUri, database: "naluma_content", role: "migrations", profile: "migrations" as const }));
      await run(
        postgresSteps,
        benchStep("grant pipeline", grantProvider, { adminUri, database: "naluma_content", role: "pipeline", profile: "app" as const, migrationsRole: "migrations" }),
      );
    });

    const all = [...neonSteps, ...postgresSteps];
    const reapply = await measure(`neon + postgres no-op re-apply (check + diff each of ${all.length})`, emulator, async () => {
      for (const step of all) await step.reapply();
    });
    if (reapply.figures.reads + reapply.figures.writes !== 0) throw new Error(`bench: a no-op re-apply made ${reapply.figures.reads + reapply.figures.writes} API calls`);
    const neonRefresh = await measure(`neon refresh re-apply (read + check + diff each of ${neonSteps.length})`, emulator, async () => {
      for (const step of neonSteps) await step.refresh();
    });
    const postgresRefresh = await measure(`postgres refresh re-apply (read + check + diff each of ${postgresSteps.length}, SQL only)`, emulator, async () => {
      for (const step of postgresSteps) await step.refresh();
    });
    emulator.assertContract();
    return [created.figures, postgres.figures, reapply.figures, neonRefresh.figures, postgresRefresh.figures];
  } finally {
    await emulator.close();
    await stopAllClusters();
  }
}
