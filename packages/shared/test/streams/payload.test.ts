import { describe, expect, test } from "bun:test";
import { blockRow } from "@second-layer/indexer/store/block-rows";
import { cvToString, hexToCV } from "@stacks/transactions";
import { type FixtureBlock, fixtureBlocks } from "../../../../test/support/chain-rows.ts";
import { decodeClarityPlain } from "../../src/stacks/clarity-plain.ts";
import type { ChainBlock } from "../../src/streams/chain-rows.ts";
import { parseStreamFilters, parseStreamOptions } from "../../src/streams/filters.ts";
import { FilterIndex } from "../../src/streams/match.ts";
import { blockPayload, eventPayload, matchesPayload, transactionPayload } from "../../src/streams/payload.ts";

const [poison] = fixtureBlocks("poisonmicroblock.tsv") as [FixtureBlock];
const defaults = parseStreamOptions({});
const raw = parseStreamOptions({ decodeClarityValues: false, includeRawTx: true, includeBlockMetadata: true });

function chainBlock(b: FixtureBlock): ChainBlock {
  return blockRow(b.payload, { transactions: b.transactions, events: b.events, unknown: [] }) as ChainBlock;
}

describe("event payloads", () => {
  test("every event keeps the node's type name, and its columns under camelCase names", () => {
    const seen = new Set<string>();
    for (const e of poison.events) {
      const p = eventPayload(e, defaults);
      seen.add(p.type);
      expect(p.type).toBe(e.type);
      expect(p.txid).toBe(e.txid);
      expect(p.eventIndex).toBe(e.event_index);
      expect(p.sender).toBe(e.sender ?? undefined);
      expect(p.recipient).toBe(e.recipient ?? undefined);
      expect(p.amount).toBe(e.amount ?? undefined);
      expect(p.assetIdentifier).toBe(e.asset_identifier ?? undefined);
      expect(p.contractId).toBe(e.contract_id ?? undefined);
      expect(p.rawValue).toBe(e.value_hex ?? undefined);
      if (e.value_hex) expect(p.value).toEqual(decodeClarityPlain(e.value_hex));
      // Absent facts are left out, never sent as null.
      expect(Object.values(p)).not.toContain(null);
    }
    expect(seen.size).toBeGreaterThanOrEqual(6);
  });

  test("without decodeClarityValues only the hex is sent", () => {
    const print = poison.events.find((e) => e.type === "contract_event")!;
    const p = eventPayload(print, raw);
    expect(p.rawValue).toBe(print.value_hex!);
    expect("value" in p).toBe(false);
  });

  test("an stx_lock event carries the locked address, amount and unlock height", () => {
    const blocks = fixtureBlocks("regtest-env-pox-4-stack-stx-in-reward-phase-S1.tsv");
    const lock = blocks.flatMap((b) => b.events).find((e) => e.type === "stx_lock_event")!;
    expect(eventPayload(lock, defaults)).toMatchObject({
      type: "stx_lock_event",
      lockedAddress: lock.locked_address!,
      amount: lock.amount!,
      unlockHeight: lock.unlock_height!,
    });
  });
});

describe("transaction payloads", () => {
  test("a contract call: function, arguments and result as hex, repr and decoded value", () => {
    const call = poison.transactions.find(
      (t) => t.tx_type === "contract_call" && (t.function_args as unknown[]).length > 1,
    )!;
    const p = transactionPayload(call, defaults);
    const args = call.function_args as { hex: string; repr: string; type: string }[];
    expect(p).toMatchObject({
      txid: call.txid,
      txIndex: call.tx_index,
      type: "contract_call",
      sender: call.sender_address!,
      status: call.status,
      fee: call.fee!,
      nonce: call.nonce!,
      contractId: call.contract_id!,
      functionName: call.function_name!,
      vmError: null,
    });
    expect(p.args).toEqual(
      args.map((a) => ({ hex: a.hex, repr: a.repr, type: a.type, value: decodeClarityPlain(a.hex) })),
    );
    expect(p.result).toEqual({
      hex: call.raw_result!,
      repr: cvToString(hexToCV(call.raw_result!)),
      value: decodeClarityPlain(call.raw_result!),
    });
    expect("rawTx" in p).toBe(false);
    const bare = transactionPayload(call, raw);
    expect(bare.args).toEqual(args.map((a) => ({ hex: a.hex, repr: a.repr, type: a.type })));
    expect(bare.result).toEqual({ hex: call.raw_result! });
    expect(bare.rawTx).toBe(call.raw_tx);
  });

  test("an aborted call reports its status and error result", () => {
    const failed = poison.transactions.find((t) => t.status !== "success")!;
    const p = transactionPayload(failed, defaults);
    expect(p.status).toBe(failed.status);
    expect(p.result?.value).toEqual(decodeClarityPlain(failed.raw_result!));
    expect(Object.keys(p.result!.value as object)).toEqual(["err"]);
  });

  test("a token transfer carries recipient, amount and memo", () => {
    const transfer = poison.transactions.find((t) => t.tx_type === "token_transfer")!;
    expect(transactionPayload(transfer, defaults).tokenTransfer).toEqual({
      recipient: transfer.token_transfer_recipient!,
      amount: transfer.token_transfer_amount!,
      memo: transfer.token_transfer_memo,
    });
  });
});

describe("block payloads", () => {
  test("summary of a pre-Nakamoto block (its burn block time) and of a Nakamoto block (its own time)", () => {
    const b = chainBlock(poison);
    expect(blockPayload(b, defaults)).toEqual({
      height: poison.payload.block_height,
      hash: poison.payload.block_hash,
      indexBlockHash: poison.payload.index_block_hash,
      parentIndexBlockHash: poison.payload.parent_index_block_hash,
      burnBlockHeight: poison.payload.burn_block_height,
      timestamp: poison.payload.burn_block_time,
    });
    const nakamoto = fixtureBlocks("fuzzed-transactions-1.tsv").find((x) => x.payload.block_time)!;
    expect(blockPayload(chainBlock(nakamoto), defaults).timestamp).toBe(nakamoto.payload.block_time);
  });

  test("includeBlockMetadata adds the block's other facts", () => {
    const nakamoto = fixtureBlocks("fuzzed-transactions-1.tsv").find((x) => x.payload.block_time)!;
    const p = blockPayload(chainBlock(nakamoto), raw);
    expect(p.metadata).toMatchObject({
      parentBlockHash: nakamoto.payload.parent_block_hash,
      burnBlockHash: nakamoto.payload.burn_block_hash,
      tenureHeight: nakamoto.payload.tenure_height,
      signerBitvec: nakamoto.payload.signer_bitvec,
      txCount: nakamoto.transactions.length,
      eventCount: nakamoto.events.length,
    });
  });
});

test("matchesPayload renders what the index matched, in block order", () => {
  const recipient = poison.events.find((e) => e.type === "stx_transfer_event")!.recipient!;
  const index = new FilterIndex("mainnet");
  index.set(
    "s",
    parseStreamFilters("mainnet", [
      { type: "stx_transfer", recipient },
      { type: "tx", txType: "coinbase" },
    ]),
    defaults,
  );
  const match = index.match(poison).get("s")!;
  const body = matchesPayload(match, defaults);
  expect(body.events.map((e) => e.eventIndex)).toEqual(
    poison.events.filter((e) => e.type === "stx_transfer_event" && e.recipient === recipient).map((e) => e.event_index),
  );
  expect(body.transactions.map((t) => t.type)).toEqual(
    poison.transactions.filter((t) => t.tx_type === "coinbase").map(() => "coinbase"),
  );
  // What goes on the wire is plain JSON: it survives a round trip unchanged.
  expect(JSON.parse(JSON.stringify(body))).toEqual(body);
});

test("matchesPayload with a cache renders a row once per set of options and gives every stream the same rendering", () => {
  const match = { transactions: poison.transactions, events: poison.events };
  const cache = new WeakMap();
  const first = matchesPayload(match, defaults, cache);
  const again = matchesPayload(match, defaults, cache);
  const undecoded = matchesPayload(match, raw, cache);
  expect(again).toEqual(first);
  expect(again.events.every((e, i) => e === first.events[i])).toBe(true);
  expect(again.transactions.every((t, i) => t === first.transactions[i])).toBe(true);
  // Other options are another rendering, equal to an uncached one.
  expect(undecoded).toEqual(matchesPayload(match, raw));
  expect(undecoded).not.toEqual(first);
  expect(first).toEqual(matchesPayload(match, defaults));
});
