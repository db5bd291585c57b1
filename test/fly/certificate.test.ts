import { describe, expect, it } from "vitest";
import { unknownValue } from "../../dynamic-providers/core/check";
import { certificateProvider, type CertificateInputs, type CertificateOutputs } from "../../dynamic-providers/fly/certificate";
import { providerUnderTest } from "../support/provider";
import { useFlyEmulator } from "./support";

const { provider, checked, reasons } = providerUnderTest(certificateProvider);
const appName = "naluma-dashboard";
const otherApp = "naluma-content";
const hostname = "dashboard.naluma.space";
const { emu, fly, calls } = useFlyEmulator({ apps: [appName, otherApp] });

async function create(news: CertificateInputs): Promise<CertificateOutputs> {
  return (await provider.create(await checked(news))).outs as CertificateOutputs;
}

function app(name = appName) {
  const record = emu.state.apps.get(name);
  if (!record) throw new Error(`no app ${name} in the emulator`);
  return record;
}

describe("certificate check()", () => {
  it("lower-cases the hostname, drops a trailing dot, accepts wildcards and unknowns", async () => {
    expect(await checked({ appName, hostname: "Dashboard.Naluma.Space." })).toEqual({ appName, hostname });
    await checked({ appName, hostname: "*.naluma.space" });
    await checked({ appName: unknownValue, hostname: unknownValue });
  });

  it.each<[string, unknown, string]>([
    ["a URL", { appName, hostname: "https://dashboard.naluma.space" }, "hostname must be a DNS name such as `app.example.com` or `*.example.com`, got \"https://dashboard.naluma.space\""],
    ["a bare label", { appName, hostname: "dashboard" }, "fly certificate 'dashboard': hostname must be a DNS name"],
    ["a wildcard in the middle", { appName, hostname: "a.*.naluma.space" }, "hostname must be a DNS name"],
    ["no hostname", { appName }, "hostname is required"],
    ["a bad app name", { appName: "Naluma Dashboard", hostname }, "appName must be a Fly app name, got \"Naluma Dashboard\""],
  ])("rejects %s, naming the field", async (_case, news, reason) => {
    expect((await reasons(news)).join("\n")).toContain(reason);
  });
});

describe("certificate diff()", () => {
  const olds = { appName, hostname } as CertificateOutputs;

  it("sees no change for the same inputs", async () => {
    expect(await provider.diff(hostname, olds, { appName, hostname })).toMatchObject({ changes: false, replaces: [] });
    expect(emu.calls).toEqual([]);
  });

  it("replaces on a new hostname, creating the new certificate first", async () => {
    expect(await provider.diff(hostname, olds, { appName, hostname: "docs.naluma.space" })).toEqual({ changes: true, replaces: ["hostname"], deleteBeforeReplace: false });
  });

  it("replaces on a new app, freeing the (global) hostname first", async () => {
    expect(await provider.diff(hostname, olds, { appName: otherApp, hostname })).toEqual({ changes: true, replaces: ["appName"], deleteBeforeReplace: true });
  });
});

describe("certificate lifecycle", () => {
  it("requests an ACME certificate and flattens the DNS requirements", async () => {
    const v4 = (await fly("POST", `/v1/apps/${appName}/ip_assignments`, { type: "shared_v4" })) as { ip: string };
    const v6 = (await fly("POST", `/v1/apps/${appName}/ip_assignments`, { type: "v6" })) as { ip: string };
    emu.resetCalls();
    const outs = await create({ appName, hostname });
    expect(calls("App_Certificates_acme_create").map((call) => call.requestBody)).toEqual([{ hostname }]);
    expect(outs).toEqual({
      appName,
      hostname,
      status: "pending_validation",
      dnsCnameTarget: "naluma-dashboard.fly.dev",
      acmeChallengeName: "_acme-challenge.dashboard.naluma.space",
      acmeChallengeTarget: `dashboard.naluma.space.${app().dnsId}.flydns.net`,
      ownershipName: "_fly-ownership.dashboard.naluma.space",
      ownershipValue: `app-${app().id}`,
      aRecords: [v4.ip],
      aaaaRecords: [v6.ip],
      adopted: false,
    });
    expect(app().certificates.has(hostname)).toBe(true);
  });

  it("refreshes status and requirements on read", async () => {
    const outs = await create({ appName, hostname });
    expect(outs.aRecords).toEqual([]);
    const v4 = (await fly("POST", `/v1/apps/${appName}/ip_assignments`, { type: "v4" })) as { ip: string };
    const record = app().certificates.get(hostname);
    if (!record) throw new Error("certificate missing");
    record.status = "active";
    emu.resetCalls();
    const read = await provider.read(hostname, outs);
    expect(read).toEqual({ id: hostname, props: { ...outs, status: "active", aRecords: [v4.ip] } });
    expect(emu.calls.every((call) => call.method === "GET")).toBe(true);
  });

  it("a second apply with no change makes no call", async () => {
    const outs = await create({ appName, hostname });
    emu.resetCalls();
    expect((await provider.diff(hostname, outs, await checked({ appName, hostname: "DASHBOARD.naluma.space" }))).changes).toBe(false);
    expect(emu.calls).toEqual([]);
  });

  it("handles a wildcard hostname with `*` sent as %2A in paths", async () => {
    const wildcard = "*.naluma.space";
    const outs = await create({ appName, hostname: wildcard });
    expect(outs.acmeChallengeName).toBe("_acme-challenge.naluma.space");
    emu.resetCalls();
    expect((await provider.read(wildcard, outs)).props).toEqual(outs);
    await provider.delete(wildcard, outs);
    expect(emu.calls.map((call) => [call.method, call.path, call.status])).toEqual([
      ["GET", "/v1/apps/naluma-dashboard/certificates/%2A.naluma.space", 200],
      ["DELETE", "/v1/apps/naluma-dashboard/certificates/%2A.naluma.space", 204],
    ]);
    expect(app().certificates.size).toBe(0);
  });

  it("fails clearly when another app holds the hostname", async () => {
    await fly("POST", `/v1/apps/${otherApp}/certificates/acme`, { hostname });
    await expect(create({ appName, hostname })).rejects.toThrow(
      /fly certificate 'dashboard\.naluma\.space': the hostname is already used by another Fly app .*`fly certs remove dashboard\.naluma\.space -a <other app>`/,
    );
  });

  it("adopts the certificate the app already has, without requesting one", async () => {
    await fly("POST", `/v1/apps/${appName}/certificates/acme`, { hostname });
    emu.resetCalls();
    const outs = await create({ appName, hostname, adopt: true });
    expect(outs).toMatchObject({ hostname, status: "pending_validation", adopted: true });
    expect(calls("App_Certificates_acme_create")).toEqual([]);
  });

  it("requests a certificate when adopt finds none", async () => {
    const outs = await create({ appName, hostname, adopt: true });
    expect(outs.adopted).toBe(false);
    expect(calls("App_Certificates_acme_create")).toHaveLength(1);
  });

  it("deletes, tolerates a second delete and a missing app; read reports it gone", async () => {
    const outs = await create({ appName, hostname });
    await provider.delete(hostname, outs);
    expect(app().certificates.size).toBe(0);
    expect(emu.state.hostnames.has(hostname)).toBe(false);
    await provider.delete(hostname, outs);
    expect(await provider.read(hostname, outs)).toEqual({ id: "" });
    await fly("DELETE", `/v1/apps/${appName}`);
    await provider.delete(hostname, outs);
    expect(await provider.read(hostname, outs)).toEqual({ id: "" });
  });
});

describe("certificate faults", () => {
  it("waits out a 429 with Retry-After, then requests the certificate", async () => {
    emu.faults.failNext("App_Certificates_acme_create", 1, { kind: "status", status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    await create({ appName, hostname });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(calls("App_Certificates_acme_create").map((call) => call.status)).toEqual([429, 201]);
  });

  it("a create whose connection dropped before Fly acted is sent once more: one call, one certificate, two create calls", async () => {
    emu.faults.failNext("App_Certificates_acme_create", 1, { kind: "drop" });
    const outs = await create({ appName, hostname });
    expect(calls("App_Certificates_acme_create")).toHaveLength(2);
    // Between the two: the GET by hostname that found nothing.
    expect(calls("App_Certificates_show").map((call) => call.status)).toEqual([404]);
    expect([...app().certificates.keys()]).toEqual([hostname]);
    expect(outs).toMatchObject({ hostname, status: "pending_validation", adopted: false, dnsCnameTarget: `${appName}.fly.dev` });
  });

  it("a create whose answer was lost after Fly acted takes the certificate the GET finds, without a second create", async () => {
    emu.faults.failNext("App_Certificates_acme_create", 1, { kind: "actThenDrop" });
    const outs = await create({ appName, hostname });
    expect(calls("App_Certificates_acme_create")).toHaveLength(1);
    expect(calls("App_Certificates_show").map((call) => call.status)).toEqual([200]);
    expect([...app().certificates.keys()]).toEqual([hostname]);
    expect(outs).toMatchObject({ hostname, status: "pending_validation", adopted: false, ownershipName: `_fly-ownership.${hostname}` });
  });

  it("a 503 on the create is treated as no answer: nothing found, so it is sent once more", async () => {
    emu.faults.failNext("App_Certificates_acme_create", 1, { kind: "status", status: 503 });
    const outs = await create({ appName, hostname });
    expect(calls("App_Certificates_acme_create").map((call) => call.status)).toEqual([503, 201]);
    expect([...app().certificates.keys()]).toEqual([hostname]);
    expect(outs.adopted).toBe(false);
  });

  it("a create dropped twice fails naming the call, after exactly two create calls and no certificate", async () => {
    emu.faults.failNext("App_Certificates_acme_create", 2, { kind: "drop" });
    await expect(create({ appName, hostname })).rejects.toThrow(/POST \/v1\/apps\/naluma-dashboard\/certificates\/acme failed: connection reset/);
    expect(calls("App_Certificates_acme_create")).toHaveLength(2);
    expect(app().certificates.size).toBe(0);
  });

  it("retries a 500 on the GET", async () => {
    const outs = await create({ appName, hostname });
    emu.faults.failNext("App_Certificates_show", 2, { kind: "status", status: 503 });
    expect((await provider.read(hostname, outs)).props).toEqual(outs);
    expect(calls("App_Certificates_show").map((call) => call.status)).toEqual([503, 503, 200]);
  });
});
