import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, loadConfig, parseConfig, secretEnv, type PlatformConfig, type RawConfig, type UserSecretKey } from "../config";

type Json = Record<string, unknown>;

/** What a user sets per stack and never commits: the plain ids of their accounts. */
const userProvided: Json = {
  cloudflare: { accountId: "0123456789abcdef0123456789abcdef", zoneId: "fedcba9876543210fedcba9876543210" },
  github: { repository: "naluma/content-pipeline" },
  wordpress: { baseUrl: "https://naluma.space" },
  dashboard: { access: { googleClientId: "google-client-id.apps.googleusercontent.com", githubClientId: "Iv1.0123456789abcdef" } },
};

/** Dummy values for the required secrets (`pulumi config set --secret …`). */
const dummySecrets: Partial<Record<UserSecretKey, string>> = {
  anthropicApiKey: "sk-ant-test",
  openaiApiKey: "sk-test",
  wpAppPassword: "xxxx xxxx xxxx xxxx",
  ncbiApiKey: "ncbi-test",
  braveApiKey: "brave-test",
  r2AccessKeyId: "r2-id",
  r2SecretAccessKey: "r2-secret",
  googleOauthClientSecret: "google-secret",
  githubOauthClientSecret: "github-secret",
};

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = isObject(value) && isObject(out[key]) ? merge(out[key] as Json, value) : value;
  return out;
}

/** A committed stack file as `pulumi.Config("platform")` sees it: the `platform:` keys without the prefix. */
function stackValues(stack: "staging" | "production"): Json {
  const file = parse(readFileSync(join(__dirname, "..", `Pulumi.${stack}.yaml`), "utf8")) as { config: Json };
  return Object.fromEntries(Object.entries(file.config).map(([key, value]) => [key.replace(/^platform:/, ""), value]));
}

function raw(values: Json, secrets: RawConfig["secrets"] = dummySecrets): RawConfig {
  return { values: merge(userProvided, values), secrets };
}

function problemsOf(input: RawConfig): readonly string[] {
  try {
    parseConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("parseConfig accepted the config");
}

/** Leaves of a plain object tree as `a.b[0].c` → JSON value; Outputs (secrets) are left out. */
function flatten(value: unknown, path = "", out = new Map<string, string>()): Map<string, string> {
  if (pulumi.Output.isInstance(value)) return out;
  if (Array.isArray(value)) value.forEach((item, index) => flatten(item, `${path}[${index}]`, out));
  else if (isObject(value)) for (const [key, item] of Object.entries(value)) flatten(item, path ? `${path}.${key}` : key, out);
  else out.set(path, JSON.stringify(value));
  return out;
}

function differingPaths(a: unknown, b: unknown): string[] {
  const left = flatten(a);
  const right = flatten(b);
  return [...new Set([...left.keys(), ...right.keys()])].filter((key) => left.get(key) !== right.get(key)).sort();
}

const production = (): Json => stackValues("production");

describe("committed stack files", () => {
  it.each(["staging", "production"] as const)("Pulumi.%s.yaml parses with the user's ids and secrets", (stack) => {
    const config = parseConfig(raw(stackValues(stack)));
    expect(config.environment.name).toBe(stack);
    expect(config.fly.region).toBe("fra");
  });

  it("staging and production differ exactly where their stack files differ", () => {
    const yamlDifferences = differingPaths(stackValues("staging"), stackValues("production"));
    expect(yamlDifferences).toEqual(
      [
        "dashboard.appName",
        "dashboard.hostname",
        "dashboard.minMachinesRunning",
        "docs.enabled",
        "environment",
        "github.environment",
        "neon.allowFlyEgress",
        "neon.branchName",
        "neon.ownsProject",
        "neon.protectedBranchesOnly",
        "productionStack",
        "protect",
        "worker.appName",
      ].sort(),
    );
    const staging = parseConfig(raw(stackValues("staging")));
    const prod = parseConfig(raw(stackValues("production")));
    // The same keys in the parsed shape, plus the image references derived from the app names.
    expect(differingPaths({ ...staging, secrets: undefined }, { ...prod, secrets: undefined })).toEqual(
      [
        "dashboard.appName",
        "dashboard.hostname",
        "dashboard.image",
        "dashboard.minMachinesRunning",
        "docs.enabled",
        "environment.name",
        "environment.productionStack",
        "github.environment",
        "neon.allowFlyEgress",
        "neon.branchName",
        "neon.ownsProject",
        "neon.protectedBranchesOnly",
        "protect",
        "worker.appName",
        "worker.image",
      ].sort(),
    );
    expect(staging.environment.productionStack).toBe("organization/platform/production");
    expect([prod.neon.branchName, prod.protect, staging.neon.branchName, staging.protect]).toEqual(["main", true, "staging", false]);
  });
});

describe("defaults from the seeds", () => {
  it("fills in seed 000 for a production stack that says nothing else", () => {
    const config = parseConfig(raw({ environment: "production", dashboard: { access: { allowedEmails: ["admin@example.com"] } } }));
    expect(config.fly).toEqual({ org: "personal", region: "fra", deployTokenExpiry: "999999h", smokeChecks: true });
    expect(config.worker).toMatchObject({
      appName: "naluma-content",
      image: "registry.fly.io/naluma-content:latest",
      region: "fra",
      guest: { cpuKind: "shared", cpus: 2, memoryMb: 3072 },
      processes: { app: {} },
      cronMachines: [],
      env: {
        PREFECT_API_URL: "http://localhost:4200/api",
        WP_BASE_URL: "https://naluma.space",
        WP_USERNAME: "content-pipeline",
        R2_BUCKET_NAME: "naluma-wordpress",
        R2_ACCOUNT_ID: "0123456789abcdef0123456789abcdef",
      },
    });
    expect(config.worker.releaseCommand).toBeUndefined();
    expect(config.worker.secrets).toContain("ANTHROPIC_API_KEY");
    expect(config.dashboard).toMatchObject({
      appName: "naluma-dashboard",
      hostname: "dashboard.naluma.space",
      guest: { cpuKind: "shared", cpus: 1, memoryMb: 512 },
      internalPort: 8501,
      autostop: "stop",
      minMachinesRunning: 1,
      secrets: ["ANTHROPIC_API_KEY", "WP_APP_PASSWORD", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"],
      access: { sessionDuration: "168h", identityProviders: ["google", "github"], allowedEmails: ["admin@example.com"] },
    });
    expect(config.prefect).toEqual({ mode: "colocated", apiUrl: "http://localhost:4200/api" });
    expect(config.neon).toMatchObject({
      ownsProject: true,
      projectName: "naluma_content",
      regionId: "aws-eu-central-1",
      pgVersion: 17,
      branchName: "main",
      databases: { app: "naluma_content", prefect: "prefect_server" },
      roles: { app: "pipeline", migrations: "migrations" },
      compute: { minCu: 0.25, maxCu: 2, suspendTimeoutSeconds: 0 },
    });
    expect(config.docs).toEqual({ enabled: true, projectName: "naluma-content-automation", productionBranch: "main" });
    expect(config.github).toEqual({ repository: "naluma/content-pipeline", owner: "naluma", name: "content-pipeline", environment: "production", branch: "main" });
    expect(config.r2).toEqual({ bucketName: "naluma-wordpress", accountId: "0123456789abcdef0123456789abcdef" });
  });

  it("gives a staging stack suffixed names, an unprotected branch and no docs", () => {
    const config = parseConfig(
      raw({ environment: "staging", productionStack: "organization/platform/production", dashboard: { access: { allowedEmails: ["a@example.com"] } } }),
    );
    expect([config.worker.appName, config.dashboard.appName, config.dashboard.hostname]).toEqual([
      "naluma-content-staging",
      "naluma-dashboard-staging",
      "dashboard-staging.naluma.space",
    ]);
    expect(config.neon).toMatchObject({ ownsProject: false, branchName: "staging" });
    expect(config.protect).toBe(false);
    expect([config.dashboard.minMachinesRunning, config.docs.enabled]).toEqual([0, false]);
  });

  it("runs seed 004's standalone Prefect server: port 4200, /api/health 30s/5s/60s, one machine always on", () => {
    const config = parseConfig(raw(merge(production(), { prefect: { mode: "standalone" } })));
    if (config.prefect.mode !== "standalone") throw new Error("expected standalone");
    expect(config.prefect.apiUrl).toBe("https://naluma-prefect.fly.dev/api");
    expect(config.prefect.server).toMatchObject({
      appName: "naluma-prefect",
      image: "prefecthq/prefect:3-python3.12",
      guest: { cpuKind: "shared", cpus: 1, memoryMb: 512 },
      internalPort: 4200,
      autostop: "off",
      autostart: true,
      minMachinesRunning: 1,
      forceHttps: true,
      checks: [{ type: "http", method: "GET", path: "/api/health", interval: "30s", timeout: "5s", gracePeriod: "60s" }],
      env: { PREFECT_SERVER_API_HOST: "0.0.0.0", PREFECT_SERVER_API_PORT: "4200" },
    });
    expect(config.worker.env.PREFECT_API_URL).toBe("https://naluma-prefect.fly.dev/api");
  });

  it.each([
    [false, "off"],
    ["false", "off"],
    [true, "stop"],
    ["true", "stop"],
  ])("takes fly.toml's boolean auto_stop_machines = %j (seed 004 writes `false`) as autostop %s", (autostop, expected) => {
    const config = parseConfig(raw(merge(production(), { prefect: { mode: "standalone", server: { autostop } }, dashboard: { autostop } })));
    if (config.prefect.mode !== "standalone") throw new Error("expected standalone");
    expect([config.prefect.server.autostop, config.dashboard.autostop]).toEqual([expected, expected]);
  });

  it("takes seed 001's cron machine and release command", () => {
    const config = parseConfig(
      raw(
        merge(production(), {
          worker: {
            releaseCommand: "alembic upgrade head",
            cronMachines: [{ name: "news-ingestion-cron", schedule: "hourly", entrypoint: ["/app/.venv/bin/python"], command: ["-m", "app.cli.cron_runner"] }],
          },
        }),
      ),
    );
    expect(config.worker.releaseCommand).toEqual(["alembic", "upgrade", "head"]);
    expect(config.worker.cronMachines).toEqual([
      {
        name: "news-ingestion-cron",
        schedule: "hourly",
        entrypoint: ["/app/.venv/bin/python"],
        command: ["-m", "app.cli.cron_runner"],
        guest: { cpuKind: "shared", cpus: 1, memoryMb: 512 },
        region: "fra",
      },
    ]);
  });

  it("takes seed 002's volume and health check, and numbers given as text by `pulumi config set --path`", () => {
    const config = parseConfig(
      raw(
        merge(production(), {
          worker: { guest: { memoryMb: "4096" }, volume: { name: "chroma_data", path: "/data", sizeGb: "3" } },
          dashboard: { minMachinesRunning: "0", checks: [{ interval: "30s", timeout: "5s", gracePeriod: "1m0s", path: "/health" }] },
        }),
      ),
    );
    expect(config.worker.guest.memoryMb).toBe(4096);
    expect(config.worker.volume).toEqual({ name: "chroma_data", path: "/data", sizeGb: 3 });
    expect(config.dashboard.minMachinesRunning).toBe(0);
    expect(config.dashboard.checks).toEqual([{ type: "http", interval: "30s", timeout: "5s", gracePeriod: "1m0s", path: "/health" }]);
  });
});

describe("secrets", () => {
  it("are secret outputs, and apps get only the ones that are set", async () => {
    const config = parseConfig(raw(production(), { ...dummySecrets, sentryDsn: "https://x@sentry.example/1" }));
    expect(await pulumi.isSecret(config.secrets.anthropicApiKey)).toBe(true);
    const worker = secretEnv(config.secrets, config.worker.secrets);
    expect(Object.keys(worker).sort()).toEqual(
      ["ANTHROPIC_API_KEY", "BRAVE_API_KEY", "NCBI_API_KEY", "OPENAI_API_KEY", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY", "SENTRY_DSN", "WP_APP_PASSWORD"].sort(),
    );
    expect(Object.keys(secretEnv(config.secrets, config.dashboard.secrets)).sort()).toEqual(config.dashboard.secrets.slice().sort());
  });

  it("optional ones may be left out; Langfuse needs both keys or neither", () => {
    expect(() => parseConfig(raw(production()))).not.toThrow();
    const problems = problemsOf(raw(production(), { ...dummySecrets, langfusePublicKey: "pk-lf-x" }));
    expect(problems).toEqual([expect.stringContaining("platform:langfuseSecretKey is required (Langfuse needs both keys, or neither)")]);
  });

  it("a missing OAuth secret is required only while its identity provider is used", () => {
    const { githubOauthClientSecret: _dropped, ...withoutGithub } = dummySecrets;
    expect(problemsOf(raw(production(), withoutGithub))).toEqual([expect.stringContaining("platform:githubOauthClientSecret is required")]);
    const googleOnly = merge(production(), { dashboard: { access: { identityProviders: ["google"], githubClientId: null } } });
    expect(() => parseConfig(raw(googleOnly, withoutGithub))).not.toThrow();
  });

  it("never prints a secret's value", () => {
    const problems = problemsOf(raw(merge(production(), { anthropicApiKey: "sk-ant-leaked" })));
    expect(problems.join("\n")).not.toContain("sk-ant-leaked");
    expect(problems).toEqual([expect.stringContaining("platform:anthropicApiKey is a secret and must be set with `--secret`")]);
  });
});

type Case = [label: string, change: Json, key: string, rule: string];

const { anthropicApiKey: _anthropic, ...secretsWithoutAnthropic } = dummySecrets;

describe.each<Case>([
  ["an unknown Fly region", { fly: { region: "xyz" } }, "platform:fly.region", "must be one of ams, arn"],
  ["memory not a multiple of 256", { worker: { guest: { memoryMb: 3000 } } }, "platform:worker.guest.memoryMb", "must be a multiple of 256, got 3000"],
  ["memory above the cpu kind's max", { worker: { guest: { cpus: 1, memoryMb: 3072 } } }, "platform:worker.guest.memoryMb", "must be between 256 and 2048 for 1 shared cpu(s)"],
  ["an unknown cpu kind", { dashboard: { guest: { cpuKind: "dedicated" } } }, "platform:dashboard.guest.cpuKind", "must be one of shared, performance"],
  ["a cpu count the kind does not offer", { dashboard: { guest: { cpus: 3 } } }, "platform:dashboard.guest.cpus", "must be one of 1, 2, 4, 6, 8 for cpuKind shared"],
  ["a health check interval of 30000s", { dashboard: { checks: [{ interval: "30000s", timeout: "5s" }] } }, "platform:dashboard.checks[0].interval", "must be between 1s and 1h"],
  ["a timeout longer than the interval", { dashboard: { checks: [{ interval: "30s", timeout: "5000s" }] } }, "platform:dashboard.checks[0].timeout", "between 1s and the interval"],
  ["an invalid app name", { worker: { appName: "Naluma_Content" } }, "platform:worker.appName", "1-63 lowercase letters, digits or dashes"],
  ["a malformed email", { dashboard: { access: { allowedEmails: ["admin@"] } } }, "platform:dashboard.access.allowedEmails[0]", "must be an email address"],
  ["an empty Access allow list", { dashboard: { access: { allowedEmails: [] } } }, "platform:dashboard.access.allowedEmails", "is required"],
  ["a bad autostop", { dashboard: { autostop: "sometimes" } }, "platform:dashboard.autostop", "must be one of off, stop, suspend"],
  ["a bad prefect mode", { prefect: { mode: "embedded" } }, "platform:prefect.mode", "must be one of colocated, standalone"],
  ["a volume for the Prefect server", { prefect: { mode: "standalone", server: { volume: { name: "data", path: "/data" } } } }, "platform:prefect.server.volume", "keeps its state in its PostgreSQL database"],
  ["a bad GitHub repository", { github: { repository: "content-pipeline" } }, "platform:github.repository", "as `owner/name`"],
  ["an unknown Neon region", { neon: { regionId: "eu-central-1" } }, "platform:neon.regionId", "must be one of aws-us-east-1"],
  ["an unsupported Postgres version", { neon: { pgVersion: 12 } }, "platform:neon.pgVersion", "must be between 14 and 18"],
  ["a compute size Neon does not offer", { neon: { compute: { minCu: 0.3 } } }, "platform:neon.compute.minCu", "0.25, 0.5 or a whole number"],
  ["a bad cron schedule", { worker: { cronMachines: [{ name: "cron", schedule: "every-minute", command: ["run"] }] } }, "platform:worker.cronMachines[0].schedule", "must be one of hourly, daily, weekly, monthly"],
  ["a bad process group name", { worker: { processes: { "Web App": {} } } }, "platform:worker.processes.Web App", "a Fly process group"],
  ["a malformed domain", { cloudflare: { domain: "naluma" } }, "platform:cloudflare.domain", "a lowercase domain name"],
  ["a dashboard on the zone apex", { dashboard: { hostname: "naluma.space" } }, "platform:dashboard.hostname", "a subdomain of it, not the apex"],
  ["a dashboard outside the zone", { dashboard: { hostname: "dashboard.example.com" } }, "platform:dashboard.hostname", "must be in the zone"],
  ["a mistyped key", { worker: { gest: { cpus: 2 } } }, "platform:worker.gest", "is not a setting this program reads"],
  ["an unknown top-level key", { wroker: {} }, "platform:wroker", "is not a key this program reads"],
  ["a production stack naming a production stack", { productionStack: "organization/platform/production" }, "platform:productionStack", "must not be set while platform:neon.ownsProject is true"],
  ["a branch stack without the production stack", { neon: { ownsProject: false, branchName: "staging" } }, "platform:productionStack", "needed while platform:neon.ownsProject is false"],
  ["a bad environment", { environment: "prod" }, "platform:environment", "must be one of production, staging, preview"],
  ["a staging reset on the project's own branch", { neon: { resetFromParent: "2026-11-23" } }, "platform:neon.resetFromParent", "only applies to a branch stack"],
  ["Fly egress addresses in a branch stack's allowlist", { neon: { ownsProject: false, branchName: "staging", allowFlyEgress: true } }, "platform:neon.allowFlyEgress", "only applies to the stack that owns the project"],
  ["an allowed IP with an impossible prefix", { neon: { allowedIps: ["203.0.113.7", "203.0.113.0/99"] } }, "platform:neon.allowedIps[1]", "an IP address, a CIDR"],
  ["an allowed IP that is no address", { neon: { allowedIps: ["::::"] } }, "platform:neon.allowedIps[0]", "an IP address, a CIDR"],
  ["an allowed range across address families", { neon: { allowedIps: ["203.0.113.1-2001:db8::1"] } }, "platform:neon.allowedIps[0]", "an IP address, a CIDR"],
  ["an allowFlyEgress that is not a flag", { neon: { allowFlyEgress: "yes" } }, "platform:neon.allowFlyEgress", "must be true or false"],
  ["a protect that is not a flag", { protect: "yes" }, "platform:protect", "must be true or false"],
  ["the retired neon.protected", { neon: { protected: true } }, "platform:neon.protected", "was replaced by platform:protect"],
  // The providers' rules, imported: names the postgres and neon providers would refuse never get past config.
  ["a reserved role name", { neon: { roles: { app: "public" } } }, "platform:neon.roles.app", "must not be one of public, none, current_user, current_role, session_user"],
  ["a pg_ role name", { neon: { roles: { migrations: "pg_migrations" } } }, "platform:neon.roles.migrations", "must not start with pg_"],
  ["a database name with a NUL", { neon: { databases: { prefect: "prefect\u0000server" } } }, "platform:neon.databases.prefect", "must not contain a NUL character"],
  ["a branch name with a newline", { neon: { ownsProject: false, branchName: "preview\nx" } }, "platform:neon.branchName", "must not contain control characters"],
  ["an env name with an equals sign", { worker: { env: { "A=B": "x" } } }, "platform:worker.env.A=B", "must be named with letters, digits and underscores"],
])("%s is refused", (_label, change, key, rule) => {
  it("with a message naming the key, the rule and the fix", () => {
    const problems = problemsOf(raw(merge(production(), change)));
    const problem = problems.find((text) => text.startsWith(`${key} `));
    expect(problem, problems.join("\n")).toBeDefined();
    expect(problem).toContain(rule);
    expect(problem).toMatch(/; (set it with `pulumi config set|remove it with `pulumi config rm)/);
  });
});

describe("the IP allowlist (seed 000 §4)", () => {
  it("takes addresses, CIDRs and ranges of either family", () => {
    const allowedIps = ["203.0.113.7", "198.51.100.0/24", "192.0.2.1-192.0.2.9", "2001:db8::/32", "2001:db8::1"];
    expect(parseConfig(raw(merge(production(), { neon: { allowedIps } }))).neon.allowedIps).toEqual(allowedIps);
  });

  it("takes no Fly egress addresses unless asked, and takes them in the owning stack", () => {
    expect(parseConfig(raw(stackValues("staging"))).neon).toMatchObject({ allowedIps: [], allowFlyEgress: false, protectedBranchesOnly: false });
    // The committed production stack feeds the apps' egress IPs to the allowlist, for main only (seed 000 §4).
    expect(parseConfig(raw(production())).neon).toMatchObject({ allowedIps: [], allowFlyEgress: true, protectedBranchesOnly: true });
    const owner = parseConfig(raw(merge(production(), { neon: { allowFlyEgress: true, allowedIps: ["203.0.113.7"], protectedBranchesOnly: true } })));
    expect(owner.neon).toMatchObject({ allowedIps: ["203.0.113.7"], allowFlyEgress: true, protectedBranchesOnly: true });
  });
});

describe("Neon compute sizes", () => {
  it("accepts every size the neon:Endpoint provider accepts (0.25, 0.5, whole CU)", () => {
    const parsed = parseConfig(raw(merge(production(), { neon: { compute: { minCu: 0.5, maxCu: 4 } } })));
    expect(parsed.neon.compute).toMatchObject({ minCu: 0.5, maxCu: 4 });
  });
});

describe("the staging reset (seed 000 §4)", () => {
  it("is a trigger a branch stack passes to its branch", () => {
    const staging = parseConfig(raw(merge(stackValues("staging"), { neon: { resetFromParent: "2026-11-23" } })));
    expect(staging.neon.resetFromParent).toBe("2026-11-23");
    expect(parseConfig(raw(stackValues("staging"))).neon.resetFromParent).toBeUndefined();
  });
});

describe("a missing required secret", () => {
  it("is refused naming the key and the command that sets it", () => {
    expect(problemsOf(raw(production(), secretsWithoutAnthropic))).toEqual([
      "platform:anthropicApiKey is required: the Anthropic API key (sk-ant-…), set on the apps as ANTHROPIC_API_KEY; set it with `pulumi config set --secret platform:anthropicApiKey <value>`",
    ]);
  });
});

describe("a preview stack (seed 003)", () => {
  it("must name its own apps and branch", () => {
    const problems = problemsOf(
      raw({ environment: "preview", productionStack: "organization/platform/staging", dashboard: { access: { allowedEmails: ["a@example.com"] } } }),
    );
    for (const key of ["platform:worker.appName", "platform:dashboard.appName", "platform:dashboard.hostname", "platform:neon.branchName"]) {
      expect(problems.some((text) => text.startsWith(`${key} is required`)), key).toBe(true);
    }
  });

  it("parses once it does", () => {
    const config: PlatformConfig = parseConfig(
      raw({
        environment: "preview",
        productionStack: "organization/platform/staging",
        worker: { appName: "addabutton-naluma-content" },
        dashboard: { appName: "addabutton-naluma-dashboard", hostname: "addabutton-dashboard.naluma.space", access: { allowedEmails: ["a@example.com"] } },
        neon: { branchName: "preview-addabutton" },
      }),
    );
    expect([config.worker.image, config.neon.ownsProject, config.docs.enabled]).toEqual(["registry.fly.io/addabutton-naluma-content:latest", false, false]);
  });
});

describe("all errors together", () => {
  it("reports every problem in one error, not the first one", () => {
    const wrong = merge(production(), {
      fly: { region: "xyz" },
      worker: { appName: "Bad_Name", guest: { memoryMb: 300 } },
      dashboard: { autostop: "sometimes", checks: [{ interval: "30000s" }], access: { allowedEmails: ["nope"] } },
      prefect: { mode: "embedded" },
      github: { repository: "x" },
    });
    let error: unknown;
    try {
      parseConfig(raw(wrong, secretsWithoutAnthropic));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    const keys = [
      "platform:fly.region",
      "platform:worker.appName",
      "platform:worker.guest.memoryMb",
      "platform:dashboard.autostop",
      "platform:dashboard.checks[0].interval",
      "platform:dashboard.access.allowedEmails[0]",
      "platform:prefect.mode",
      "platform:github.repository",
      "platform:anthropicApiKey",
    ];
    for (const key of keys) expect(problems.some((text) => text.startsWith(`${key} `)), key).toBe(true);
    expect(message).toContain(`stack config has ${problems.length} problem(s)`);
    for (const problem of problems) expect(message).toContain(problem);
  });
});

describe("loadConfig", () => {
  /** The engine hands the program every `project:key` as text (objects as JSON) and names the secret ones. */
  function setStackConfig(values: Json, secrets: Record<string, string>): void {
    const all: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) all[`platform:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    for (const [key, value] of Object.entries(secrets)) all[`platform:${key}`] = value;
    pulumi.runtime.setAllConfig(all, Object.keys(secrets).map((key) => `platform:${key}`));
  }

  it("reads the committed production stack through pulumi.Config, secrets as secrets", async () => {
    setStackConfig(merge(userProvided, production()), dummySecrets as Record<string, string>);
    const config = loadConfig();
    expect(config.worker.appName).toBe("naluma-content");
    expect(config.protect).toBe(true);
    expect(await pulumi.isSecret(config.secrets.wpAppPassword)).toBe(true);
  });

  it("reports unknown keys by name only and a section set to text, with the rest", () => {
    setStackConfig({ ...merge(userProvided, production()), worker: "naluma-content", antropicApiKey: "sk-ant-typo" }, {});
    let error: unknown;
    try {
      loadConfig();
    } catch (caught) {
      error = caught;
    }
    const problems = (error as ConfigError).problems;
    expect(problems.some((text) => text.startsWith("platform:antropicApiKey is not a key this program reads"))).toBe(true);
    expect(problems.some((text) => text.startsWith("platform:worker must be an object"))).toBe(true);
    expect(problems.some((text) => text.startsWith("platform:anthropicApiKey is required"))).toBe(true);
    expect(problems.join("\n")).not.toContain("sk-ant-typo");
  });
});
