/**
 * `platform:protect`: in production every resource whose loss loses data or opens access is protected, and nothing
 * else; in staging nothing is. The list is exact, so a new data-holding resource must be added here on purpose.
 */
import { describe, expect, it } from "vitest";
import { resource, resourcesOf, runStack, types, type StackRun } from "./stack-harness";

const protectedNames = (run: StackRun): string[] =>
  run.registrations
    .filter((registration) => registration.protect)
    .map((registration) => `${registration.type}::${registration.name}`)
    .sort();

/** What production protects: the data (project, main, both databases) and what guards access to it or to the dashboard. */
const productionGuarded = [
  `${types.neonProject}::neon-project`,
  `${types.neonBranch}::neon-main`,
  `${types.neonDatabase}::neon-naluma_content`,
  `${types.neonDatabase}::neon-prefect_server`,
  // Deleting a lockdown gives PUBLIC its CONNECT back; deleting the allowlist opens the project to every IP.
  `${types.postgresLockdown}::neon-naluma_content`,
  `${types.postgresLockdown}::neon-prefect_server`,
  `${types.neonIpAllowList}::neon-ip-allow-list`,
  // Without them dashboard.naluma.space is served with no sign-in.
  `${types.accessApplication}::dashboard-access`,
  `${types.accessPolicy}::dashboard-allow`,
].sort();

const volume = { worker: { volume: { name: "content_data", path: "/data", sizeGb: 3 } } };
const flyVolume = types.flyVolume;

describe("platform:protect", () => {
  it("production protects exactly the data and what guards access (prefect_server and the IP allowlist included)", async () => {
    const run = await runStack("production");
    expect(protectedNames(run)).toEqual(productionGuarded);
    // main is protected by Neon as well, which also scopes the allowlist (protectedBranchesOnly) to it.
    expect(resource(run, types.neonBranch, "neon-main").inputs).toMatchObject({ protected: true });
  });

  it("production protects a worker volume; staging, even with one, protects nothing", async () => {
    const production = await runStack("production", volume);
    const volumes = resourcesOf(production, flyVolume);
    expect(volumes.map((registration) => [registration.name, registration.protect])).toEqual([["worker-content_data-app-0", true]]);
    expect(protectedNames(production)).toEqual([...productionGuarded, `${flyVolume}::worker-content_data-app-0`].sort());
    const staging = await runStack("staging", volume);
    expect(resourcesOf(staging, flyVolume).map((registration) => registration.protect)).toEqual([false]);
    expect(protectedNames(staging)).toEqual([]);
  });

  it("is config: production with protect off protects nothing and leaves main unprotected at Neon too", async () => {
    const run = await runStack("production", { protect: false });
    expect(protectedNames(run)).toEqual([]);
    expect(resource(run, types.neonBranch, "neon-main").inputs).toMatchObject({ protected: false });
  });

  it("a branch stack that turns it on protects its own branch, databases, lockdowns and Access", async () => {
    const run = await runStack("staging", { protect: true });
    expect(protectedNames(run)).toEqual(
      [
        `${types.neonBranch}::neon-branch`,
        `${types.neonDatabase}::neon-naluma_content`,
        `${types.neonDatabase}::neon-prefect_server`,
        `${types.postgresLockdown}::neon-naluma_content`,
        `${types.postgresLockdown}::neon-prefect_server`,
        `${types.accessApplication}::dashboard-access`,
        `${types.accessPolicy}::dashboard-allow`,
      ].sort(),
    );
  });
});
