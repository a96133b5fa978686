import { createRoute, z } from "@hono/zod-openapi";
import { accountExists, createAccount, createApiKey, listApiKeys, revokeApiKey } from "../auth/api-keys.ts";
import { ApiError, COMMON_ERRORS, FORBIDDEN_ERROR, NOT_FOUND_ERROR, notFound } from "../http/api-error.ts";
import type { ApiApp, ApiDeps } from "../http/app-env.ts";
import { json, security } from "../http/openapi-parts.ts";

const AccountSchema = z
  .object({ id: z.string().uuid(), name: z.string(), isAdmin: z.boolean(), createdAt: z.string() })
  .openapi("Account");
const KeySchema = z
  .object({
    id: z.string().uuid(),
    accountId: z.string().uuid(),
    name: z.string(),
    prefix: z.string().openapi({ description: "The key's first characters, to tell keys apart" }),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi("ApiKey");
const NewKey = z
  .string()
  .openapi({ description: "The API key (sk_live_...). Shown once.", example: "sk_live_4Vh1..." });

function requireAdmin(isAdmin: boolean): void {
  if (!isAdmin) throw new ApiError(403, "FORBIDDEN", "only an admin key may do this");
}

/**
 * Accounts and keys. Admin keys create accounts and manage any account's keys (`accountId`); any key
 * lists, creates and revokes its own account's keys.
 */
export function registerAccountRoutes(app: ApiApp, deps: ApiDeps): void {
  const { db } = deps;

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/accounts",
      tags: ["accounts"],
      summary: "Create an account and its first key (admin)",
      security,
      request: {
        body: {
          required: true,
          content: {
            "application/json": {
              schema: z
                .object({ name: z.string().trim().min(1).max(200), isAdmin: z.boolean().optional() })
                .strict()
                .openapi("CreateAccount"),
            },
          },
        },
      },
      responses: {
        201: json(
          z.object({ account: AccountSchema, key: NewKey }).openapi("CreatedAccount"),
          "The account and its key",
        ),
        ...COMMON_ERRORS,
        ...FORBIDDEN_ERROR,
      },
    }),
    async (c) => {
      requireAdmin(c.get("caller").isAdmin);
      const input = c.req.valid("json");
      const account = await createAccount(db.sql, input.name, input.isAdmin ?? false);
      const { key } = await createApiKey(db.sql, account.id, "first key");
      return c.json({ account, key }, 201);
    },
  );

  /** The account a key route acts on: the caller's, or (admins only) the one named. */
  async function targetAccount(caller: { accountId: string; isAdmin: boolean }, accountId: string | undefined) {
    if (!accountId || accountId === caller.accountId) return caller.accountId;
    requireAdmin(caller.isAdmin);
    if (!(await accountExists(db.sql, accountId))) throw notFound("account");
    return accountId;
  }

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/keys",
      tags: ["accounts"],
      summary: "Create an API key (for another account: admin)",
      security,
      request: {
        body: {
          required: true,
          content: {
            "application/json": {
              schema: z
                .object({ name: z.string().trim().min(1).max(200), accountId: z.string().uuid().optional() })
                .strict()
                .openapi("CreateKey"),
            },
          },
        },
      },
      responses: {
        201: json(z.object({ key: NewKey, apiKey: KeySchema }).openapi("CreatedKey"), "The key, shown once"),
        ...COMMON_ERRORS,
        ...FORBIDDEN_ERROR,
        ...NOT_FOUND_ERROR,
      },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const accountId = await targetAccount(c.get("caller"), input.accountId);
      const { key, view } = await createApiKey(db.sql, accountId, input.name);
      return c.json({ key, apiKey: view }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/keys",
      tags: ["accounts"],
      summary: "List an account's keys (never the keys themselves)",
      security,
      request: { query: z.object({ accountId: z.string().uuid().optional() }) },
      responses: {
        200: json(z.object({ keys: z.array(KeySchema) }).openapi("KeyList"), "The keys"),
        ...COMMON_ERRORS,
        ...FORBIDDEN_ERROR,
        ...NOT_FOUND_ERROR,
      },
    }),
    async (c) => {
      const accountId = await targetAccount(c.get("caller"), c.req.valid("query").accountId);
      return c.json({ keys: await listApiKeys(db.sql, accountId) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/keys/{id}",
      tags: ["accounts"],
      summary: "Revoke a key (another account's: admin)",
      security,
      request: {
        params: z.object({
          id: z
            .string()
            .uuid()
            .openapi({ param: { name: "id", in: "path" } }),
        }),
      },
      responses: { 204: { description: "Revoked" }, ...COMMON_ERRORS, ...NOT_FOUND_ERROR },
    }),
    async (c) => {
      const caller = c.get("caller");
      const revoked = await revokeApiKey(db.sql, caller.isAdmin ? null : caller.accountId, c.req.valid("param").id);
      if (!revoked) throw notFound("API key");
      // This process forgets it at once; other API processes within their short cache time.
      deps.keyCache.clear();
      return c.body(null, 204);
    },
  );
}
