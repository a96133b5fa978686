import type { z } from "@hono/zod-openapi";

// Pieces every route definition repeats, for the OpenAPI document.

/** Routes behind an API key. */
export const security = [{ bearer: [] }];

/** A JSON response. */
export const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** A required JSON request body. */
export const body = <S extends z.ZodType>(schema: S) => ({
  required: true,
  content: { "application/json": { schema } },
});
