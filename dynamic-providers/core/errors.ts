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
}): ApiError {
  const id = fields.requestId ? ` (request id ${fields.requestId})` : "";
  const message = `${fields.service} API ${fields.method} ${fields.path} failed with ${fields.status}: ${fields.detail}${id}`;
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
