import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { DashboardApp as DashboardAppClass, DashboardAppArgs, DashboardIdentityProviderArgs } from "../../components/dashboard-app";
import { flyOutputsFor, flyType, isSecretValue as isSecretInput, valueOf } from "./fly-mocks";
import { applyErrors, constructRecording, recordingMocks, type Child, type Registered } from "./recording-mocks";

const organizationToken = "cloudflare:index/getZeroTrustOrganization:getZeroTrustOrganization";

const dnsRecord = "cloudflare:index/dnsRecord:DnsRecord";
const accessApplication = "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication";
const accessPolicy = "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy";
const identityProvider = "cloudflare:index/zeroTrustAccessIdentityProvider:ZeroTrustAccessIdentityProvider";

const { registered, calls, install } = recordingMocks({
  outputsFor: (type, name, inputs) => flyOutputsFor(type, name, inputs) ?? (type === accessApplication ? { aud: `aud-of-${name}` } : {}),
  call: (args) => (args.token === organizationToken ? { accountId: args.inputs.accountId, authDomain: "naluma.cloudflareaccess.com", name: "Naluma" } : undefined),
});

let DashboardApp: typeof DashboardAppClass;

beforeAll(async () => {
  await install();
  ({ DashboardApp } = await import("../../components/dashboard-app"));
});

interface Built {
  component: DashboardAppClass;
  /** Every resource under the component (FlyApp's children included), with its options. */
  descendants: Child[];
}

async function build(name: string, args: DashboardAppArgs): Promise<Built> {
  const { component, children } = await constructRecording((opts) => new DashboardApp(name, args, opts));
  return { component, descendants: children };
}

function inputsOf(type: string, name: string): Record<string, unknown> {
  const found = registered.get(`${type}::${name}`);
  if (!found) throw new Error(`no ${type} '${name}' was registered (have: ${[...registered.keys()].join(", ")})`);
  return found.inputs;
}

function registeredUnder(prefix: string, type: string): Registered[] {
  return [...registered.values()].filter((resource) => resource.type === type && resource.name.startsWith(`${prefix}-`));
}

function unwrap(value: unknown): unknown {
  return isSecretInput(value) ? unwrap(value.value) : value;
}

/** The Fly Secrets values as plain strings, after checking the whole map went to the provider as a secret. */
function secretValues(name: string): Record<string, unknown> {
  const values = inputsOf(flyType("Secrets"), name).values;
  expect(isSecretInput(values)).toBe(true);
  return Object.fromEntries(Object.entries(unwrap(values) as Record<string, unknown>).map(([key, value]) => [key, unwrap(value)]));
}

/**
 * The renames a child received, as `[old name, is the DashboardApp its old parent]`. Type-only aliases (the
 * Cloudflare SDK's own, to its pre-v5 type names) are left out.
 */
function renamesOf(child: Child, component: pulumi.Resource): [string, boolean][] {
  return (child.aliases ?? [])
    .map((alias) => alias as pulumi.Alias)
    .filter((alias) => alias.name !== undefined)
    .map((alias) => [alias.name as string, alias.parent === component]);
}

function aliasesOf(built: Built, type: string, name: string): [string, boolean][] {
  const child = built.descendants.find((candidate) => candidate.type === type && candidate.name === name);
  if (!child) throw new Error(`no ${type} '${name}' under the component`);
  return renamesOf(child, built.component);
}

const databaseUrl = "postgresql://pipeline:pw@ep-1-pooler.eu-central-1.aws.neon.tech/naluma_content?sslmode=require";

/** Seed 000 §3: naluma-dashboard behind Access with Google and GitHub, its AUD and team name in CF_ACCESS_*. */
const seed000: DashboardAppArgs = {
  app: {
    appName: "naluma-dashboard",
    orgSlug: "personal",
    primaryRegion: "fra",
    image: "registry.fly.io/naluma-dashboard:deployment-01",
    processGroups: {
      app: {
        guest: { cpuKind: "shared", cpus: 1, memoryMb: 512 },
        command: ["streamlit", "run", "dashboard/app.py"],
        httpService: { internalPort: 8501, autostop: "stop", minMachinesRunning: 0 },
      },
    },
    env: { ENVIRONMENT: "production" },
    secrets: { ANTHROPIC_API_KEY: "sk-ant-test", DATABASE_URL: pulumi.secret(databaseUrl) },
    deployToken: {},
  },
  hostname: "dashboard.naluma.space",
  zoneId: "zone-1",
  accountId: "acct-1",
  allowedEmails: ["ada@naluma.space", "grace@naluma.space"],
  sessionDuration: "168h",
  identityProviders: {
    google: { type: "google", clientId: "google-client", clientSecret: "google-secret" },
    github: { type: "github", clientId: "github-client", clientSecret: "github-secret" },
  },
  accessSecretNames: { aud: "CF_ACCESS_AUD", teamDomain: "CF_ACCESS_TEAM_DOMAIN" },
};

describe("DashboardApp with seed 000's dashboard", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("dashboard", seed000);
  });

  it("makes the Access pieces and a FlyApp under the component, the DNS records under the FlyApp", async () => {
    const types = built.descendants.filter((child) => !child.type.startsWith("pulumi-nodejs:dynamic/fly:")).map((child) => child.type);
    expect(types.sort()).toEqual([accessApplication, accessPolicy, identityProvider, identityProvider, dnsRecord, dnsRecord, "platform:index:FlyApp"].sort());
    // The mock monitor's URNs name the immediate parent's type only.
    for (const child of built.descendants) {
      const underApp = child.type.startsWith("pulumi-nodejs:dynamic/fly:") || child.type === dnsRecord;
      expect(await valueOf(child.resource.urn)).toContain(`::${underApp ? "platform:index:FlyApp" : "platform:index:DashboardApp"}$${child.type}::`);
    }
  });

  it("runs the app as given: naluma-dashboard in fra, 512 MB, its command and env", () => {
    expect(inputsOf(flyType("App"), "dashboard-fly")).toMatchObject({ name: "naluma-dashboard", orgSlug: "personal" });
    const machines = registeredUnder("dashboard-fly", flyType("Machine"));
    expect(machines).toHaveLength(1);
    expect(machines[0].inputs).toMatchObject({
      region: "fra",
      image: "registry.fly.io/naluma-dashboard:deployment-01",
      guest: { cpuKind: "shared", cpus: 1, memoryMb: 512 },
      init: { cmd: ["streamlit", "run", "dashboard/app.py"] },
      env: { ENVIRONMENT: "production" },
      minSecretsVersion: 7,
    });
    expect((machines[0].inputs.services as { internalPort: number; autostop: string }[])[0]).toMatchObject({ internalPort: 8501, autostop: "stop" });
  });

  it("adds the certificate for the hostname and the shared_v4 and v6 addresses it needs", () => {
    expect(registeredUnder("dashboard-fly", flyType("Certificate")).map((certificate) => certificate.inputs.hostname)).toEqual(["dashboard.naluma.space"]);
    expect(registeredUnder("dashboard-fly", flyType("IpAddress")).map((ip) => ip.inputs.type)).toEqual(["shared_v4", "v6"]);
  });

  it("points the hostname at <app>.fly.dev through Cloudflare's proxy, keeping the old `dashboard-cname` by alias", () => {
    const name = "dashboard-fly-dns-dashboard.naluma.space";
    expect(inputsOf(dnsRecord, name)).toMatchObject({ zoneId: "zone-1", name: "dashboard.naluma.space", type: "CNAME", content: "naluma-dashboard.fly.dev", proxied: true });
    expect(aliasesOf(built, dnsRecord, name)).toEqual([["dashboard-cname", true]]);
  });

  it("adds the _acme-challenge CNAME from the certificate's outputs, not proxied, keeping the old `dashboard-acme-challenge` by alias", () => {
    const name = "dashboard-fly-acme-dashboard.naluma.space";
    expect(inputsOf(dnsRecord, name)).toMatchObject({
      zoneId: "zone-1",
      name: "_acme-challenge.dashboard.naluma.space",
      type: "CNAME",
      content: "dashboard.naluma.space.x1y2z3.flydns.net",
      proxied: false,
    });
    expect(aliasesOf(built, dnsRecord, name)).toEqual([["dashboard-acme-challenge", true]]);
  });

  it("renames no other child", () => {
    const aliased = built.descendants.filter((child) => renamesOf(child, built.component).length > 0).map((child) => child.name);
    expect(aliased.sort()).toEqual(["dashboard-fly-acme-dashboard.naluma.space", "dashboard-fly-dns-dashboard.naluma.space"]);
  });

  it("protects the hostname with a self-hosted Access application: 7-day sessions, Google and GitHub, the email policy", () => {
    expect(inputsOf(accessApplication, "dashboard-access")).toMatchObject({
      accountId: "acct-1",
      name: "dashboard.naluma.space",
      type: "self_hosted",
      domain: "dashboard.naluma.space",
      destinations: [{ type: "public", uri: "dashboard.naluma.space" }],
      sessionDuration: "168h",
      allowedIdps: ["dashboard-google-id", "dashboard-github-id"],
      policies: [{ id: "dashboard-allow-id", precedence: 1 }],
    });
  });

  it("allows exactly the listed emails", () => {
    expect(inputsOf(accessPolicy, "dashboard-allow")).toMatchObject({
      accountId: "acct-1",
      name: "dashboard.naluma.space allowed emails",
      decision: "allow",
      includes: [{ email: { email: "ada@naluma.space" } }, { email: { email: "grace@naluma.space" } }],
    });
  });

  it.each([
    ["google", "Google", "google-client", "google-secret"],
    ["github", "GitHub", "github-client", "github-secret"],
  ])("creates the %s identity provider from its OAuth client, the client secret kept secret", (type, displayName, clientId, clientSecret) => {
    const idp = inputsOf(identityProvider, `dashboard-${type}`);
    expect(idp).toMatchObject({ accountId: "acct-1", type, name: displayName });
    const config = unwrap(idp.config) as Record<string, unknown>;
    expect(isSecretInput(idp.config) || isSecretInput(config.clientSecret)).toBe(true);
    expect(unwrap(config.clientId)).toBe(clientId);
    expect(unwrap(config.clientSecret)).toBe(clientSecret);
  });

  it("hands the app's own secrets, the AUD tag and the team name to Fly under CF_ACCESS_AUD and CF_ACCESS_TEAM_DOMAIN, as secrets", () => {
    expect(secretValues("dashboard-fly-secrets")).toEqual({
      ANTHROPIC_API_KEY: "sk-ant-test",
      DATABASE_URL: databaseUrl,
      CF_ACCESS_AUD: "aud-of-dashboard-access",
      CF_ACCESS_TEAM_DOMAIN: "naluma",
    });
    expect(calls.find((call) => call.token === organizationToken)?.inputs).toMatchObject({ accountId: "acct-1" });
  });

  it("outputs the URL, the app name, the AUD tag and the team name, none of them secret", async () => {
    const { component } = built;
    expect(await valueOf(component.url)).toBe("https://dashboard.naluma.space");
    expect(await valueOf(component.appName)).toBe("naluma-dashboard");
    expect(await valueOf(component.accessAud)).toBe("aud-of-dashboard-access");
    expect(await valueOf(component.teamDomain)).toBe("naluma");
    for (const output of [component.url, component.appName, component.accessAud, component.teamDomain]) expect(await pulumi.isSecret(output)).toBe(false);
  });

  it("exposes the FlyApp with its own outputs: the deploy token (secret), the fly.dev URL and the image", async () => {
    const { app } = built.component;
    if (!app.deployToken) throw new Error("the app asked for a deploy token");
    expect(await valueOf(app.deployToken)).toBe("FlyV1 fm2_dashboard-fly-deploy-token");
    expect(await pulumi.isSecret(app.deployToken)).toBe(true);
    expect(await valueOf(app.url)).toBe("https://naluma-dashboard.fly.dev");
    expect(await valueOf(app.image)).toBe("registry.fly.io/naluma-dashboard:deployment-01");
  });
});

describe("DashboardApp with one-time PIN, an identity provider the account has, and program-named secrets", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("ops", {
      app: {
        appName: "acme-ops",
        orgSlug: "acme",
        primaryRegion: "ams",
        image: "registry.fly.io/acme-ops:v2",
        processGroups: { web: { httpService: { internalPort: 3000 } } },
        // Seed 000 §4's egress address besides what the certificate needs; v6 and the hostname are not doubled.
        ipAddresses: ["v6", "egress_v4"],
        certificates: ["ops.acme.dev"],
      },
      hostname: "ops.acme.dev",
      zoneId: "zone-acme",
      accountId: "acct-acme",
      allowedEmails: ["oncall@acme.dev"],
      identityProviders: { pin: { type: "onetimepin" }, okta: { existingId: "idp-okta-1" } },
      accessSecretNames: { aud: "ACCESS_AUDIENCE" },
    });
  });

  it("creates the one-time PIN provider without OAuth config and reuses the account's provider by id", () => {
    const idps = registeredUnder("ops", identityProvider);
    expect(idps.map((idp) => idp.name)).toEqual(["ops-pin"]);
    expect(idps[0].inputs).toMatchObject({ accountId: "acct-acme", type: "onetimepin", name: "One-time PIN" });
    expect(unwrap(idps[0].inputs.config)).toEqual({});
    expect(inputsOf(accessApplication, "ops-access").allowedIdps).toEqual(["ops-pin-id", "idp-okta-1"]);
  });

  it("leaves the session length to Cloudflare when none is given", () => {
    const application = inputsOf(accessApplication, "ops-access");
    expect(application).toMatchObject({ accountId: "acct-acme", domain: "ops.acme.dev", type: "self_hosted" });
    expect(application.sessionDuration).toBeUndefined();
  });

  it("sets only the AUD tag, under the program's name, and no team name", () => {
    expect(secretValues("ops-fly-secrets")).toEqual({ ACCESS_AUDIENCE: "aud-of-ops-access" });
  });

  it("adds shared_v4 and keeps the app's own addresses and certificate without doubles", async () => {
    expect(registeredUnder("ops-fly", flyType("IpAddress")).map((ip) => [ip.inputs.type, ip.inputs.region])).toEqual([
      ["shared_v4", undefined],
      ["v6", undefined],
      ["egress_v4", "ams"],
    ]);
    expect(registeredUnder("ops-fly", flyType("Certificate")).map((certificate) => certificate.inputs.hostname)).toEqual(["ops.acme.dev"]);
    expect(await valueOf(built.component.app.egressIps)).toHaveLength(1);
  });

  it("writes the records in the given zone under the new names, with the aliases to the old ones", () => {
    expect(inputsOf(dnsRecord, "ops-fly-dns-ops.acme.dev")).toMatchObject({ zoneId: "zone-acme", name: "ops.acme.dev", content: "acme-ops.fly.dev", proxied: true });
    expect(inputsOf(dnsRecord, "ops-fly-acme-ops.acme.dev")).toMatchObject({ zoneId: "zone-acme", name: "_acme-challenge.ops.acme.dev", proxied: false });
    expect(aliasesOf(built, dnsRecord, "ops-fly-dns-ops.acme.dev")).toEqual([["ops-cname", true]]);
    expect(aliasesOf(built, dnsRecord, "ops-fly-acme-ops.acme.dev")).toEqual([["ops-acme-challenge", true]]);
  });

  it("outputs https://<hostname> and the Access values", async () => {
    expect(await valueOf(built.component.url)).toBe("https://ops.acme.dev");
    expect(await valueOf(built.component.appName)).toBe("acme-ops");
    expect(await valueOf(built.component.accessAud)).toBe("aud-of-ops-access");
  });
});

describe("DashboardApp without secrets", () => {
  it("makes no Fly Secrets when neither the app nor accessSecretNames has any, and still outputs the Access values", async () => {
    const built = await build("bare", {
      app: { appName: "bare-app", orgSlug: "acme", primaryRegion: "ams", image: "img:1", processGroups: { app: { httpService: { internalPort: 80 } } } },
      hostname: "bare.acme.dev",
      zoneId: "zone-acme",
      accountId: "acct-acme",
      allowedEmails: ["a@acme.dev"],
      identityProviders: { pin: { type: "onetimepin" } },
    });
    expect(built.descendants.filter((child) => child.type === flyType("Secrets"))).toEqual([]);
    const machine = registeredUnder("bare-fly", flyType("Machine"))[0];
    expect(machine.inputs.minSecretsVersion).toBeUndefined();
    expect(await valueOf(built.component.accessAud)).toBe("aud-of-bare-access");
    expect(await valueOf(built.component.teamDomain)).toBe("naluma");
  });
});

describe("DashboardApp arguments", () => {
  const base = seed000;
  const idps = (providers: Record<string, unknown>): Partial<DashboardAppArgs> => ({ identityProviders: providers as Record<string, DashboardIdentityProviderArgs> });

  it.each<[string, Partial<DashboardAppArgs>, string]>([
    ["no identity provider", idps({}), "DashboardApp 'bad': identityProviders must name at least one provider"],
    ["a client id without its secret", idps({ google: { type: "google", clientId: "c" } }), "identityProviders.google: `clientId` and `clientSecret` go together"],
    ["a client secret without its id", idps({ github: { type: "github", clientSecret: "s" } }), "identityProviders.github: `clientId` and `clientSecret` go together"],
    ["an unknown provider type", idps({ fb: { type: "facebook", clientId: "c", clientSecret: "s" } }), 'identityProviders.fb.type must be one of google, github, google-apps, azureAD, okta, onetimepin, got "facebook"'],
    ["a provider name that is no resource name suffix", idps({ Google: { type: "onetimepin" } }), "identityProviders: name 'Google' must be lowercase letters, digits or dashes"],
    [
      "an app without an HTTP service",
      { app: { ...base.app, processGroups: { worker: { command: ["python", "-m", "worker"] } } } },
      "app: no process group has an `httpService`, so there is nothing for Access to protect",
    ],
    ["a URL for the hostname", { hostname: "https://dashboard.naluma.space" }, 'hostname must be a DNS hostname such as `dashboard.example.com`, got "https://dashboard.naluma.space"'],
    ["a single-label hostname", { hostname: "dashboard" }, 'hostname must be a DNS hostname such as `dashboard.example.com`, got "dashboard"'],
    ["the same name for AUD and team", { accessSecretNames: { aud: "CF_ACCESS", teamDomain: "CF_ACCESS" } }, "accessSecretNames: aud and teamDomain are both 'CF_ACCESS'"],
    ["a secret name that is no environment variable", { accessSecretNames: { teamDomain: "cf-team" } }, 'accessSecretNames.teamDomain must be an environment variable name, got "cf-team"'],
    [
      "app.certificateDns, which the component sets from zoneId",
      { app: { ...base.app, certificateDns: { zoneId: "other-zone", proxied: false } } },
      "DashboardApp 'bad': app.certificateDns is set by the component (zoneId, proxied for Access); remove it",
    ],
    ["an empty allowedEmails list", { allowedEmails: [] }, "DashboardApp 'bad': allowedEmails must list at least one address, or nobody can sign in"],
    [
      "app.secrets setting a name accessSecretNames fills",
      { app: { ...base.app, secrets: { CF_ACCESS_AUD: "typed-by-hand" } } },
      "DashboardApp 'bad': app.secrets also sets CF_ACCESS_AUD, which accessSecretNames fills from Access",
    ],
  ])("refuses %s, before registering anything", async (_title, change, message) => {
    const before = registered.size;
    expect(() => new DashboardApp("bad", { ...base, ...change })).toThrow(message);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(registered.size).toBe(before);
  });

  it("fails the deployment when app.secrets sets a name accessSecretNames fills, also when the secrets are an Output", async () => {
    const errors = await applyErrors(() => {
      new DashboardApp("clash", { ...base, app: { ...base.app, appName: "clash-app", secrets: pulumi.output({ CF_ACCESS_AUD: "typed-by-hand", OTHER: "x" }) } });
    });
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) expect(error.message).toContain("DashboardApp 'clash': app.secrets also sets CF_ACCESS_AUD, which accessSecretNames fills from Access");
    expect(registered.has(`${flyType("Secrets")}::clash-fly-secrets`)).toBe(false);
  });

  it("fails the deployment when allowedEmails turns out empty", async () => {
    const errors = await applyErrors(() => {
      new DashboardApp("nobody", { ...base, app: { ...base.app, appName: "nobody-app" }, allowedEmails: pulumi.output([]) });
    });
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) expect(error.message).toContain("DashboardApp 'nobody': allowedEmails must list at least one address, or nobody can sign in");
    expect(registered.has(`${accessPolicy}::nobody-allow`)).toBe(false);
  });
});
