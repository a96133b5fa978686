/** One problem with the request, at a field path (`filters.0.minAmount`). */
export interface ErrorDetail {
  path: string;
  message: string;
}

/**
 * Every failure of a client call. `code` is the API's error code (`VALIDATION_FAILED`, `NOT_FOUND`,
 * `UNAUTHORIZED`, `RATE_LIMITED`, ...) or one of the client's own: `NETWORK_ERROR` (no answer),
 * `TIMEOUT`, `INVALID_RESPONSE` (an answer that is not the API's JSON). `status` is the HTTP status,
 * null when no answer came.
 */
export class SecondLayerError extends Error {
  override readonly name = "SecondLayerError";
  readonly code: string;
  readonly status: number | null;
  readonly details?: ErrorDetail[];
  /** With 429: seconds to wait (Retry-After). */
  readonly retryAfterSeconds?: number;

  constructor(init: {
    code: string;
    message: string;
    status: number | null;
    details?: ErrorDetail[];
    retryAfterSeconds?: number;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    if (init.details) this.details = init.details;
    if (init.retryAfterSeconds !== undefined) this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

function isErrorBody(v: unknown): v is { error: { code: string; message: string; details?: ErrorDetail[] } } {
  const e = (v as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof e?.code === "string" && typeof e.message === "string";
}

/** The error an unsuccessful answer stands for: the API's error body, or a description of what came. */
export function errorFromBody(status: number, body: unknown, headers?: Headers): SecondLayerError {
  const retryAfter = Number(headers?.get("retry-after") ?? Number.NaN);
  const retryAfterSeconds = Number.isFinite(retryAfter) ? retryAfter : undefined;
  if (isErrorBody(body)) {
    return new SecondLayerError({ ...body.error, status, retryAfterSeconds });
  }
  return new SecondLayerError({
    code: "INVALID_RESPONSE",
    message: `HTTP ${status} without the API's error body${typeof body === "string" && body ? `: ${body.slice(0, 200)}` : ""}`,
    status,
    retryAfterSeconds,
  });
}
