import { readChainLog } from "@second-layer/shared/chain-log";
import type { Db } from "@second-layer/shared/db/connect";
import {
  CHAIN_BLOCK_COLUMNS,
  CHAIN_EVENT_COLUMNS,
  CHAIN_TRANSACTION_COLUMNS,
  type ChainBlock,
  type ChainEvent,
  type ChainTransaction,
} from "@second-layer/shared/streams/chain-rows";
import { blockPayload, eventPayload, transactionPayload } from "@second-layer/shared/streams/payload";

// Reads of the chain tables for the API. Rows become JSON through the payload builders that webhooks
// use, with every Clarity value decoded beside its hex. Lists are keyset-paginated: `next` is the key
// of the last row when the page is full.

const DECODED = { decodeClarityValues: true, includeRawTx: false } as const;

type BlockRow = ChainBlock & { canonical: boolean };
type TxCopyRow = ChainTransaction & Pick<BlockRow, "index_block_hash" | "block_hash" | "block_height" | "canonical">;

/** A block as the API shows it: the webhook block with its metadata, and whether it is canonical. */
function blockView(b: BlockRow) {
  return { ...blockPayload(b, { includeBlockMetadata: true }), canonical: b.canonical };
}

function blockRef(b: Pick<BlockRow, "index_block_hash" | "block_hash" | "block_height" | "canonical">) {
  return { indexBlockHash: b.index_block_hash, hash: b.block_hash, height: b.block_height, canonical: b.canonical };
}

const nextOf = <T>(rows: T[], limit: number, key: (row: T) => string | number) => {
  const last = rows.at(-1);
  return rows.length === limit && last !== undefined ? String(key(last)) : null;
};

export type BlockLookup = { height: number } | { hash: string };

/** The canonical block at a height, or the block with this index_block_hash (else block_hash). */
async function findBlockRow(db: Db, network: string, ref: BlockLookup): Promise<BlockRow | undefined> {
  const query = db.kysely
    .selectFrom("blocks")
    .select([...CHAIN_BLOCK_COLUMNS, "canonical"])
    .where("network", "=", network);
  if ("height" in ref) {
    return await query.where("block_height", "=", ref.height).where("canonical", "=", true).executeTakeFirst();
  }
  const rows = await query
    .where((eb) => eb.or([eb("index_block_hash", "=", ref.hash), eb("block_hash", "=", ref.hash)]))
    .execute();
  // A block hash can repeat across forks (the same block mined in two sortitions): prefer the exact
  // index hash, then the canonical copy.
  const rank = (r: BlockRow) => (r.index_block_hash === ref.hash ? 2 : 0) + (r.canonical ? 1 : 0);
  return rows.sort((a, b) => rank(b) - rank(a))[0];
}

export async function findBlock(db: Db, network: string, ref: BlockLookup) {
  const row = await findBlockRow(db, network, ref);
  return row ? blockView(row) : null;
}

/** Canonical blocks, newest first, below the height `before`. */
export async function listBlocks(db: Db, network: string, before: number | undefined, limit: number) {
  let query = db.kysely
    .selectFrom("blocks")
    .select([...CHAIN_BLOCK_COLUMNS, "canonical"])
    .where("network", "=", network)
    .where("canonical", "=", true)
    .orderBy("block_height", "desc")
    .limit(limit);
  if (before !== undefined) query = query.where("block_height", "<", before);
  const rows = await query.execute();
  return { blocks: rows.map(blockView), next: nextOf(rows, limit, (r) => r.block_height) };
}

/** A block's transactions in order, after the tx index `after`; null when there is no such block. */
export async function blockTransactions(
  db: Db,
  network: string,
  ref: BlockLookup,
  after: number | undefined,
  limit: number,
) {
  const block = await findBlockRow(db, network, ref);
  if (!block) return null;
  let query = db.kysely
    .selectFrom("transactions")
    .select(CHAIN_TRANSACTION_COLUMNS)
    .where("network", "=", network)
    .where("index_block_hash", "=", block.index_block_hash)
    .orderBy("tx_index")
    .limit(limit);
  if (after !== undefined) query = query.where("tx_index", ">", after);
  const rows = await query.execute();
  return {
    block: blockRef(block),
    transactions: rows.map((t) => transactionPayload(t, DECODED)),
    next: nextOf(rows, limit, (t) => t.tx_index),
  };
}

/**
 * A transaction with its events, from the canonical block that holds it (else the highest block),
 * and every block it appears in. Null when no stored block holds it.
 */
export async function transactionDetail(db: Db, network: string, txid: string) {
  // Fixed queries on the API's hottest read, so plain postgres.js templates: kysely's query building
  // and its per-query connection reservation cost the API process more CPU than the two lookups.
  const copies = await db.sql<TxCopyRow[]>`
    select ${db.sql(CHAIN_TRANSACTION_COLUMNS.map((c) => `t.${c}`))},
      t.index_block_hash, t.block_height, t.canonical, b.block_hash
    from transactions t
    join blocks b on b.network = t.network and b.index_block_hash = t.index_block_hash
    where t.network = ${network} and t.txid = ${txid}
    order by t.canonical desc, t.block_height desc, t.index_block_hash`;
  const shown = copies[0];
  if (!shown) return null;
  const events = await db.sql<ChainEvent[]>`
    select ${db.sql(CHAIN_EVENT_COLUMNS)} from events
    where network = ${network} and index_block_hash = ${shown.index_block_hash} and txid = ${txid}
    order by event_index`;
  return {
    transaction: transactionPayload(shown, { ...DECODED, includeRawTx: true }),
    block: blockRef(shown),
    events: events.map((e) => eventPayload(e, DECODED)),
    blocks: copies.map((c) => ({ ...blockRef(c), txIndex: c.tx_index })),
  };
}

/** Reorgs, newest first, below the id `before`. */
export async function listReorgs(db: Db, network: string, before: number | undefined, limit: number) {
  let query = db.kysely
    .selectFrom("reorgs")
    .selectAll()
    .where("network", "=", network)
    .orderBy("id", "desc")
    .limit(limit);
  if (before !== undefined) query = query.where("id", "<", String(before));
  const rows = await query.execute();
  return {
    reorgs: rows.map((r) => ({
      id: String(r.id),
      detectedAt: r.detected_at.toISOString(),
      depth: r.depth,
      oldTipHash: r.old_tip_hash,
      oldTipHeight: r.old_tip_height,
      newTipHash: r.new_tip_hash,
      newTipHeight: r.new_tip_height,
      forkPointHash: r.fork_point_hash,
      forkPointHeight: r.fork_point_height,
      orphanedBlocks: r.orphaned_blocks,
      restoredBlocks: r.restored_blocks,
    })),
    next: nextOf(rows, limit, (r) => r.id),
  };
}

export class UnknownCursorError extends Error {}

/**
 * Pending mempool transactions (not mined on the canonical chain, not dropped), newest first; the
 * page after the transaction `after`. An unknown `after` is an error, not an empty page.
 */
export async function listMempool(db: Db, network: string, after: string | undefined, limit: number) {
  if (after !== undefined) {
    const [known] = await db.sql`select 1 from mempool_txs where network = ${network} and txid = ${after}`;
    if (!known) throw new UnknownCursorError(`no mempool transaction ${after}`);
  }
  // Keyset on (received_at, txid), read from the cursor's own row: exact to the microsecond.
  const rows = await db.sql<MempoolRow[]>`
    select txid, tx_type, sender_address, nonce, fee, received_at, raw_tx from mempool_txs
    where network = ${network} and mined_index_block_hash is null and dropped_at is null
      ${
        after === undefined
          ? db.sql``
          : db.sql`and (received_at, txid) < (select c.received_at, c.txid from mempool_txs c
              where c.network = ${network} and c.txid = ${after})`
      }
    order by received_at desc, txid desc
    limit ${limit}`;
  return {
    transactions: rows.map((m) => ({
      txid: m.txid,
      type: m.tx_type,
      sender: m.sender_address,
      nonce: m.nonce,
      fee: m.fee,
      receivedAt: m.received_at.toISOString(),
      rawTx: m.raw_tx,
    })),
    next: nextOf(rows, limit, (m) => m.txid),
  };
}

interface MempoolRow {
  txid: string;
  tx_type: string | null;
  sender_address: string | null;
  nonce: string | null;
  fee: string | null;
  received_at: Date;
  raw_tx: string;
}

/** Chain log entries after `after`, each with a summary of its block (the webhook block plus counts). */
export async function chainEvents(db: Db, network: string, after: number, limit: number) {
  const entries = await readChainLog(db.sql, network, after, limit);
  if (entries.length === 0) return [];
  const blocks = await db.kysely
    .selectFrom("blocks")
    .select(CHAIN_BLOCK_COLUMNS)
    .where("network", "=", network)
    .where("index_block_hash", "in", [...new Set(entries.map((e) => e.indexBlockHash))])
    .execute();
  const byHash = new Map(blocks.map((b) => [b.index_block_hash, b]));
  return entries.map((e) => {
    // The log's foreign key keeps every entry's block row.
    const b = byHash.get(e.indexBlockHash) as ChainBlock;
    return {
      seq: e.seq,
      kind: e.kind,
      reorgId: e.reorgId === null ? null : String(e.reorgId),
      createdAt: e.createdAt,
      block: { ...blockPayload(b, { includeBlockMetadata: false }), txCount: b.tx_count, eventCount: b.event_count },
    };
  });
}

export type ChainEventView = Awaited<ReturnType<typeof chainEvents>>[number];
