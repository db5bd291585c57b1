/**
 * `POST /graphql`: the few operations of Fly's GraphQL API (https://api.fly.io/graphql) the providers use, for
 * deploy tokens that have a name and an id. This API is outside the Machines OpenAPI document, so the contract
 * check (contract.ts) never sees these calls; the operations, their fields and where they were read are listed
 * in specs/fly-graphql/SOURCE.md and dynamic-providers/fly/graphql.ts.
 *
 * No GraphQL parser: an operation is found by its name (`operationName`, or the name in `query Name(` /
 * `mutation Name(`), and its document must select the top-level field that operation stands for. Anything else
 * is refused the way a GraphQL server refuses it: status 200 with `errors`. A missing app or token answers
 * `errors: [{message: "Could not find ...", extensions: {code: "NOT_FOUND"}}]`. Answers carry every field of
 * the object, whatever the document selects.
 */
import type { AppRecord, DeployTokenRecord, Store } from "../state";
import { ids } from "../state";
import { HttpError, record, type RouteResult } from "./common";
import { expiresAt, newDeployTokenValue } from "./apps";

export interface GraphqlRequest {
  operation: string;
  document: string;
  variables: Record<string, unknown>;
}

interface GraphqlOperation {
  /** The top-level field the document must select. */
  field: string;
  /** The app whose rate-limit bucket the call draws from, when known. */
  appOf(store: Store, variables: Record<string, unknown>): string | undefined;
  run(store: Store, variables: Record<string, unknown>): RouteResult;
}

/** The operation's name: `operationName`, else the first `query|mutation Name` of the document. */
export function parseGraphqlRequest(body: unknown): GraphqlRequest | { error: string } {
  const fields = record(body);
  const document = typeof fields["query"] === "string" ? fields["query"] : undefined;
  if (document === undefined) return { error: "a GraphQL request needs a `query` string" };
  const named = /\b(?:query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(document)?.[1];
  const operation = typeof fields["operationName"] === "string" && fields["operationName"] !== "" ? fields["operationName"] : named;
  if (operation === undefined) return { error: "an anonymous operation: the emulator finds operations by their name" };
  const variables = fields["variables"] === undefined || fields["variables"] === null ? {} : record(fields["variables"]);
  return { operation, document, variables };
}

export function graphqlError(message: string, code?: string, path?: string[]): RouteResult {
  return { status: 200, body: { data: null, errors: [{ message, ...(path ? { path } : {}), ...(code ? { extensions: { code } } : {}) }] } };
}

const notFound = (what: string, path: string): RouteResult => graphqlError(`Could not find ${what}`, "NOT_FOUND", [path]);

function string(variables: Record<string, unknown>, key: string): string | undefined {
  const value = variables[key];
  return typeof value === "string" ? value : undefined;
}

function visibleApp(store: Store, name: string | undefined): AppRecord | undefined {
  const app = name === undefined ? undefined : store.apps.get(name);
  return app && Date.now() >= app.readyAt ? app : undefined;
}

function tokenView(token: DeployTokenRecord): Record<string, unknown> {
  return { id: token.id, name: token.name, createdAt: token.createdAt, expiresAt: token.expiresAt, revokedAt: token.revokedAt };
}

/** `app(name:) { id organization { id } limitedAccessTokens(first, after) { nodes pageInfo totalCount } }` */
const listTokens: GraphqlOperation = {
  field: "app",
  appOf: (_store, variables) => string(variables, "appName"),
  run(store, variables) {
    const app = visibleApp(store, string(variables, "appName"));
    if (!app) return notFound("App", "app");
    const first = typeof variables["first"] === "number" ? variables["first"] : 100;
    const after = string(variables, "after");
    const start = after === undefined ? 0 : Number(Buffer.from(after, "base64url").toString("utf8"));
    if (!Number.isInteger(start) || start < 0) return graphqlError(`invalid cursor "${after}"`);
    const page = app.deployTokens.slice(start, start + first);
    const end = start + page.length;
    return {
      status: 200,
      body: {
        data: {
          app: {
            id: app.graphqlId,
            name: app.name,
            organization: { id: store.orgIds.get(app.orgSlug) ?? "", slug: app.orgSlug },
            limitedAccessTokens: {
              nodes: page.map(tokenView),
              pageInfo: { hasNextPage: end < app.deployTokens.length, endCursor: page.length > 0 ? Buffer.from(String(end)).toString("base64url") : null },
              totalCount: app.deployTokens.length,
            },
          },
        },
      },
    };
  },
};

function appByGraphqlId(store: Store, id: unknown): AppRecord | undefined {
  return [...store.apps.values()].find((app) => app.graphqlId === id && Date.now() >= app.readyAt);
}

/** `createLimitedAccessToken(input: {name, organizationId, profile: "deploy", profileParams: {app_id}, expiry})` */
const createToken: GraphqlOperation = {
  field: "createLimitedAccessToken",
  appOf: (store, variables) => appByGraphqlId(store, record(variables["profileParams"])["app_id"])?.name,
  run(store, variables) {
    const name = string(variables, "name");
    if (name === undefined || name === "") return graphqlError("name: must be a non-empty string", "BAD_USER_INPUT");
    const profile = string(variables, "profile");
    if (profile !== "deploy") return graphqlError(`profile "${String(profile)}": the emulator makes only "deploy" tokens`, "BAD_USER_INPUT");
    const orgId = string(variables, "organizationId");
    if (![...store.orgIds.values()].includes(orgId ?? "")) return notFound("Organization", "createLimitedAccessToken");
    const app = appByGraphqlId(store, record(variables["profileParams"])["app_id"]);
    if (!app) return notFound("App", "createLimitedAccessToken");
    if (store.orgIds.get(app.orgSlug) !== orgId) return graphqlError("profileParams.app_id: the app belongs to another organization", "BAD_USER_INPUT");
    const createdAtMs = Date.now();
    let expires: string;
    try {
      expires = expiresAt(createdAtMs, string(variables, "expiry"));
    } catch (error) {
      return graphqlError(error instanceof HttpError ? `expiry: ${error.message}` : String(error), "BAD_USER_INPUT");
    }
    const token: DeployTokenRecord = {
      id: ids.graphql(),
      name,
      token: newDeployTokenValue(),
      createdAt: new Date(createdAtMs).toISOString(),
      expiresAt: expires,
      revokedAt: null,
      via: "graphql",
    };
    app.deployTokens.push(token);
    return { status: 200, body: { data: { createLimitedAccessToken: { limitedAccessToken: { ...tokenView(token), profile, tokenHeader: token.token } } } } };
  },
};

function tokenById(store: Store, id: unknown): { app: AppRecord; token: DeployTokenRecord } | undefined {
  for (const app of store.apps.values()) {
    const token = app.deployTokens.find((candidate) => candidate.id === id);
    if (token) return { app, token };
  }
  return undefined;
}

/** `deleteLimitedAccessToken(input: {id})`: revokes; revoking a revoked token changes nothing. */
const revokeToken: GraphqlOperation = {
  field: "deleteLimitedAccessToken",
  appOf: (store, variables) => tokenById(store, record(variables["input"])["id"])?.app.name,
  run(store, variables) {
    const found = tokenById(store, record(variables["input"])["id"]);
    if (!found) return notFound("LimitedAccessToken", "deleteLimitedAccessToken");
    found.token.revokedAt ??= new Date().toISOString();
    return { status: 200, body: { data: { deleteLimitedAccessToken: { token: found.token.id, revokedBy: null } } } };
  },
};

/** The operations the emulator answers, by name (the names dynamic-providers/fly/graphql.ts sends). */
export const graphqlOperations: Readonly<Record<string, GraphqlOperation>> = {
  GetAppLimitedAccessTokens: listTokens,
  CreateLimitedAccessToken: createToken,
  RevokeLimitedAccessToken: revokeToken,
};

/** The operation to run, or the GraphQL error that refuses the request. */
export function resolveGraphql(request: GraphqlRequest): GraphqlOperation | RouteResult {
  const operation = Object.hasOwn(graphqlOperations, request.operation) ? graphqlOperations[request.operation] : undefined;
  if (!operation) return graphqlError(`Unknown operation "${request.operation}": the Fly emulator answers ${Object.keys(graphqlOperations).join(", ")}`);
  if (!new RegExp(`\\b${operation.field}\\s*\\(`).test(request.document)) {
    return graphqlError(`Operation "${request.operation}" must select ${operation.field}(...)`);
  }
  return operation;
}
