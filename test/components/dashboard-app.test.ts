import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { DashboardApp as DashboardAppClass, DashboardAppArgs } from "../../components/dashboard-app";
import { isSecretValue as isSecretInput, valueOf } from "./fly-mocks";
import { constructRecording, recordingMocks, type Registered } from "./recording-mocks";

const organizationToken = "cloudflare:index/getZeroTrustOrganization:getZeroTrustOrganization";

const flyApp = "pulumi-nodejs:dynamic/fly:App";
const flyCertificate = "pulumi-nodejs:dynamic/fly:Certificate";
const flySecrets = "pulumi-nodejs:dynamic/fly:Secrets";
const flyMachine = "pulumi-nodejs:dynamic/fly:Machine";
const flyIpAddress = "pulumi-nodejs:dynamic/fly:IpAddress";
const dnsRecord = "cloudflare:index/dnsRecord:DnsRecord";
const accessApplication = "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication";
const accessPolicy = "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy";
const identityProvider = "cloudflare:index/zeroTrustAccessIdentityProvider:ZeroTrustAccessIdentityProvider";

/** Outputs the providers would add; everything else echoes the inputs. */
function outputsFor(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case flyApp:
      return { hostname: `${String(inputs.name)}.fly.dev`, privateHostname: `${String(inputs.name)}.internal` };
    case flyCertificate:
      return {
        status: "pending_validation",
        dnsCnameTarget: `${String(inputs.appName)}.fly.dev`,
        acmeChallengeName: `_acme-challenge.${String(inputs.hostname)}`,
        acmeChallengeTarget: `${String(inputs.hostname)}.x8k2.flydns.net`,
        ownershipName: `_fly-ownership.${String(inputs.hostname)}`,
        ownershipValue: "app-ownership",
        aRecords: ["66.241.124.1"],
        aaaaRecords: ["2a09:8280:1::1"],
      };
    case flyMachine:
      return { machineId: `${name}-machine` };
    case flySecrets:
      return { version: 3 };
    case flyIpAddress:
      return { ip: inputs.type === "egress_v4" ? "192.0.2.44" : `ip-of-${name}` };
    case accessApplication:
      return { aud: "aud-tag-123" };
    default:
      return {};
  }
}

const { registered, calls, install } = recordingMocks({
  outputsFor,
  call: (args) => (args.token === organizationToken ? { accountId: args.inputs.accountId, authDomain: "naluma.cloudflareaccess.com", name: "Naluma" } : undefined),
});

let DashboardApp: typeof DashboardAppClass;

beforeAll(async () => {
  await install();
  ({ DashboardApp } = await import("../../components/dashboard-app"));
});

interface Built {
  component: DashboardAppClass;
  /** Every resource under the component (FlyApp's children included). */
  descendants: { resource: pulumi.Resource; type: string; name: string }[];
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

const baseArgs: DashboardAppArgs = {
  orgSlug: "personal",
  image: "registry.fly.io/naluma-dashboard:deployment-01",
  domain: "naluma.space",
  zoneId: "zone-1",
  accountId: "acct-1",
  allowedEmails: ["ada@naluma.space", "grace@naluma.space"],
  google: { clientId: "google-client", clientSecret: "google-secret" },
  github: { clientId: "github-client", clientSecret: "github-secret" },
  databaseUrl: "postgresql+asyncpg://pipeline:pw@ep-1-pooler.neon.tech/naluma_content?ssl=require",
  secrets: { ANTHROPIC_API_KEY: "sk-ant-test", R2_BUCKET_NAME: "naluma-wordpress" },
};

describe("DashboardApp", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("dash", baseArgs);
  });

  it("makes the Access pieces, the DNS records and a FlyApp, all under the component", async () => {
    const direct = built.descendants.filter((child) => !child.type.startsWith("pulumi-nodejs:dynamic/fly:")).map((child) => child.type);
    expect(direct.sort()).toEqual(
      [accessApplication, accessPolicy, identityProvider, identityProvider, dnsRecord, dnsRecord, "platform:index:FlyApp"].sort(),
    );
    // The mock monitor's URNs name the immediate parent's type only.
    for (const child of built.descendants) {
      const parentType = child.type.startsWith("pulumi-nodejs:dynamic/fly:") ? "platform:index:FlyApp" : "platform:index:DashboardApp";
      expect(await valueOf(child.resource.urn)).toContain(`::${parentType}$${child.type}::`);
    }
  });

  it("runs naluma-dashboard in fra on shared-cpu-1x with 512 MB and the given image", () => {
    expect(inputsOf(flyApp, "dash-fly")).toMatchObject({ name: "naluma-dashboard", orgSlug: "personal" });
    const machines = registeredUnder("dash-fly", flyMachine);
    expect(machines).toHaveLength(1);
    expect(machines[0].inputs).toMatchObject({
      region: "fra",
      image: "registry.fly.io/naluma-dashboard:deployment-01",
      guest: { cpuKind: "shared", cpus: 1, memoryMb: 512 },
    });
  });

  it("asks Fly for a certificate for dashboard.<domain>", () => {
    const certificates = registeredUnder("dash-fly", flyCertificate);
    expect(certificates.map((certificate) => certificate.inputs.hostname)).toEqual(["dashboard.naluma.space"]);
  });

  it("points dashboard at <app>.fly.dev through Cloudflare's proxy", () => {
    expect(inputsOf(dnsRecord, "dash-cname")).toMatchObject({
      zoneId: "zone-1",
      name: "dashboard.naluma.space",
      type: "CNAME",
      content: "naluma-dashboard.fly.dev",
      proxied: true,
    });
  });

  it("adds the _acme-challenge CNAME from the certificate's outputs, not proxied", () => {
    expect(inputsOf(dnsRecord, "dash-acme-challenge")).toMatchObject({
      zoneId: "zone-1",
      name: "_acme-challenge.dashboard.naluma.space",
      type: "CNAME",
      content: "dashboard.naluma.space.x8k2.flydns.net",
      proxied: false,
    });
  });

  it("protects dashboard.<domain> with a self-hosted Access application: 7-day sessions, Google and GitHub, the email policy", () => {
    expect(inputsOf(accessApplication, "dash-access")).toMatchObject({
      accountId: "acct-1",
      type: "self_hosted",
      domain: "dashboard.naluma.space",
      destinations: [{ type: "public", uri: "dashboard.naluma.space" }],
      sessionDuration: "168h",
      allowedIdps: ["dash-google-id", "dash-github-id"],
      policies: [{ id: "dash-allow-id", precedence: 1 }],
    });
  });

  it("allows exactly the listed emails", () => {
    expect(inputsOf(accessPolicy, "dash-allow")).toMatchObject({
      accountId: "acct-1",
      decision: "allow",
      includes: [{ email: { email: "ada@naluma.space" } }, { email: { email: "grace@naluma.space" } }],
    });
  });

  it("creates the Google and GitHub identity providers with the OAuth secrets kept secret", () => {
    const google = inputsOf(identityProvider, "dash-google");
    const github = inputsOf(identityProvider, "dash-github");
    expect(google).toMatchObject({ accountId: "acct-1", type: "google" });
    expect(github).toMatchObject({ accountId: "acct-1", type: "github" });
    const config = google.config as Record<string, unknown>;
    const secret = isSecretInput(config) ? (config.value as Record<string, unknown>).clientSecret : config.clientSecret;
    expect(isSecretInput(config) || isSecretInput(config.clientSecret)).toBe(true);
    expect(isSecretInput(secret) ? secret.value : secret).toBe("google-secret");
  });

  it("hands the AUD tag, the team name, the database URL and the other secrets to the Fly app, as secrets", () => {
    const values = inputsOf(flySecrets, "dash-fly-secrets").values;
    expect(isSecretInput(values)).toBe(true);
    const plain = (isSecretInput(values) ? values.value : values) as Record<string, unknown>;
    const unwrap = (value: unknown): unknown => (isSecretInput(value) ? value.value : value);
    expect(Object.fromEntries(Object.entries(plain).map(([key, value]) => [key, unwrap(value)]))).toEqual({
      ANTHROPIC_API_KEY: "sk-ant-test",
      R2_BUCKET_NAME: "naluma-wordpress",
      DATABASE_URL: baseArgs.databaseUrl,
      CF_ACCESS_AUD: "aud-tag-123",
      CF_ACCESS_TEAM_DOMAIN: "naluma",
    });
    expect(calls.find((call) => call.token === organizationToken)?.inputs).toMatchObject({ accountId: "acct-1" });
  });

  it("outputs the URL, the app name and the AUD tag", async () => {
    const { component } = built;
    expect(await valueOf(component.url)).toBe("https://dashboard.naluma.space");
    expect(await valueOf(component.appName)).toBe("naluma-dashboard");
    expect(await valueOf(component.accessAud)).toBe("aud-tag-123");
    expect(await valueOf(component.teamDomain)).toBe("naluma");
  });
});

describe("DashboardApp with an egress address (seed 000 §4's Neon IP allowlist)", () => {
  it("allocates it in the dashboard's region besides the certificate's addresses, and outputs it", async () => {
    const built = await build("egress", { ...baseArgs, region: "ams", ipAddresses: ["egress_v4", "v6"] });
    const addresses = registeredUnder("egress-fly", flyIpAddress).map((ip) => [ip.inputs.type, ip.inputs.region]);
    expect(addresses).toEqual([
      ["shared_v4", undefined],
      ["v6", undefined],
      ["egress_v4", "ams"],
    ]);
    expect(await valueOf(built.component.egressIps)).toEqual(["192.0.2.44"]);
  });

  it("outputs no egress address when none was asked for", async () => {
    const built = await build("plain", baseArgs);
    expect(await valueOf(built.component.egressIps)).toEqual([]);
  });
});

describe("DashboardApp with identity providers the account already has", () => {
  it("makes no identity provider and allows the given ids", async () => {
    const built = await build("shared", { ...baseArgs, google: { existingId: "idp-google" }, github: { existingId: "idp-github" } });
    expect(built.descendants.some((child) => child.type === identityProvider)).toBe(false);
    expect(inputsOf(accessApplication, "shared-access").allowedIdps).toEqual(["idp-google", "idp-github"]);
  });
});

describe("DashboardApp arguments", () => {
  it.each([
    ["both forms of one provider", { google: { clientId: "c", clientSecret: "s", existingId: "i" } }, /google: only one of `clientId`\/`clientSecret` or `existingId`/],
    ["neither form", { github: {} }, /github: only one of/],
    ["a client id without its secret", { github: { clientId: "c" } }, /github: `clientId` and `clientSecret` go together/],
    ["a secret the component sets", { secrets: { CF_ACCESS_AUD: "x" } }, /CF_ACCESS_AUD are set by the component/],
  ])("refuses %s", (_label, override, message) => {
    expect(() => new DashboardApp("bad", { ...baseArgs, ...override })).toThrow(message);
  });
});
