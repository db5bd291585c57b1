/**
 * Seed 001 (DraftGuru's "Fly.io Infrastructure" guide) element by element, for every stack file of
 * examples/draftguru under the mock runtime; then the wrong config the program refuses, naming the key.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  dependsOn,
  flySecrets,
  expectConfigError,
  exported,
  isSecret,
  type Json,
  plainStrings,
  type ProgramRunOptions,
  type Registration,
  resource,
  resourcesOf,
  reveal,
  runProgram,
  stackNames,
  type StackRun,
} from "../programs/program-harness";
import { generatedSecrets, types } from "../programs/provider-mocks";
import { checkDatabaseUrl } from "../../examples/draftguru/config";

const dir = "examples/draftguru";
const randomPassword = types.randomPassword;
const volumeType = types.flyVolume;
const releaseCommandType = types.flyReleaseCommand;

/** What CI passes on each deploy and what the user sets once per stack (the stack files' headers). */
function provided(stack: string): Json {
  return { image: `registry.fly.io/${expectations[stack].app}:deployment-01J2ABCDEF`, github: { repository: "draftguru-org/draft-app-repo" } };
}

/** `pulumi config set --secret draftguru:<key>`: every one of the guide's secrets, the optional ones too. */
const dummySecrets = {
  databaseUrl: "postgresql+asyncpg://draft:dummy-db-password-5e1c@db.example.com:5432/draftguru",
  geminiApiKey: "dummy-gemini-api-key-7a2d",
  geminiSummarizationApiKey: "dummy-gemini-summarization-key-3b9f",
  s3AccessKeyId: "dummy-s3-access-key-id-1c4e",
  s3SecretAccessKey: "dummy-s3-secret-access-key-8d0a",
};
const onlyRequired = { databaseUrl: dummySecrets.databaseUrl };

/** The guide's "Required secrets set on all environments" and "Optional secrets" tables. */
const requiredSecretNames = ["DATABASE_URL", "SECRET_KEY", "ENV", "LOG_LEVEL", "ACCESS_LOG"];
const optionalSecrets: [string, keyof typeof dummySecrets][] = [
  ["GEMINI_API_KEY", "geminiApiKey"],
  ["GEMINI_SUMMARIZATION_API_KEY", "geminiSummarizationApiKey"],
  ["S3_ACCESS_KEY_ID", "s3AccessKeyId"],
  ["S3_SECRET_ACCESS_KEY", "s3SecretAccessKey"],
];

interface Expected {
  app: string;
  env: string;
  autostop: string;
  minMachinesRunning: number;
  schedule: string;
  githubEnvironment: string;
}

/** The guide's table per environment. */
const expectations: Record<string, Expected> = {
  staging: { app: "draft-app", env: "stage", autostop: "off", minMachinesRunning: 0, schedule: "daily", githubEnvironment: "staging" },
  production: { app: "draft-app-prod", env: "prod", autostop: "stop", minMachinesRunning: 1, schedule: "hourly", githubEnvironment: "production" },
};

function options(stack: string, extra: Partial<ProgramRunOptions> = {}): ProgramRunOptions {
  return { dir, stack, provided: provided(stack), secrets: dummySecrets, ...extra };
}

const runs: Record<string, StackRun> = {};
const requiredOnlyRuns: Record<string, StackRun> = {};

beforeAll(async () => {
  for (const stack of stackNames(dir)) {
    runs[stack] = await runProgram(options(stack));
    requiredOnlyRuns[stack] = await runProgram(options(stack, { secrets: onlyRequired }));
  }
});

/** The app's fly:Secrets values, revealed (checked secret as a whole). */
const appSecrets = (run: StackRun): Record<string, string> => flySecrets(run, "app-secrets");


function webMachine(run: StackRun): Registration {
  return resource(run, types.flyMachine, "app-app-0");
}

function cronMachine(run: StackRun): Registration {
  return resource(run, types.flyMachine, "app-news-ingestion-cron");
}

describe("the stack files", () => {
  it("are one per environment of the guide: staging and production", () => {
    expect(stackNames(dir)).toEqual(["production", "staging"]);
  });
});

describe.each(["staging", "production"])("%s: seed 001", (stack) => {
  const expected = expectations[stack];
  const run = (): StackRun => runs[stack];

  describe("Apps Overview", () => {
    it(`App Name ${expected.app}, URL https://${expected.app}.fly.dev`, async () => {
      expect(resource(run(), types.flyApp, "app").inputs).toMatchObject({ name: expected.app, orgSlug: "personal" });
      expect(await exported(run(), "appName")).toEqual({ value: expected.app, secret: false });
      expect(await exported(run(), "url")).toEqual({ value: `https://${expected.app}.fly.dev`, secret: false });
    });
  });

  describe("Web Application Machines", () => {
    it("Purpose: serve the FastAPI application — one machine in process group `app`, on the image CI built", async () => {
      const machines = resourcesOf(run(), types.flyMachine).filter((machine) => machine.inputs.processGroup === "app");
      expect(machines.map((machine) => machine.name)).toEqual(["app-app-0"]);
      expect(webMachine(run()).inputs).toMatchObject({ appName: expected.app, name: "app-0", image: provided(stack).image });
      expect((await exported(run(), "image")).value).toBe(provided(stack).image);
    });

    it("Port: 8080 (internal), HTTPS exposed externally (80 redirects to HTTPS, 443 terminates TLS)", () => {
      expect(webMachine(run()).inputs.services).toMatchObject([
        {
          protocol: "tcp",
          internalPort: 8080,
          ports: [
            { port: 80, handlers: ["http"], forceHttps: true },
            { port: 443, handlers: ["tls", "http"] },
          ],
        },
      ]);
      expect(webMachine(run()).inputs.services).toHaveLength(1);
    });

    it("Resources: 1 shared CPU, 1GB RAM", () => {
      expect(webMachine(run()).inputs.guest).toEqual({ cpuKind: "shared", cpus: 1, memoryMb: 1024 });
    });

    it("Region: ewr (Newark)", () => {
      expect(webMachine(run()).inputs.region).toBe("ewr");
    });

    it("Release command: runs `alembic upgrade head` on deploy, on the new image, before the web and cron machines", () => {
      const release = resource(run(), releaseCommandType, "app-release-command");
      expect(release.inputs).toMatchObject({ appName: expected.app, image: provided(stack).image, command: ["alembic", "upgrade", "head"], region: "ewr" });
      // It sees the app's secrets (DATABASE_URL) of this deploy.
      expect(release.inputs.minSecretsVersion).toBe(4);
      expect(dependsOn(webMachine(run()), "app-release-command")).toBe(true);
      expect(dependsOn(cronMachine(run()), "app-release-command")).toBe(true);
    });

    it(`Auto-stop ${expected.autostop === "off" ? "disabled" : "enabled"}, Min machines: ${expected.minMachinesRunning}; resumes on request`, () => {
      expect(webMachine(run()).inputs.services).toMatchObject([
        { autostop: expected.autostop, autostart: true, minMachinesRunning: expected.minMachinesRunning },
      ]);
    });

    it("checks: the guide names none, so none is set", () => {
      const [service] = webMachine(run()).inputs.services as Json[];
      expect(service.checks).toBeUndefined();
      expect(webMachine(run()).inputs.checks).toBeUndefined();
    });

    it("volumes and mounts: the guide has none", () => {
      expect(resourcesOf(run(), volumeType)).toEqual([]);
      expect(webMachine(run()).inputs.mounts).toBeUndefined();
    });
  });

  describe("Cron Machines (news-ingestion-cron)", () => {
    it(`flyctl machine run --name news-ingestion-cron --schedule ${expected.schedule} --region ewr`, () => {
      expect(cronMachine(run()).inputs).toMatchObject({ appName: expected.app, name: "news-ingestion-cron", schedule: expected.schedule, region: "ewr" });
    });

    it("Resources: 1 shared CPU, 512MB RAM (--cpus 1 --memory 512)", () => {
      expect(cronMachine(run()).inputs.guest).toEqual({ cpuKind: "shared", cpus: 1, memoryMb: 512 });
    });

    it("Entrypoint: /app/.venv/bin/python -m app.cli.cron_runner", () => {
      expect(cronMachine(run()).inputs.init).toEqual({ entrypoint: ["/app/.venv/bin/python"], cmd: ["-m", "app.cli.cron_runner"] });
    });

    it("shares the same Docker image as the main app, outside the `app` process group", () => {
      expect(cronMachine(run()).inputs.image).toBe(webMachine(run()).inputs.image);
      expect(cronMachine(run()).inputs.processGroup).toBe("news-ingestion-cron");
      expect(cronMachine(run()).inputs.services).toBeUndefined();
    });

    it("Updating Cron Machine Image: a new image reaches the cron machine with the deploy, no flyctl machine update", async () => {
      const image = `registry.fly.io/${expected.app}:deployment-01J9NEWIMAGE`;
      const next = await runProgram(options(stack, { overrides: { image } }));
      expect([webMachine(next).inputs.image, cronMachine(next).inputs.image, resource(next, releaseCommandType, "app-release-command").inputs.image]).toEqual([
        image,
        image,
        image,
      ]);
      expect(await exported(next, "cronMachineIds")).toEqual({ value: { "news-ingestion-cron": "m-app-news-ingestion-cron" }, secret: false });
    });
  });

  describe("Environment Variables (Fly secrets)", () => {
    it.each(requiredSecretNames)("required secret %s is on the app's fly:Secrets", (name) => {
      expect(Object.keys(appSecrets(run()))).toContain(name);
    });

    it(`DATABASE_URL as given (asyncpg), ENV=${expected.env}, LOG_LEVEL=INFO, ACCESS_LOG=true`, () => {
      expect(appSecrets(run())).toMatchObject({ DATABASE_URL: dummySecrets.databaseUrl, ENV: expected.env, LOG_LEVEL: "INFO", ACCESS_LOG: "true" });
    });

    it("SECRET_KEY: generated once (@pulumi/random, 64 letters and digits) when the stack gives none", () => {
      const password = resource(run(), randomPassword, "secret-key");
      expect(password.inputs).toMatchObject({ length: 64, special: false });
      expect(appSecrets(run()).SECRET_KEY).toBe(`secret-key${generatedSecrets.passwordSuffix}`);
    });

    it("SECRET_KEY: the running app's key when given with --secret draftguru:secretKey, and then nothing is generated", async () => {
      const secretKey = "dummy-existing-secret-key-6f2b";
      const given = await runProgram(options(stack, { secrets: { ...dummySecrets, secretKey } }));
      expect(appSecrets(given).SECRET_KEY).toBe(secretKey);
      expect(resourcesOf(given, randomPassword)).toEqual([]);
      for (const registration of given.registrations) expect(plainStrings(registration.inputs).map((entry) => entry.value)).not.toContain(secretKey);
    });

    it.each(optionalSecrets)("optional secret %s: set when given", (name, key) => {
      expect(appSecrets(run())[name]).toBe(dummySecrets[key]);
    });

    it("optional secrets: none set when none is given; the app gets exactly the required list", async () => {
      expect(Object.keys(appSecrets(requiredOnlyRuns[stack])).sort()).toEqual([...requiredSecretNames].sort());
      expect((await exported(requiredOnlyRuns[stack], "secretNames")).value).toEqual([...requiredSecretNames].sort());
    });

    it("with every secret given, the app has exactly the guide's nine names", async () => {
      const all = [...requiredSecretNames, ...optionalSecrets.map(([name]) => name)].sort();
      expect(Object.keys(appSecrets(run())).sort()).toEqual(all);
      expect(await exported(run(), "secretNames")).toEqual({ value: all, secret: false });
    });

    it("no secret is plain env on a machine, and every machine waits for the secrets version", () => {
      for (const machine of resourcesOf(run(), types.flyMachine)) {
        const env = (machine.inputs.env ?? {}) as Json;
        expect(Object.keys(env).filter((name) => requiredSecretNames.includes(name) || optionalSecrets.some(([secret]) => secret === name))).toEqual([]);
        expect(machine.inputs.minSecretsVersion).toBe(4);
      }
    });

    it("no secret value (given or generated) appears in plain text in any registration or export", async () => {
      const values = [
        ...Object.values(dummySecrets),
        `secret-key${generatedSecrets.passwordSuffix}`,
        generatedSecrets.deployToken("app-deploy-token"),
        "dummy-db-password-5e1c",
      ];
      for (const registration of run().registrations) {
        const plain = plainStrings(registration.inputs).map((entry) => entry.value);
        for (const value of values) expect(plain.some((text) => text.includes(value)), `${registration.name} holds a secret in plain text`).toBe(false);
      }
      for (const name of Object.keys(run().exports)) {
        const { value, secret } = await exported(run(), name);
        if (!secret) for (const secretValue of values) expect(JSON.stringify(value) ?? "").not.toContain(secretValue);
      }
    });
  });

  describe("CI/CD Workflows", () => {
    it(`FLY_API_TOKEN: an app-scoped deploy token for ${expected.app}, in GitHub Actions environment ${expected.githubEnvironment}`, async () => {
      expect(resource(run(), types.flyDeployToken, "app-deploy-token").inputs).toMatchObject({ appName: expected.app });
      const environment = resource(run(), types.repositoryEnvironment, `ci-${expected.githubEnvironment}`);
      expect(environment.inputs).toMatchObject({ repository: "draft-app-repo", environment: expected.githubEnvironment });
      expect(environment.inputs.reviewers).toBeUndefined();
      const secret = resource(run(), types.actionsEnvironmentSecret, `ci-${expected.githubEnvironment}-secret-FLY_API_TOKEN`);
      expect(reveal(secret.inputs)).toMatchObject({
        repository: "draft-app-repo",
        environment: expected.githubEnvironment,
        secretName: "FLY_API_TOKEN",
        value: generatedSecrets.deployToken("app-deploy-token"),
      });
      expect(isSecret(secret.inputs.value)).toBe(true);
      expect(dependsOn(secret, "app-deploy-token")).toBe(true);
      expect(await exported(run(), "githubEnvironment")).toEqual({ value: expected.githubEnvironment, secret: false });
    });

    it("the GitHub provider acts for the repository's owner", () => {
      expect(resource(run(), "pulumi:providers:github", "github").inputs).toMatchObject({ owner: "draftguru-org" });
    });

    it("Set secrets / Deploy / Update cron machine: one program run makes nothing else", () => {
      const made = run()
        .registrations.filter((registration) => !registration.read)
        .map((registration) => registration.type)
        .sort();
      expect(made).toEqual(
        [
          "platform:index:FlyApp",
          types.flyApp,
          types.flySecrets,
          releaseCommandType,
          types.flyMachine,
          types.flyMachine,
          types.flyDeployToken,
          randomPassword,
          "pulumi:providers:github",
          "platform:index:GitHubRepositoryGuardrails",
          types.repositoryEnvironment,
          types.actionsEnvironmentSecret,
        ].sort(),
      );
    });
  });
});

describe("DATABASE_URL's driver (checked by the program once the secret is known)", () => {
  it("accepts a postgresql+asyncpg:// URL as it is", () => {
    expect(checkDatabaseUrl(dummySecrets.databaseUrl)).toBe(dummySecrets.databaseUrl);
  });

  it.each(["postgresql://draft:dummy-other-driver-pw@db.example.com/draftguru", "postgres://draft:dummy-other-driver-pw@db.example.com/draftguru", ""])(
    "refuses %j naming the key and the fix, never the value",
    (url) => {
      let message = "";
      try {
        checkDatabaseUrl(url);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain("draftguru:databaseUrl must be a `postgresql+asyncpg://` URL");
      expect(message).toContain("pulumi config set --secret draftguru:databaseUrl");
      expect(message).not.toContain("dummy-other-driver-pw");
    },
  );
});

describe("wrong config is refused, naming the key", () => {
  const staging = (extra: Partial<ProgramRunOptions>): Promise<StackRun> => runProgram(options("staging", extra));
  const withoutImage = { github: { repository: "draftguru-org/draft-app-repo" } };

  it.each<[string, Partial<ProgramRunOptions>, string]>([
    ["app.name", { overrides: { app: { name: "Draft_App" } } }, "must be 1-63 lowercase letters"],
    ["app.region", { overrides: { app: { region: "newark" } } }, "must be one of"],
    ["app.autostop", { overrides: { app: { autostop: "sometimes" } } }, "must be one of"],
    ["app.minMachinesRunning", { overrides: { app: { minMachinesRunning: -1 } } }, "-1"],
    ["app.env", { overrides: { app: { env: "staging" } } }, "must be one of"],
    ["app.logLevel", { overrides: { app: { logLevel: "verbose" } } }, "must be one of"],
    ["app.accessLog", { overrides: { app: { accessLog: "sometimes" } } }, "must be true or false"],
    ["app.internalPort", { overrides: { app: { internalPort: 70000 } } }, "70000"],
    ["app.guest.memoryMb", { overrides: { app: { guest: { cpuKind: "shared", cpus: 1, memoryMb: 1000 } } } }, "1000"],
    ["app.releaseCommand", { overrides: { app: { releaseCommand: [] } } }, "must not be empty"],
    ["app.autoStop", { overrides: { app: { autoStop: "off" } } }, "is not a setting this program reads"],
    ["cron.schedule", { overrides: { cron: { schedule: "every-5-minutes" } } }, "must be one of"],
    ["cron.guest.cpuKind", { overrides: { cron: { guest: { cpuKind: "gpu", cpus: 1, memoryMb: 512 } } } }, "gpu"],
    ["cron.entrypoint", { overrides: { cron: { entrypoint: [] } } }, "must not be empty"],
    ["image", { provided: withoutImage }, "is required"],
    ["image", { overrides: { image: "Not An Image" } }, "container image reference"],
    ["github.repository", { overrides: { github: { repository: "draft-app-repo" } } }, "owner/name"],
    ["fly.org", { overrides: { fly: { org: "My Org" } } }, "Fly organization slug"],
    ["databaseUrl", { secrets: {} }, "is required: the PostgreSQL URL for the asyncpg driver"],
    ["s3SecretAccessKey", { secrets: { ...onlyRequired, s3AccessKeyId: dummySecrets.s3AccessKeyId } }, "S3 credentials are a pair"],
    ["region", { overrides: { region: "ewr" } }, "is not a key this program reads"],
  ])("%s", async (key, change, rule) => {
    const problem = await expectConfigError(staging(change), key);
    expect(problem).toContain(rule);
    expect(problem).toMatch(/`pulumi config (set|rm) /);
    for (const value of Object.values(dummySecrets)) expect(problem).not.toContain(value);
  });

  it("reports every problem at once", async () => {
    const run = staging({ overrides: { app: { region: "newark", env: "staging" }, cron: { schedule: "minutely" } }, secrets: {} });
    for (const key of ["app.region", "app.env", "cron.schedule", "databaseUrl"]) await expectConfigError(run, key);
  });

  it("a stack without the per-environment keys names each of them", async () => {
    const run = staging({ overrides: { app: { name: null, env: null, autostop: null, minMachinesRunning: null }, cron: { schedule: null }, github: { environment: null } } });
    for (const key of ["app.name", "app.env", "app.autostop", "app.minMachinesRunning", "cron.schedule", "github.environment"]) {
      expect(await expectConfigError(run, key)).toContain("required");
    }
  });
});
