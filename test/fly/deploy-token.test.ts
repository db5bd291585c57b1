import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { unknownValue } from "../../dynamic-providers/core/check";
import {
  DeployToken,
  deployTokenName,
  deployTokenProvider,
  type DeployTokenInputs,
  type DeployTokenOutputs,
} from "../../dynamic-providers/fly/deploy-token";
import { mayHaveActed } from "../../dynamic-providers/fly/graphql";
import { providerUnderTest } from "../support/provider";
import { useFlyEmulator } from "./support";

const { provider, checked, reasons } = providerUnderTest<DeployTokenInputs, DeployTokenOutputs, Partial<DeployTokenInputs>>(deployTokenProvider);
const appName = "acme-content";
const { emu, fly, calls } = useFlyEmulator({ apps: [appName] });
const tokenName = "pulumi/acme/platform/production/worker-deploy-token#0123abcd";

async function create(news: Partial<DeployTokenInputs> = { appName, name: tokenName }): Promise<{ id: string; outs: DeployTokenOutputs }> {
  const result = await provider.create(await checked(news));
  return { id: result.id, outs: result.outs as DeployTokenOutputs };
}

function tokens() {
  return emu.state.apps.get(appName)?.deployTokens ?? [];
}
const live = () => tokens().filter((token) => token.revokedAt === null);

describe("deploy token names", () => {
  it("appends 8 hex digits of (expiry, rotate), so a replacement gets another name; stays within 128 characters", () => {
    const name = deployTokenName("pulumi/acme/platform/production/worker-deploy-token", "999999h", undefined);
    expect(name).toMatch(/^pulumi\/acme\/platform\/production\/worker-deploy-token#[0-9a-f]{8}$/);
    expect(deployTokenName("pulumi/acme/platform/production/worker-deploy-token", "999999h", undefined)).toBe(name);
    expect(deployTokenName("pulumi/acme/platform/production/worker-deploy-token", "999999h", "2026-11")).not.toBe(name);
    expect(deployTokenName("pulumi/acme/platform/production/worker-deploy-token", "720h", undefined)).not.toBe(name);
    const long = deployTokenName("x".repeat(300), "1h", undefined);
    expect(long).toHaveLength(128);
    expect(long).not.toBe(deployTokenName(`${"x".repeat(299)}y`, "1h", undefined));
  });
});

describe("deploy token check()", () => {
  it("defaults the expiry to the guide's 999999h, keeps a given name, and accepts unknowns", async () => {
    expect(await checked({ appName, name: tokenName })).toEqual({ appName, expiry: "999999h", name: tokenName });
    expect(await checked({ appName, expiry: "720h", rotate: "2026-11", name: tokenName })).toEqual({ appName, expiry: "720h", rotate: "2026-11", name: tokenName });
    await checked({ appName: unknownValue, expiry: unknownValue, rotate: unknownValue, name: unknownValue });
  });

  it("names a token given none after its app, with the (expiry, rotate) suffix", async () => {
    expect((await checked({ appName })).name).toBe(deployTokenName(`pulumi/${appName}`, "999999h", undefined));
  });

  it.each<[string, unknown, string]>([
    ["days", { appName, expiry: "30d" }, "fly deploy token 'acme-content': expiry must be a positive Go duration such as `720h` or `999999h`, got \"30d\""],
    ["a zero duration", { appName, expiry: "0s" }, "expiry must be a positive Go duration"],
    ["a number", { appName, expiry: 720 }, "expiry must be a positive Go duration such as `720h` or `999999h`, got 720"],
    ["a non-string rotate trigger", { appName, rotate: 3 }, "rotate must be a string, got 3"],
    ["a bad app name", { appName: "Acme", expiry: "1h" }, "appName must be a Fly app name, got \"Acme\""],
    ["an empty name", { appName, name: "" }, "fly deploy token 'acme-content': name must be a non-empty string, got \"\""],
    ["a name with a newline", { appName, name: "ci\ntoken" }, "name must not contain control characters (newlines, tabs, ...), got \"ci\\ntoken\""],
    ["a name too long", { appName, name: "n".repeat(129) }, "name must be at most 128 characters (it has 129)"],
    ["a name that is not a string", { appName, name: 7 }, "name must be a non-empty string, got 7"],
  ])("rejects %s, naming the field", async (_case, news, reason) => {
    expect((await reasons(news)).join("\n")).toContain(reason);
  });
});

describe("deploy token diff()", () => {
  const olds = { appName, expiry: "999999h", name: tokenName, tokenId: "t1", token: "t", createdAt: "", expiresAt: "" } as DeployTokenOutputs;

  it("sees no change for the same inputs", async () => {
    expect(await provider.diff("id", olds, { appName, expiry: "999999h", name: tokenName })).toMatchObject({ changes: false, replaces: [] });
    expect(emu.calls).toEqual([]);
  });

  it.each<[Partial<DeployTokenInputs>, string[]]>([
    [{ rotate: "2026-12" }, ["rotate"]],
    [{ expiry: "720h" }, ["expiry"]],
    [{ appName: "acme-dashboard" }, ["appName"]],
    [{ name: "ci#00000000" }, ["name"]],
  ])("replaces (a new token, made before the old one is revoked) on %j", async (change, replaces) => {
    expect(await provider.diff("id", olds, { appName, expiry: "999999h", name: tokenName, ...change })).toMatchObject({
      changes: true,
      replaces,
      deleteBeforeReplace: false,
    });
  });

  it("keeps a token made before tokens had names (no name, no tokenId in state)", async () => {
    const legacy = { appName, expiry: "999999h", token: "t", createdAt: "", expiresAt: "" } as DeployTokenOutputs;
    expect(await provider.diff("id", legacy, { appName, expiry: "999999h", name: tokenName })).toMatchObject({ changes: false, replaces: [] });
  });
});

describe("deploy token lifecycle", () => {
  it("creates a named deploy token through GraphQL for the app's id and org, with the expiry sent as given", async () => {
    const { id, outs } = await create();
    const app = emu.state.apps.get(appName);
    expect(calls("CreateLimitedAccessToken").map((call) => (call.requestBody as { variables: unknown }).variables)).toEqual([
      { name: tokenName, organizationId: emu.state.orgIds.get("personal"), profile: "deploy", profileParams: { app_id: app?.graphqlId }, expiry: "999999h" },
    ]);
    expect(outs.token).toMatch(/^FlyV1 fm2_/);
    expect(tokens()).toMatchObject([{ id, name: tokenName, token: outs.token, revokedAt: null, via: "graphql" }]);
    expect(outs).toMatchObject({ tokenId: id, name: tokenName, appName, expiry: "999999h" });
    expect(id).not.toContain(outs.token);
    expect(Date.parse(outs.expiresAt) - Date.parse(outs.createdAt)).toBe(999_999 * 3_600_000);
    expect(emu.calls.map((call) => call.operationId)).toEqual(["GetAppLimitedAccessTokens", "CreateLimitedAccessToken"]);
    const response = await fetch(`${emu.url}/v1/apps/${appName}`, { headers: { authorization: outs.token } });
    expect(response.status).toBe(200);
    await response.text();
  });

  it("revokes a live token of its own name (left by a lost create) before creating, and leaves other names alone", async () => {
    const other = await create({ appName, name: "someone else's#11111111" });
    const leftOver = await create();
    emu.resetCalls();
    const { id } = await create();
    expect(emu.calls.map((call) => call.operationId)).toEqual(["GetAppLimitedAccessTokens", "RevokeLimitedAccessToken", "CreateLimitedAccessToken"]);
    expect(live().map((token) => token.id).sort()).toEqual([other.id, id].sort());
    expect(tokens().find((token) => token.id === leftOver.id)?.revokedAt).toEqual(expect.any(String));
  });

  it("read keeps a listed token, and reports it gone once revoked elsewhere or with its app", async () => {
    const { id, outs } = await create();
    expect(await provider.read(id, outs)).toEqual({ id, props: outs });
    const token = tokens()[0];
    token.revokedAt = new Date().toISOString();
    expect(await provider.read(id, outs)).toEqual({ id: "" });
    const second = await create();
    await fly("DELETE", `/v1/apps/${appName}`);
    expect(await provider.read(second.id, second.outs)).toEqual({ id: "" });
  });

  it("read does not drop a token when GraphQL hides an app the Machines API shows (a token without access)", async () => {
    const { id, outs } = await create();
    const { createServer } = await import("node:http");
    // Fly's answer to a token that may not see the app: the same "Could not find App" as for a missing one.
    const hidden = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: null, errors: [{ message: "Could not find App", path: ["app"], extensions: { code: "NOT_FOUND" } }] }));
    });
    await new Promise<void>((resolve) => hidden.listen(0, "127.0.0.1", resolve));
    const saved = process.env.FLY_GRAPHQL_URL;
    const address = hidden.address();
    process.env.FLY_GRAPHQL_URL = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/graphql`;
    try {
      await expect(provider.read(id, outs)).rejects.toThrow(/does not show this app's tokens to FLY_API_TOKEN, though the Machines API shows the app/);
    } finally {
      process.env.FLY_GRAPHQL_URL = saved;
      await new Promise<void>((resolve) => hidden.close(() => resolve()));
    }
    expect(live().map((token) => token.id)).toEqual([id]);
  });

  it("a second apply with no change makes no call", async () => {
    const { id, outs } = await create();
    emu.resetCalls();
    expect((await provider.diff(id, outs, await checked({ appName, name: tokenName }))).changes).toBe(false);
    expect(emu.calls).toEqual([]);
  });

  it("delete revokes the token (it no longer authenticates) and can run twice", async () => {
    const { id, outs } = await create();
    emu.resetCalls();
    await provider.delete(id, outs);
    await provider.delete(id, outs);
    expect(calls("RevokeLimitedAccessToken").map((call) => (call.requestBody as { variables: unknown }).variables)).toEqual([
      { input: { id } },
      { input: { id } },
    ]);
    expect(live()).toEqual([]);
    expect((await fetch(`${emu.url}/v1/apps/${appName}`, { headers: { authorization: outs.token } })).status).toBe(401);
  });

  it("delete of a token Fly no longer knows (its app deleted) succeeds", async () => {
    const { id, outs } = await create();
    await fly("DELETE", `/v1/apps/${appName}`);
    await expect(provider.delete(id, outs)).resolves.toBeUndefined();
  });

  it("rotate: the replacement gets a new name, both live until the old one's delete revokes it", async () => {
    const first = await create({ appName, name: deployTokenName("pulumi/acme/platform/production/worker-deploy-token", "999999h", "2026-11") });
    const rotatedName = deployTokenName("pulumi/acme/platform/production/worker-deploy-token", "999999h", "2026-12");
    const news = await checked({ appName, rotate: "2026-12", name: rotatedName });
    expect((await provider.diff(first.id, first.outs, news)).replaces).toEqual(["rotate", "name"]);
    const second = await provider.create(news);
    expect(second.outs?.name).toBe(rotatedName);
    expect(rotatedName).not.toBe(first.outs.name);
    expect(live().map((token) => token.id).sort()).toEqual([first.id, second.id].sort());
    await provider.delete(first.id, first.outs);
    expect(live().map((token) => token.id)).toEqual([second.id]);
  });

  it("delete and read of state made before tokens had names: nothing to revoke, the app is checked", async () => {
    const legacy = { appName, expiry: "999999h", token: "FlyV1 fm2_old", createdAt: "", expiresAt: "" } as DeployTokenOutputs;
    await provider.delete(`${appName}/deploy-token/1`, legacy);
    expect(emu.calls).toEqual([]);
    expect(await provider.read(`${appName}/deploy-token/1`, legacy)).toEqual({ id: `${appName}/deploy-token/1`, props: legacy });
  });
});

describe("deploy token faults", () => {
  it("waits out a 429 with Retry-After, then creates one token", async () => {
    emu.faults.failNext("CreateLimitedAccessToken", 1, { kind: "status", status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    await create();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(calls("CreateLimitedAccessToken").map((call) => call.status)).toEqual([429, 200]);
    expect(live()).toHaveLength(1);
  });

  it("after a 500 on create, lists again and creates once more (the mutation itself is not repeated blindly)", async () => {
    emu.faults.failNext("CreateLimitedAccessToken", 1, { kind: "status", status: 500 });
    await create();
    expect(emu.calls.map((call) => `${call.operationId} ${call.status}`)).toEqual([
      "GetAppLimitedAccessTokens 200",
      "CreateLimitedAccessToken 500",
      "GetAppLimitedAccessTokens 200",
      "CreateLimitedAccessToken 200",
      // The 500's create may land late: the listing after the made token revokes any other live one of its name.
      "GetAppLimitedAccessTokens 200",
    ]);
    expect(live()).toHaveLength(1);
  });

  it("two lost answers in a row fail naming the operation, the token's name and how the next run cleans up", async () => {
    emu.faults.failNext("CreateLimitedAccessToken", 2, { kind: "actThenDrop" });
    await expect(create()).rejects.toThrow(
      new RegExp(
        `fly deploy token '${tokenName.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}' for app 'acme-content': Fly GraphQL API POST /graphql \\(CreateLimitedAccessToken\\) failed: connection reset.*run \`pulumi up\` again: it revokes every live token named`,
      ),
    );
    expect(live()).toHaveLength(1);
    await create();
    expect(live()).toHaveLength(1);
  });

  it("a 200 whose errors come with data or say the server failed may have acted; a refusal did not", () => {
    const entry = (code: string) => ({ message: "x", extensions: { code } });
    expect(mayHaveActed(Object.assign(new Error("e"), { errors: [entry("INTERNAL_SERVER_ERROR")] }))).toBe(true);
    expect(mayHaveActed(Object.assign(new Error("e"), { errors: [entry("SERVICE_UNAVAILABLE")] }))).toBe(true);
    expect(mayHaveActed(Object.assign(new Error("e"), { errors: [entry("NOT_FOUND")], partial: true }))).toBe(true);
    expect(mayHaveActed(Object.assign(new Error("e"), { errors: [entry("NOT_FOUND")], partial: false }))).toBe(false);
    expect(mayHaveActed(Object.assign(new Error("e"), { errors: [{ message: "Unknown operation" }] }))).toBe(false);
    expect(mayHaveActed(new Error("plain"))).toBe(false);
  });

  it("GraphQL errors in a 200 answer are errors, naming the operation and the cause", async () => {
    await fly("DELETE", `/v1/apps/${appName}`);
    await expect(create()).rejects.toThrow(/fly deploy token '.*' for app 'acme-content': the app does not exist/);
    const { flyGraphql } = await import("../../dynamic-providers/fly/graphql");
    await expect(flyGraphql({ operation: "Viewer", document: "query Viewer { viewer { id } }", variables: {}, kind: "query" })).rejects.toThrow(
      /^Fly GraphQL API POST \/graphql \(Viewer\) answered with errors: Unknown operation "Viewer"/,
    );
  });

  it("a 401 names the operation and the status", async () => {
    const saved = process.env.FLY_API_TOKEN;
    process.env.FLY_API_TOKEN = "wrong";
    try {
      await expect(create()).rejects.toThrow(/Fly GraphQL API POST \/graphql \(GetAppLimitedAccessTokens\) failed with 401: You must be authenticated/);
    } finally {
      process.env.FLY_API_TOKEN = saved;
    }
  });

  it("retries a 500 on the list query of read", async () => {
    const { id, outs } = await create();
    emu.faults.failNext("GetAppLimitedAccessTokens", 1, { kind: "status", status: 500 });
    expect(await provider.read(id, outs)).toEqual({ id, props: outs });
    expect(calls("GetAppLimitedAccessTokens").map((call) => call.status).slice(-2)).toEqual([500, 200]);
  });

  it("reads FLY_GRAPHQL_URL at call time", async () => {
    const saved = process.env.FLY_GRAPHQL_URL;
    process.env.FLY_GRAPHQL_URL = `${emu.url}/elsewhere/graphql`;
    try {
      await expect(create()).rejects.toThrow(/Fly GraphQL API POST \/elsewhere\/graphql \(GetAppLimitedAccessTokens\) failed with 404/);
      expect(emu.calls.map((call) => call.path)).toEqual(["/elsewhere/graphql"]);
      emu.violations.length = 0;
    } finally {
      process.env.FLY_GRAPHQL_URL = saved;
    }
  });
});

describe("DeployToken resource", () => {
  it("names its token pulumi/<org>/<project>/<stack>/<resource name> plus the suffix, or after `name`", async () => {
    const registered: Record<string, Record<string, unknown>> = {};
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          registered[args.name] = args.inputs as Record<string, unknown>;
          return { id: `${args.name}-id`, state: { ...args.inputs, token: "FlyV1 fm2_x" } };
        },
        call: () => ({}),
      },
      "platform",
      "production",
      false,
      "acme",
    );
    const made = new DeployToken("worker-deploy-token", { appName, rotate: "2026-11" });
    new DeployToken("named", { appName, name: "ci deploy token", expiry: "720h" });
    await new Promise<void>((resolve) => made.urn.apply(() => resolve()));
    expect(registered["worker-deploy-token"]?.["name"]).toBe(deployTokenName("pulumi/acme/platform/production/worker-deploy-token", "999999h", "2026-11"));
    expect(registered["named"]?.["name"]).toBe(deployTokenName("ci deploy token", "720h", undefined));
  });

  it.each<[string, unknown, string]>([
    ["an empty name", "", "DeployToken 'bad': name must be a non-empty string, got \"\""],
    ["a name with a tab", "a\tb", "name must not contain control characters"],
    ["a name over 119 characters (the suffix makes 128)", "n".repeat(120), "name must be at most 119 characters (it has 120)"],
  ])("refuses %s at construction, naming the arg", (_case, name, message) => {
    expect(() => new DeployToken("bad", { appName, name: name as string })).toThrow(message);
  });
});
