/** An HTTP API answered with an error: carries what a user needs to see in `pulumi up` output. */
export interface ApiError extends Error {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly detail: string;
  readonly requestId?: string;
}

// A factory rather than a class: provider code is serialized by Pulumi's closure serializer, and plain
// functions serialize more simply than subclasses of Error.
export function apiError(fields: {
  service: string;
  method: string;
  path: string;
  status: number;
  detail: string;
  requestId?: string;
  /** Attempts made, when the call was retried before this answer (e.g. 429s until the budget ran out). */
  attempts?: number;
  elapsedMs?: number;
}): ApiError {
  const id = fields.requestId ? ` (request id ${fields.requestId})` : "";
  const tries = fields.attempts !== undefined && fields.attempts > 1 ? ` (after ${fields.attempts} attempts in ${seconds(fields.elapsedMs ?? 0)})` : "";
  const message = `${fields.service} API ${fields.method} ${fields.path} failed with ${fields.status}: ${fields.detail}${id}${tries}`;
  return Object.assign(new Error(message), {
    method: fields.method,
    path: fields.path,
    status: fields.status,
    detail: fields.detail,
    requestId: fields.requestId,
  });
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof Error && typeof (error as Partial<ApiError>).status === "number";
}

/** Reads an error body's text the way Fly (`error`, `message`) and Neon (`message`) send it. */
export function errorText(body: unknown, fallback: string): string {
  if (body && typeof body === "object") {
    const record = body as Record<string, unknown>;
    for (const key of ["error", "message"]) {
      const value = record[key];
      if (typeof value === "string" && value.length > 0) return value;
    }
  }
  if (typeof body === "string" && body.length > 0) return body;
  return fallback;
}

/** Why a request got no usable answer: the kinds a user can act on differently. */
export type TransportFailure = "timeout" | "connection reset" | "connection refused" | "dns" | "tls" | "network";

/** A request that got no HTTP answer: names the call and the cause, never just "fetch failed". */
export interface TransportError extends Error {
  readonly method: string;
  readonly path: string;
  readonly failure: TransportFailure;
  /** The underlying code (ECONNRESET, ENOTFOUND, ETIMEDOUT, ...), so isConnectionError still sees it. */
  readonly code?: string;
  readonly attempts: number;
}

/** The code and message of the innermost cause that has one (fetch nests them: TypeError → cause → cause). */
function innermost(error: unknown): { code?: string; message: string; timeoutMs?: number } {
  let code: string | undefined;
  let message = error instanceof Error ? error.message : String(error);
  let timeoutMs: number | undefined;
  for (let current: unknown = error, depth = 0; current && typeof current === "object" && depth < 5; depth++) {
    const record = current as { code?: unknown; message?: unknown; timeoutMs?: unknown; cause?: unknown };
    if (typeof record.code === "string") code = record.code;
    if (typeof record.timeoutMs === "number") timeoutMs = record.timeoutMs;
    if (typeof record.message === "string" && record.message !== "" && record.message !== "fetch failed") message = record.message;
    current = record.cause;
  }
  return { code, message, timeoutMs };
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10}s` : `${Math.round(ms)}ms`;
}

/** Classifies a failed fetch: timeout, reset, refused, DNS, TLS, or another network failure. */
export function describeTransportFailure(error: unknown, host: string): { failure: TransportFailure; code?: string; text: string } {
  const { code, message, timeoutMs } = innermost(error);
  if (timeoutMs !== undefined) {
    return { failure: "timeout", code: "ETIMEDOUT", text: `no answer within ${seconds(timeoutMs)} (timeout)` };
  }
  if (code === "ECONNRESET" || code === "EPIPE" || code === "UND_ERR_SOCKET" || code === "UND_ERR_CLOSED" || /other side closed|socket hang up/i.test(message)) {
    return { failure: "connection reset", code: code ?? "ECONNRESET", text: `connection reset: ${host} closed the connection before answering (${code ?? message})` };
  }
  if (code === "ECONNREFUSED") return { failure: "connection refused", code, text: `connection refused by ${host} (ECONNREFUSED): is the API URL right?` };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return { failure: "dns", code, text: `DNS lookup of ${host} failed (${code})` };
  if (code !== undefined && /CERT|TLS|SSL/.test(code)) return { failure: "tls", code, text: `TLS error talking to ${host}: ${message} (${code})` };
  if (code === "ETIMEDOUT" || code === "UND_ERR_CONNECT_TIMEOUT" || code === "UND_ERR_HEADERS_TIMEOUT") {
    return { failure: "timeout", code: "ETIMEDOUT", text: `no answer from ${host} (${code})` };
  }
  return { failure: "network", code, text: `network error: ${message}${code ? ` (${code})` : ""}` };
}

export function transportError(fields: {
  service: string;
  method: string;
  path: string;
  host: string;
  cause: unknown;
  attempts: number;
  elapsedMs: number;
}): TransportError {
  const { failure, code, text } = describeTransportFailure(fields.cause, fields.host);
  const tries = fields.attempts > 1 ? ` (after ${fields.attempts} attempts in ${seconds(fields.elapsedMs)})` : "";
  const message = `${fields.service} API ${fields.method} ${fields.path} failed: ${text}${tries}`;
  return Object.assign(new Error(message, { cause: fields.cause }), {
    method: fields.method,
    path: fields.path,
    failure,
    code,
    attempts: fields.attempts,
  });
}

export function isTransportError(error: unknown): error is TransportError {
  return error instanceof Error && typeof (error as Partial<TransportError>).failure === "string" && typeof (error as Partial<TransportError>).method === "string";
}
