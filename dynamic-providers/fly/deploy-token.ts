import * as pulumi from "@pulumi/pulumi";
import { changedFields, failures, isUnknown, parseDuration } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { appNamePattern } from "./app";
import { isTransportError } from "../core/errors";
import { body, flyApi, ignoreNotFound, isStatus } from "./client";

/** The deployment guide's `fly tokens create deploy -x 999999h`: a token that, in practice, never expires. */
export const defaultDeployTokenExpiry = "999999h";

export interface DeployTokenInputs {
  appName: string;
  /** Go duration, e.g. `720h`. */
  expiry: string;
  /** Any change makes a new token (replace); e.g. a date to rotate on schedule. */
  rotate?: string;
}

export interface DeployTokenOutputs extends DeployTokenInputs {
  /** `FlyV1 fm2_...`, usable as FLY_API_TOKEN in CI. Secret. */
  token: string;
  createdAt: string;
  /** createdAt + expiry, computed here (the API does not say). */
  expiresAt: string;
}

export const deployTokenProvider = dynamicProvider<DeployTokenInputs, DeployTokenOutputs>({
  async check(_olds, news) {
    const problems = failures("fly deploy token", isUnknown(news.appName) ? undefined : news.appName);
    if (!isUnknown(news.appName)) problems.pattern("appName", news.appName, appNamePattern, "a Fly app name");
    const expiry = news.expiry ?? defaultDeployTokenExpiry;
    if (!isUnknown(expiry)) {
      const ms = typeof expiry === "string" ? parseDuration(expiry) : undefined;
      if (ms === undefined || ms <= 0) problems.add("expiry", "must be a positive Go duration such as `720h` or `999999h`", expiry);
    }
    if (news.rotate !== undefined && typeof news.rotate !== "string" && !isUnknown(news.rotate)) problems.add("rotate", "must be a string", news.rotate);
    return { inputs: { ...news, expiry }, failures: problems.list };
  },

  async diff(_id, olds, news) {
    const replaces = changedFields({ ...olds, expiry: olds.expiry ?? defaultDeployTokenExpiry }, { ...news }, ["appName", "expiry", "rotate"]);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },

  /**
   * Creating a token is not idempotent, so a 5xx is not retried (429 is: the request was refused). The
   * Machines API can neither list nor revoke tokens and a token has no name, so one whose answer was lost
   * cannot be found: the error says how to revoke it by hand (flyctl reaches Fly's GraphQL API for that).
   */
  async create(inputs) {
    const api = flyApi();
    const sentAt = new Date().toISOString();
    let created: { token?: string };
    try {
      created = await body(
        api.POST("/v1/apps/{app_name}/deploy_token", { params: { path: { app_name: inputs.appName } }, body: { expiry: inputs.expiry } }),
      );
    } catch (error) {
      if (!(isTransportError(error) || isStatus(error, 500, 502, 503, 504))) throw error;
      throw new Error(
        `fly deploy token for app '${inputs.appName}': the create got no answer (${error instanceof Error ? error.message : String(error)}), ` +
          `so Fly may have made a token that nothing holds. The Machines API cannot list or revoke tokens: run ` +
          `\`fly tokens list -a ${inputs.appName}\` and \`fly tokens revoke <id>\` for a deploy token created at ${sentAt} or later, ` +
          "then run `pulumi up` again.",
        { cause: error },
      );
    }
    if (!created.token) throw new Error(`fly deploy token for app '${inputs.appName}': the API answered without a token`);
    const now = Date.now();
    const expiresAt = new Date(Math.min(now + (parseDuration(inputs.expiry) ?? 0), 8.64e15)).toISOString();
    return { id: `${inputs.appName}/deploy-token/${now}`, outs: { ...inputs, token: created.token, createdAt: new Date(now).toISOString(), expiresAt } };
  },

  /**
   * A token cannot be read back from the API, so the stored state is returned as it is. Only a deleted
   * app is noticed: its tokens went with it.
   */
  async read(id, props) {
    const known = props as DeployTokenOutputs;
    const api = flyApi();
    const app = await ignoreNotFound(() => body(api.GET("/v1/apps/{app_name}", { params: { path: { app_name: known.appName } } })));
    return app ? { id, props: known } : { id: "" };
  },

  /**
   * The Machines API has no revoke endpoint: the token stays valid until it expires. Revoke it by hand
   * with `fly tokens list -a <app>` and `fly tokens revoke <id>` if it may have leaked.
   */
  async delete() {
    return;
  },
});

export interface DeployTokenArgs {
  /** The app the token may deploy. */
  appName: pulumi.Input<string>;
  /** How long the token is valid, a Go duration. @default `"999999h"` (`fly tokens create deploy -x 999999h`) */
  expiry?: pulumi.Input<string>;
  /**
   * Change this to get a new token (the old one is not revoked; see `delete`).
   * @example `"2025-06"`
   */
  rotate?: pulumi.Input<string>;
}

/** A deploy token for one Fly app, e.g. the FLY_API_TOKEN GitHub Actions secret. `token` is secret. */
export class DeployToken extends pulumi.dynamic.Resource {
  declare readonly appName: pulumi.Output<string>;
  declare readonly expiry: pulumi.Output<string>;
  declare readonly token: pulumi.Output<string>;
  declare readonly createdAt: pulumi.Output<string>;
  declare readonly expiresAt: pulumi.Output<string>;

  constructor(name: string, args: DeployTokenArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      deployTokenProvider,
      name,
      { ...args, token: undefined, createdAt: undefined, expiresAt: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["token"] }),
      "fly",
      "DeployToken",
    );
  }
}
