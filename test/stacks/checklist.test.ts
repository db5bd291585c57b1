/**
 * Seed 000 section by section, one `it` per item, for each committed stack: the resource exists under the
 * stack's program with the seed's values (names suffixed in staging, as its stack file says).
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  accessAud,
  dependsOn,
  dummySecrets,
  egressIpOf,
  exportValue,
  flySecrets,
  generatedSecrets,
  isSecret,
  pagesWriteGroupId,
  productionOutputs,
  resource,
  resourcesOf,
  reveal,
  runStack,
  type StackName,
  type StackRun,
  types,
  userProvided,
} from "./stack-harness";

/** Seed 000 §1's `fly secrets set` list, in the seed's order. */
const workerSeedSecrets = [
  "ANTHROPIC_API_KEY",
  "DATABASE_URL",
  "DATABASE_URL_MIGRATIONS",
  "WP_BASE_URL",
  "WP_USERNAME",
  "WP_APP_PASSWORD",
  "PREFECT_API_DATABASE_CONNECTION_URL",
  "OPENAI_API_KEY",
  "NCBI_API_KEY",
  "BRAVE_API_KEY",
  "R2_ACCOUNT_ID",
  "R2_ACCESS_KEY_ID",
  "R2_SECRET_ACCESS_KEY",
  "R2_BUCKET_NAME",
  "SLACK_WEBHOOK_URL",
  "LANGFUSE_PUBLIC_KEY",
  "LANGFUSE_SECRET_KEY",
  "SENTRY_DSN",
];

/** Seed 000 §3's `fly secrets set -a naluma-dashboard` list. */
const dashboardSeedSecrets = [
  "DATABASE_URL",
  "ANTHROPIC_API_KEY",
  "WP_BASE_URL",
  "WP_USERNAME",
  "WP_APP_PASSWORD",
  "R2_ACCOUNT_ID",
  "R2_ACCESS_KEY_ID",
  "R2_SECRET_ACCESS_KEY",
  "R2_BUCKET_NAME",
  "CF_ACCESS_TEAM_DOMAIN",
  "CF_ACCESS_AUD",
];

/** The values the seed's secrets get from config and from the user's `pulumi config set --secret`. */
const fromConfig: Record<string, string> = {
  ANTHROPIC_API_KEY: dummySecrets.anthropicApiKey,
  WP_BASE_URL: "https://naluma.space",
  WP_USERNAME: "content-pipeline",
  WP_APP_PASSWORD: dummySecrets.wpAppPassword,
  OPENAI_API_KEY: dummySecrets.openaiApiKey,
  NCBI_API_KEY: dummySecrets.ncbiApiKey,
  BRAVE_API_KEY: dummySecrets.braveApiKey,
  R2_ACCOUNT_ID: "0123456789abcdef0123456789abcdef",
  R2_ACCESS_KEY_ID: dummySecrets.r2AccessKeyId,
  R2_SECRET_ACCESS_KEY: dummySecrets.r2SecretAccessKey,
  R2_BUCKET_NAME: "naluma-wordpress",
  SLACK_WEBHOOK_URL: dummySecrets.slackWebhookUrl,
  LANGFUSE_PUBLIC_KEY: dummySecrets.langfusePublicKey,
  LANGFUSE_SECRET_KEY: dummySecrets.langfuseSecretKey,
  SENTRY_DSN: dummySecrets.sentryDsn,
};

interface Expected {
  worker: string;
  dashboard: string;
  hostname: string;
  githubEnvironment: string;
  dashboardMinMachines: number;
  branchName: string;
  branchId: string;
}

/** The seed's values, and what each stack file says about them. */
const expectations: Record<StackName, Expected> = {
  production: {
    worker: "naluma-content",
    dashboard: "naluma-dashboard",
    hostname: "dashboard.naluma.space",
    githubEnvironment: "production",
    dashboardMinMachines: 1,
    branchName: "main",
    branchId: productionOutputs.neonMainBranchId,
  },
  staging: {
    worker: "naluma-content-staging",
    dashboard: "naluma-dashboard-staging",
    hostname: "dashboard-staging.naluma.space",
    githubEnvironment: "staging",
    dashboardMinMachines: 0,
    branchName: "staging",
    branchId: "br-staging-2",
  },
};

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




describe.each(["production", "staging"] as const)("%s: seed 000", (stack) => {
  const expected = expectations[stack];

  describe("§1 Fly.io worker", () => {
    it(`fly launch: app ${expected.worker}, region fra, the guest the config says (shared, 2 cpus, 3072 MB)`, () => {
      const run = runOf(stack);
      expect(resource(run, types.flyApp, "worker").inputs).toMatchObject({ name: expected.worker, orgSlug: "personal" });
      expect(resource(run, types.flyMachine, "worker-app-0").inputs).toMatchObject({
        appName: expected.worker,
        region: "fra",
        image: `registry.fly.io/${expected.worker}:latest`,
        guest: { cpuKind: "shared", cpus: 2, memoryMb: 3072 },
        processGroup: "app",
        // flyctl's smoke checks (platform:fly.smokeChecks, on unless a stack turns them off): 10 s after each start.
        timeouts: { smokeSeconds: 10 },
      });
    });

    it.each(workerSeedSecrets)("fly secrets set %s: on the worker's fly:Secrets", (name) => {
      const values = flySecrets(runOf(stack), "worker-secrets");
      expect(Object.keys(values)).toContain(name);
      if (name in fromConfig) expect(values[name]).toBe(fromConfig[name]);
    });

    it("the worker gets exactly the seed's secrets, none of them as plain env on a machine", () => {
      const run = runOf(stack);
      expect(Object.keys(flySecrets(run, "worker-secrets")).sort()).toEqual([...workerSeedSecrets].sort());
      for (const machine of resourcesOf(run, types.flyMachine).filter((m) => m.name.startsWith("worker-"))) {
        expect(isSecret(machine.inputs.env)).toBe(false);
        const env = machine.inputs.env as Record<string, unknown>;
        expect(Object.keys(env).filter((key) => workerSeedSecrets.includes(key))).toEqual([]);
      }
    });

    it("DATABASE_URL and DATABASE_URL_MIGRATIONS are the Neon URLs the stack exports", async () => {
      const run = runOf(stack);
      const values = flySecrets(run, "worker-secrets");
      expect(values.DATABASE_URL).toBe(await exportValue(run, "databaseUrl"));
      expect(values.DATABASE_URL_MIGRATIONS).toBe(await exportValue(run, "migrationsDatabaseUrl"));
    });

    it("fly.toml [env]: PREFECT_API_URL=http://localhost:4200/api, plain", () => {
      const env = resource(runOf(stack), types.flyMachine, "worker-app-0").inputs.env as Record<string, unknown>;
      expect(env.PREFECT_API_URL).toBe("http://localhost:4200/api");
    });

    it(`fly tokens create deploy -x 999999h → GitHub Actions secret FLY_API_TOKEN (environment ${expected.githubEnvironment}), never pasted`, () => {
      const run = runOf(stack);
      expect(resource(run, types.flyDeployToken, "worker-deploy-token").inputs).toMatchObject({ appName: expected.worker, expiry: "999999h" });
      const secret = resource(run, types.actionsEnvironmentSecret, "worker-fly-api-token");
      expect(reveal(secret.inputs)).toMatchObject({
        repository: "content-pipeline",
        environment: expected.githubEnvironment,
        secretName: "FLY_API_TOKEN",
        value: generatedSecrets.deployToken("worker-deploy-token"),
      });
      expect(isSecret(secret.inputs.value)).toBe(true);
      expect(dependsOn(secret, "worker-deploy-token")).toBe(true);
      expect(resource(run, types.repositoryEnvironment, "deploy-environment").inputs).toMatchObject({
        repository: "content-pipeline",
        environment: expected.githubEnvironment,
      });
    });

    it("deploy.yml's matrix: the dashboard's own deploy token → FLY_API_TOKEN_DASHBOARD", () => {
      const run = runOf(stack);
      expect(resource(run, types.flyDeployToken, "dashboard-fly-deploy-token").inputs).toMatchObject({ appName: expected.dashboard, expiry: "999999h" });
      const secret = resource(run, types.actionsEnvironmentSecret, "dashboard-fly-api-token");
      expect(reveal(secret.inputs)).toMatchObject({
        environment: expected.githubEnvironment,
        secretName: "FLY_API_TOKEN_DASHBOARD",
        value: generatedSecrets.deployToken("dashboard-fly-deploy-token"),
      });
      expect(isSecret(secret.inputs.value)).toBe(true);
    });
  });

  describe("§2 Prefect server, colocated", () => {
    it("CREATE DATABASE prefect_server on the stack's branch", () => {
      expect(resource(runOf(stack), types.neonDatabase, "neon-prefect_server").inputs).toMatchObject({
        name: "prefect_server",
        branchId: expected.branchId,
        projectId: productionOutputs.neonProjectId,
      });
    });

    it("PREFECT_API_DATABASE_CONNECTION_URL: asyncpg, the direct host (no pooler), prefect_server, ssl=require", async () => {
      const run = runOf(stack);
      const url = flySecrets(run, "worker-secrets").PREFECT_API_DATABASE_CONNECTION_URL;
      const host = String(await exportValue(run, "neonHost"));
      expect(host).not.toContain("-pooler");
      expect(url).toMatch(new RegExp(`^postgresql\\+asyncpg://naluma_content_owner:[^@]+@${host.replace(/\./g, "\\.")}/prefect_server\\?ssl=require$`));
      expect(url).toBe(await exportValue(run, "prefectDatabaseUrl"));
    });

    it.each(["content-pool", "recovery-pool"])("prefect work-pool create %s --type process, in the worker's machine after it rolls", (pool) => {
      const exec = resource(runOf(stack), types.flyMachineExec, `worker-work-pool-${pool}`);
      expect(exec.inputs).toMatchObject({
        appName: expected.worker,
        machineId: "m-worker-app-0",
        command: ["uv", "run", "prefect", "work-pool", "create", pool, "--type", "process", "--overwrite"],
      });
      expect(dependsOn(exec, "worker-app-0")).toBe(true);
    });

    it("the Prefect UI is not exposed: the worker has no service", () => {
      expect(resource(runOf(stack), types.flyMachine, "worker-app-0").inputs.services).toBeUndefined();
    });
  });

  describe("§3 dashboard on Fly.io behind Cloudflare Access", () => {
    it(`fly launch --config fly.dashboard.toml: ${expected.dashboard}, fra, shared-cpu-1x 512 MB, min machines ${expected.dashboardMinMachines}`, () => {
      const run = runOf(stack);
      expect(resource(run, types.flyApp, "dashboard-fly").inputs).toMatchObject({ name: expected.dashboard });
      const machine = resource(run, types.flyMachine, "dashboard-fly-app-0").inputs;
      expect(machine).toMatchObject({ region: "fra", guest: { cpuKind: "shared", cpus: 1, memoryMb: 512 } });
      expect(machine.services).toMatchObject([{ internalPort: 8501, autostop: "stop", autostart: true, minMachinesRunning: expected.dashboardMinMachines }]);
    });

    it(`fly certs create ${expected.hostname}`, () => {
      const certificates = resourcesOf(runOf(stack), types.flyCertificate);
      expect(certificates.map((certificate) => certificate.inputs)).toMatchObject([{ appName: expected.dashboard, hostname: expected.hostname }]);
    });

    it(`CNAME ${expected.hostname} → ${expected.dashboard}.fly.dev, proxied`, () => {
      const record = resource(runOf(stack), types.dnsRecord, `dashboard-fly-dns-${expected.hostname}`);
      expect(record.inputs).toMatchObject({
        zoneId: "fedcba9876543210fedcba9876543210",
        name: expected.hostname,
        type: "CNAME",
        content: `${expected.dashboard}.fly.dev`,
        proxied: true,
      });
      // Made by FlyApp now; the alias keeps the record an existing stack has as the DashboardApp's `dashboard-cname`.
      expect(record.aliases).toContainEqual({ name: "dashboard-cname", parentUrn: expect.stringMatching(/platform:index:DashboardApp::dashboard$/) });
    });

    it("the ACME challenge record fly certs show asks for, not proxied", () => {
      const record = resource(runOf(stack), types.dnsRecord, `dashboard-fly-acme-${expected.hostname}`);
      expect(record.aliases).toContainEqual({ name: "dashboard-acme-challenge", parentUrn: expect.stringMatching(/platform:index:DashboardApp::dashboard$/) });
      expect(record.inputs).toMatchObject({
        name: `_acme-challenge.${expected.hostname}`,
        type: "CNAME",
        content: `${expected.hostname}.x1y2z3.flydns.net`,
        proxied: false,
      });
    });

    it("Access application: self-hosted on the hostname, session 7 days (168h), Google + GitHub", () => {
      expect(resource(runOf(stack), types.accessApplication, "dashboard-access").inputs).toMatchObject({
        accountId: "0123456789abcdef0123456789abcdef",
        type: "self_hosted",
        domain: expected.hostname,
        sessionDuration: "168h",
        allowedIdps: ["dashboard-google-id", "dashboard-github-id"],
        policies: [{ id: "dashboard-allow-id", precedence: 1 }],
      });
    });

    it.each([
      ["google", "dashboard-google", "google-client-id.apps.googleusercontent.com", dummySecrets.googleOauthClientSecret],
      ["github", "dashboard-github", "Iv1.0123456789abcdef", dummySecrets.githubOauthClientSecret],
    ])("identity provider %s from the OAuth client in config, its secret secret", (type, name, clientId, clientSecret) => {
      const idp = resource(runOf(stack), types.identityProvider, name).inputs;
      expect(reveal(idp)).toMatchObject({ type, config: { clientId, clientSecret } });
      const config = idp.config as Record<string, unknown>;
      expect(isSecret(config) || isSecret(config.clientSecret)).toBe(true);
    });

    it("Allow policy: include the emails the stack config lists", () => {
      const emails = (userProvided.dashboard as { access: Record<string, unknown> }).access;
      expect(emails).toBeDefined();
      expect(resource(runOf(stack), types.accessPolicy, "dashboard-allow").inputs).toMatchObject({
        decision: "allow",
        includes: [{ email: { email: "admin@example.com" } }],
      });
    });

    it.each(dashboardSeedSecrets)("fly secrets set -a naluma-dashboard %s", (name) => {
      expect(Object.keys(flySecrets(runOf(stack), "dashboard-fly-secrets"))).toContain(name);
    });

    it("CF_ACCESS_AUD from the Access application, CF_ACCESS_TEAM_DOMAIN from the Zero Trust organization, DATABASE_URL pooled", async () => {
      const run = runOf(stack);
      const values = flySecrets(run, "dashboard-fly-secrets");
      expect(Object.keys(values).sort()).toEqual([...dashboardSeedSecrets].sort());
      expect(values).toMatchObject({ CF_ACCESS_AUD: accessAud, CF_ACCESS_TEAM_DOMAIN: "naluma" });
      expect(values.DATABASE_URL).toBe(await exportValue(run, "databaseUrl"));
      for (const name of dashboardSeedSecrets.filter((key) => key in fromConfig)) expect(values[name]).toBe(fromConfig[name]);
    });

    it(`exports https://${expected.hostname}`, async () => {
      expect(await exportValue(runOf(stack), "dashboardUrl")).toBe(`https://${expected.hostname}`);
    });
  });

  describe("§4 Neon", () => {
    it("databases naluma_content and prefect_server on the stack's branch, owned by the project owner", () => {
      const run = runOf(stack);
      for (const [name, database] of [["neon-naluma_content", "naluma_content"], ["neon-prefect_server", "prefect_server"]]) {
        expect(resource(run, types.neonDatabase, name).inputs).toMatchObject({ name: database, branchId: expected.branchId, ownerName: "naluma_content_owner" });
      }
    });

    it.each([
      ["pipeline", "app"],
      ["migrations", "migrations"],
    ])("CREATE USER %s with its generated password and the %s privilege profile", (role, profile) => {
      const run = runOf(stack);
      const created = resource(run, types.postgresRole, `neon-${role}`).inputs;
      expect(created.name).toBe(role);
      expect(isSecret(created.password)).toBe(true);
      // One Grant per role and database (aliased from `neon-<role>`, its name while a role had one database).
      expect(resource(run, types.postgresGrant, `neon-${role}-naluma_content`).inputs).toMatchObject({
        database: "naluma_content",
        role,
        profile,
        ...(profile === "app" ? { migrationsRole: "migrations" } : {}),
      });
    });

    it.each(["naluma_content", "prefect_server"])("%s is closed to PUBLIC (lockdown)", (database) => {
      expect(resource(runOf(stack), types.postgresLockdown, `neon-${database}`).inputs).toMatchObject({ database });
    });

    it("pooled URL for the app (pipeline), direct for migrations", async () => {
      const run = runOf(stack);
      const pooler = String(await exportValue(run, "neonPoolerHost"));
      const host = String(await exportValue(run, "neonHost"));
      expect(await exportValue(run, "databaseUrl")).toMatch(new RegExp(`^postgresql\\+asyncpg://pipeline:[^@]+@${pooler.replace(/\./g, "\\.")}/naluma_content\\?ssl=require$`));
      expect(await exportValue(run, "migrationsDatabaseUrl")).toMatch(new RegExp(`^postgresql\\+asyncpg://migrations:[^@]+@${host.replace(/\./g, "\\.")}/naluma_content\\?ssl=require$`));
    });

    it(`exports the project, main branch and owner role a branch stack reads, and its own branch (${expected.branchName})`, async () => {
      const run = runOf(stack);
      expect(await exportValue(run, "neonProjectId")).toBe(productionOutputs.neonProjectId);
      expect(await exportValue(run, "neonMainBranchId")).toBe(productionOutputs.neonMainBranchId);
      expect(await exportValue(run, "neonOwnerRoleName")).toBe(productionOutputs.neonOwnerRoleName);
      expect(await exportValue(run, "neonBranchId")).toBe(expected.branchId);
    });
  });
});

describe("production: seed 000 §4, the project", () => {
  it("create project naluma_content with default branch main, protected from pulumi destroy", () => {
    const project = resource(runOf("production"), types.neonProject, "neon-project");
    expect(project.inputs).toMatchObject({ name: "naluma_content", regionId: "aws-eu-central-1", defaultBranchName: "main", defaultDatabaseName: "naluma_content" });
    expect(project.protect).toBe(true);
  });

  it("main is taken over, Neon-protected and Pulumi-protected; so is the naluma_content database", () => {
    const run = runOf("production");
    const main = resource(run, types.neonBranch, "neon-main");
    expect(main.inputs).toMatchObject({ name: "main", protected: true, adopt: true });
    expect(main.protect).toBe(true);
    expect(resource(run, types.neonDatabase, "neon-naluma_content").protect).toBe(true);
  });

  it("reads no other stack", () => {
    expect(resourcesOf(runOf("production"), types.stackReference)).toEqual([]);
  });

  it("§4 IP allowlist: Fly egress IPs of the fra region + configured IPs, reject unlisted", async () => {
    // The committed production stack turns the egress feed on; a development IP is what a user adds.
    const run = await runStack("production", { neon: { allowedIps: ["203.0.113.7"] } });
    const egress = resourcesOf(run, types.flyIpAddress).filter((ip) => String(ip.inputs.type).startsWith("egress"));
    expect(egress.map((ip) => [ip.name, ip.inputs.type, ip.inputs.region])).toEqual([
      ["worker-ip-egress_v4", "egress_v4", "fra"],
      ["dashboard-fly-ip-egress_v4", "egress_v4", "fra"],
    ]);
    const list = resource(run, types.neonIpAllowList, "neon-ip-allow-list");
    // Any listed address makes Neon reject connections from every other one.
    expect(list.inputs).toEqual({
      projectId: productionOutputs.neonProjectId,
      ips: ["203.0.113.7", egressIpOf("worker-ip-egress_v4"), egressIpOf("dashboard-fly-ip-egress_v4")],
      // Applied to protected branches (main) only, so the staging branch's apps still connect.
      protectedBranchesOnly: true,
    });
    for (const name of ["worker-ip-egress_v4", "dashboard-fly-ip-egress_v4"]) expect(dependsOn(list, name)).toBe(true);
    // The postgres resources connect from wherever `pulumi up` runs, which the list does not name: they must be
    // done before it rejects unlisted IPs, and so must the apps, as the list is written after them.
    const before = [
      ...resourcesOf(run, types.postgresRole),
      ...resourcesOf(run, types.postgresGrant),
      ...resourcesOf(run, types.postgresLockdown),
      ...resourcesOf(run, types.flyMachine),
    ];
    expect(before.length).toBeGreaterThan(0);
    const missing = before.filter((first) => !list.dependencies.some((urn) => urn.endsWith(`$${first.type}::${first.name}`))).map((first) => `${first.type} ${first.name}`);
    expect(missing).toEqual([]);
    const project = resource(run, types.neonProject, "neon-project").inputs;
    expect([project.allowedIps, project.protectedBranchesOnly]).toEqual([undefined, undefined]);
  });

  it("§4 IP allowlist without Fly egress: the configured IPs only, and no egress address is allocated", async () => {
    const run = await runStack("production", { neon: { allowFlyEgress: false } });
    expect(resource(run, types.neonIpAllowList, "neon-ip-allow-list").inputs).toMatchObject({ projectId: productionOutputs.neonProjectId, ips: [] });
    expect(resourcesOf(run, types.flyIpAddress).filter((ip) => String(ip.inputs.type).startsWith("egress"))).toEqual([]);
  });
});

describe("staging: seed 000 §4, the staging branch from main", () => {
  it("the StackReference names platform:productionStack", () => {
    const references = resourcesOf(runOf("staging"), types.stackReference);
    expect(references.map((reference) => [reference.name, reference.read, reference.inputs.name])).toEqual([
      ["organization/platform/production", true, "organization/platform/production"],
    ]);
  });

  it("Create Branch staging from main: projectId and parentId come from the production stack's outputs", () => {
    const run = runOf("staging");
    const branch = resource(run, types.neonBranch, "neon-branch");
    expect(branch.inputs).toMatchObject({ name: "staging", projectId: productionOutputs.neonProjectId, parentId: productionOutputs.neonMainBranchId });
    expect(dependsOn(branch, "organization/platform/production")).toBe(true);
    expect(branch.protect).toBe(false);
  });

  it("Staging Reset: platform:neon.resetFromParent reaches the branch, its owner password and the role passwords", async () => {
    const run = await runStack("staging", { neon: { resetFromParent: "2026-11-23" } });
    expect(resource(run, types.neonBranch, "neon-branch").inputs).toMatchObject({ resetFromParent: "2026-11-23" });
    expect(resource(run, types.neonRole, "neon-owner").inputs).toMatchObject({ rotatePassword: "branch-own-password:2026-11-23" });
    expect(resource(run, types.neonConnectionUri, "neon-owner").inputs).toMatchObject({ refreshTrigger: "2026-11-23" });
    expect(resource(runOf("staging"), types.neonBranch, "neon-branch").inputs.resetFromParent).toBeUndefined();
  });

  it("the copied owner role gets staging's own password; the project itself is not staging's", () => {
    const run = runOf("staging");
    expect(resource(run, types.neonRole, "neon-owner").inputs).toMatchObject({ name: productionOutputs.neonOwnerRoleName, branchId: "br-staging-2", adopt: true });
    expect(resourcesOf(run, types.neonProject)).toEqual([]);
    expect(run.registrations.filter((registration) => registration.protect)).toEqual([]);
  });

  it("§4 IP allowlist: project-wide, so the branch stack writes none", () => {
    expect(resourcesOf(runOf("staging"), types.neonIpAllowList)).toEqual([]);
  });
});

describe("§5 documentation site", () => {
  it("production: Pages project naluma-content-automation, production branch main", () => {
    expect(resource(runOf("production"), types.pagesProject, "docs-pages").inputs).toMatchObject({
      accountId: "0123456789abcdef0123456789abcdef",
      name: "naluma-content-automation",
      productionBranch: "main",
    });
  });

  it("production: CLOUDFLARE_API_TOKEN is a token made for Pages Write on this account only, secret", () => {
    const run = runOf("production");
    const token = resource(run, types.accountToken, "docs-deploy-token").inputs;
    expect(token).toMatchObject({
      accountId: "0123456789abcdef0123456789abcdef",
      policies: [
        {
          effect: "allow",
          permissionGroups: [{ id: pagesWriteGroupId }],
          resources: JSON.stringify({ "com.cloudflare.api.account.0123456789abcdef0123456789abcdef": "*" }),
        },
      ],
    });
    const secret = resource(run, types.actionsSecret, "docs-api-token");
    expect(reveal(secret.inputs)).toMatchObject({ repository: "content-pipeline", secretName: "CLOUDFLARE_API_TOKEN", value: generatedSecrets.cloudflareToken });
    expect(isSecret(secret.inputs.value)).toBe(true);
    expect(dependsOn(secret, "docs-deploy-token")).toBe(true);
  });

  it("production: CLOUDFLARE_ACCOUNT_ID, as platform:docs.enabled says", () => {
    expect(resource(runOf("production"), types.actionsSecret, "docs-account-id").inputs).toMatchObject({
      repository: "content-pipeline",
      secretName: "CLOUDFLARE_ACCOUNT_ID",
    });
  });

  it("production exports the docs URL", async () => {
    expect(await exportValue(runOf("production"), "docsUrl")).toBe("https://naluma-content-automation.pages.dev");
  });

  it("staging (docs.enabled false): no Pages project, no repository secrets, no docs URL", async () => {
    const run = runOf("staging");
    expect([...resourcesOf(run, types.pagesProject), ...resourcesOf(run, types.accountToken), ...resourcesOf(run, types.actionsSecret)]).toEqual([]);
    expect(await exportValue(run, "docsUrl")).toBeUndefined();
  });
});
