import { expect, test } from "bun:test";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { FIXTURE_NETWORKS, fixtureBlocks } from "../../../../test/support/chain-rows.ts";
import { createTestDatabase } from "../../../../test/support/database.ts";
import { fixture } from "../../../../test/support/fixtures.ts";
import { startTestIndexer } from "../../../../test/support/indexer.ts";
import {
  CHAIN_BLOCK_COLUMNS,
  CHAIN_EVENT_COLUMNS,
  CHAIN_TRANSACTION_COLUMNS,
  type ChainBlock,
  type ChainEvent,
  type ChainTransaction,
} from "../../src/streams/chain-rows.ts";
import { parseStreamFilters, parseStreamOptions } from "../../src/streams/filters.ts";
import { FilterIndex } from "../../src/streams/match.ts";
import { blockPayload } from "../../src/streams/payload.ts";

// The worker selects CHAIN_*_COLUMNS from the tables. Rows read that way from an ingested recording
// must be what matching expects: the same values blockRows derives, and the same matches.

const pick = <T>(row: object, columns: readonly (keyof T)[]) =>
  Object.fromEntries(columns.map((c) => [c, (row as Record<string, unknown>)[c as string]]));

for (const name of ["poisonmicroblock.tsv", "regtest-env-pox-4-stack-stx-in-reward-phase-S1.tsv"]) {
  test(`rows selected with the column lists match like the derived rows (${name})`, async () => {
    const network = FIXTURE_NETWORKS[name]!;
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db, { STACKS_NETWORK: network });
    await replayEventLog(fixture(name), { to: indexer.url, maxAttempts: 1 });

    const index = new FilterIndex(network);
    index.set(
      "wide",
      parseStreamFilters(network, [
        { type: "stx_transfer" },
        { type: "ft_transfer" },
        { type: "stx_mint" },
        { type: "stx_lock" },
        { type: "print_event", contains: "a" },
        { type: "tx" },
      ]),
      parseStreamOptions({ includeFailed: true }),
    );

    const blocks = fixtureBlocks(name);
    expect(blocks.length).toBeGreaterThan(0);
    for (const derived of blocks) {
      const [block] = await db.sql<ChainBlock[]>`
        select ${db.sql(CHAIN_BLOCK_COLUMNS)} from blocks
        where network = ${network} and index_block_hash = ${derived.indexBlockHash}`;
      const transactions = await db.sql<ChainTransaction[]>`
        select ${db.sql(CHAIN_TRANSACTION_COLUMNS)} from transactions
        where network = ${network} and index_block_hash = ${derived.indexBlockHash} order by tx_index`;
      const events = await db.sql<ChainEvent[]>`
        select ${db.sql(CHAIN_EVENT_COLUMNS)} from events
        where network = ${network} and index_block_hash = ${derived.indexBlockHash} order by event_index`;

      expect(transactions.map((t) => ({ ...t }))).toEqual(
        derived.transactions.map((t) => pick(t, CHAIN_TRANSACTION_COLUMNS)) as never,
      );
      expect(events.map((e) => ({ ...e }))).toEqual(derived.events.map((e) => pick(e, CHAIN_EVENT_COLUMNS)) as never);

      const fromDb = index.match({ transactions, events }).get("wide");
      const fromDerived = index.match(derived).get("wide");
      expect(fromDb?.events.map((e) => e.event_index)).toEqual(fromDerived?.events.map((e) => e.event_index));
      expect(fromDb?.transactions.map((t) => t.txid)).toEqual(fromDerived?.transactions.map((t) => t.txid));

      const summary = blockPayload(block!, parseStreamOptions({ includeBlockMetadata: true }));
      expect(summary).toMatchObject({
        height: derived.payload.block_height,
        indexBlockHash: derived.indexBlockHash,
        timestamp: derived.payload.block_time ?? derived.payload.burn_block_time,
      });
      expect(summary.metadata?.burnBlockTime).toBe(derived.payload.burn_block_time);
    }
  });
}
