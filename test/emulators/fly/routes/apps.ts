import { createHash, randomBytes } from "node:crypto";
import type { components } from "../../../../dynamic-providers/fly/schema.gen";
import type { AppRecord, SecretRecord } from "../state";
import { ids, now } from "../state";
import type { Handler, RouteContext } from "./common";
import { HttpError, appOf, ok, optionalString, param, record } from "./common";

type App = components["schemas"]["App"];
type AppSecret = components["schemas"]["AppSecret"];

const appNamePattern = /^[a-z0-9][a-z0-9-]{1,62}$/;

function appView(app: AppRecord): App {
  const machines = [...app.machines.values()].filter((m) => m.state !== "destroyed");
  return {
    id: app.id,
    name: app.name,
    organization: { name: app.orgSlug, slug: app.orgSlug },
    status: machines.some((m) => m.state === "started") ? "deployed" : "pending",
    machine_count: machines.length,
    volume_count: app.volumes.size,
    network: app.network,
  };
}

/**
 * A repeat of a create with the same idempotency_key answers with the app the first one made, as long as
 * that app still exists; the same key with another name is refused (spec: CreateAppRequest.idempotency_key).
 */
function repeated(ctx: RouteContext, key: string | undefined, name: string): AppRecord | undefined {
  if (key === undefined) return undefined;
  const earlier = ctx.store.idempotencyKeys.get(key);
  if (!earlier || ctx.store.apps.get(earlier.name) !== earlier) return undefined;
  if (name !== "" && name !== earlier.name) {
    throw new HttpError(422, `idempotency_key "${key}" was used to create app "${earlier.name}", not "${name}"`);
  }
  return earlier;
}

const create: Handler = (ctx) => {
  const body = record(ctx.body);
  // `app_name` is the field Fly's docs still show (deviations.ts); the spec calls it `name`.
  const name = optionalString(body, "name") ?? optionalString(body, "app_name") ?? "";
  const key = optionalString(body, "idempotency_key");
  const earlier = repeated(ctx, key, name);
  if (earlier) return ok({ id: earlier.id, created_at: Date.parse(earlier.createdAt) }, 201);
  const orgSlug = optionalString(body, "org_slug") ?? "";
  if (!appNamePattern.test(name)) throw new HttpError(400, `invalid app name "${name}"`);
  if (!ctx.store.orgs.includes(orgSlug)) throw new HttpError(400, `organization "${orgSlug}" not found`);
  if (ctx.store.apps.has(name)) throw new HttpError(422, `app name "${name}" is already taken`, "name_taken");
  const created = Date.now();
  const app: AppRecord = {
    id: ids.app(),
    graphqlId: ids.graphql(),
    name,
    orgSlug,
    network: optionalString(body, "network") ?? "default",
    createdAt: new Date(created).toISOString(),
    readyAt: created + ctx.faults.notReady.ms,
    notReadyStatus: ctx.faults.notReady.status,
    dnsId: ids.dns(),
    machines: new Map(),
    volumes: new Map(),
    secrets: new Map(),
    secretsVersion: 0,
    ips: [],
    certificates: new Map(),
    deployTokens: [],
  };
  ctx.store.apps.set(name, app);
  if (key !== undefined) ctx.store.idempotencyKeys.set(key, app);
  return ok({ id: app.id, created_at: created }, 201);
};

const show: Handler = (ctx) => ok(appView(appOf(ctx)));

const list: Handler = (ctx) => {
  const org = ctx.query["org_slug"];
  if (!org) throw new HttpError(400, "org_slug is required");
  const apps = [...ctx.store.apps.values()].filter((a) => a.orgSlug === org).map(appView);
  return ok({ apps, total_apps: apps.length });
};

const destroy: Handler = (ctx) => {
  const app = appOf(ctx);
  // 202: the app goes away asynchronously (after the appDeleteDelay fault, if one is set).
  ctx.store.later(ctx.faults.appDeleteDelayMs, () => {
    if (ctx.store.apps.get(app.name) !== app) return;
    for (const hostname of app.certificates.keys()) ctx.store.hostnames.delete(hostname);
    ctx.store.apps.delete(app.name);
  });
  return { status: 202 };
};

const deployToken: Handler = (ctx) => {
  const app = appOf(ctx);
  const token = newDeployTokenValue();
  const expiry = optionalString(record(ctx.body), "expiry");
  const createdAt = Date.now();
  app.deployTokens.push({
    id: ids.graphql(),
    name: "",
    token,
    createdAt: new Date(createdAt).toISOString(),
    expiresAt: expiresAt(createdAt, expiry),
    revokedAt: null,
    via: "machines",
  });
  return ok({ token });
};

/** A credential as Fly prints it: `FlyV1 fm2_<base64>`. */
export function newDeployTokenValue(): string {
  return `FlyV1 fm2_${randomBytes(48).toString("base64")}`;
}

const goDurationUnits: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** createdAt + a Go duration (`999999h`, `720h0m0s`); flyctl's default of 20 years when none is given. */
export function expiresAt(createdAtMs: number, expiry: string | undefined): string {
  let ms = 20 * 365 * 24 * 3_600_000;
  if (expiry !== undefined && expiry !== "") {
    const parts = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(expiry) ? expiry.match(/\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h)/g) : null;
    if (!parts) throw new HttpError(400, `invalid expiry "${expiry}": not a Go duration`);
    ms = parts.reduce((total, part) => {
      const [, amount, unit] = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$/.exec(part) ?? [];
      return total + Number(amount) * goDurationUnits[unit];
    }, 0);
  }
  return new Date(Math.min(createdAtMs + ms, 8.64e15)).toISOString();
}

function secretView(secret: SecretRecord): AppSecret {
  return { name: secret.name, digest: secret.digest, created_at: secret.createdAt, updated_at: secret.updatedAt };
}

function secretsOf(app: AppRecord): AppSecret[] {
  return [...app.secrets.values()].sort((a, b) => a.name.localeCompare(b.name)).map(secretView);
}

const listSecrets: Handler = (ctx) => ok({ secrets: secretsOf(appOf(ctx)) });

const updateSecrets: Handler = (ctx: RouteContext) => {
  const app = appOf(ctx);
  const values = record(record(ctx.body)["values"]);
  const time = now();
  for (const [name, value] of Object.entries(values)) {
    if (value === null) {
      app.secrets.delete(name);
    } else if (typeof value === "string") {
      const existing = app.secrets.get(name);
      app.secrets.set(name, {
        name,
        value,
        digest: createHash("sha256").update(value).digest("hex").slice(0, 16),
        createdAt: existing?.createdAt ?? time,
        updatedAt: time,
      });
    } else {
      throw new HttpError(400, `secret ${name}: value must be a string or null`);
    }
  }
  app.secretsVersion += 1;
  return ok({ secrets: secretsOf(app), version: app.secretsVersion, Version: app.secretsVersion });
};

const deleteSecret: Handler = (ctx) => {
  const app = appOf(ctx);
  const name = param(ctx, "secret_name");
  if (!app.secrets.delete(name)) throw new HttpError(404, "secret not found");
  app.secretsVersion += 1;
  return ok({ version: app.secretsVersion, Version: app.secretsVersion });
};

export const appRoutes: Record<string, Handler> = {
  Apps_create: create,
  Apps_show: show,
  Apps_list: list,
  Apps_delete: destroy,
  App_create_deploy_token: deployToken,
  Secrets_list: listSecrets,
  Secrets_update: updateSecrets,
  Secret_delete: deleteSecret,
};
