import { z } from "@hono/zod-openapi";
import { errorBody } from "@second-layer/shared/error-body";
import type { FieldIssue } from "@second-layer/shared/streams/filters";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";

/** An error a route answers with: its status, a code a client can switch on, and a message to act on. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: FieldIssue[],
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, "NOT_FOUND", `${what} not found`);

/** Zod issues as `{path, message}` with dotted paths from the top of the validated value. */
export function zodDetails(error: ZodError, prefix?: string): FieldIssue[] {
  return error.issues.map((i) => ({
    path: [...(prefix ? [prefix] : []), ...i.path.map(String)].join(".") || "(root)",
    message: i.message,
  }));
}

export function validationError(details: FieldIssue[], what = "request"): ApiError {
  const first = details[0];
  const more = details.length > 1 ? ` (+${details.length - 1} more)` : "";
  return new ApiError(400, "VALIDATION_FAILED", `invalid ${what}: ${first?.path}: ${first?.message}${more}`, details);
}

export function respondError(c: Context, err: ApiError): Response {
  return c.json(errorBody(err.code, err.message, err.details), err.status);
}

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "VALIDATION_FAILED" }),
      message: z.string().openapi({ example: "invalid body: filters.0.minAmount: expected a decimal uint128 amount" }),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi("Error");

/** An error answer for the OpenAPI document. */
export const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

/** The error responses every authenticated route can give, for the OpenAPI document. */
export const COMMON_ERRORS = {
  400: errorResponse("Invalid input; `details` names each field (VALIDATION_FAILED)"),
  401: errorResponse("Missing or unknown API key (UNAUTHORIZED)"),
  413: errorResponse("Request body over API_MAX_BODY_BYTES (BODY_TOO_LARGE)"),
  429: errorResponse("Rate limit exceeded; see Retry-After (RATE_LIMITED)"),
  503: errorResponse("The database is unavailable (DATABASE_UNAVAILABLE)"),
} as const;

export const NOT_FOUND_ERROR = { 404: errorResponse("No such resource, or not the caller's (NOT_FOUND)") } as const;
export const FORBIDDEN_ERROR = { 403: errorResponse("The key may not do this (FORBIDDEN)") } as const;
export const CONFLICT_ERROR = {
  409: errorResponse("Not possible in the resource's current state (INVALID_STATE)"),
} as const;
