import type { StacksNetwork } from "@second-layer/shared/config";
import type { Sql } from "@second-layer/shared/db/connect";
import type { BlockSource } from "@second-layer/shared/db/tables";
import { decodeTransaction } from "@second-layer/shared/stacks/decode-transaction";
import {
  describeIssues,
  dropMempoolTxSchema,
  newBlockSchema,
  newBurnBlockSchema,
  newMempoolTxSchema,
  newMicroblocksSchema,
} from "@second-layer/shared/stacks/node-payloads";
import { foreignAddress } from "@second-layer/shared/stacks/principals";
import type { z } from "zod";
import { blockRows } from "../store/block-rows.ts";
import {
  replacesLossyCopy,
  type StoreBlockResult,
  type StoreContext,
  storeBlock,
  storedBlock,
} from "../store/store-block.ts";
import {
  dropMempoolTxs,
  type MempoolTxRow,
  storeBurnBlock,
  storeMempoolTxs,
  storeMicroblocks,
} from "../store/store-side-tables.ts";

/** A body we refuse to store rows for. It is still journaled, with this error, and answered 200. */
export class PayloadError extends Error {
  constructor(
    readonly code: "INVALID_JSON" | "INVALID_PAYLOAD",
    message: string,
    readonly details?: { path: string; message: string }[],
  ) {
    super(message);
  }
}

/**
 * One event-observer route: `prepare` is pure (parse, validate, decode); `store` writes in the
 * caller's transaction, which holds the network's chain lock.
 */
export interface Route<P = unknown> {
  prepare(json: unknown): P;
  /**
   * The journal id of a stored copy of this body (a retried POST), looked up before anything is
   * decoded. Routes without it are matched against the newest body the node sent.
   */
  storedCopy?(sql: Sql, network: string, json: unknown, source: BlockSource): Promise<string | null>;
  /**
   * Reads what `store` needs from under the chain lock, from the body as parsed (not yet validated);
   * the caller issues it together with taking the lock and appending the journal (one round trip)
   * and passes the result on in the context.
   */
  lookUp?(sql: Sql, network: string, json: unknown): Promise<Partial<StoreContext>>;
  store(sql: Sql, prepared: P, ctx: StoreContext): Promise<unknown>;
  /** True when `store` found the body already stored: the caller then keeps nothing of this POST. */
  isDuplicate?(result: unknown): boolean;
  /** Log fields for a committed result, for routes worth an info line per POST (blocks). */
  describe?(result: unknown): Record<string, unknown>;
  /** An address in the body that belongs to another network than the indexer's (a misconfigured node). */
  foreignAddress?(prepared: P, network: StacksNetwork): string | null;
}

function validate<S extends z.ZodType>(schema: S, json: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const details = describeIssues(parsed.error);
  const first = details[0];
  throw new PayloadError(
    "INVALID_PAYLOAD",
    `${what} failed validation at ${first?.path}: ${first?.message}${details.length > 1 ? ` (+${details.length - 1} more)` : ""}`,
    details,
  );
}

function blockHashOf(json: unknown): string | null {
  const hash = (json as { index_block_hash?: unknown } | null)?.index_block_hash;
  return typeof hash === "string" ? hash : null;
}

const newBlock: Route<{ payload: z.infer<typeof newBlockSchema>; rows: ReturnType<typeof blockRows> }> = {
  prepare(json) {
    const payload = validate(newBlockSchema, json, "/new_block body");
    return { payload, rows: blockRows(payload) };
  },
  foreignAddress: ({ rows }, network) =>
    foreignAddress(
      network,
      rows.transactions.map((t) => t.sender_address),
    ),
  async storedCopy(sql, network, json, source) {
    const hash = blockHashOf(json);
    const stored = hash === null ? null : await storedBlock(sql, network, hash);
    if (!stored || replacesLossyCopy(stored.source, source)) return null;
    return stored.journalId ?? "";
  },
  async lookUp(sql, network, json) {
    const hash = blockHashOf(json);
    return hash === null ? {} : { stored: await storedBlock(sql, network, hash) };
  },
  store: (sql, { payload, rows }, ctx) => storeBlock(sql, payload, rows, ctx),
  isDuplicate: (result) => (result as StoreBlockResult).status === "duplicate",
  describe(result) {
    const r = result as StoreBlockResult;
    if (r.status !== "stored") return { height: r.height, indexBlockHash: r.indexBlockHash, [r.status]: true };
    return {
      height: r.height,
      indexBlockHash: r.indexBlockHash,
      canonical: r.canonical,
      outOfOrder: r.outOfOrder,
      ...(r.reorg ? { reorgDepth: r.reorg.depth, reorgId: r.reorg.id } : {}),
    };
  },
};

const newMicroblocks: Route<{
  payload: z.infer<typeof newMicroblocksSchema>;
  rows: ReturnType<typeof blockRows>;
}> = {
  prepare(json) {
    const payload = validate(newMicroblocksSchema, json, "/new_microblocks body");
    return { payload, rows: blockRows(payload) };
  },
  store: (sql, { payload, rows }, ctx) => storeMicroblocks(sql, ctx.network, payload, rows, ctx.journalId),
};

const newBurnBlock: Route<z.infer<typeof newBurnBlockSchema>> = {
  prepare: (json) => validate(newBurnBlockSchema, json, "/new_burn_block body"),
  store: (sql, payload, ctx) => storeBurnBlock(sql, ctx.network, payload),
};

function txidOf(rawTx: string): string {
  const bytes = Buffer.from(rawTx.slice(2), "hex");
  return `0x${new Bun.CryptoHasher("sha512-256").update(bytes).digest("hex")}`;
}

const newMempoolTx: Route<MempoolTxRow[]> = {
  prepare(json) {
    const raws = validate(newMempoolTxSchema, json, "/new_mempool_tx body");
    return raws.map((raw) => {
      const row = { txid: txidOf(raw), raw_tx: raw, tx_type: "unknown", sender_address: null, nonce: null, fee: null };
      try {
        const d = decodeTransaction(raw);
        return { ...row, tx_type: d.txType, sender_address: d.senderAddress, nonce: d.nonce, fee: d.fee };
      } catch {
        // A payload type a later node release adds: kept with its raw bytes, like block transactions.
        return row;
      }
    });
  },
  store: (sql, rows, ctx) => storeMempoolTxs(sql, ctx.network, rows),
};

const dropMempoolTx: Route<z.infer<typeof dropMempoolTxSchema>> = {
  prepare: (json) => validate(dropMempoolTxSchema, json, "/drop_mempool_tx body"),
  store: (sql, payload, ctx) => dropMempoolTxs(sql, ctx.network, payload),
};

export const ROUTES: Record<string, Route<never>> = {
  "/new_block": newBlock as Route<never>,
  "/new_microblocks": newMicroblocks as Route<never>,
  "/new_burn_block": newBurnBlock as Route<never>,
  "/new_mempool_tx": newMempoolTx as Route<never>,
  "/drop_mempool_tx": dropMempoolTx as Route<never>,
};

/** Routes the node posts to whose bodies we keep in the journal only (nothing downstream needs them yet). */
export const JOURNAL_ONLY_ROUTES = new Set([
  "/attachments/new",
  "/stackerdb_chunks",
  "/proposal_response",
  "/new_pox_set",
]);
