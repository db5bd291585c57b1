/**
 * `npm run bench`: prints API call counts (reads, writes) and our own wall time against the emulators,
 * and the byte size of each serialized provider. Figures, not assertions: tests never time things.
 */
import { serializeProviders } from "../test/harness/serialize";
import { benchFly } from "./fly";
import { benchDeployStrategies } from "./fly-deploy-strategies";
import { benchFlyRateLimits } from "./fly-rate-limits";
import { benchNeon } from "./neon";
import { printTable, type Figures } from "./measure";

const benchAdminUri = "postgresql://owner:pw@127.0.0.1:5432/naluma_content";

const serializedResources = [
  { module: "dynamic-providers/fly/app", exportName: "App", props: { name: "bench", orgSlug: "personal" } },
  { module: "dynamic-providers/fly/machine", exportName: "Machine", props: { appName: "bench", name: "m", region: "fra", image: "nginx" } },
  { module: "dynamic-providers/fly/secrets", exportName: "Secrets", props: { appName: "bench", values: { A: "b" } } },
  { module: "dynamic-providers/fly/volume", exportName: "Volume", props: { appName: "bench", name: "data", region: "fra" } },
  { module: "dynamic-providers/fly/ip-address", exportName: "IpAddress", props: { appName: "bench", type: "v6" } },
  { module: "dynamic-providers/fly/certificate", exportName: "Certificate", props: { appName: "bench", hostname: "a.example.com" } },
  { module: "dynamic-providers/fly/deploy-token", exportName: "DeployToken", props: { appName: "bench" } },
  { module: "dynamic-providers/neon/project", exportName: "Project", props: { name: "bench", regionId: "aws-eu-central-1" } },
  { module: "dynamic-providers/neon/branch", exportName: "Branch", props: { projectId: "p", name: "staging" } },
  { module: "dynamic-providers/neon/endpoint", exportName: "Endpoint", props: { projectId: "p", branchId: "b" } },
  { module: "dynamic-providers/neon/database", exportName: "Database", props: { projectId: "p", branchId: "b", name: "prefect_server", ownerName: "o" } },
  { module: "dynamic-providers/neon/role", exportName: "Role", props: { projectId: "p", branchId: "b", name: "admin" } },
  {
    module: "dynamic-providers/neon/connection-uri",
    exportName: "ConnectionUri",
    props: { projectId: "p", branchId: "b", endpointId: "ep", databaseName: "naluma_content", roleName: "o" },
  },
  { module: "dynamic-providers/postgres/role", exportName: "Role", props: { adminUri: benchAdminUri, name: "pipeline", password: "p" } },
  {
    module: "dynamic-providers/postgres/grant",
    exportName: "Grant",
    props: { adminUri: benchAdminUri, database: "naluma_content", role: "pipeline", profile: "app", migrationsRole: "migrations" },
  },
  { module: "dynamic-providers/postgres/lockdown", exportName: "DatabaseLockdown", props: { adminUri: benchAdminUri, database: "prefect_server" } },
];

async function main(): Promise<void> {
  const figures: Figures[] = [...(await benchFly()), ...(await benchNeon())];
  printTable(
    "API calls and our own time (emulators, instant transitions)",
    figures.map((row) => ({ phase: row.phase, reads: row.reads, writes: row.writes, "ms": row.ms })),
  );

  const limited = await benchFlyRateLimits();
  printTable(
    "Fly rate limits: N machines created at once in one app (1 req/s per action and app, burst 3; Retry-After in whole seconds)",
    limited.map((row) => ({
      N: row.machines,
      "bound s": (row.boundMs / 1000).toFixed(1),
      "wall s": (row.wallMs / 1000).toFixed(2),
      "wall/bound": row.boundMs > 0 ? (row.wallMs / row.boundMs).toFixed(3) : "-",
      "over bound s": ((row.wallMs - row.boundMs) / 1000).toFixed(2),
      "429s": row.rateLimited,
      creates: row.creates,
      lists: row.lists,
      failures: row.failures.length,
      "first failure": row.failures[0]?.slice(0, 90) ?? "",
    })),
  );

  printTable(
    "Fly deploy strategies: a new image over N = 6 machines in one group (instant transitions, smoke checks off)",
    (await benchDeployStrategies()).map((row) => ({
      strategy: row.strategy,
      leases: row.leases,
      updates: row.updates,
      creates: row.creates,
      deletes: row.deletes,
      reads: row.reads,
      "max at once": row.maxLeases,
      ms: row.ms,
    })),
  );

  const serialized = await serializeProviders(serializedResources.map((resource) => ({ ...resource, name: resource.module })));
  printTable(
    "Serialized provider size (the __provider string stored in state)",
    Object.entries(serialized).map(([name, resource]) => ({ resource: resource.type || name, bytes: Buffer.byteLength(resource.provider) })),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
