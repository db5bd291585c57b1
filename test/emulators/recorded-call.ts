/** One request an emulator received and what it answered; tests assert on these and the bench counts them. */
export interface RecordedCall {
  method: string;
  /** Path below the emulator's base URL (Fly: `/v1/apps/...`; Neon: `/projects/...`). */
  path: string;
  query: Record<string, string>;
  /** The spec's operationId; "" when no operation of the spec matches. */
  operationId: string;
  /** 0 when the connection was dropped without an answer. */
  status: number;
  requestBody: unknown;
  responseBody: unknown;
}
