import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { unknownValue } from "../../dynamic-providers/core/check";
import { secretsProvider, type SecretsInputs, type SecretsOutputs } from "../../dynamic-providers/fly/secrets";
import { providerUnderTest } from "../support/provider";
import { useFlyEmulator } from "./support";

const { provider, checked, reasons } = providerUnderTest(secretsProvider);
const appName = "naluma-dashboard";
const { emu, fly, writes } = useFlyEmulator({ apps: [appName] });

/** Values shaped like the deployment guide's `fly secrets set -a naluma-dashboard ...`. */
const values = {
  DATABASE_URL: "postgresql+asyncpg://pipeline:s3cr3t-pw@ep-xxx-pooler.neon.tech/naluma_content?sslmode=require",
  ANTHROPIC_API_KEY: "sk-ant-api03-very-secret",
  WP_APP_PASSWORD: "abcd efgh ijkl mnop",
};
const allValues = (): string[] => [...Object.values(values), "sk-ant-rotated-secret"];

async function create(news: SecretsInputs = { appName, values }): Promise<SecretsOutputs> {
  return (await provider.create(await checked(news))).outs as SecretsOutputs;
}

function remoteValues(): Record<string, string> {
  const app = emu.state.apps.get(appName);
  if (!app) throw new Error(`no app ${appName} in the emulator`);
  return Object.fromEntries([...app.secrets.values()].map((secret) => [secret.name, secret.value]));
}

/** The error `fn` throws, which must not carry any secret value. */
async function failureOf(fn: () => Promise<unknown>): Promise<Error> {
  const error = await fn().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(Error);
  const text = `${(error as Error).message}\n${(error as Error).stack ?? ""}\n${JSON.stringify(error)}`;
  for (const value of allValues()) expect(text.includes(value), "a secret value leaked into an error").toBe(false);
  return error as Error;
}

describe("secrets check()", () => {
  it("accepts the guide's secrets and values not known yet", async () => {
    await checked({ appName, values });
    await checked({ appName: unknownValue, values: { DATABASE_URL: unknownValue } });
    await checked({ appName, values: unknownValue as unknown as Record<string, string> });
  });

  it.each<[string, unknown, string]>([
    ["a lower-case name", { appName, values: { database_url: "x" } }, "fly secrets 'naluma-dashboard': values.database_url must be an environment variable name"],
    ["a name starting with a digit", { appName, values: { "1KEY": "x" } }, "values.1KEY must be an environment variable name"],
    ["a number value", { appName, values: { PORT: 8080 } }, "fly secrets 'naluma-dashboard': values.PORT must be a string, got a number"],
    ["no values", { appName, values: {} }, "values must name at least one secret"],
    ["values that are not a map", { appName, values: ["A=b"] }, "values must be a map of secret name to value"],
    ["a bad app name", { appName: "Naluma_Dashboard", values }, "appName must be a Fly app name, got \"Naluma_Dashboard\""],
  ])("rejects %s, naming the field", async (_case, news, reason) => {
    expect((await reasons(news)).join("\n")).toContain(reason);
  });

  it("never prints a value in a failure", async () => {
    const text = (await reasons({ appName, values: { bad_name: "sk-ant-api03-very-secret", GOOD: { nested: "sk-ant-api03-very-secret" } } })).join("\n");
    expect(text).toContain("values.bad_name");
    expect(text).toContain("values.GOOD must be a string");
    expect(text).not.toContain("sk-ant-api03-very-secret");
  });
});

describe("secrets diff()", () => {
  const olds: SecretsOutputs = { appName, values, version: 1, names: Object.keys(values).sort() };

  it("sees no change for the same values (no call at all)", async () => {
    expect(await provider.diff(appName, olds, { appName, values: { ...values } })).toMatchObject({ changes: false, replaces: [] });
    expect(emu.calls).toEqual([]);
  });

  it("updates in place for a changed, added or removed value", async () => {
    expect(await provider.diff(appName, olds, { appName, values: { ...values, ANTHROPIC_API_KEY: "other" } })).toMatchObject({ changes: true, replaces: [] });
    expect(await provider.diff(appName, olds, { appName, values: { ...values, SENTRY_DSN: "x" } })).toMatchObject({ changes: true, replaces: [] });
    expect(await provider.diff(appName, olds, { appName, values: { DATABASE_URL: values.DATABASE_URL } })).toMatchObject({ changes: true, replaces: [] });
  });

  it("replaces when the app changes", async () => {
    expect(await provider.diff(appName, olds, { appName: "naluma-content", values })).toMatchObject({ changes: true, replaces: ["appName"] });
  });
});

describe("secrets lifecycle", () => {
  it("creates every secret in one call and echoes names, version and values", async () => {
    const outs = await create();
    expect(writes().map((call) => [call.operationId, call.requestBody])).toEqual([["Secrets_update", { values }]]);
    expect(remoteValues()).toEqual(values);
    expect(outs).toEqual({ appName, values, version: 1, names: ["ANTHROPIC_API_KEY", "DATABASE_URL", "WP_APP_PASSWORD"] });
  });

  it("reads back the stored values while the names exist, with GETs only", async () => {
    const outs = await create();
    emu.resetCalls();
    const read = await provider.read(appName, outs);
    expect(read).toEqual({ id: appName, props: outs });
    expect(writes()).toEqual([]);
  });

  it("a second apply with no change makes no call", async () => {
    const outs = await create();
    emu.resetCalls();
    const news = await checked({ appName, values: { ...values } });
    const diff = await provider.diff(appName, outs, news);
    expect(diff.changes).toBe(false);
    expect(emu.calls).toEqual([]);
    expect((await provider.update(appName, outs, news)).outs).toEqual(outs);
    expect(emu.calls).toEqual([]);
  });

  it("changes one value and removes one key in exactly one call; the version goes up", async () => {
    const outs = await create();
    emu.resetCalls();
    const news = await checked({ appName, values: { DATABASE_URL: values.DATABASE_URL, ANTHROPIC_API_KEY: "sk-ant-rotated-secret" } });
    const updated = (await provider.update(appName, outs, news)).outs as SecretsOutputs;
    expect(emu.calls.map((call) => [call.method, call.operationId, call.requestBody])).toEqual([
      ["POST", "Secrets_update", { values: { ANTHROPIC_API_KEY: "sk-ant-rotated-secret", WP_APP_PASSWORD: null } }],
    ]);
    expect(updated.version).toBeGreaterThan(outs.version);
    expect(updated.names).toEqual(["ANTHROPIC_API_KEY", "DATABASE_URL"]);
    expect(remoteValues()).toEqual({ DATABASE_URL: values.DATABASE_URL, ANTHROPIC_API_KEY: "sk-ant-rotated-secret" });
  });

  it("drops a name unset remotely from the state so the next update sets it again; ignores names added by others", async () => {
    const outs = await create();
    await fly("DELETE", `/v1/apps/${appName}/secrets/WP_APP_PASSWORD`);
    await fly("POST", `/v1/apps/${appName}/secrets`, { values: { SET_BY_HAND: "x" } });
    const read = await provider.read(appName, outs);
    const props = read.props as SecretsOutputs;
    expect(props.names).toEqual(["ANTHROPIC_API_KEY", "DATABASE_URL"]);
    expect(props.values).not.toHaveProperty("SET_BY_HAND");
    const news = await checked({ appName, values });
    expect((await provider.diff(appName, props, news)).changes).toBe(true);
    emu.resetCalls();
    await provider.update(appName, props, news);
    expect(writes().map((call) => call.requestBody)).toEqual([{ values: { WP_APP_PASSWORD: values.WP_APP_PASSWORD } }]);
    expect(remoteValues()).toEqual({ ...values, SET_BY_HAND: "x" });
  });

  it("deletes only its own names in one call, tolerates a second delete and a missing app", async () => {
    const outs = await create();
    await fly("POST", `/v1/apps/${appName}/secrets`, { values: { SET_BY_HAND: "x" } });
    emu.resetCalls();
    await provider.delete(appName, outs);
    expect(writes().map((call) => call.requestBody)).toEqual([{ values: { ANTHROPIC_API_KEY: null, DATABASE_URL: null, WP_APP_PASSWORD: null } }]);
    expect(remoteValues()).toEqual({ SET_BY_HAND: "x" });
    await provider.delete(appName, outs);
    await fly("DELETE", `/v1/apps/${appName}`);
    await provider.delete(appName, outs);
    expect(await provider.read(appName, outs)).toEqual({ id: "" });
  });
});

describe("secrets faults", () => {
  it("waits out a 429 with Retry-After, then sets the secrets", async () => {
    emu.faults.failNext("Secrets_update", 1, { kind: "status", status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    await create();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(emu.calls.map((call) => call.status)).toEqual([429, 200]);
    expect(remoteValues()).toEqual(values);
  });

  it("retries a 500 on the secrets set (repeating it is harmless) and on the list", async () => {
    emu.faults.failNext("Secrets_update", 2, { kind: "status", status: 500 });
    const outs = await create();
    expect(remoteValues()).toEqual(values);
    emu.faults.failNext("Secrets_list", 1, { kind: "status", status: 500 });
    expect((await provider.read(appName, outs)).props).toEqual(outs);
  });

  it("keeps values out of the error when the API keeps failing", async () => {
    // 5xx are retried up to 6 attempts (a 429 would be retried until the time budget runs out).
    emu.faults.failNext("Secrets_update", 6, { kind: "status", status: 503 });
    const error = await failureOf(() => create());
    expect(error.message).toMatch(/POST \/v1\/apps\/naluma-dashboard\/secrets failed with 503: service unavailable \(after 6 attempts in [\d.]+m?s\)/);
    expect(remoteValues()).toEqual({});
  });

  it("keeps values out of the error for a missing app (404)", async () => {
    const error = await failureOf(() => create({ appName: "no-such-app", values }));
    expect(error.message).toMatch(/failed with 404: app not found/);
  });

  it("keeps values out of the error when the API quotes the request back (400)", async () => {
    const echo = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: `invalid request ${Buffer.concat(chunks).toString("utf8")}` }));
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    process.env.FLY_API_URL = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    try {
      const error = await failureOf(() => create());
      expect(error.message).toContain("failed with 400: invalid request");
      expect(error.message).toContain("DATABASE_URL");
      expect(error.message).toContain("[secret]");
    } finally {
      process.env.FLY_API_URL = emu.url;
      await new Promise<void>((resolve) => echo.close(() => resolve()));
    }
  });

  it("keeps values with quotes, backslashes or newlines out of an echoed (JSON-escaped) request", async () => {
    const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
    const quoted = 'pa"ss\\word-very-secret';
    const echo = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: `invalid request ${Buffer.concat(chunks).toString("utf8")}` }));
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    process.env.FLY_API_URL = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    try {
      const error = await create({ appName, values: { TLS_KEY: pem, DB_PASSWORD: quoted } }).then(
        () => undefined,
        (thrown: unknown) => thrown as Error,
      );
      expect(error).toBeInstanceOf(Error);
      const text = error?.message ?? "";
      expect(text).toContain("failed with 400: invalid request");
      for (const secret of ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "ss\\\\word-very-secret", "very-secret"]) {
        expect(text.includes(secret), "a secret leaked into the error").toBe(false);
      }
    } finally {
      process.env.FLY_API_URL = emu.url;
      await new Promise<void>((resolve) => echo.close(() => resolve()));
    }
  });
});
