import * as pulumi from "@pulumi/pulumi";
import { changedFields, failures, isUnknown } from "../core/check";
import { isTransportError } from "../core/errors";
import { poll } from "../core/poll";
import { dynamicProvider } from "../core/provider";
import { body, findApp, flyApi, flyFetch, isStatus, waitForApp, type FlyApi, type Schemas } from "./client";

/** Fly app names: lowercase letters, digits and dashes, a DNS label (they become `<name>.fly.dev`). */
export const appNamePattern = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const appNameRule = "1-63 lowercase letters, digits or dashes, starting and ending with a letter or digit";

export interface AppInputs {
  name: string;
  orgSlug: string;
  network?: string;
  /** Take over an app of this name that already exists (pulumi import does not work for dynamic resources). */
  adopt?: boolean;
}

export interface AppOutputs extends AppInputs {
  appId: string;
  hostname: string;
  privateHostname: string;
  adopted: boolean;
}

function outputs(inputs: AppInputs, app: Schemas["App"], adopted: boolean): AppOutputs {
  return {
    ...inputs,
    network: app.network && app.network !== "default" ? app.network : inputs.network,
    appId: app.id ?? inputs.name,
    hostname: `${inputs.name}.fly.dev`,
    privateHostname: `${inputs.name}.internal`,
    adopted,
  };
}

/** Whether the org's app list holds the app (the list is not subject to the not-visible-yet window of GET). */
async function isListed(api: FlyApi, orgSlug: string, name: string): Promise<boolean> {
  const listed = await body(api.GET("/v1/apps", { params: { query: { org_slug: orgSlug } } }));
  return (listed.apps ?? []).some((app) => app.name === name);
}

export const appProvider = dynamicProvider<AppInputs, AppOutputs>({
  async check(_olds, news) {
    // During preview a field fed by another resource's output arrives as the unknown marker: not checkable yet.
    const problems = failures("fly app", isUnknown(news.name) ? undefined : news.name);
    if (!isUnknown(news.name)) problems.pattern("name", news.name, appNamePattern, appNameRule);
    if (!isUnknown(news.orgSlug)) problems.pattern("orgSlug", news.orgSlug, /^[a-z0-9][a-z0-9-]*$/, "a Fly organization slug such as `personal`");
    if (news.network !== undefined && !isUnknown(news.network)) problems.pattern("network", news.network, /^[a-z0-9][a-z0-9-]*$/, "a network name");
    if (news.adopt !== undefined && typeof news.adopt !== "boolean" && !isUnknown(news.adopt)) problems.add("adopt", "must be true or false", news.adopt);
    return { inputs: news, failures: problems.list };
  },

  async diff(_id, olds, news) {
    const replaces = changedFields({ ...olds }, { ...news }, ["name", "orgSlug", "network"]);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
  },

  async create(inputs) {
    const api = flyApi();
    if (inputs.adopt) {
      const existing = await findApp(api, inputs.name);
      if (existing) {
        const org = existing.organization?.slug;
        if (org && org !== inputs.orgSlug) {
          throw new Error(`fly app '${inputs.name}': adopt found the app in org '${org}', not '${inputs.orgSlug}'`);
        }
        return { id: inputs.name, outs: outputs(inputs, existing, true) };
      }
    }
    // The idempotency key makes a repeat of this create safe, so a 5xx or a dropped connection is retried,
    // and a create that timed out is sent once more: the repeat answers with the app the first one made.
    const request = {
      body: { name: inputs.name, org_slug: inputs.orgSlug, network: inputs.network, idempotency_key: `pulumi-${inputs.name}-${Date.now()}` },
      fetch: flyFetch({ idempotent: true }),
    };
    try {
      await api.POST("/v1/apps", request).catch((error: unknown) => {
        if (isTransportError(error) && error.failure === "timeout") return api.POST("/v1/apps", request);
        throw error;
      });
    } catch (error) {
      if (isStatus(error, 409, 422) && !inputs.adopt) {
        throw new Error(
          `fly app '${inputs.name}' could not be created: ${error instanceof Error ? error.message : String(error)}. ` +
            "If you made this app by hand, set `adopt: true` to take it over.",
        );
      }
      throw error;
    }
    const app = await waitForApp(api, inputs.name);
    return { id: inputs.name, outs: outputs(inputs, app, false) };
  },

  async read(id, props) {
    const api = flyApi();
    const app = await findApp(api, id);
    if (!app) return { id: "" };
    const known: Partial<AppOutputs> = props ?? {};
    const live: AppInputs = {
      name: app.name ?? id,
      orgSlug: app.organization?.slug ?? known.orgSlug ?? "",
      network: known.network,
      adopt: known.adopt,
    };
    return { id, props: outputs(live, app, known.adopted ?? false) };
  },

  async update(_id, olds, news) {
    const app = await waitForApp(flyApi(), news.name);
    return { outs: outputs(news, app, olds.adopted ?? false) };
  },

  /**
   * App delete is asynchronous (202): wait until the name is free, so a replacement (deleteBeforeReplace)
   * can create the app of the same name right after. A 404 is not proof that the app is gone: right after
   * create, app-scoped calls answer 404 for a while (fly-go WaitForApp). So the app counts as gone only
   * once GET answers 404 and the org's app list no longer holds it; an app still listed is deleted again.
   */
  async delete(id, props) {
    const api = flyApi();
    const orgSlug = (props as Partial<AppOutputs> | undefined)?.orgSlug;
    const path = { app_name: id };
    // Inside the window GET and DELETE may also answer 401; the org's list (same token) tells that apart
    // from a bad token, so 401 is only tolerated when there is a list to check.
    const hidden = orgSlug ? [404, 401] : [404];
    const unlessHidden = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await fn();
      } catch (error) {
        if (isStatus(error, ...hidden)) return undefined;
        throw error;
      }
    };
    /** True when Fly accepted the delete (202), false when the app was not visible to it. */
    const deleteOnce = async (): Promise<boolean> => (await unlessHidden(() => api.DELETE("/v1/apps/{app_name}", { params: { path } }))) !== undefined;
    let accepted = await deleteOnce();
    await poll({
      description: `fly app '${id}' to be deleted`,
      timeoutMs: 120_000,
      intervalMs: 250,
      fn: async () => {
        const listed = orgSlug ? await isListed(api, orgSlug, id) : false;
        const visible = await unlessHidden(() => body(api.GET("/v1/apps/{app_name}", { params: { path } })));
        if (!visible && !listed) return true;
        if (!accepted) accepted = await deleteOnce();
        return false;
      },
      predicate: (gone) => gone,
    });
  },
});

export interface AppArgs {
  /** Fly app name (global across Fly), e.g. `acme-web`. Changing it replaces the app. */
  name: pulumi.Input<string>;
  /** Fly organization slug, e.g. `personal`. Changing it replaces the app. */
  orgSlug: pulumi.Input<string>;
  /** Custom private network; default: the org's default network. */
  network?: pulumi.Input<string>;
  /** Take over an existing app of this name instead of failing. @default `false` */
  adopt?: pulumi.Input<boolean>;
}

/** A Fly.io app (`fly apps create`). */
export class App extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly orgSlug: pulumi.Output<string>;
  declare readonly appId: pulumi.Output<string>;
  declare readonly hostname: pulumi.Output<string>;
  declare readonly privateHostname: pulumi.Output<string>;

  constructor(name: string, args: AppArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      appProvider,
      name,
      { ...args, appId: undefined, hostname: undefined, privateHostname: undefined, adopted: undefined },
      opts,
      "fly",
      "App",
    );
  }
}
