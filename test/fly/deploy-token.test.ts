import { describe, expect, it } from "vitest";
import { unknownValue } from "../../dynamic-providers/core/check";
import { deployTokenProvider, type DeployTokenInputs, type DeployTokenOutputs } from "../../dynamic-providers/fly/deploy-token";
import { providerUnderTest } from "../support/provider";
import { useFlyEmulator } from "./support";

const { provider, checked, reasons } = providerUnderTest<DeployTokenInputs, DeployTokenOutputs, Partial<DeployTokenInputs>>(deployTokenProvider);
const appName = "naluma-content";
const { emu, fly, calls } = useFlyEmulator({ apps: [appName] });

async function create(news: Partial<DeployTokenInputs> = { appName }): Promise<{ id: string; outs: DeployTokenOutputs }> {
  const result = await provider.create(await checked(news));
  return { id: result.id, outs: result.outs as DeployTokenOutputs };
}

describe("deploy token check()", () => {
  it("defaults the expiry to the guide's 999999h and accepts unknowns", async () => {
    expect(await checked({ appName })).toEqual({ appName, expiry: "999999h" });
    expect(await checked({ appName, expiry: "720h", rotate: "2026-11" })).toEqual({ appName, expiry: "720h", rotate: "2026-11" });
    await checked({ appName: unknownValue, expiry: unknownValue, rotate: unknownValue });
  });

  it.each<[string, unknown, string]>([
    ["days", { appName, expiry: "30d" }, "fly deploy token 'naluma-content': expiry must be a positive Go duration such as `720h` or `999999h`, got \"30d\""],
    ["a zero duration", { appName, expiry: "0s" }, "expiry must be a positive Go duration"],
    ["a number", { appName, expiry: 720 }, "expiry must be a positive Go duration such as `720h` or `999999h`, got 720"],
    ["a non-string rotate trigger", { appName, rotate: 3 }, "rotate must be a string, got 3"],
    ["a bad app name", { appName: "Naluma", expiry: "1h" }, "appName must be a Fly app name, got \"Naluma\""],
  ])("rejects %s, naming the field", async (_case, news, reason) => {
    expect((await reasons(news)).join("\n")).toContain(reason);
  });
});

describe("deploy token diff()", () => {
  const olds = { appName, expiry: "999999h", token: "t", createdAt: "", expiresAt: "" } as DeployTokenOutputs;

  it("sees no change for the same inputs", async () => {
    expect(await provider.diff("id", olds, { appName, expiry: "999999h" })).toMatchObject({ changes: false, replaces: [] });
    expect(emu.calls).toEqual([]);
  });

  it.each<[Partial<DeployTokenInputs>, string[]]>([
    [{ rotate: "2026-12" }, ["rotate"]],
    [{ expiry: "720h" }, ["expiry"]],
    [{ appName: "naluma-dashboard" }, ["appName"]],
  ])("replaces (a new token) on %j", async (change, replaces) => {
    expect(await provider.diff("id", olds, { appName, expiry: "999999h", ...change })).toMatchObject({ changes: true, replaces });
  });
});

describe("deploy token lifecycle", () => {
  it("creates a token the API accepts, with the expiry sent as given", async () => {
    const { id, outs } = await create();
    expect(calls("App_create_deploy_token").map((call) => call.requestBody)).toEqual([{ expiry: "999999h" }]);
    expect(outs.token).toMatch(/^FlyV1 fm2_/);
    expect(emu.state.apps.get(appName)?.deployTokens).toEqual([outs.token]);
    expect(id).toMatch(/^naluma-content\/deploy-token\/\d+$/);
    expect(id).not.toContain(outs.token);
    expect(Date.parse(outs.expiresAt) - Date.parse(outs.createdAt)).toBe(999_999 * 3_600_000);
    const response = await fetch(`${emu.url}/v1/apps/${appName}`, { headers: { authorization: outs.token } });
    expect(response.status).toBe(200);
    await response.text();
  });

  it("reads back the stored state while the app exists, and reports it gone with the app", async () => {
    const { id, outs } = await create();
    expect(await provider.read(id, outs)).toEqual({ id, props: outs });
    await fly("DELETE", `/v1/apps/${appName}`);
    expect(await provider.read(id, outs)).toEqual({ id: "" });
  });

  it("a second apply with no change makes no call", async () => {
    const { id, outs } = await create();
    emu.resetCalls();
    expect((await provider.diff(id, outs, await checked({ appName }))).changes).toBe(false);
    expect(emu.calls).toEqual([]);
  });

  it("delete makes no call (the Machines API cannot revoke) and can run twice", async () => {
    const { id, outs } = await create();
    emu.resetCalls();
    await provider.delete(id, outs);
    await provider.delete(id, outs);
    expect(emu.calls).toEqual([]);
  });
});

describe("deploy token faults", () => {
  it("waits out a 429 with Retry-After, then creates one token", async () => {
    emu.faults.failNext("App_create_deploy_token", 1, { kind: "status", status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    await create();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(calls("App_create_deploy_token").map((call) => call.status)).toEqual([429, 200]);
    expect(emu.state.apps.get(appName)?.deployTokens).toHaveLength(1);
  });

  it("does not repeat a create after a 500 (a token may have been made)", async () => {
    emu.faults.failNext("App_create_deploy_token", 1, { kind: "status", status: 500 });
    await expect(create()).rejects.toThrow(/deploy_token failed with 500/);
    expect(calls("App_create_deploy_token")).toHaveLength(1);
  });

  it("retries a 500 on the GET of read", async () => {
    const { id, outs } = await create();
    emu.faults.failNext("Apps_show", 1, { kind: "status", status: 500 });
    expect(await provider.read(id, outs)).toEqual({ id, props: outs });
  });
});
