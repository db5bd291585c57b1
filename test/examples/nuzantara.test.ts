/**
 * Seed 002 (NUZANTARA, deployment guide v5.2.0) element by element, for each stack file of examples/nuzantara
 * under the mock runtime: the Fly backends, their secrets, the Worker, the Pages project, the R2 bucket and the
 * deploy tokens; the proxy script's behaviour; every secret kept secret; and a table of wrong config refused.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  dependsOn,
  expectConfigError,
  exported,
  exportValue,
  flySecrets,
  isSecret,
  type Json,
  plainStrings,
  type ProgramRunOptions,
  resource,
  resourcesOf,
  reveal,
  runProgram,
  stackNames,
  type StackRun,
} from "../programs/program-harness";
import { generatedSecrets, pagesWriteGroupId, providerCall, types as sharedTypes } from "../programs/provider-mocks";

const dir = "examples/nuzantara";
const proxyPath = join(__dirname, "..", "..", dir, "proxy", "index.js");

const types = {
  ...sharedTypes,
  flyVolume: "pulumi-nodejs:dynamic/fly:Volume",
  workersScript: "cloudflare:index/workersScript:WorkersScript",
  workersRoute: "cloudflare:index/workersRoute:WorkersRoute",
  r2Bucket: "cloudflare:index/r2Bucket:R2Bucket",
  deploymentPolicy: "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
  githubProvider: "pulumi:providers:github",
} as const;

const accountId = "0123456789abcdef0123456789abcdef";
const zoneId = "fedcba9876543210fedcba9876543210";
/** What each user sets per stack and never commits (the stack files' headers). */
const provided: Json = { cloudflare: { accountId, zoneId }, github: { repository: "balizero/nuzantara" } };

/** `pulumi config set --secret nuzantara:<key>` values. */
const dummySecrets = {
  anthropicApiKey: "sk-ant-dummy-nuzantara-1a2b",
  openaiApiKey: "sk-dummy-nuzantara-openai-3c4d",
  databaseUrl: "postgres://nuzantara_rag:dummy-pg-pass-5e6f@nuzantara-postgres.flycast:5432/nuzantara_rag",
  redisUrl: "rediss://default:dummy-redis-pass-7a8b@nuzantara.upstash.io:6379",
};
const secretEnv = {
  ANTHROPIC_API_KEY: dummySecrets.anthropicApiKey,
  OPENAI_API_KEY: dummySecrets.openaiApiKey,
  DATABASE_URL: dummySecrets.databaseUrl,
  REDIS_URL: dummySecrets.redisUrl,
};

/** The R2 token the mocks make, and the S3 credentials R2 derives from it. */
const r2TokenValue = "cf-dummy-r2-token-9q7w";
const r2SecretAccessKey = createHash("sha256").update(r2TokenValue).digest("hex");
const r2AccessKeyId = "backups-token-id";
const r2WriteGroupId = "pg-r2-bucket-item-write";
const permissionGroupsToken = "cloudflare:index/getAccountApiTokenPermissionGroupsList:getAccountApiTokenPermissionGroupsList";

const productionStack = "organization/nuzantara/production";

/** The guide's values and what each stack file says about them. */
const expected = {
  production: {
    backend: "nuzantara-backend",
    rag: "nuzantara-rag",
    proxy: "nuzantara-proxy",
    route: "api.nuzantara.com/*",
    autostop: "off",
    minMachines: 1,
    frontendUrl: "https://nuzantara.pages.dev",
  },
  staging: {
    backend: "nuzantara-backend-staging",
    rag: "nuzantara-rag-staging",
    proxy: "nuzantara-proxy-staging",
    route: "api-staging.nuzantara.com/*",
    autostop: "stop",
    minMachines: 0,
    frontendUrl: "https://staging.nuzantara.pages.dev",
  },
} as const;
type Stack = keyof typeof expected;

const ragEnv = {
  CHROMA_DB_PATH: "/data/chroma_db_FULL_deploy",
  EMBEDDING_DIMENSIONS: "1536",
  EMBEDDING_MODEL: "text-embedding-3-small",
  EMBEDDING_PROVIDER: "openai",
  NODE_ENV: "production",
  PORT: "8000",
};
const healthCheck = { type: "http", method: "GET", path: "/health", interval: "30s", timeout: "5s", gracePeriod: "1m0s" };

/** The production stack's outputs, which the staging stack reads through its StackReference. */
let productionOutputs: Json = {};

function options(stack: string, extra: Partial<ProgramRunOptions> = {}): ProgramRunOptions {
  return {
    dir,
    stack,
    provided,
    secrets: dummySecrets,
    stackReferences: () => productionOutputs,
    outputsFor: (type, name) => (type === types.accountToken && name === "backups-token" ? { value: r2TokenValue } : undefined),
    calls: (args) => {
      if (args.token !== permissionGroupsToken) return undefined;
      const groups = (providerCall(args)?.results as Json[] | undefined) ?? [];
      return { results: [...groups, { id: r2WriteGroupId, name: "Workers R2 Storage Bucket Item Write", category: "r2", isSelectable: true, scopes: [] }] };
    },
    ...extra,
  };
}

const runs: Partial<Record<Stack, StackRun>> = {};

beforeAll(async () => {
  runs.production = await runProgram(options("production"));
  productionOutputs = { frontendBranchUrls: (await exported(runs.production, "frontendBranchUrls")).value };
  runs.staging = await runProgram(options("staging"));
});

function runOf(stack: Stack): StackRun {
  const run = runs[stack];
  if (!run) throw new Error(`stack ${stack} did not run`);
  return run;
}




it("every stack file of examples/nuzantara runs: production and staging", () => {
  expect(stackNames(dir)).toEqual(["production", "staging"]);
  expect(Object.keys(runs).sort()).toEqual(["production", "staging"]);
});

describe.each(["production", "staging"] as const)("%s: seed 002", (stack) => {
  const want = expected[stack];

  describe("Fly.io: Backend-TS", () => {
    it(`app ${want.backend} in region sin, organization personal`, () => {
      const run = runOf(stack);
      expect(resource(run, types.flyApp, "backend").inputs).toMatchObject({ name: want.backend, orgSlug: "personal" });
      expect(resource(run, types.flyMachine, "backend-app-0").inputs).toMatchObject({ appName: want.backend, region: "sin", processGroup: "app" });
    });

    it("1GB RAM, 1 CPU (shared)", () => {
      expect(resource(runOf(stack), types.flyMachine, "backend-app-0").inputs.guest).toEqual({ cpuKind: "shared", cpus: 1, memoryMb: 1024 });
    });

    it(`port 8080 behind HTTPS, autostop ${want.autostop}, min machines ${want.minMachines}, GET /health checked`, () => {
      const machine = resource(runOf(stack), types.flyMachine, "backend-app-0").inputs;
      expect(machine.services).toMatchObject([
        {
          protocol: "tcp",
          internalPort: 8080,
          ports: [
            { port: 80, handlers: ["http"], forceHttps: true },
            { port: 443, handlers: ["tls", "http"] },
          ],
          autostop: want.autostop,
          autostart: true,
          minMachinesRunning: want.minMachines,
          checks: [healthCheck],
        },
      ]);
      expect(machine.env).toMatchObject({ PORT: "8080", NODE_ENV: "production" });
    });

    it("secrets DATABASE_URL and REDIS_URL from the user's config, secret", () => {
      expect(flySecrets(runOf(stack), "backend-secrets")).toEqual({ DATABASE_URL: dummySecrets.databaseUrl, REDIS_URL: dummySecrets.redisUrl });
    });

    it(`URL https://${want.backend}.fly.dev`, async () => {
      expect(await exportValue(runOf(stack), "backendUrl")).toBe(`https://${want.backend}.fly.dev`);
      expect(await exportValue(runOf(stack), "backendAppName")).toBe(want.backend);
    });
  });

  describe("Fly.io: Backend-RAG (fly.toml)", () => {
    it(`app = '${want.rag}', primary_region = 'sin'`, () => {
      const run = runOf(stack);
      expect(resource(run, types.flyApp, "rag").inputs).toMatchObject({ name: want.rag, orgSlug: "personal" });
      expect(resource(run, types.flyMachine, "rag-app-0").inputs).toMatchObject({ appName: want.rag, region: "sin", image: `registry.fly.io/${want.rag}:latest` });
    });

    it("kill_signal = 'SIGTERM', kill_timeout = '30s'", () => {
      expect(resource(runOf(stack), types.flyMachine, "rag-app-0").inputs.stop).toEqual({ signal: "SIGTERM", timeout: "30s" });
    });

    it("[env]: CHROMA_DB_PATH, EMBEDDING_DIMENSIONS, EMBEDDING_MODEL, EMBEDDING_PROVIDER, NODE_ENV, PORT, plain", () => {
      const env = resource(runOf(stack), types.flyMachine, "rag-app-0").inputs.env;
      expect(isSecret(env)).toBe(false);
      expect(env).toEqual(ragEnv);
    });

    it("[[mounts]] source 'chroma_data_complete' at /data/chroma_db_FULL_deploy, the volume in sin", () => {
      const run = runOf(stack);
      const volume = resource(run, types.flyVolume, "rag-chroma_data_complete-app-0");
      expect(volume.inputs).toMatchObject({ appName: want.rag, name: "chroma_data_complete", region: "sin" });
      expect(resource(run, types.flyMachine, "rag-app-0").inputs.mounts).toEqual([{ volume: "vol_ragchromadatacompleteapp0", path: "/data/chroma_db_FULL_deploy" }]);
    });

    it(`[http_service] internal_port 8000, force_https, auto_stop ${want.autostop}, auto_start, min_machines_running ${want.minMachines}, processes ['app']`, () => {
      const machine = resource(runOf(stack), types.flyMachine, "rag-app-0").inputs;
      expect(machine.processGroup).toBe("app");
      expect(machine.services).toMatchObject([
        {
          internalPort: 8000,
          ports: [
            { port: 80, handlers: ["http"], forceHttps: true },
            { port: 443, handlers: ["tls", "http"] },
          ],
          autostop: want.autostop,
          autostart: true,
          minMachinesRunning: want.minMachines,
        },
      ]);
    });

    it("[[http_service.checks]] GET /health every 30s, timeout 5s, grace 1m0s", () => {
      const [service] = resource(runOf(stack), types.flyMachine, "rag-app-0").inputs.services as Json[];
      expect(service.checks).toEqual([healthCheck]);
    });

    it("[[vm]] memory 2gb, cpu_kind shared, cpus 2", () => {
      expect(resource(runOf(stack), types.flyMachine, "rag-app-0").inputs.guest).toEqual({ cpuKind: "shared", cpus: 2, memoryMb: 2048 });
    });

    it.each(["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "DATABASE_URL"] as const)("fly secrets set %s -a nuzantara-rag: the user's secret", (name) => {
      expect(flySecrets(runOf(stack), "rag-secrets")[name]).toBe(secretEnv[name]);
    });

    it("REDIS_URL (Upstash / Fly Redis, kept outside the platform) on both backends", () => {
      const run = runOf(stack);
      expect(flySecrets(run, "rag-secrets").REDIS_URL).toBe(dummySecrets.redisUrl);
      expect(flySecrets(run, "backend-secrets").REDIS_URL).toBe(dummySecrets.redisUrl);
    });

    it("no secret is plain env on any machine", () => {
      const secretNames = [...Object.keys(secretEnv), "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"];
      for (const machine of resourcesOf(runOf(stack), types.flyMachine)) {
        expect(Object.keys(machine.inputs.env as Json).filter((name) => secretNames.includes(name))).toEqual([]);
      }
    });

    it("fly postgres (nuzantara-postgres) is not managed: DATABASE_URL is the user's secret, no app or machine for it", () => {
      const run = runOf(stack);
      expect(resourcesOf(run, types.flyApp).map((app) => app.inputs.name)).toEqual([want.backend, want.rag]);
      expect(flySecrets(run, "rag-secrets").DATABASE_URL).toBe(dummySecrets.databaseUrl);
    });

    it(`URL https://${want.rag}.fly.dev`, async () => {
      expect(await exportValue(runOf(stack), "ragUrl")).toBe(`https://${want.rag}.fly.dev`);
    });
  });

  describe("Cloudflare Workers (Proxy)", () => {
    it(`name = "${want.proxy}", main from proxy/index.js, compatibility_date = "2025-01-01"`, () => {
      const script = resource(runOf(stack), types.workersScript, "proxy-script").inputs;
      expect(script).toMatchObject({ accountId, scriptName: want.proxy, mainModule: "index.js", compatibilityDate: "2025-01-01" });
      expect(script.content).toBe(readFileSync(proxyPath, "utf8"));
    });

    it("[vars] BACKEND_TS_URL and BACKEND_RAG_URL are the two apps' url outputs, by value", async () => {
      const run = runOf(stack);
      const bindings = resource(run, types.workersScript, "proxy-script").inputs.bindings;
      expect(bindings).toEqual([
        { name: "BACKEND_TS_URL", type: "plain_text", text: await exportValue(run, "backendUrl") },
        { name: "BACKEND_RAG_URL", type: "plain_text", text: await exportValue(run, "ragUrl") },
      ]);
      expect(reveal(bindings)).toEqual([
        { name: "BACKEND_TS_URL", type: "plain_text", text: `https://${want.backend}.fly.dev` },
        { name: "BACKEND_RAG_URL", type: "plain_text", text: `https://${want.rag}.fly.dev` },
      ]);
    });

    it(`[[routes]] pattern "${want.route}" in the zone of nuzantara.com`, async () => {
      const run = runOf(stack);
      const route = resource(run, types.workersRoute, `proxy-route-${want.route}`);
      expect(route.inputs).toEqual({ zoneId, pattern: want.route, script: want.proxy });
      expect(resourcesOf(run, types.workersRoute)).toHaveLength(1);
      expect(await exportValue(run, "proxyRoutes")).toEqual([want.route]);
    });
  });

  describe("CI/CD: deploy tokens", () => {
    it.each([
      ["FLY_API_TOKEN", "rag"],
      ["FLY_API_TOKEN_BACKEND", "backend"],
    ] as const)(`%s: the %s app's own deploy token, a secret of GitHub environment ${stack}`, (secretName, app) => {
      const run = runOf(stack);
      const appName = app === "rag" ? want.rag : want.backend;
      expect(resource(run, types.flyDeployToken, `${app}-deploy-token`).inputs).toMatchObject({ appName });
      const secret = resource(run, types.actionsEnvironmentSecret, `github-${stack}-secret-${secretName}`);
      expect(reveal(secret.inputs)).toEqual({
        repository: "nuzantara",
        environment: stack,
        secretName,
        value: generatedSecrets.deployToken(`${app}-deploy-token`),
      });
      expect(isSecret(secret.inputs.value)).toBe(true);
      expect(dependsOn(secret, `${app}-deploy-token`)).toBe(true);
    });

    it(`GitHub environment ${stack} in balizero/nuzantara (the provider's owner)`, async () => {
      const run = runOf(stack);
      expect(resource(run, types.repositoryEnvironment, `github-${stack}`).inputs).toMatchObject({ repository: "nuzantara", environment: stack });
      expect(resource(run, types.githubProvider, "github").inputs).toMatchObject({ owner: "balizero" });
      expect(await exportValue(run, "githubEnvironment")).toBe(stack);
    });
  });

  it(`frontend URL ${want.frontendUrl}`, async () => {
    expect(await exportValue(runOf(stack), "frontendUrl")).toBe(want.frontendUrl);
  });

  it("every user secret, deploy token and Cloudflare token stays secret in every registration", () => {
    const run = runOf(stack);
    const values = [
      ...Object.values(dummySecrets),
      generatedSecrets.deployToken("rag-deploy-token"),
      generatedSecrets.deployToken("backend-deploy-token"),
      generatedSecrets.cloudflareToken,
      r2TokenValue,
      r2SecretAccessKey,
      r2AccessKeyId,
    ];
    const leaks = run.registrations.flatMap((registration) =>
      plainStrings(registration.inputs)
        .filter((entry) => values.some((value) => entry.value.includes(value)))
        .map((entry) => `${registration.type} ${registration.name} ${entry.path}`),
    );
    expect(leaks).toEqual([]);
  });
});

describe("production only", () => {
  it("[deploy] strategy = 'rolling': with `fly scale count 2` the second machine waits for the first", async () => {
    const run = await runProgram(options("production", { overrides: { rag: { count: 2 } } }));
    const second = resource(run, types.flyMachine, "rag-app-1");
    expect(dependsOn(second, "rag-app-0")).toBe(true);
    // Each machine mounts its own chroma_data_complete volume, as `fly scale count` makes them.
    expect(resourcesOf(run, types.flyVolume).map((volume) => volume.inputs.name)).toEqual(["chroma_data_complete", "chroma_data_complete"]);
  });

  it("Pages: project nuzantara, production branch main, serving the staging branch too", async () => {
    const run = runOf("production");
    expect(resource(run, types.pagesProject, "frontend-pages").inputs).toMatchObject({ accountId, name: "nuzantara", productionBranch: "main" });
    expect(await exportValue(run, "frontendBranchUrls")).toEqual({ staging: "https://staging.nuzantara.pages.dev" });
  });

  it("GitHub secret CF_API_TOKEN: a token made for Pages Write on this account only, secret; CF_ACCOUNT_ID beside it", () => {
    const run = runOf("production");
    expect(resource(run, types.accountToken, "frontend-deploy-token").inputs).toMatchObject({
      accountId,
      policies: [{ effect: "allow", permissionGroups: [{ id: pagesWriteGroupId }], resources: JSON.stringify({ [`com.cloudflare.api.account.${accountId}`]: "*" }) }],
    });
    const token = resource(run, types.actionsSecret, "frontend-api-token");
    expect(reveal(token.inputs)).toEqual({ repository: "nuzantara", secretName: "CF_API_TOKEN", value: generatedSecrets.cloudflareToken });
    expect(isSecret(token.inputs.value)).toBe(true);
    expect(reveal(resource(run, types.actionsSecret, "frontend-account-id").inputs)).toEqual({ repository: "nuzantara", secretName: "CF_ACCOUNT_ID", value: accountId });
  });

  it("only main may deploy with the production environment's tokens (the workflow's `on: push: branches: [main]`)", () => {
    const run = runOf("production");
    expect(resource(run, types.deploymentPolicy, "github-production-branch-main").inputs).toMatchObject({ repository: "nuzantara", environment: "production", branchPattern: "main" });
    expect(resource(run, types.repositoryEnvironment, "github-production").inputs).toMatchObject({
      deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
    });
  });

  it("R2 bucket nuzantara-backups, with a token for its objects only", () => {
    const run = runOf("production");
    expect(resource(run, types.r2Bucket, "backups-bucket").inputs).toMatchObject({ accountId, name: "nuzantara-backups", jurisdiction: "default" });
    expect(resource(run, types.accountToken, "backups-token").inputs).toMatchObject({
      accountId,
      policies: [
        {
          effect: "allow",
          permissionGroups: [{ id: r2WriteGroupId }],
          resources: JSON.stringify({ [`com.cloudflare.edge.r2.bucket.${accountId}_default_nuzantara-backups`]: "*" }),
        },
      ],
    });
  });

  it("the backup bucket's S3 settings go to nuzantara-rag's secrets and to the outputs, credentials secret", async () => {
    const run = runOf("production");
    const endpoint = `https://${accountId}.r2.cloudflarestorage.com`;
    expect(flySecrets(run, "rag-secrets")).toEqual({
      ...secretEnv,
      R2_ACCESS_KEY_ID: r2AccessKeyId,
      R2_SECRET_ACCESS_KEY: r2SecretAccessKey,
      R2_ENDPOINT: endpoint,
      R2_BUCKET_NAME: "nuzantara-backups",
    });
    expect(await exported(run, "backupsAccessKeyId")).toEqual({ value: r2AccessKeyId, secret: true });
    expect(await exported(run, "backupsSecretAccessKey")).toEqual({ value: r2SecretAccessKey, secret: true });
    expect(await exported(run, "backupsEndpoint")).toEqual({ value: endpoint, secret: false });
    expect(await exported(run, "backupsBucket")).toEqual({ value: "nuzantara-backups", secret: false });
  });

  it("api.nuzantara.com keeps its existing DNS record: none is made", () => {
    expect(resourcesOf(runOf("production"), types.dnsRecord)).toEqual([]);
  });

  it("reads no other stack", () => {
    expect(resourcesOf(runOf("production"), types.stackReference)).toEqual([]);
  });
});

describe("staging only", () => {
  it("the Pages project is production's: no project, no Cloudflare token, no repository secret here", () => {
    const run = runOf("staging");
    expect([...resourcesOf(run, types.pagesProject), ...resourcesOf(run, types.accountToken), ...resourcesOf(run, types.actionsSecret)]).toEqual([]);
  });

  it("its frontend URL is read from the production stack's frontendBranchUrls (StackReference productionStack)", async () => {
    const run = runOf("staging");
    expect(resourcesOf(run, types.stackReference).map((reference) => [reference.name, reference.read, reference.inputs.name])).toEqual([
      [productionStack, true, productionStack],
    ]);
    expect(await exportValue(run, "frontendUrl")).toBe("https://staging.nuzantara.pages.dev");
  });

  it("the proxy's staging host api-staging.nuzantara.com gets its proxied DNS record (no origin behind it)", () => {
    expect(resource(runOf("staging"), types.dnsRecord, "proxy-dns").inputs).toMatchObject({
      zoneId,
      name: "api-staging.nuzantara.com",
      type: "AAAA",
      content: "100::",
      proxied: true,
    });
  });

  it("no backup bucket: ChromaDB backups are production's; the RAG app gets no R2 settings", async () => {
    const run = runOf("staging");
    expect([...resourcesOf(run, types.r2Bucket), ...resourcesOf(run, types.accountToken)]).toEqual([]);
    expect(Object.keys(flySecrets(run, "rag-secrets")).sort()).toEqual(Object.keys(secretEnv).sort());
    expect(await exportValue(run, "backupsBucket")).toBeUndefined();
  });

  it("any branch may deploy to the staging environment", () => {
    const run = runOf("staging");
    expect(resourcesOf(run, types.deploymentPolicy)).toEqual([]);
    expect(resource(run, types.repositoryEnvironment, "github-staging").inputs.deploymentBranchPolicy).toBeUndefined();
  });
});

describe("the proxy script (proxy/index.js)", () => {
  interface ProxyModule {
    default: { fetch(request: Request, env: Record<string, string>): Promise<Response> };
  }
  const env = { BACKEND_TS_URL: "https://nuzantara-backend.fly.dev", BACKEND_RAG_URL: "https://nuzantara-rag.fly.dev" };
  const forwarded: Request[] = [];

  async function proxied(url: string, init?: RequestInit): Promise<Response> {
    vi.stubGlobal("fetch", async (request: Request) => {
      forwarded.push(request);
      return new Response("from the backend", { status: 201, headers: { "Content-Type": "text/plain", "X-Frame-Options": "SAMEORIGIN" } });
    });
    const proxy = (await import(/* @vite-ignore */ proxyPath)) as ProxyModule;
    return proxy.default.fetch(new Request(url, init), env);
  }

  afterEach(() => {
    vi.unstubAllGlobals();
    forwarded.length = 0;
  });

  it.each([
    ["https://api.nuzantara.com/rag/query?q=visa", "https://nuzantara-rag.fly.dev/rag/query?q=visa"],
    ["https://api.nuzantara.com/rag", "https://nuzantara-rag.fly.dev/rag"],
    ["https://api.nuzantara.com/health", "https://nuzantara-backend.fly.dev/health"],
    ["https://api.nuzantara.com/ragged", "https://nuzantara-backend.fly.dev/ragged"],
    // A path starting with `//` is still a path on the backend, never another host (no open proxy).
    ["https://api.nuzantara.com//evil.example/steal?x=1", "https://nuzantara-backend.fly.dev//evil.example/steal?x=1"],
  ])("forwards %s to %s", async (incoming, target) => {
    await proxied(incoming, { headers: { Authorization: "Bearer t" } });
    expect(forwarded.map((request) => request.url)).toEqual([target]);
    expect(forwarded[0].headers.get("Authorization")).toBe("Bearer t");
  });

  it("sets the guide's security headers on the backend's response, keeping its status, body and other headers", async () => {
    const response = await proxied("https://api.nuzantara.com/performance");
    expect(response.status).toBe(201);
    expect(await response.text()).toBe("from the backend");
    expect(Object.fromEntries(response.headers)).toMatchObject({
      "content-type": "text/plain",
      "x-frame-options": "DENY",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    });
  });
});

describe("wrong config is refused, naming the key", () => {
  it.each<[string, Json, string, string]>([
    ["max_machines_running is not a Fly setting", { rag: { maxMachinesRunning: 3 } }, "rag.maxMachinesRunning", "is not a setting this program reads"],
    ["a region Fly does not have", { fly: { region: "singapore" } }, "fly.region", "sin"],
    ["a memory size Fly refuses", { rag: { guest: { memoryMb: 300 } } }, "rag.guest.memoryMb", "multiple of 256"],
    ["the guide's old 30000s check interval", { rag: { checks: [{ ...healthCheck, interval: "30000s" }] } }, "rag.checks[0].interval", "between 1s and 1h"],
    ["an app name Fly refuses", { backend: { appName: "Nuzantara_Backend" } }, "backend.appName", "lowercase letters, digits or dashes"],
    ["CHROMA_DB_PATH set apart from the volume", { rag: { env: { CHROMA_DB_PATH: "/elsewhere" } } }, "rag.env.CHROMA_DB_PATH", "is set by the program"],
    ["a secret the program does not know", { rag: { secrets: ["STRIPE_API_KEY"] } }, "rag.secrets[0]", "one of ANTHROPIC_API_KEY, OPENAI_API_KEY, DATABASE_URL, REDIS_URL"],
    ["a kill signal Fly does not send", { rag: { killSignal: "SIGSTOP" } }, "rag.killSignal", "SIGTERM"],
    ["a relative mount path", { rag: { volume: { path: "data/chroma" } } }, "rag.volume.path", "an absolute path"],
    ["an autostop Fly does not have", { backend: { autostop: "sometimes" } }, "backend.autostop", "off"],
    ["an account id that is not 32 hex digits", { cloudflare: { accountId: "nuzantara" } }, "cloudflare.accountId", "32 hex digits"],
    ["no zone id", { cloudflare: { zoneId: null } }, "cloudflare.zoneId", "is required"],
    ["a repository without its owner", { github: { repository: "nuzantara" } }, "github.repository", "owner/name"],
    ["a URL where the proxy's hostname goes", { proxy: { hostname: "https://api.nuzantara.com" } }, "proxy.hostname", "a hostname in the zone"],
    ["a bucket name R2 refuses", { backups: { bucketName: "Nuzantara_Backups" } }, "backups.bucketName", "an R2 bucket name"],
  ])("production: %s", async (_case, overrides, key, rule) => {
    const problem = await expectConfigError(runProgram(options("production", { overrides })), key);
    expect(problem).toContain(rule);
  });

  it("a missing secret names its key and the set --secret command", async () => {
    const { databaseUrl: _omitted, ...others } = dummySecrets;
    const problem = await expectConfigError(runProgram(options("production", { secrets: others })), "databaseUrl");
    expect(problem).toContain("is required: the Fly Postgres (nuzantara-postgres) connection URL");
    expect(problem).toContain("pulumi config set --secret nuzantara:databaseUrl");
  });

  it("a secret no app receives is not required", async () => {
    const { anthropicApiKey: _omitted, ...others } = dummySecrets;
    const run = await runProgram(options("staging", { secrets: others, overrides: { rag: { secrets: ["OPENAI_API_KEY", "DATABASE_URL", "REDIS_URL"] } } }));
    expect(Object.keys(flySecrets(run, "rag-secrets")).sort()).toEqual(["DATABASE_URL", "OPENAI_API_KEY", "REDIS_URL"]);
  });

  it.each<[string, Json, string, string]>([
    ["staging without the branch it serves", { frontend: { branch: null } }, "frontend.branch", "is required"],
    ["staging naming the owner stack wrongly", { productionStack: "organization/nuzantara/production/extra" }, "productionStack", "organization/nuzantara/production"],
    ["a Pages setting only the owning stack reads", { frontend: { projectName: "nuzantara" } }, "frontend.projectName", "is not a setting this program reads"],
  ])("staging: %s", async (_case, overrides, key, rule) => {
    const problem = await expectConfigError(runProgram(options("staging", { overrides })), key);
    expect(problem).toContain(rule);
  });
});
