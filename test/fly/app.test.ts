import { describe, expect, it } from "vitest";
import { unknownValue } from "../../dynamic-providers/core/check";
import { appProvider, type AppInputs, type AppOutputs } from "../../dynamic-providers/fly/app";
import { providerUnderTest } from "../support/provider";
import { useFlyEmulator } from "./support";

const { provider, checked, reasons } = providerUnderTest(appProvider);
const { emu, fly, calls } = useFlyEmulator({ orgs: ["personal", "naluma"], tearDown: () => emu.faults.appNotReadyFor(0) });
const name = "naluma-content";
const inputs: AppInputs = { name, orgSlug: "personal" };

async function create(news: AppInputs = inputs): Promise<AppOutputs> {
  const result = await provider.create(await checked(news));
  expect(result.id).toBe(news.name);
  return result.outs as AppOutputs;
}

describe("app check()", () => {
  it("accepts seed names and values not known yet", async () => {
    await checked(inputs);
    await checked({ name: "naluma-dashboard", orgSlug: "personal", network: "pipeline-net", adopt: true });
    await checked({ name: unknownValue, orgSlug: unknownValue, network: unknownValue });
  });

  it.each<[string, unknown, string]>([
    ["upper case", { name: "Naluma-Content", orgSlug: "personal" }, "fly app 'Naluma-Content': name must be 1-63 lowercase letters, digits or dashes"],
    ["a trailing dash", { name: "naluma-", orgSlug: "personal" }, "name must be 1-63 lowercase letters"],
    ["no org", { name }, "fly app 'naluma-content': orgSlug is required (a Fly organization slug such as `personal`)"],
    ["a non-boolean adopt", { name, orgSlug: "personal", adopt: "yes" }, "adopt must be true or false, got \"yes\""],
  ])("rejects %s, naming the field", async (_case, news, reason) => {
    expect((await reasons(news)).join("\n")).toContain(reason);
  });
});

describe("app diff()", () => {
  const olds: AppOutputs = { ...inputs, appId: "a1", hostname: `${name}.fly.dev`, privateHostname: `${name}.internal`, adopted: false };

  it("sees no change for the same inputs, adopt included", async () => {
    expect(await provider.diff(name, olds, { ...inputs })).toMatchObject({ changes: false, replaces: [] });
    expect(await provider.diff(name, olds, { ...inputs, adopt: true })).toMatchObject({ changes: false });
    expect(emu.calls).toEqual([]);
  });

  it.each<[Partial<AppInputs>, string[]]>([
    [{ name: "naluma-content-2" }, ["name"]],
    [{ orgSlug: "naluma" }, ["orgSlug"]],
    [{ network: "pipeline-net" }, ["network"]],
  ])("replaces, deleting first (names are global), on %j", async (change, replaces) => {
    expect(await provider.diff(name, olds, { ...inputs, ...change })).toEqual({ changes: true, replaces, deleteBeforeReplace: true });
  });
});

describe("app lifecycle", () => {
  it("creates the app and waits until it is visible", async () => {
    const outs = await create();
    expect(outs).toEqual({
      ...inputs,
      appId: emu.state.apps.get(name)?.id,
      hostname: "naluma-content.fly.dev",
      privateHostname: "naluma-content.internal",
      adopted: false,
    });
    expect(calls("Apps_create").map((call) => call.requestBody)).toEqual([
      expect.objectContaining({ name, org_slug: "personal", idempotency_key: expect.stringMatching(/^pulumi-naluma-content-/) }),
    ]);
  });

  it("creates in a custom network and reports it", async () => {
    const outs = await create({ ...inputs, network: "pipeline-net" });
    expect(outs.network).toBe("pipeline-net");
    expect(emu.state.apps.get(name)?.network).toBe("pipeline-net");
    expect((await provider.read(name, outs)).props).toEqual(outs);
  });

  it.each<[401 | 404]>([[404], [401]])("tolerates the %i window right after create", async (status) => {
    emu.faults.appNotReadyFor(400, status);
    const outs = await create();
    expect(outs.appId).toBe(emu.state.apps.get(name)?.id);
    const shows = calls("Apps_show").map((call) => call.status);
    expect(shows.slice(0, -1).every((code) => code === status)).toBe(true);
    expect(shows.length).toBeGreaterThan(1);
    expect(shows.at(-1)).toBe(200);
  });

  it("reads the live state with GETs only and reports a deleted app as gone", async () => {
    const outs = await create();
    emu.resetCalls();
    expect(await provider.read(name, outs)).toEqual({ id: name, props: outs });
    expect(emu.calls.every((call) => call.method === "GET")).toBe(true);
    await fly("DELETE", `/v1/apps/${name}`);
    expect(await provider.read(name, outs)).toEqual({ id: "" });
  });

  it("a second apply with no change makes no call", async () => {
    const outs = await create();
    emu.resetCalls();
    expect((await provider.diff(name, outs, await checked(inputs))).changes).toBe(false);
    expect(emu.calls).toEqual([]);
  });

  it("deletes and tolerates a second delete", async () => {
    const outs = await create();
    await provider.delete(name, outs);
    expect(emu.state.apps.has(name)).toBe(false);
    await provider.delete(name, outs);
    expect(calls("Apps_delete").map((call) => call.status)).toEqual([202, 404]);
  });

  it("delete waits until the app is really gone (DELETE answers 202; deletion is asynchronous)", async () => {
    const outs = await create();
    emu.faults.appDeleteDelay(400);
    try {
      emu.resetCalls();
      await provider.delete(name, outs);
      expect(emu.state.apps.has(name)).toBe(false);
      const shows = calls("Apps_show").map((call) => call.status);
      expect(shows.length).toBeGreaterThan(1);
      expect(shows.at(-1)).toBe(404);
      // The name is free again, so a replacement (deleteBeforeReplace) can create it at once.
      await create();
    } finally {
      emu.faults.appDeleteDelay(0);
    }
  });

  it("adopts an app made by hand without creating one, and keeps adopted on update", async () => {
    await fly("POST", "/v1/apps", { name, org_slug: "personal" });
    emu.resetCalls();
    const outs = await create({ ...inputs, adopt: true });
    expect(outs).toMatchObject({ adopted: true, appId: emu.state.apps.get(name)?.id });
    expect(calls("Apps_create")).toEqual([]);
    expect(((await provider.update(name, outs, { ...inputs, adopt: true })).outs as AppOutputs).adopted).toBe(true);
  });

  it("refuses to adopt an app in another org", async () => {
    await fly("POST", "/v1/apps", { name, org_slug: "naluma" });
    await expect(create({ ...inputs, adopt: true })).rejects.toThrow("fly app 'naluma-content': adopt found the app in org 'naluma', not 'personal'");
  });

  it("points at adopt when the name is taken", async () => {
    await fly("POST", "/v1/apps", { name, org_slug: "personal" });
    await expect(create()).rejects.toThrow(/fly app 'naluma-content' could not be created: .*422.*set `adopt: true`/);
  });
});

describe("app faults", () => {
  it("waits out a 429 with Retry-After, then creates once", async () => {
    emu.faults.failNext("Apps_create", 1, { kind: "status", status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    await create();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(calls("Apps_create").map((call) => call.status)).toEqual([429, 201]);
  });

  it("repeats a create that failed with a 500: the idempotency key makes it safe", async () => {
    emu.faults.failNext("Apps_create", 1, { kind: "status", status: 500 });
    await create();
    const creates = calls("Apps_create");
    expect(creates.map((call) => call.status)).toEqual([500, 201]);
    const keys = creates.map((call) => (call.requestBody as { idempotency_key?: string }).idempotency_key);
    expect(keys[0]).toMatch(/^pulumi-naluma-content-/);
    expect(keys[1]).toBe(keys[0]);
  });

  it("creates once when the create's answer is lost after Fly made the app: the repeat with the same key gets the same app", async () => {
    emu.faults.failNext("Apps_create", 1, { kind: "actThenDrop" });
    const outs = await create();
    expect(emu.state.apps.size).toBe(1);
    expect(outs.appId).toBe(emu.state.apps.get(name)?.id);
    const creates = calls("Apps_create");
    expect(creates.map((call) => call.status)).toEqual([0, 201]);
    expect((creates[1].responseBody as { id: string }).id).toBe(outs.appId);
  });

  it("sends a create that got no answer in time once more with the same key: one app", async () => {
    emu.faults.failNext("Apps_create", 1, { kind: "actThenHang" });
    process.env.FLY_API_TIMEOUT_SECONDS = "0.3";
    try {
      await create();
    } finally {
      delete process.env.FLY_API_TIMEOUT_SECONDS;
    }
    expect(emu.state.apps.size).toBe(1);
    const keys = calls("Apps_create").map((call) => (call.requestBody as { idempotency_key: string }).idempotency_key);
    expect(calls("Apps_create").map((call) => call.status)).toEqual([0, 201]);
    expect(keys[1]).toBe(keys[0]);
  });

  it.each<[401 | 404]>([[404], [401]])("delete inside the %i window right after create deletes the app, not just reports it", async (status) => {
    emu.faults.appNotReadyFor(600, status);
    await fly("POST", "/v1/apps", { name, org_slug: "personal" });
    emu.resetCalls();
    await provider.delete(name, { ...inputs, appId: "", hostname: "", privateHostname: "", adopted: false });
    expect(emu.state.apps.has(name)).toBe(false);
    const deletes = calls("Apps_delete").map((call) => call.status);
    expect(deletes[0]).toBe(status);
    expect(deletes.at(-1)).toBe(202);
  });

  it("retries a 500 and a dropped connection on the GET", async () => {
    const outs = await create();
    emu.faults.failNext("Apps_show", 1, { kind: "status", status: 500 });
    emu.faults.failNext("Apps_show", 1, { kind: "drop" });
    expect((await provider.read(name, outs)).props).toEqual(outs);
  });

  it("reports an invalid token clearly", async () => {
    process.env.FLY_API_TOKEN = "wrong";
    try {
      await expect(provider.read(name, { ...inputs } as AppOutputs)).rejects.toThrow(/GET \/v1\/apps\/naluma-content failed with 401: Authenticate: token validation error/);
    } finally {
      process.env.FLY_API_TOKEN = emu.token;
    }
  });
});
