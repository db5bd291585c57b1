/**
 * Seed 004 (captionacc, "Prefect Server Deployment") element by element: examples/captionacc for its one stack
 * file, with Prefect 3 (the program's default: public behind an auth string) and Prefect 2 (Flycast only), the
 * guide's rollback (`orchestrator.connect: false`), and the wrong config it refuses.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  expectConfigError,
  exported,
  isSecret,
  plainStrings,
  resource,
  resourcesOf,
  reveal,
  runAllStacks,
  runProgram,
  stackNames,
  type Json,
  type ProgramRunOptions,
  type StackRun,
} from "../programs/program-harness";
import { generatedSecrets, types } from "../programs/provider-mocks";
import { databaseName, prefectDatabaseUrl } from "../../examples/captionacc/database-url";

const dir = "examples/captionacc";
const supabasePassword = "dummy-supabase-pw-7c1e";
const supabaseHost = "db.abcdefghijklmnopqrst.supabase.co";
/** As Supabase's dashboard shows it (libpq's `sslmode`), for a database of Prefect's own. */
const supabaseUrl = `postgresql://postgres:${supabasePassword}@${supabaseHost}:5432/prefect?sslmode=require`;
/** What Prefect's asyncpg engine is handed. */
const prefectUrl = `postgresql+asyncpg://postgres:${supabasePassword}@${supabaseHost}:5432/prefect?ssl=require`;
const generatedAuthPassword = `prefect-auth${generatedSecrets.passwordSuffix}`;
const authString = `admin:${generatedAuthPassword}`;

const options: Omit<ProgramRunOptions, "stack"> = {
  dir,
  provided: { github: { repository: "example-org/captionacc" } },
  secrets: { supabaseDatabaseUrl: supabaseUrl },
};

const githubSecret = types.actionsSecret;
const githubProvider = "pulumi:providers:github";

function run(extra: Json = {}): Promise<StackRun> {
  return runProgram({ ...options, stack: "production", overrides: extra });
}

let prefect3: StackRun;
let prefect2: StackRun;

beforeAll(async () => {
  const runs = await runAllStacks(dir, options);
  prefect3 = runs.production;
  prefect2 = await run({ prefect: { version: 2 } });
});

function secretValues(stackRun: StackRun, name: string): Record<string, string> {
  const values = resource(stackRun, types.flySecrets, name).inputs.values;
  expect(isSecret(values)).toBe(true);
  return reveal(values) as Record<string, string>;
}

function machine(stackRun: StackRun): Json {
  return resource(stackRun, types.flyMachine, "prefect-app-0").inputs;
}

function httpService(stackRun: StackRun): Json {
  const services = machine(stackRun).services as Json[];
  expect(services).toHaveLength(1);
  return services[0];
}

async function value(stackRun: StackRun, name: string): Promise<unknown> {
  return (await exported(stackRun, name)).value;
}

describe("the stack files", () => {
  it("one environment, as the guide has: production", () => {
    expect(stackNames(dir)).toEqual(["production"]);
  });
});

interface Version {
  label: string;
  run: () => StackRun;
  image: string;
  memoryMb: number;
  apiUrl: string;
  forceHttps: boolean;
  addresses: string[];
  clientSecrets: string[];
}

const versions: Version[] = [
  {
    label: "Prefect 3 (default): public behind an auth string",
    run: () => prefect3,
    image: "prefecthq/prefect:3-python3.12",
    memoryMb: 512,
    apiUrl: "https://prefect.fly.dev/api",
    forceHttps: true,
    addresses: ["shared_v4", "v6"],
    clientSecrets: ["PREFECT_API_AUTH_STRING", "PREFECT_API_URL"],
  },
  {
    label: "Prefect 2 (the guide's image): Flycast only",
    run: () => prefect2,
    image: "prefecthq/prefect:2-python3.11",
    memoryMb: 256,
    apiUrl: "http://prefect.flycast/api",
    forceHttps: false,
    addresses: ["private_v6"],
    clientSecrets: ["PREFECT_API_URL"],
  },
];

describe.each(versions)("$label", (version) => {
  describe("step 1: the Prefect server's Fly app (fly.toml, Dockerfile)", () => {
    it('app = "prefect", in the stack\'s Fly organization', () => {
      expect(resource(version.run(), types.flyApp, "prefect").inputs).toMatchObject({ name: "prefect", orgSlug: "personal" });
    });

    it('primary_region = "ewr"', () => {
      expect(machine(version.run()).region).toBe("ewr");
    });

    it(`FROM prefecthq/prefect:…: ${version.image}, run as-is (no build)`, () => {
      expect(machine(version.run()).image).toBe(version.image);
    });

    it('CMD ["prefect", "server", "start", "--host", "0.0.0.0"]', () => {
      expect(machine(version.run()).init).toMatchObject({ cmd: ["prefect", "server", "start", "--host", "0.0.0.0"] });
    });

    it("[env] PREFECT_SERVER_API_HOST = 0.0.0.0, PREFECT_SERVER_API_PORT = 4200, plain", () => {
      const env = machine(version.run()).env;
      expect(isSecret(env)).toBe(false);
      expect(env).toMatchObject({ PREFECT_SERVER_API_HOST: "0.0.0.0", PREFECT_SERVER_API_PORT: "4200" });
    });

    it('processes = ["app"]: one machine in the group `app`', () => {
      const machines = resourcesOf(version.run(), types.flyMachine);
      expect(machines.map((m) => [m.name, m.inputs.processGroup])).toEqual([["prefect-app-0", "app"]]);
    });

    it("[http_service] internal_port = 4200", () => {
      expect(httpService(version.run()).internalPort).toBe(4200);
    });

    it(`force_https = true: ${version.forceHttps} (Flycast is plain HTTP inside the private network)`, () => {
      const ports = httpService(version.run()).ports as Json[];
      expect(ports.find((port) => port.port === 80)?.forceHttps).toBe(version.forceHttps);
    });

    it("auto_stop_machines = false, auto_start_machines = true, min_machines_running = 1", () => {
      expect(httpService(version.run())).toMatchObject({ autostop: "off", autostart: true, minMachinesRunning: 1 });
    });

    it("[[http_service.checks]] GET /api/health every 30s, timeout 5s, grace 60s", () => {
      expect(httpService(version.run()).checks).toEqual([
        { type: "http", port: 4200, method: "GET", path: "/api/health", interval: "30s", timeout: "5s", gracePeriod: "60s" },
      ]);
    });

    it(`[[vm]] shared, 1 CPU, 256 MB: ${version.memoryMb} MB`, () => {
      expect(machine(version.run()).guest).toEqual({ cpuKind: "shared", cpus: 1, memoryMb: version.memoryMb });
    });

    it(`addresses: ${version.addresses.join(", ")} (what fly deploy allocated; Flycast's private one instead)`, () => {
      const addresses = resourcesOf(version.run(), types.flyIpAddress).map((ip) => ip.inputs.type);
      expect(addresses).toEqual(version.addresses);
    });
  });

  describe("step 2: Supabase as the backend", () => {
    it("fly secrets set PREFECT_API_DATABASE_CONNECTION_URL -a prefect: the Supabase URL, for asyncpg, secret", () => {
      expect(secretValues(version.run(), "prefect-secrets").PREFECT_API_DATABASE_CONNECTION_URL).toBe(prefectUrl);
    });

    it("the URL is nowhere in plain text, not even as a machine's env", () => {
      expect(Object.keys(machine(version.run()).env as Json)).not.toContain("PREFECT_API_DATABASE_CONNECTION_URL");
    });
  });

  describe("step 4: the credential", () => {
    if (version.clientSecrets.includes("PREFECT_API_AUTH_STRING")) {
      it("Prefect 3: an auth string made by the program (a self-hosted server issues no API keys), on the server", async () => {
        const stackRun = version.run();
        expect(resource(stackRun, "random:index/randomPassword:RandomPassword", "prefect-auth").inputs).toMatchObject({ length: 32, special: false });
        expect(secretValues(stackRun, "prefect-secrets").PREFECT_SERVER_API_AUTH_STRING).toBe(authString);
        expect(await exported(stackRun, "prefectAuthString")).toEqual({ value: authString, secret: true });
      });
    } else {
      it("Prefect 2: no credential exists; the server has no public address and no auth string", async () => {
        const stackRun = version.run();
        expect(resourcesOf(stackRun, "random:index/randomPassword:RandomPassword")).toEqual([]);
        expect(Object.keys(secretValues(stackRun, "prefect-secrets"))).toEqual(["PREFECT_API_DATABASE_CONNECTION_URL"]);
        expect(await value(stackRun, "prefectAuthString")).toBeUndefined();
      });
    }
  });

  describe("step 5: the orchestrator's secrets", () => {
    it(`fly secrets set … -a captionacc-orchestrator: exactly ${version.clientSecrets.join(" and ")}, as secrets`, () => {
      const secrets = resource(version.run(), types.flySecrets, "orchestrator-prefect-secrets");
      expect(secrets.inputs.appName).toBe("captionacc-orchestrator");
      expect(Object.keys(secretValues(version.run(), "orchestrator-prefect-secrets")).sort()).toEqual(version.clientSecrets);
    });

    it(`PREFECT_API_URL is the server's apiUrl output: ${version.apiUrl}`, async () => {
      const stackRun = version.run();
      const apiUrl = await value(stackRun, "prefectApiUrl");
      expect(apiUrl).toBe(version.apiUrl);
      expect(secretValues(stackRun, "orchestrator-prefect-secrets").PREFECT_API_URL).toBe(apiUrl);
    });

    if (version.clientSecrets.includes("PREFECT_API_AUTH_STRING")) {
      it("PREFECT_API_AUTH_STRING is the server's own auth string (PREFECT_SERVER_API_AUTH_STRING)", () => {
        const stackRun = version.run();
        const server = secretValues(stackRun, "prefect-secrets");
        expect(secretValues(stackRun, "orchestrator-prefect-secrets").PREFECT_API_AUTH_STRING).toBe(server.PREFECT_SERVER_API_AUTH_STRING);
      });
    }

    it("the orchestrator app itself is not managed: no app, machine or other secret of it", () => {
      const stackRun = version.run();
      expect(resourcesOf(stackRun, types.flyApp).map((app) => app.inputs.name)).toEqual(["prefect"]);
      const onOrchestrator = stackRun.registrations.filter((r) => r.inputs.appName === "captionacc-orchestrator");
      expect(onOrchestrator.map((r) => [r.type, r.name])).toEqual([[types.flySecrets, "orchestrator-prefect-secrets"]]);
    });
  });

  describe("step 6: GitHub repository secrets", () => {
    it(`${version.clientSecrets.join(" and ")} on example-org/captionacc, the orchestrator's values, as secrets`, () => {
      const stackRun = version.run();
      expect(resource(stackRun, githubProvider, "github").inputs.owner).toBe("example-org");
      const orchestrator = secretValues(stackRun, "orchestrator-prefect-secrets");
      const secrets = resourcesOf(stackRun, githubSecret);
      expect(secrets.map((secret) => secret.inputs.secretName).sort()).toEqual(version.clientSecrets);
      for (const secret of secrets) {
        expect(secret.inputs.repository).toBe("captionacc");
        expect(isSecret(secret.inputs.value)).toBe(true);
        expect(reveal(secret.inputs.value)).toBe(orchestrator[String(secret.inputs.secretName)]);
      }
    });
  });

  it("no credential in plain text in any registration", () => {
    const credentials = [supabasePassword, generatedAuthPassword];
    for (const registration of version.run().registrations) {
      const leaks = plainStrings(registration.inputs).filter((entry) => credentials.some((credential) => entry.value.includes(credential)));
      expect(leaks, `${registration.type} ${registration.name}`).toEqual([]);
    }
  });
});

describe("the UI and step 9 (Better Stack)", () => {
  it("Prefect 3: the UI calls the public API (PREFECT_UI_API_URL), not the server's localhost", () => {
    const env = machine(prefect3).env as Json;
    expect(env.PREFECT_UI_API_URL).toBe("https://prefect.fly.dev/api");
  });

  it("Prefect 3: exports the UI and the monitor's URL, https://prefect.fly.dev/api/health", async () => {
    expect(await value(prefect3, "prefectUiUrl")).toBe("https://prefect.fly.dev");
    expect(await exported(prefect3, "prefectHealthUrl")).toEqual({ value: "https://prefect.fly.dev/api/health", secret: false });
  });

  it("Prefect 2: no public URL to monitor or browse (fly proxy); the UI keeps the localhost API", async () => {
    expect((machine(prefect2).env as Json).PREFECT_UI_API_URL).toBeUndefined();
    expect(await value(prefect2, "prefectUiUrl")).toBeUndefined();
    expect(await value(prefect2, "prefectHealthUrl")).toBeUndefined();
  });
});

describe("rollback plan: orchestrator.connect false", () => {
  let rolledBack: StackRun;
  beforeAll(async () => {
    rolledBack = await run({ orchestrator: { connect: false } });
  });

  it("fly secrets unset PREFECT_API_URL … -a captionacc-orchestrator: the orchestrator's secrets are gone", async () => {
    expect(resourcesOf(rolledBack, types.flySecrets).map((secrets) => secrets.name)).toEqual(["prefect-secrets"]);
    expect(await value(rolledBack, "orchestratorSecretNames")).toEqual([]);
  });

  it("the server stays for debugging (fly logs -a prefect), and so do the repository's secrets", () => {
    expect(resource(rolledBack, types.flyMachine, "prefect-app-0").inputs.appName).toBe("prefect");
    expect(resourcesOf(rolledBack, githubSecret)).toHaveLength(2);
  });
});

describe("Prefect 3 without a public address (access: private)", () => {
  it("is allowed: Flycast, no auth string, only PREFECT_API_URL for the clients", async () => {
    const stackRun = await run({ prefect: { access: "private" } });
    expect(await value(stackRun, "prefectApiUrl")).toBe("http://prefect.flycast/api");
    expect(machine(stackRun).image).toBe("prefecthq/prefect:3-python3.12");
    expect(Object.keys(secretValues(stackRun, "orchestrator-prefect-secrets"))).toEqual(["PREFECT_API_URL"]);
  });
});

describe("prefect.guest", () => {
  it("sizes the VM when set, over the per-version default", async () => {
    const stackRun = await run({ prefect: { guest: { cpuKind: "shared", cpus: 1, memoryMb: 1024 } } });
    expect(machine(stackRun).guest).toEqual({ cpuKind: "shared", cpus: 1, memoryMb: 1024 });
  });
});

describe("wrong config is refused, naming the key", () => {
  const cases: [string, string, Json, Record<string, string>?][] = [
    ["a Prefect major other than 2 or 3", "prefect.version", { prefect: { version: 4 } }],
    ["Prefect 2 with an auth string", "prefect.access", { prefect: { version: 2, access: "auth" } }],
    ["an access other than auth or private", "prefect.access", { prefect: { access: "public" } }],
    ["an app name Fly refuses", "prefect.appName", { prefect: { appName: "Prefect_Server" } }],
    ["a region Fly does not have", "prefect.region", { prefect: { region: "nyc" } }],
    ["an image that is not a reference", "prefect.image", { prefect: { image: "Prefect Server:latest" } }],
    ["a memory size Fly refuses", "prefect.guest.memoryMb", { prefect: { guest: { cpuKind: "shared", cpus: 1, memoryMb: 300 } } }],
    ["a negative machine count", "prefect.minMachinesRunning", { prefect: { minMachinesRunning: -1 } }],
    ["an autostop Fly does not know", "prefect.autostop", { prefect: { autostop: "never" } }],
    ["a misspelt setting", "prefect.verison", { prefect: { verison: 3 } }],
    ["no orchestrator app", "orchestrator.appName", { orchestrator: { appName: null } }],
    ["a rollback flag that is not a boolean", "orchestrator.connect", { orchestrator: { connect: "maybe" } }],
    ["a repository without its owner", "github.repository", { github: { repository: "captionacc" } }],
    ["a Fly organization slug with capitals", "fly.org", { fly: { org: "Captionacc" } }],
    ["no Supabase URL", "supabaseDatabaseUrl", {}, {}],
  ];

  it.each(cases)("%s: %s", async (_what, key, overrides, secrets) => {
    const problem = await expectConfigError(runProgram({ ...options, stack: "production", overrides, secrets: secrets ?? options.secrets }), key);
    expect(problem).toMatch(/set it with|remove it with/);
    expect(problem).not.toContain(supabasePassword);
  });
});

describe("the Supabase URL (database-url.ts)", () => {
  it.each([
    ["postgresql://", `postgresql://postgres:${supabasePassword}@${supabaseHost}:5432/postgres`, `postgresql+asyncpg://postgres:${supabasePassword}@${supabaseHost}:5432/postgres`],
    ["postgres://", `postgres://postgres:${supabasePassword}@${supabaseHost}:5432/prefect`, `postgresql+asyncpg://postgres:${supabasePassword}@${supabaseHost}:5432/prefect`],
    ["already asyncpg", prefectUrl, prefectUrl],
    ["sslmode becomes ssl", supabaseUrl, prefectUrl],
    ["an encoded password stays encoded", "postgresql://postgres:p%40ss%3Aw@db.x.supabase.co:5432/prefect", "postgresql+asyncpg://postgres:p%40ss%3Aw@db.x.supabase.co:5432/prefect"],
  ])("%s", (_what, input, expected) => {
    expect(prefectDatabaseUrl(input)).toBe(expected);
  });

  it.each([
    ["the transaction pooler (6543)", `postgresql://postgres.ref:${supabasePassword}@aws-0-us-east-1.pooler.supabase.com:6543/postgres`, /transaction pooler/],
    ["another database", `mysql://root:${supabasePassword}@db.example.com:3306/prefect`, /must be a PostgreSQL URL .*got a mysql:\/\/ URL/],
    ["not a URL", supabasePassword, /must be a URL such as/],
  ])("refuses %s, naming the key and never quoting the URL", (_what, input, message) => {
    expect(() => prefectDatabaseUrl(input)).toThrow(message);
    expect(() => prefectDatabaseUrl(input)).toThrow(/^captionacc:supabaseDatabaseUrl /);
    try {
      prefectDatabaseUrl(input);
    } catch (error) {
      expect((error as Error).message).not.toContain(supabasePassword);
    }
  });

  it("names the database, so the program can warn when Prefect would share `postgres` with the app", () => {
    expect(databaseName(`postgresql://postgres:${supabasePassword}@${supabaseHost}:5432/postgres`)).toBe("postgres");
    expect(databaseName(supabaseUrl)).toBe("prefect");
  });
});
