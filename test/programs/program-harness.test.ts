import { beforeAll, describe, expect, it } from "vitest";
import {
  expectConfigError,
  exported,
  isSecret,
  plainStrings,
  programName,
  resource,
  resourcesOf,
  reveal,
  runAllStacks,
  runProgram,
  stackNames,
  type ProgramRunOptions,
  type StackRun,
} from "./program-harness";
import { types } from "./provider-mocks";

const dir = "test/fixtures/program";
const secretKey = "fixture-secret-key-4f1a";
const options: Omit<ProgramRunOptions, "stack"> = {
  dir,
  secrets: { secretKey },
  stackReferences: { "organization/fixture/shared": { bucket: "fixture-shared-bucket" } },
};

describe("a program's stack files", () => {
  it("are found beside its Pulumi.yaml, whose name is the config namespace", () => {
    expect(stackNames(dir)).toEqual(["dev"]);
    expect(programName(dir)).toBe("fixture");
  });

  it("all run: one StackRun per stack file", async () => {
    const runs = await runAllStacks(dir, options);
    expect(Object.keys(runs)).toEqual(["dev"]);
    expect(resource(runs.dev, types.flyApp, "app").inputs.name).toBe("fixture-app-dev");
  });
});

describe("runProgram", () => {
  let run: StackRun;
  beforeAll(async () => {
    run = await runProgram({ ...options, stack: "dev" });
  });

  it("hands the stack file's values to the program", async () => {
    expect(resource(run, types.flyApp, "app").inputs).toMatchObject({ name: "fixture-app-dev", orgSlug: "personal" });
    expect(await exported(run, "region")).toEqual({ value: "ams", secret: false });
    expect(await exported(run, "hostname")).toEqual({ value: "fixture-app-dev.fly.dev", secret: false });
  });

  it("answers the StackReference with the referenced stack's outputs", async () => {
    const reference = resourcesOf(run, types.stackReference);
    expect(reference.map((r) => [r.name, r.read])).toEqual([["shared", true]]);
    expect(await exported(run, "sharedBucket")).toEqual({ value: "fixture-shared-bucket", secret: false });
  });

  it("keeps a secret from `secrets` secret in the registrations", () => {
    const secrets = resource(run, types.flySecrets, "secrets");
    expect(reveal(secrets.inputs.values)).toEqual({ SECRET_KEY: secretKey, SHARED_BUCKET: "fixture-shared-bucket" });
    const values = secrets.inputs.values as Record<string, unknown>;
    expect([isSecret(values.SECRET_KEY), isSecret(values.SHARED_BUCKET)]).toEqual([true, false]);
    for (const registration of run.registrations) expect(plainStrings(registration.inputs).map((entry) => entry.value)).not.toContain(secretKey);
  });

  it("lays `provided` under the stack file and `overrides` over it", async () => {
    const changed = await runProgram({ ...options, stack: "dev", provided: { app: { org: "fixture-org", name: "not-this-one" } }, overrides: { app: { region: "fra" } } });
    expect(resource(changed, types.flyApp, "app").inputs).toMatchObject({ name: "fixture-app-dev", orgSlug: "fixture-org" });
    expect((await exported(changed, "region")).value).toBe("fra");
  });

  it("lays `outputsFor` over the shared provider outputs", async () => {
    const changed = await runProgram({
      ...options,
      stack: "dev",
      outputsFor: (type) => (type === types.flyApp ? { hostname: "fixture.example.net" } : undefined),
    });
    expect((await exported(changed, "hostname")).value).toBe("fixture.example.net");
  });
});

describe("a bad stack file", () => {
  it("fails with the config kit's error naming the key, the rule and the fix", async () => {
    const broken = { ...options, dir: `${dir}/broken`, stack: "dev" };
    const problem = await expectConfigError(runProgram(broken), "fixture:app.name");
    expect(problem).toContain('must be 1-63 lowercase letters, digits or dashes, starting and ending with a letter or digit, got "Fixture_App"');
    expect(problem).toContain("set it with `pulumi config set --path 'fixture:app.name' fixture-app`");
    expect(await expectConfigError(runProgram(broken), "app.regoin")).toContain("is not a setting this program reads (known: name, org, region)");
  });

  it("fails naming a missing secret", async () => {
    const problem = await expectConfigError(runProgram({ ...options, stack: "dev", secrets: {} }), "secretKey");
    expect(problem).toBe("fixture:secretKey is required: the app's SECRET_KEY; set it with `pulumi config set --secret fixture:secretKey <value>`");
  });
});

describe("an error thrown inside the program's applies", () => {
  it("fails the run with that error instead of hanging, and the next run still goes", async () => {
    await expect(runProgram({ ...options, dir: `${dir}/apply-error`, stack: "dev" })).rejects.toThrow("fixture:secretKey must start with `sk-`");
    const next = await runProgram({ ...options, stack: "dev" });
    expect(next.registrations.length).toBeGreaterThan(0);
  });
});
