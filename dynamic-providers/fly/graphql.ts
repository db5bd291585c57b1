/**
 * A small client for Fly's GraphQL API (https://api.fly.io/graphql), for what the Machines API cannot do:
 * deploy tokens that have a name and an id, can be listed per app and revoked.
 *
 * The operations, as flyctl and fly-go send them (read at superfly/flyctl ad0172face303b77584eea95b46fa3ddc61d5ddd
 * and superfly/fly-go 22d6e518f42d50a81b4485da918741563354b3d3, v0.9.6 + 2, the fly-go flyctl's go.mod pins):
 * - app and org ids: fly-go resource_apps.go GetAppCompact, `app(name: $appName) { id organization { id } ... }`;
 *   flyctl internal/command/tokens/create.go runDeploy passes `app.Organization.ID` and `{"app_id": app.ID}`.
 * - create: flyctl gql/genqclient.graphql `mutation CreateLimitedAccessToken($name: String!, $organizationId: ID!,
 *   $profile: String!, $profileParams: JSON, $expiry: String!) { createLimitedAccessToken(input: {name, organizationId,
 *   profile, profileParams, expiry}) { limitedAccessToken { tokenHeader } } }`, with profile "deploy" and
 *   profileParams `{app_id}` (create.go runDeploy). gql/schema.graphql: CreateLimitedAccessTokenPayload
 *   `{ limitedAccessToken: LimitedAccessToken! }`; LimitedAccessToken `{ id: ID!, name: String!, createdAt,
 *   expiresAt: ISO8601DateTime!, revokedAt: ISO8601DateTime, tokenHeader: String, profile, ... }`. The token CI uses
 *   is `tokenHeader` (`FlyV1 fm2_...`), what `fly tokens create deploy` prints.
 * - list: fly-go resource_tokens.go GetAppLimitedAccessTokens, `app(name: $appName) { limitedAccessTokens { nodes {
 *   id name token expiresAt revokedAt user { email } } } }` (`fly tokens list -a <app>`, internal/command/tokens/list.go);
 *   revoked tokens stay listed with `revokedAt` set. The connection takes `first`/`after` and has `pageInfo`.
 * - revoke: fly-go resource_tokens.go RevokeLimitedAccessToken, `mutation($input: DeleteLimitedAccessTokenInput!) {
 *   deleteLimitedAccessToken(input: $input) { token } }` with `input: {id}` (`fly tokens revoke <id>`,
 *   internal/command/tokens/revoke.go).
 * - a missing object: `{"data": null, "errors": [{"message": "Could not find App", "extensions": {"code": "NOT_FOUND"}}]}`
 *   (flyctl matches the message "Could not find App", e.g. internal/command/deploy/deploy.go).
 * fly-go sends these without an operation name; this client names each operation after fly-go's action
 * (GetAppLimitedAccessTokens, CreateLimitedAccessToken, RevokeLimitedAccessToken), which GraphQL allows.
 * Fly documents no limit on a token's name; names here stay within 128 characters.
 */
import { apiError, errorText, isApiError, isTransportError } from "../core/errors";
import { envOr, envSecondsMs, requireEnv } from "../core/env";
import { defaultAttemptTimeoutMs, retryingFetch } from "../core/http";
import { defaultRetryPolicy } from "../core/retry";

export const defaultFlyGraphqlUrl = "https://api.fly.io/graphql";
const service = "Fly GraphQL";

/** One entry of a GraphQL answer's `errors`. */
export interface GraphqlErrorEntry {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

/** A GraphQL answer of status 200 that carried `errors`: the call failed all the same. */
export interface FlyGraphqlError extends Error {
  readonly operation: string;
  readonly errors: readonly GraphqlErrorEntry[];
}

export function isFlyGraphqlError(error: unknown): error is FlyGraphqlError {
  return error instanceof Error && Array.isArray((error as Partial<FlyGraphqlError>).errors) && typeof (error as Partial<FlyGraphqlError>).operation === "string";
}

/** "Could not find ..." (extensions.code NOT_FOUND): the app or token does not exist (any more). */
export function isGraphqlNotFound(error: unknown): boolean {
  if (!isFlyGraphqlError(error)) return false;
  return error.errors.some((entry) => entry.extensions?.code === "NOT_FOUND" || /^could not find/i.test(entry.message));
}

export interface GraphqlRequest {
  /** The operation's name, as in the document (`query GetAppLimitedAccessTokens(...)`); errors name it. */
  operation: string;
  document: string;
  variables: Record<string, unknown>;
  /**
   * A mutation is not repeated after a 5xx or a dropped connection (it may have acted); a query is. Set
   * `idempotent` for a mutation that is safe to repeat (a revoke).
   */
  kind: "query" | "mutation";
  idempotent?: boolean;
}

/** Puts the operation's name into an error's message right after the call (`POST /graphql`). */
function named<T extends Error>(error: T, operation: string, path: string): T {
  const call = `POST ${path}`;
  error.message = error.message.includes(call) ? error.message.replace(call, `${call} (${operation})`) : `${service} API ${call} (${operation}): ${error.message}`;
  return error;
}

/**
 * Runs one GraphQL operation against FLY_GRAPHQL_URL (default https://api.fly.io/graphql) with FLY_API_TOKEN,
 * both read at call time, through the retrying fetch every Fly call uses (FLY_API_TIMEOUT_SECONDS per attempt,
 * FLY_API_RETRY_BUDGET_SECONDS for the call). Every error names the operation, `POST /graphql` and the cause: a
 * non-2xx answer (ApiError with its status), no answer (TransportError), or `errors` in a 200 answer
 * (FlyGraphqlError). Returns `data`.
 */
export async function flyGraphql<T>(request: GraphqlRequest): Promise<T> {
  const token = requireEnv("FLY_API_TOKEN", "set it to a Fly.io API token (`fly tokens create org`) before `pulumi up`");
  const url = envOr("FLY_GRAPHQL_URL", defaultFlyGraphqlUrl);
  const path = new URL(url).pathname;
  const attemptTimeoutMs = envSecondsMs("FLY_API_TIMEOUT_SECONDS", defaultAttemptTimeoutMs);
  const budgetMs = envSecondsMs("FLY_API_RETRY_BUDGET_SECONDS", defaultRetryPolicy.budgetMs);
  const fetchWithRetries = retryingFetch({
    service,
    attemptTimeoutMs,
    policy: { ...defaultRetryPolicy, budgetMs },
    idempotent: request.kind === "query" || request.idempotent === true,
  });
  let response: Response;
  try {
    response = await fetchWithRetries(
      new Request(url, {
        method: "POST",
        headers: {
          Authorization: token.startsWith("FlyV1 ") ? token : `Bearer ${token}`,
          "content-type": "application/json",
          accept: "application/json",
        },
        body: JSON.stringify({ query: request.document, operationName: request.operation, variables: request.variables }),
      }),
    );
  } catch (error) {
    if (isTransportError(error)) throw named(error, request.operation, path);
    throw named(new Error(error instanceof Error ? error.message : String(error), { cause: error }), request.operation, path);
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text for the error.
  }
  if (!response.ok) {
    throw named(
      apiError({
        service,
        method: "POST",
        path,
        status: response.status,
        detail: graphqlErrorsText(body) ?? errorText(body, response.statusText || "no error text"),
        requestId: response.headers.get("fly-request-id") ?? undefined,
      }),
      request.operation,
      path,
    );
  }
  if (!body || typeof body !== "object") {
    throw named(new Error(`${service} API POST ${path} answered ${response.status} without a JSON body: ${String(text).slice(0, 200)}`), request.operation, path);
  }
  const answer = body as { data?: unknown; errors?: unknown };
  const errors = Array.isArray(answer.errors) ? (answer.errors as GraphqlErrorEntry[]) : [];
  if (errors.length > 0) {
    // `data` beside `errors`: part of the operation ran (a mutation may have acted).
    const partial = answer.data !== undefined && answer.data !== null;
    const error = Object.assign(new Error(`${service} API POST ${path} answered with errors: ${graphqlErrorsText(body)}`), { operation: request.operation, errors, partial });
    throw named(error, request.operation, path);
  }
  if (answer.data === undefined || answer.data === null) {
    throw named(new Error(`${service} API POST ${path} answered without data`), request.operation, path);
  }
  return answer.data as T;
}

/** `message [CODE]; message` of a GraphQL answer's errors, or undefined when it has none. */
function graphqlErrorsText(body: unknown): string | undefined {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  return errors
    .map((entry: unknown) => {
      const record = (entry ?? {}) as GraphqlErrorEntry;
      const code = record.extensions?.code ? ` [${record.extensions.code}]` : "";
      return `${typeof record.message === "string" ? record.message : JSON.stringify(entry)}${code}`;
    })
    .join("; ");
}

/** GraphQL error codes of a failure on the server's side, after which a mutation may have acted. */
const serverSideCodes: readonly string[] = ["INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"];

/**
 * The server may have acted on a mutation and the caller cannot tell: a 5xx, no answer, or a 200 whose `errors`
 * come with `data` or say the server failed (Fly answers its own failures as 200 with `errors`).
 */
export function mayHaveActed(error: unknown): boolean {
  if (isTransportError(error) || (isApiError(error) && error.status >= 500)) return true;
  const answer = (error ?? {}) as { errors?: unknown; partial?: unknown };
  if (!Array.isArray(answer.errors)) return false;
  return answer.partial === true || (answer.errors as GraphqlErrorEntry[]).some((entry) => serverSideCodes.includes(String(entry.extensions?.code ?? "")));
}

// --- The deploy-token operations -------------------------------------------------------------------------

/** A token as the app's listing shows it. */
export interface LimitedAccessToken {
  id: string;
  name: string;
  createdAt?: string;
  expiresAt: string;
  revokedAt?: string | null;
}

export interface AppTokens {
  /** The app's GraphQL id (`profileParams.app_id`). */
  appId: string;
  /** The app's organization's GraphQL id (`organizationId`). */
  organizationId: string;
  tokens: LimitedAccessToken[];
}

const listDocument = `query GetAppLimitedAccessTokens($appName: String!, $after: String) {
  app(name: $appName) {
    id
    organization { id }
    limitedAccessTokens(first: 100, after: $after) {
      nodes { id name createdAt expiresAt revokedAt }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

interface ListAnswer {
  app: {
    id: string;
    organization: { id: string };
    limitedAccessTokens: { nodes: (LimitedAccessToken | null)[] | null; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
  } | null;
}

/**
 * The app's ids and every token it lists (revoked ones included), all pages. `undefined` when the app does not
 * exist.
 */
export async function listAppTokens(appName: string): Promise<AppTokens | undefined> {
  const tokens: LimitedAccessToken[] = [];
  let after: string | null = null;
  let ids: { appId: string; organizationId: string } | undefined;
  for (let page = 0; page < 100; page++) {
    let data: ListAnswer;
    try {
      data = await flyGraphql<ListAnswer>({ operation: "GetAppLimitedAccessTokens", document: listDocument, variables: { appName, after }, kind: "query" });
    } catch (error) {
      if (isGraphqlNotFound(error)) return undefined;
      throw error;
    }
    if (!data.app) return undefined;
    ids ??= { appId: data.app.id, organizationId: data.app.organization.id };
    const connection = data.app.limitedAccessTokens;
    for (const node of connection.nodes ?? []) if (node) tokens.push(node);
    if (!connection.pageInfo.hasNextPage || !connection.pageInfo.endCursor) break;
    after = connection.pageInfo.endCursor;
  }
  return ids ? { ...ids, tokens } : undefined;
}

/** Not revoked and not expired at `now`. */
export function isLive(token: LimitedAccessToken, now = Date.now()): boolean {
  return !token.revokedAt && Date.parse(token.expiresAt) > now;
}

const createDocument = `mutation CreateLimitedAccessToken($name: String!, $organizationId: ID!, $profile: String!, $profileParams: JSON, $expiry: String!) {
  createLimitedAccessToken(input: {name: $name, organizationId: $organizationId, profile: $profile, profileParams: $profileParams, expiry: $expiry}) {
    limitedAccessToken { id name createdAt expiresAt tokenHeader }
  }
}`;

export interface CreatedToken extends LimitedAccessToken {
  /** `FlyV1 fm2_...`. Secret. */
  tokenHeader: string;
}

/** `fly tokens create deploy -a <app> -n <name> -x <expiry>`. A mutation: not repeated after a 5xx or a drop. */
export async function createDeployToken(fields: { name: string; organizationId: string; appId: string; expiry: string }): Promise<CreatedToken> {
  const data = await flyGraphql<{ createLimitedAccessToken: { limitedAccessToken: Partial<CreatedToken> } | null }>({
    operation: "CreateLimitedAccessToken",
    document: createDocument,
    variables: { name: fields.name, organizationId: fields.organizationId, profile: "deploy", profileParams: { app_id: fields.appId }, expiry: fields.expiry },
    kind: "mutation",
  });
  const token = data.createLimitedAccessToken?.limitedAccessToken;
  if (!token?.id || !token.tokenHeader || !token.expiresAt) {
    throw new Error("Fly GraphQL API POST /graphql (CreateLimitedAccessToken) answered without the token's id, expiresAt or tokenHeader");
  }
  return { id: token.id, name: token.name ?? fields.name, createdAt: token.createdAt, expiresAt: token.expiresAt, tokenHeader: token.tokenHeader };
}

const revokeDocument = `mutation RevokeLimitedAccessToken($input: DeleteLimitedAccessTokenInput!) {
  deleteLimitedAccessToken(input: $input) { token }
}`;

/**
 * `fly tokens revoke <id>`. Revoking twice does no harm, so it is repeated after a 5xx or a drop; a token that
 * is not found any more counts as revoked.
 */
export async function revokeToken(id: string): Promise<void> {
  try {
    await flyGraphql({ operation: "RevokeLimitedAccessToken", document: revokeDocument, variables: { input: { id } }, kind: "mutation", idempotent: true });
  } catch (error) {
    if (isGraphqlNotFound(error)) return;
    throw error;
  }
}
