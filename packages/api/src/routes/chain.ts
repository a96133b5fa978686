import { createRoute, type z } from "@hono/zod-openapi";
import {
  type BlockLookup,
  blockTransactions,
  findBlock,
  listBlocks,
  listMempool,
  listReorgs,
  transactionDetail,
  UnknownCursorError,
} from "../chain/chain-reads.ts";
import { COMMON_ERRORS, NOT_FOUND_ERROR, notFound, validationError } from "../http/api-error.ts";
import type { ApiApp, ApiDeps } from "../http/app-env.ts";
import {
  BlockListSchema,
  BlockRefParam,
  BlockSchema,
  BlocksQuery,
  BlockTransactionsQuery,
  BlockTransactionsSchema,
  MempoolListSchema,
  MempoolQuery,
  NetworkQuery,
  normalizeHash,
  ReorgListSchema,
  ReorgsQuery,
  TxDetailSchema,
  TxidParam,
} from "../schemas/chain-schemas.ts";

const security = [{ bearer: [] }];
const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

function blockLookup(heightOrHash: string): BlockLookup {
  return /^\d+$/.test(heightOrHash) ? { height: Number(heightOrHash) } : { hash: normalizeHash(heightOrHash) };
}

/** Blocks, transactions, reorgs and the mempool, read from the indexer's tables. */
export function registerChainRoutes(app: ApiApp, deps: ApiDeps): void {
  const { db } = deps;
  const networkOf = (q: { network?: string }) => q.network ?? deps.config.STACKS_NETWORK;

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/blocks",
      tags: ["chain"],
      summary: "Canonical blocks, newest first",
      security,
      request: { query: BlocksQuery },
      responses: { 200: json(BlockListSchema, "A page of blocks"), ...COMMON_ERRORS },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(await listBlocks(db, networkOf(q), q.cursor, q.limit), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/blocks/{heightOrHash}",
      tags: ["chain"],
      summary: "The canonical block at a height, or any stored block by index_block_hash or block_hash",
      security,
      request: { params: BlockRefParam, query: NetworkQuery },
      responses: { 200: json(BlockSchema, "The block"), ...COMMON_ERRORS, ...NOT_FOUND_ERROR },
    }),
    async (c) => {
      const block = await findBlock(
        db,
        networkOf(c.req.valid("query")),
        blockLookup(c.req.valid("param").heightOrHash),
      );
      if (!block) throw notFound("block");
      return c.json(block, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/blocks/{heightOrHash}/transactions",
      tags: ["chain"],
      summary: "A block's transactions in block order, Clarity values decoded",
      security,
      request: { params: BlockRefParam, query: BlockTransactionsQuery },
      responses: {
        200: json(BlockTransactionsSchema, "A page of the block's transactions"),
        ...COMMON_ERRORS,
        ...NOT_FOUND_ERROR,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const page = await blockTransactions(
        db,
        networkOf(q),
        blockLookup(c.req.valid("param").heightOrHash),
        q.cursor,
        q.limit,
      );
      if (!page) throw notFound("block");
      return c.json(page, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/tx/{txid}",
      tags: ["chain"],
      summary: "A mined transaction with its events (Clarity values decoded) and every block that holds it",
      security,
      request: { params: TxidParam, query: NetworkQuery },
      responses: { 200: json(TxDetailSchema, "The transaction"), ...COMMON_ERRORS, ...NOT_FOUND_ERROR },
    }),
    async (c) => {
      const txid = normalizeHash(c.req.valid("param").txid);
      const detail = await transactionDetail(db, networkOf(c.req.valid("query")), txid);
      if (!detail) throw notFound("transaction (in a stored block; pending ones are in /api/mempool)");
      return c.json(detail, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/reorgs",
      tags: ["chain"],
      summary: "Reorgs of the Stacks chain, newest first",
      security,
      request: { query: ReorgsQuery },
      responses: { 200: json(ReorgListSchema, "A page of reorgs"), ...COMMON_ERRORS },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(await listReorgs(db, networkOf(q), q.cursor, q.limit), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/mempool",
      tags: ["chain"],
      summary: "Pending transactions (not in a canonical block, not dropped), newest first",
      security,
      request: { query: MempoolQuery },
      responses: { 200: json(MempoolListSchema, "A page of pending transactions"), ...COMMON_ERRORS },
    }),
    async (c) => {
      const q = c.req.valid("query");
      try {
        return c.json(
          await listMempool(db, networkOf(q), q.cursor === undefined ? undefined : normalizeHash(q.cursor), q.limit),
          200,
        );
      } catch (err) {
        if (err instanceof UnknownCursorError)
          throw validationError([{ path: "cursor", message: err.message }], "query");
        throw err;
      }
    },
  );
}
