import * as pulumi from "@pulumi/pulumi";
import { changedFields, failures, isUnknown, sameValue } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { appNamePattern } from "./app";
import { body, flyApi, ignoreNotFound, isStatus, type Schemas } from "./client";

/** Secret names become environment variables in the machines: upper-case, as `fly secrets set` users write them. */
export const secretNamePattern = /^[A-Z_][A-Z0-9_]*$/;

export interface SecretsInputs {
  appName: string;
  /** Secret name → value. Every value is sent to Fly; none is ever put in an error message. */
  values: Record<string, string>;
}

export interface SecretsOutputs extends SecretsInputs {
  /** The app's secrets version after our last change; machines pass it as `min_secrets_version`. */
  version: number;
  /** The managed names, sorted (not secret). */
  names: string[];
}

/** Name → value to set, or null to unset, sent in one `POST /secrets` (the live API takes nulls). */
type SecretChanges = Record<string, string | null>;

function outputs(inputs: SecretsInputs, version: number): SecretsOutputs {
  return { appName: inputs.appName, values: { ...inputs.values }, version, names: Object.keys(inputs.values).sort() };
}

/**
 * Runs `fn`; any error it throws is replaced by one whose message has every secret value cut out. Fly's
 * error text is echoed into ApiError messages, and an API that quotes the request would otherwise leak.
 * The status is kept so callers can still tell a 404 apart.
 */
async function redacting<T>(values: readonly string[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Each value as sent and as it reads inside a JSON body an API quotes back (quotes, backslashes, newlines escaped).
    const clean = values
      .flatMap((value) => [value, JSON.stringify(value).slice(1, -1)])
      .filter((value) => value.length > 0)
      .sort((a, b) => b.length - a.length)
      .reduce((text, value) => text.split(value).join("[secret]"), message);
    const status = (error as { status?: unknown } | null)?.status;
    throw Object.assign(new Error(clean), typeof status === "number" ? { status } : {});
  }
}

/** Sets and unsets in one call and returns the new secrets version. Repeating it is harmless, so 5xx are retried. */
async function applySecrets(appName: string, changes: SecretChanges): Promise<number> {
  const values = Object.values(changes).filter((value): value is string => value !== null);
  return redacting(values, async () => {
    const api = flyApi({ idempotent: true });
    // The spec types values as strings only; nulls unset keys (fly-go, BEHAVIOUR-NOTES "Secrets").
    const request = { values: changes } as unknown as Schemas["AppSecretsUpdateRequest"];
    try {
      const response = await body(api.POST("/v1/apps/{app_name}/secrets", { params: { path: { app_name: appName } }, body: request }));
      return response.version ?? response.Version ?? 0;
    } catch (error) {
      if (isStatus(error, 409)) {
        throw new Error(`fly secrets for app '${appName}': another secrets update ran at the same time (409); run \`pulumi up\` again`);
      }
      throw error;
    }
  });
}

export const secretsProvider = dynamicProvider<SecretsInputs, SecretsOutputs>({
  async check(_olds, news) {
    const problems = failures("fly secrets", isUnknown(news.appName) ? undefined : news.appName);
    if (!isUnknown(news.appName)) problems.pattern("appName", news.appName, appNamePattern, "a Fly app name");
    const values: unknown = news.values;
    if (isUnknown(values)) return { inputs: news, failures: problems.list };
    if (typeof values !== "object" || values === null || Array.isArray(values)) {
      // The value itself is never printed: it may hold secrets.
      problems.add("values", "must be a map of secret name to value");
    } else if (Object.keys(values).length === 0) {
      problems.add("values", "must name at least one secret (delete the resource to remove them all)");
    } else {
      for (const [name, value] of Object.entries(values)) {
        if (!secretNamePattern.test(name)) problems.add(`values.${name}`, "must be an environment variable name (upper-case letters, digits and _, not starting with a digit)", name);
        else if (typeof value !== "string" && !isUnknown(value)) problems.add(`values.${name}`, `must be a string, got a ${value === null ? "null" : typeof value}`);
      }
    }
    return { inputs: news, failures: problems.list };
  },

  async diff(_id, olds, news) {
    const replaces = changedFields({ ...olds }, { ...news }, ["appName"]);
    const changes = replaces.length > 0 || !sameValue(olds.values, news.values);
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const version = await applySecrets(inputs.appName, { ...inputs.values });
    return { id: inputs.appName, outs: outputs(inputs, version) };
  },

  /**
   * The API lists names, never values, so the stored values are kept. A managed name that disappeared
   * remotely is dropped from the state, so the next diff sees it missing and sets it again. Names added
   * remotely (by `fly secrets set` or another Secrets resource) are not ours and are ignored.
   */
  async read(id, props) {
    const known: Partial<SecretsOutputs> = props ?? {};
    const appName = known.appName ?? id;
    const api = flyApi();
    const listed = await ignoreNotFound(() => body(api.GET("/v1/apps/{app_name}/secrets", { params: { path: { app_name: appName } } })));
    if (!listed) return { id: "" };
    const remote = new Set((listed.secrets ?? []).map((secret) => secret.name));
    const values = Object.fromEntries(Object.entries(known.values ?? {}).filter(([name]) => remote.has(name)));
    return { id, props: outputs({ appName, values }, known.version ?? 0) };
  },

  /** One call: changed or new names with their values, names dropped since `olds` as null. No call when nothing changed. */
  async update(_id, olds, news) {
    const before = olds.values ?? {};
    const changes: SecretChanges = {};
    for (const [name, value] of Object.entries(news.values)) if (before[name] !== value) changes[name] = value;
    for (const name of Object.keys(before)) if (!(name in news.values)) changes[name] = null;
    if (Object.keys(changes).length === 0) return { outs: outputs(news, olds.version ?? 0) };
    const version = await applySecrets(news.appName, changes);
    return { outs: outputs(news, version) };
  },

  /** Unsets every managed name in one call; names set by others stay. A missing app means they are gone. */
  async delete(_id, props) {
    const names = Object.keys(props.values ?? {});
    if (names.length === 0) return;
    try {
      await applySecrets(props.appName, Object.fromEntries(names.map((name) => [name, null])));
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  },
});

export interface SecretsArgs {
  /** The Fly app the secrets belong to. Changing it moves the secrets (replace). */
  appName: pulumi.Input<string>;
  /**
   * Secret name → value, the `fly secrets set NAME=value` pairs of the deployment guide. Pass values as
   * Pulumi secrets (`pulumi config set --secret`); they are stored encrypted either way.
   * @example `{ DATABASE_URL: databaseUrl, SENTRY_DSN: config.requireSecret("sentryDsn") }`
   */
  values: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * Fly app secrets (`fly secrets set` / `fly secrets unset`), set and unset in one call per change. Machines
 * see new values only when started or updated: pass `version` as their `min_secrets_version`.
 */
export class Secrets extends pulumi.dynamic.Resource {
  declare readonly appName: pulumi.Output<string>;
  declare readonly values: pulumi.Output<Record<string, string>>;
  declare readonly version: pulumi.Output<number>;
  declare readonly names: pulumi.Output<string[]>;

  constructor(name: string, args: SecretsArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      secretsProvider,
      name,
      { ...args, version: undefined, names: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["values"] }),
      "fly",
      "Secrets",
    );
  }
}
