import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  markSecrets,
  secret,
  startProviderHost,
  unknownValue,
  urnFor,
  withProvider,
  type ProviderHostClient,
} from "./provider-host";
import { assertNoSecrets } from "./secrets-scan";
import { serializeProviders, type SerializedResource } from "./serialize";

const echoToken = "echo-token-7f3a9c1e55d2";
const echoModule = "test/fixtures/harness/echo";
const probesModule = "test/fixtures/harness/probes";

describe("harness: echo provider through the SDK's dynamic-provider host", () => {
  let dir: string;
  let echo: SerializedResource;
  let host: ProviderHostClient;
  let urn: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "echo-"));
    // The serializing process has the token in its environment too: it must still not end up in the closure.
    const serialized = await serializeProviders(
      [{ module: echoModule, exportName: "Echo", name: "greeting", props: { dir, name: "greeting", message: " hello " } }],
      { env: { ECHO_TOKEN: echoToken } },
    );
    echo = serialized.greeting;
    urn = urnFor(echo.type, "greeting");
    host = await startProviderHost({ env: { ECHO_TOKEN: echoToken } });
  });

  afterAll(async () => {
    await host?.close();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("serializes the provider without the credential and records type, inputs and secret outputs", () => {
    expect(echo.type).toBe("pulumi-nodejs:dynamic/harness:Echo");
    expect(echo.inputs).toEqual({ dir, name: "greeting", message: " hello " });
    expect(echo.additionalSecretOutputs).toEqual(["password"]);
    expect(echo.providerIsSecret).toBe(false);
    expect(echo.provider).toContain("exports.handler");
    expect(echo.provider).toContain('require("node:fs")');
    assertNoSecrets(echo.provider, [echoToken]);
  });

  it("runs Configure → Check → Diff → Create → Read → Update → Delete", async () => {
    expect(await host.configure()).toEqual({ acceptSecrets: false, acceptResources: false, supportsPreview: false });

    const checked = await host.check(urn, {}, withProvider(echo.provider, echo.inputs));
    expect(checked.failures).toEqual([]);
    expect(checked.inputs).toEqual({ dir, name: "greeting", message: "hello", __provider: echo.provider });

    const created = await host.create(urn, checked.inputs, { additionalSecretOutputs: echo.additionalSecretOutputs });
    expect(created.id).toBe("greeting");
    expect(created.properties).toMatchObject({ dir, name: "greeting", message: "hello", tokenLength: echoToken.length });
    expect(created.properties.__provider).toBe(echo.provider);
    expect(created.secretPaths).toEqual(["password"]);
    const password = created.properties.password;
    expect(typeof password).toBe("string");
    const file = path.join(dir, "greeting.json");
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual({ message: "hello", password });

    const unchanged = await host.diff(created.id, urn, created.properties, checked.inputs);
    expect(unchanged).toMatchObject({ changes: "DIFF_NONE", replaces: [], deleteBeforeReplace: false });

    // Drift made outside Pulumi shows up on refresh.
    fs.writeFileSync(file, JSON.stringify({ message: "edited by hand", password }));
    const read = await host.read(created.id, urn, created.properties, checked.inputs, { additionalSecretOutputs: echo.additionalSecretOutputs });
    expect(read.id).toBe("greeting");
    expect(read.properties).toMatchObject({ message: "edited by hand", password });
    expect(read.secretPaths).toEqual(["password"]);

    const news = withProvider(echo.provider, { dir, name: "greeting", message: "hello again" });
    const changed = await host.diff(read.id, urn, read.properties, news);
    expect(changed).toMatchObject({ changes: "DIFF_SOME", replaces: [], deleteBeforeReplace: false });
    const updated = await host.update(read.id, urn, read.properties, news, { additionalSecretOutputs: echo.additionalSecretOutputs });
    expect(updated.properties).toMatchObject({ message: "hello again", password, tokenLength: echoToken.length });
    expect(updated.secretPaths).toEqual(["password"]);
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual({ message: "hello again", password });

    const renamed = await host.diff(updated.id, urn, updated.properties, { ...news, name: "farewell" });
    expect(renamed).toMatchObject({ changes: "DIFF_SOME", replaces: ["name"], deleteBeforeReplace: true });

    await host.delete(updated.id, urn, updated.properties);
    expect(fs.existsSync(file)).toBe(false);
    // A stored copy of the provider runs delete: it must tolerate the file being gone already.
    await host.delete(updated.id, urn, updated.properties);

    assertNoSecrets(JSON.stringify(host.logs), [echoToken, String(password)]);
  });

  it("reports check failures with the field named, and marks outputs of secret inputs secret", async () => {
    await host.configure();
    const failed = await host.check(urn, {}, withProvider(echo.provider, { dir, name: "Not Valid", message: "x" }));
    expect(failed.failures).toEqual([{ property: "name", reason: 'echo: name must match [a-z0-9-]+, got "Not Valid"' }]);

    const news = withProvider(echo.provider, { dir, name: "whisper", message: secret(" psst ") });
    const checked = await host.check(urn, {}, news);
    expect(checked.inputs.message).toBe("psst");
    expect(checked.secretPaths).toEqual(["message"]);
    const created = await host.create(urn, markSecrets(checked.inputs, checked.secretPaths), { additionalSecretOutputs: ["password"] });
    expect(created.secretPaths).toEqual(["message", "password"]);
    await host.delete(created.id, urn, created.properties);
  });

  it("surfaces provider errors as rejections carrying the provider's message", async () => {
    await host.configure();
    await expect(host.create(urn, withProvider(echo.provider, { dir, name: "boom", message: "explode" }))).rejects.toThrow(
      `echo 'boom': refusing to create a resource that says "explode"`,
    );
    await expect(host.read("missing", urn, withProvider(echo.provider, { dir, name: "missing", message: "" }), {})).rejects.toThrow(/ENOENT/);

    const withoutToken = await startProviderHost({ env: {} });
    try {
      await withoutToken.configure();
      await expect(withoutToken.create(urn, withProvider(echo.provider, { dir, name: "untokened", message: "hi" }))).rejects.toThrow(
        "echo 'untokened': ECHO_TOKEN is not set",
      );
    } finally {
      await withoutToken.close();
    }
  });

  it("mirrors the engine in previews: unknowns reach check and diff, create is answered by the engine", async () => {
    await host.configure();
    const news = withProvider(echo.provider, { dir, name: "later", message: unknownValue });
    const checked = await host.check(urn, {}, news, { preview: true });
    expect(checked.inputs.message).toBe(unknownValue);
    const previewed = await host.create(urn, news, { preview: true });
    expect(previewed).toMatchObject({ id: "", sentToProvider: false });
    expect(fs.existsSync(path.join(dir, "later.json"))).toBe(false);
  });
});

describe("harness: what the closure serializer does with modules (evidence for provider authors)", () => {
  const working = ["NpmRequireInside", "NpmNamedImport", "NpmDefaultImport", "LocalImport", "LocalModuleSet", "RelativeRequireInside", "CapturedEnvToken", "ShadowedMethodName"];
  let probes: Record<string, SerializedResource>;
  let host: ProviderHostClient;

  beforeAll(async () => {
    probes = await serializeProviders(
      working.map((exportName) => ({ module: probesModule, exportName, name: exportName, props: {} })),
      { env: { ECHO_TOKEN: echoToken } },
    );
    host = await startProviderHost({ env: {} });
    await host.configure();
  });

  afterAll(async () => {
    await host?.close();
  });

  const run = async (name: string): Promise<unknown> => {
    const probe = probes[name];
    const created = await host.create(urnFor(probe.type, name), withProvider(probe.provider, probe.inputs));
    return created.properties.result;
  };

  it.each([
    ["NpmRequireInside", "a: 1\n"],
    ["NpmNamedImport", "a: 1\n"],
    ["NpmDefaultImport", "a: 1\n"],
    ["LocalImport", "HI! a: 1\n"],
  ])("%s works in the host", async (name, expected) => {
    expect(await run(name)).toBe(expected);
    expect(probes[name].provider.length).toBeLessThan(2_000);
  });

  it("npm packages are emitted as require() calls resolved by the host from its cwd, not copied", () => {
    expect(probes.NpmRequireInside.provider).toContain('require("yaml")');
    expect(probes.NpmNamedImport.provider).toContain('require("yaml")');
    expect(probes.NpmNamedImport.provider).not.toContain("function stringify");
  });

  it("local modules are copied by value, only the members used", () => {
    const text = probes.LocalImport.provider;
    expect(text).toContain("function /*shout*/");
    expect(text).toContain('require("yaml")');
    expect(text).not.toContain("isReserved");
  });

  it("a module-level Set in a local module is copied as a plain object and fails in the host", async () => {
    await expect(run("LocalModuleSet")).rejects.toThrow("Method Set.prototype.has called on incompatible receiver");
  });

  it("a relative require() inside a method resolves against the host's cwd and fails", async () => {
    expect(probes.RelativeRequireInside.provider).toContain('require("./probe-helper")');
    await expect(run("RelativeRequireInside")).rejects.toThrow("Cannot find module './probe-helper'");
  });

  it("an outer variable named like the method is not captured", async () => {
    await expect(run("ShadowedMethodName")).rejects.toThrow("create is not defined");
  });

  it("a credential read at module load is captured in plaintext, and assertNoSecrets catches it", () => {
    expect(() => assertNoSecrets(probes.CapturedEnvToken.provider, [echoToken])).toThrow(/secret #0 .* appears verbatim/);
  });

  it("`import * as X` of a package without __esModule cannot be serialized", async () => {
    await expect(serializeProviders([{ module: probesModule, exportName: "NpmStarImport", name: "star", props: {} }])).rejects.toThrow(
      'package.json export path for "yaml/dist/nodes/identity.js" not found',
    );
  });
});

describe("assertNoSecrets", () => {
  it("finds secrets verbatim, in base64 (also embedded in a longer value) and hex, and names which one", () => {
    const token = "tok-0123456789abcdef";
    expect(() => assertNoSecrets("nothing to see", [token])).not.toThrow();
    expect(() => assertNoSecrets(`x ${token} y`, ["other-secret", token])).toThrow(/secret #1 \(to…20 chars\) appears verbatim/);
    expect(() => assertNoSecrets(Buffer.from(token).toString("base64"), [token])).toThrow(/base64/);
    expect(() => assertNoSecrets(`Basic ${Buffer.from(`user:${token}`).toString("base64")}`, [token])).toThrow(/base64 inside a longer value/);
    expect(() => assertNoSecrets(Buffer.from(token).toString("hex"), [token])).toThrow(/hex/);
    expect(() => assertNoSecrets("anything", [""])).toThrow(/empty/);
  });
});
