import * as pulumi from "@pulumi/pulumi";
import { changedFields, failures, isUnknown, parseDuration } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { stackOrganization } from "../core/stack";
import { appNamePattern } from "./app";
import { findApp, flyApi } from "./client";
import { createDeployToken, isLive, listAppTokens, mayHaveActed, revokeToken, type CreatedToken } from "./graphql";

/** The deployment guide's `fly tokens create deploy -x 999999h`: a token that, in practice, never expires. */
export const defaultDeployTokenExpiry = "999999h";

/** The longest token name this provider makes or accepts (Fly documents no limit; this keeps `fly tokens list` readable). */
export const deployTokenNameMaxLength = 128;
/** `#` and 8 hex digits of sha256(expiry, rotate): a replacement's name differs from the token it replaces. */
const suffixLength = 9;
/** The longest `name` argument: the suffix is appended to it. */
export const deployTokenBaseNameMaxLength = deployTokenNameMaxLength - suffixLength;

/** Why a token name is refused (undefined when it is fine). */
export function deployTokenNameProblem(name: unknown, maxLength = deployTokenNameMaxLength): string | undefined {
  if (typeof name !== "string" || name.trim() === "") return "must be a non-empty string";
  if (/[\u0000-\u001f\u007f]/.test(name)) return "must not contain control characters (newlines, tabs, ...)";
  if (name.length > maxLength) return `must be at most ${maxLength} characters (it has ${name.length})`;
  return undefined;
}

/**
 * The token's name on Fly: `base` plus `#` and 8 hex digits of sha256(expiry, rotate), so a replacement
 * (new expiry or rotate, made before the old token is deleted) never shares the old token's name. A base
 * too long for the limit is cut and ends in 8 hex digits of its own hash, so the name stays deterministic.
 */
export function deployTokenName(base: string, expiry: string, rotate: string | undefined): string {
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  const hash = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 8);
  const room = deployTokenNameMaxLength - suffixLength;
  const shortened = base.length > room ? `${base.slice(0, room - 9)}~${hash(base)}` : base;
  return `${shortened}#${hash(JSON.stringify([expiry, rotate ?? null]))}`;
}

export interface DeployTokenInputs {
  appName: string;
  /** Go duration, e.g. `720h`. */
  expiry: string;
  /** Any change makes a new token (replace); e.g. a date to rotate on schedule. */
  rotate?: string;
  /**
   * The token's name on Fly, which finds it again after a lost answer or a crash (the DeployToken class sets
   * it). @default `pulumi/<appName>` plus the (expiry, rotate) suffix of deployTokenName
   */
  name?: string;
}

export interface DeployTokenOutputs extends DeployTokenInputs {
  /** The token's name on Fly (`fly tokens list -a <app>`). Absent in state written before tokens had names. */
  name?: string;
  /** The token's GraphQL id (`fly tokens revoke <id>`). Absent in state written before tokens had names. */
  tokenId?: string;
  /** `FlyV1 fm2_...`, usable as FLY_API_TOKEN in CI. Secret. */
  token: string;
  createdAt: string;
  expiresAt: string;
}

/** The name the token gets: the given one, or the provider's own default for inputs without one. */
function tokenNameOf(inputs: DeployTokenInputs): string {
  return inputs.name ?? deployTokenName(`pulumi/${inputs.appName}`, inputs.expiry ?? defaultDeployTokenExpiry, inputs.rotate);
}

/**
 * Revokes every live token of the app named `name` (nobody holds one: a create whose answer was lost, or whose
 * result was never recorded, made it), then creates the token. `stage` says how far it got when it throws.
 */
async function revokeNamedThenCreate(inputs: DeployTokenInputs, name: string, progress: { stage: "list" | "revoke" | "create" }): Promise<CreatedToken> {
  progress.stage = "list";
  const app = await listAppTokens(inputs.appName);
  if (!app) throw new Error("the app does not exist (create the fly:App first)");
  progress.stage = "revoke";
  for (const leftOver of app.tokens.filter((token) => token.name === name && isLive(token))) await revokeToken(leftOver.id);
  progress.stage = "create";
  return createDeployToken({ name, organizationId: app.organizationId, appId: app.appId, expiry: inputs.expiry });
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
    if (news.name !== undefined && !isUnknown(news.name)) {
      const problem = deployTokenNameProblem(news.name);
      if (problem) problems.add("name", problem, news.name);
    }
    const known = [news.appName, expiry, news.rotate].every((value) => !isUnknown(value));
    const name = news.name ?? (known && problems.list.length === 0 ? tokenNameOf({ ...news, expiry }) : undefined);
    return { inputs: { ...news, expiry, ...(name === undefined ? {} : { name }) }, failures: problems.list };
  },

  /**
   * A token cannot change: a new app, expiry, rotate or name is a new token, made before the old one is
   * revoked (its name differs by the suffix). State written before tokens had names keeps its token until
   * one of the other fields changes.
   */
  async diff(_id, olds, news) {
    const replaces = changedFields({ ...olds, expiry: olds.expiry ?? defaultDeployTokenExpiry }, { ...news }, ["appName", "expiry", "rotate"]);
    if (olds.name !== undefined && olds.tokenId !== undefined && olds.name !== tokenNameOf(news)) replaces.push("name");
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },

  /**
   * Through Fly's GraphQL API, as `fly tokens create deploy -a <app> -n <name> -x <expiry>`. First every live
   * token of the app with this token's name is revoked: one left by a create whose answer was lost or whose
   * result was never recorded, which nobody holds. A create whose answer is lost (5xx, dropped connection) is
   * not repeated blindly: the app's tokens are listed again, the one of this name revoked, and one more create
   * made, after which any other live token of this name (the lost one landing late) is revoked too; a second lost
   * answer fails, and the next `pulumi up` revokes that one in turn.
   */
  async create(inputs) {
    const name = tokenNameOf(inputs);
    const label = `fly deploy token '${name}' for app '${inputs.appName}'`;
    let created: CreatedToken | undefined;
    let lostBefore = false;
    const progress: { stage: "list" | "revoke" | "create" } = { stage: "list" };
    for (let attempt = 1; created === undefined; attempt++) {
      try {
        created = await revokeNamedThenCreate(inputs, name, progress);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const lostCreate = progress.stage === "create" && mayHaveActed(error);
        lostBefore ||= lostCreate;
        // A lost create answer: the next round lists again and revokes what it may have made.
        if (attempt < 2 && (lostCreate || (progress.stage !== "create" && mayHaveActed(error)))) continue;
        if (lostCreate) {
          throw new Error(
            `${label}: ${message}. Fly may have made a token of this name that nothing holds; run \`pulumi up\` again: ` +
              `it revokes every live token named '${name}' before creating one (or revoke it by hand: \`fly tokens list -a ${inputs.appName}\`, \`fly tokens revoke <id>\`).`,
            { cause: error },
          );
        }
        throw new Error(`${label}: ${message}`, { cause: error });
      }
    }
    if (lostBefore) {
      // The lost create may have landed after the second round listed: revoke any other live token of this name.
      const madeId = created.id;
      const app = await listAppTokens(inputs.appName);
      for (const late of app?.tokens.filter((token) => token.name === name && token.id !== madeId && isLive(token)) ?? []) await revokeToken(late.id);
    }
    const outs: DeployTokenOutputs = {
      ...inputs,
      name: created.name,
      tokenId: created.id,
      token: created.tokenHeader,
      createdAt: created.createdAt ?? new Date().toISOString(),
      expiresAt: created.expiresAt,
    };
    return { id: created.id, outs };
  },

  /**
   * Looks the token up in the app's listing: still there and live keeps it (with Fly's name and expiry); revoked,
   * expired, not listed, or the app gone reports it gone, so the next `pulumi up` makes a new one. State written
   * before tokens had names is only checked for its app.
   */
  async read(id, props) {
    const known = props as DeployTokenOutputs;
    if (!known.tokenId) {
      return (await findApp(flyApi(), known.appName)) ? { id, props: known } : { id: "" };
    }
    const app = await listAppTokens(known.appName);
    if (!app) {
      // GraphQL says "Could not find App" for a token without access too: the app is gone only if the Machines API
      // (same FLY_API_TOKEN) agrees, else the token stays in the state and the run says why.
      if (await findApp(flyApi(), known.appName)) {
        throw new Error(
          `fly deploy token '${known.name}' for app '${known.appName}': Fly's GraphQL API does not show this app's tokens to FLY_API_TOKEN, ` +
            "though the Machines API shows the app; use a token that may manage the app's tokens (`fly tokens create org`).",
        );
      }
      return { id: "" };
    }
    const token = app.tokens.find((candidate) => candidate.id === known.tokenId);
    if (!token || !isLive(token)) return { id: "" };
    return { id, props: { ...known, name: token.name, expiresAt: token.expiresAt } };
  },

  /**
   * Revokes the token (`fly tokens revoke <id>`); one already revoked or gone counts as done. A behaviour change:
   * before tokens had names a delete left the token valid until it expired, and state written then still can
   * not be revoked here (revoke it by hand with `fly tokens list -a <app>` and `fly tokens revoke <id>`).
   */
  async delete(_id, props) {
    const known = props as DeployTokenOutputs;
    if (!known.tokenId) return;
    await revokeToken(known.tokenId);
  },
});

export interface DeployTokenArgs {
  /** The app the token may deploy. */
  appName: pulumi.Input<string>;
  /** How long the token is valid, a Go duration. @default `"999999h"` (`fly tokens create deploy -x 999999h`) */
  expiry?: pulumi.Input<string>;
  /**
   * Change this to get a new token: the new one is made first, then the old one is revoked.
   * @example `"2025-06"`
   */
  rotate?: pulumi.Input<string>;
  /**
   * The token's name on Fly (`fly tokens list -a <app>`), unique per app among this platform's tokens: it is how
   * a token whose answer was lost is found and revoked. `#` and 8 hex digits of (expiry, rotate) are appended.
   * At most 119 characters, no control characters. A create revokes every live token of its name on the app, so
   * two resources (or stacks) giving one app the same name and expiry revoke each other's token: keep it unique.
   * @default `pulumi/<organization>/<project>/<stack>/<resource name>`
   * @example `"acme-api ci deploy (production)"`
   */
  name?: pulumi.Input<string>;
}

/**
 * A deploy token for one Fly app (`fly tokens create deploy`), e.g. the FLY_API_TOKEN GitHub Actions secret.
 * `token` is secret. It has a deterministic name, so a token made by a create whose answer was lost is found
 * and revoked; deleting the resource revokes the token.
 */
export class DeployToken extends pulumi.dynamic.Resource {
  declare readonly appName: pulumi.Output<string>;
  declare readonly expiry: pulumi.Output<string>;
  /** The token's name on Fly. */
  declare readonly name: pulumi.Output<string>;
  /** The token's id on Fly (`fly tokens revoke <id>`). */
  declare readonly tokenId: pulumi.Output<string>;
  declare readonly token: pulumi.Output<string>;
  declare readonly createdAt: pulumi.Output<string>;
  declare readonly expiresAt: pulumi.Output<string>;

  constructor(name: string, args: DeployTokenArgs, opts?: pulumi.CustomResourceOptions) {
    if (args.name !== undefined && !pulumi.Output.isInstance(args.name) && !(args.name instanceof Promise)) {
      const problem = deployTokenNameProblem(args.name, deployTokenBaseNameMaxLength);
      if (problem) throw new Error(`DeployToken '${name}': name ${problem}, got ${JSON.stringify(args.name)}`);
    }
    const base = args.name ?? `pulumi/${stackOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}/${name}`;
    const tokenName = pulumi
      .all([base, args.expiry, args.rotate])
      .apply(([given, expiry, rotate]) => deployTokenName(given, expiry ?? defaultDeployTokenExpiry, rotate));
    super(
      deployTokenProvider,
      name,
      { ...args, name: tokenName, tokenId: undefined, token: undefined, createdAt: undefined, expiresAt: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["token"] }),
      "fly",
      "DeployToken",
    );
  }
}
