import { describe, expect, it } from "vitest";
import { serializeProviders } from "../harness/serialize";
import { assertNoSecrets } from "../harness/secrets-scan";

const password = "role-password-7f3a9c";
const adminUri = "postgresql://neondb_owner:admin-password-41b2@ep-x.neon.tech/naluma_content";

describe("postgres providers as `pulumi up` serializes them", () => {
  it("have readable types, mark every secret output, and capture no secret", async () => {
    const resources = await serializeProviders([
      { module: "dynamic-providers/postgres/role", exportName: "Role", name: "pipeline", props: { adminUri, name: "pipeline", password } },
      {
        module: "dynamic-providers/postgres/grant",
        exportName: "Grant",
        name: "pipeline-grant",
        props: { adminUri, database: "naluma_content", role: "pipeline", profile: "app", migrationsRole: "migrations" },
      },
      { module: "dynamic-providers/postgres/lockdown", exportName: "DatabaseLockdown", name: "prefect", props: { adminUri, database: "prefect_server" } },
    ]);
    expect(resources.pipeline.type).toBe("pulumi-nodejs:dynamic/postgres:Role");
    expect(resources.pipeline.additionalSecretOutputs).toEqual(["adminUri", "password"]);
    expect(resources["pipeline-grant"].type).toBe("pulumi-nodejs:dynamic/postgres:Grant");
    expect(resources["pipeline-grant"].additionalSecretOutputs).toEqual(["adminUri"]);
    expect(resources.prefect.type).toBe("pulumi-nodejs:dynamic/postgres:DatabaseLockdown");
    expect(resources.prefect.additionalSecretOutputs).toEqual(["adminUri"]);
    for (const resource of Object.values(resources)) {
      expect(resource.providerIsSecret).toBe(false);
      assertNoSecrets(resource.provider, [password, "admin-password-41b2", adminUri]);
      // pg is loaded at run time, never inlined into the state.
      expect(resource.provider).toContain('require("pg")');
      expect(resource.provider.length).toBeLessThan(200_000);
    }
  });
});
