import { describe, expect, test } from "bun:test";
import { StacksApiSource } from "@second-layer/indexer/backfill/stacks-api-source";
import { blockRows } from "@second-layer/indexer/store/block-rows";
import { ALL_FIXTURES, blocksOf, fixture } from "../../../test/support/fixtures.ts";
import { blockCost, canonicalByHeight, serveFakeStacksApi } from "./backfill-fake-stacks-api.ts";

const FILES = ALL_FIXTURES;

const BLOCK_FIELDS = [
  "block_hash",
  "block_height",
  "index_block_hash",
  "parent_index_block_hash",
  "parent_block_hash",
  "parent_microblock",
  "parent_microblock_sequence",
  "burn_block_hash",
  "burn_block_height",
  "burn_block_time",
  "block_time",
  "tenure_height",
  "miner_txid",
  "anchored_cost",
];

/**
 * A node payload as it looks after a trip through the API, i.e. minus what the API is known to lose:
 * uncommitted events and events of failed transactions (the rest are renumbered across the block); the
 * missing memo of transfers recorded by nodes older than 2.1 (read back as "", what nodes send today);
 * a missing anchored_cost (the API adds up the transactions'); and a Nakamoto block whose tenure_height
 * equals its height reads back as an epoch 2.x block, without tenure_height and block_time.
 */
function whatTheApiKeeps(block: any): any {
  const txIndex = new Map(block.transactions.map((t: any) => [t.txid, t.tx_index]));
  const success = new Set(block.transactions.filter((t: any) => t.status === "success").map((t: any) => t.txid));
  const events = block.events
    .filter((e: any) => e.committed && success.has(e.txid))
    .sort(
      (a: any, b: any) =>
        (txIndex.get(a.txid) as number) - (txIndex.get(b.txid) as number) || a.event_index - b.event_index,
    )
    .map((e: any, i: number) =>
      e.type === "stx_transfer_event"
        ? { ...e, event_index: i, stx_transfer_event: { memo: "", ...e.stx_transfer_event } }
        : { ...e, event_index: i },
    );
  const looksEpoch2 = block.tenure_height === block.block_height;
  return {
    ...block,
    events,
    anchored_cost: blockCost(block),
    tenure_height: looksEpoch2 ? undefined : block.tenure_height,
    block_time: looksEpoch2 ? undefined : block.block_time,
  };
}

function pick(block: any): Record<string, unknown> {
  return Object.fromEntries(BLOCK_FIELDS.map((k) => [k, block[k] ?? null]));
}

describe.each(FILES)("stacks-api source over %s", (file) => {
  test("rebuilds every canonical block: same block fields, transaction and event rows as the node's payload", async () => {
    const rows = fixture(file);
    const { api, url } = serveFakeStacksApi(rows);
    const source = new StacksApiSource(url);
    const signal = new AbortController().signal;
    for (const original of canonicalByHeight(blocksOf(rows)).values()) {
      const fetched = await source.fetchBlock(original.block_height, signal);
      expect(fetched).not.toBeNull();
      const rebuilt = fetched?.payload;
      const expected = whatTheApiKeeps(original);
      expect(pick(rebuilt)).toEqual(pick(expected));
      expect(blockRows(rebuilt as any)).toEqual(blockRows(expected));
    }
    // Every request stayed within the API's page limits (the fake answers 400 otherwise, failing above).
    expect(api.requests.length).toBeGreaterThan(0);
  });
});

test("a height the API does not have is null, not an error", async () => {
  const { url } = serveFakeStacksApi(fixture("mocknet.tsv"));
  expect(await new StacksApiSource(url).fetchBlock(999, new AbortController().signal)).toBeNull();
});
