import type { Sql } from "./db/connect.ts";
import {
  CHAIN_BLOCK_COLUMNS,
  CHAIN_EVENT_COLUMNS,
  CHAIN_TRANSACTION_COLUMNS,
  type ChainBlock,
  type ChainBlockRows,
  type ChainEvent,
  type ChainTransaction,
} from "./streams/chain-rows.ts";

/** A block's header and the rows matching reads. */
export interface BlockData {
  block: ChainBlock;
  rows: ChainBlockRows;
}

/**
 * Loads blocks with their transactions and events, three queries whatever the number of blocks.
 * Rows are read whatever their canonical flag: the chain log says which blocks were applied.
 */
export async function loadBlocks(sql: Sql, network: string, hashes: string[]): Promise<Map<string, BlockData>> {
  const out = new Map<string, BlockData>();
  if (hashes.length === 0) return out;
  const [blocks, txs, events] = await Promise.all([
    sql<ChainBlock[]>`
      select ${sql(CHAIN_BLOCK_COLUMNS)} from blocks
      where network = ${network} and index_block_hash = any(${hashes}::text[])`,
    sql<(ChainTransaction & { index_block_hash: string })[]>`
      select index_block_hash, ${sql(CHAIN_TRANSACTION_COLUMNS)} from transactions
      where network = ${network} and index_block_hash = any(${hashes}::text[])
      order by index_block_hash, tx_index`,
    sql<(ChainEvent & { index_block_hash: string })[]>`
      select index_block_hash, ${sql(CHAIN_EVENT_COLUMNS)} from events
      where network = ${network} and index_block_hash = any(${hashes}::text[])
      order by index_block_hash, event_index`,
  ]);
  const transactions = new Map<string, ChainTransaction[]>();
  const blockEvents = new Map<string, ChainEvent[]>();
  for (const { index_block_hash, ...tx } of txs) push(transactions, index_block_hash, tx);
  for (const { index_block_hash, ...ev } of events) push(blockEvents, index_block_hash, ev);
  for (const block of blocks) {
    const hash = block.index_block_hash;
    out.set(hash, { block, rows: { transactions: transactions.get(hash) ?? [], events: blockEvents.get(hash) ?? [] } });
  }
  return out;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
