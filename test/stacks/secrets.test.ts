/**
 * Secrets never plain, for each committed stack: the exports and inputs that carry a credential are secret,
 * and no plain input or plain export anywhere holds a user secret or a credential the platform made.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  dummySecrets,
  exported,
  generatedSecrets,
  isSecret,
  plainStrings,
  resource,
  resourcesOf,
  runStack,
  types,
  type StackName,
  type StackRun,
} from "./stack-harness";

const runs: Partial<Record<StackName, StackRun>> = {};

beforeAll(async () => {
  runs.production = await runStack("production");
  runs.staging = await runStack("staging");
});

function runOf(stack: StackName): StackRun {
  const run = runs[stack];
  if (!run) throw new Error(`stack ${stack} did not run`);
  return run;
}

/** Credential-shaped text: a user secret, a generated password, a deploy token, the Neon owner password, the Cloudflare token. */
function credentialIn(text: string): string | undefined {
  const userSecret = Object.entries(dummySecrets).find(([, value]) => text.includes(value));
  if (userSecret) return `the user secret ${userSecret[0]}`;
  if (text.includes(generatedSecrets.passwordSuffix)) return "a generated password";
  if (text.includes("FlyV1 fm2_dummy-deploy-token")) return "a Fly deploy token";
  if (text.includes(generatedSecrets.neonOwnerPassword)) return "the Neon owner password";
  if (text.includes(generatedSecrets.cloudflareToken)) return "the Cloudflare API token";
  return undefined;
}

describe.each(["production", "staging"] as const)("%s: secrets never plain", (stack) => {
  it.each([
    ["databaseUrl", "a generated password"],
    ["migrationsDatabaseUrl", "a generated password"],
    ["prefectDatabaseUrl", "the Neon owner password"],
  ])("the %s export is secret (it holds %s)", async (name, credential) => {
    const { value, secret } = await exported(runOf(stack), name);
    expect(secret).toBe(true);
    expect(credentialIn(String(value))).toBe(credential);
  });

  it("no plain export holds a credential", async () => {
    const run = runOf(stack);
    const leaks: string[] = [];
    for (const name of Object.keys(run.exports)) {
      const { value, secret } = await exported(run, name);
      if (secret) continue;
      for (const text of plainStrings(value).map((found) => found.value)) {
        const credential = credentialIn(text);
        if (credential) leaks.push(`${name}: ${credential}`);
      }
    }
    expect(leaks).toEqual([]);
  });

  it("no plain input of any resource holds a user secret, a generated password or a token", () => {
    const leaks = runOf(stack).registrations.flatMap((registration) =>
      plainStrings(registration.inputs).flatMap(({ path, value }) => {
        const credential = credentialIn(value);
        return credential ? [`${registration.type} '${registration.name}' ${path}: ${credential}`] : [];
      }),
    );
    expect(leaks).toEqual([]);
  });

  it.each(["worker-secrets", "dashboard-fly-secrets"])("the fly:Secrets %s go in as one secret map", (name) => {
    expect(isSecret(resource(runOf(stack), types.flySecrets, name).inputs.values)).toBe(true);
  });

  it("every GitHub Actions secret value is secret", () => {
    const run = runOf(stack);
    const secrets = [...resourcesOf(run, types.actionsEnvironmentSecret), ...resourcesOf(run, types.actionsSecret)];
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      // The account id is not a credential, but GitHub stores every Actions secret encrypted alike.
      if (secret.inputs.secretName === "CLOUDFLARE_ACCOUNT_ID") continue;
      expect({ name: secret.name, secret: isSecret(secret.inputs.value) }).toEqual({ name: secret.name, secret: true });
    }
  });

  it("the database roles' passwords and admin connection strings are secret inputs", () => {
    const run = runOf(stack);
    for (const role of resourcesOf(run, types.postgresRole)) {
      expect([role.name, isSecret(role.inputs.password), isSecret(role.inputs.adminUri)]).toEqual([role.name, true, true]);
    }
    for (const grant of [...resourcesOf(run, types.postgresGrant), ...resourcesOf(run, types.postgresLockdown)]) {
      expect([grant.name, isSecret(grant.inputs.adminUri)]).toEqual([grant.name, true]);
    }
  });
});
