import { describe, expect, test } from "bun:test";
import { blockRows } from "@second-layer/indexer/store/block-rows";
import { FIXTURE_NETWORKS, type FixtureBlock, fixtureBlocks } from "../../../../test/support/chain-rows.ts";
import { prng } from "../../../../test/support/prng.ts";
import { decodeClarityPlain, type PlainClarity } from "../../src/stacks/clarity-plain.ts";
import type { ChainBlockRows, ChainEvent } from "../../src/streams/chain-rows.ts";
import {
  FILTER_TYPES,
  parseStreamFilters,
  parseStreamOptions,
  type StreamFilterInput,
  TX_STATUSES,
} from "../../src/streams/filters.ts";
import { FilterIndex } from "../../src/streams/match.ts";
import { matchStream } from "../../src/streams/predicate.ts";

const POISON = "poisonmicroblock.tsv";
const poisonBlock = fixtureBlocks(POISON)[0]!;
const failedTxs = poisonBlock.transactions.filter((t) => t.status !== "success");
const defaults = parseStreamOptions({});
const withFailed = parseStreamOptions({ includeFailed: true });

function indexWith(
  network: "mainnet" | "testnet" | "devnet",
  streams: Record<string, StreamFilterInput[]>,
  options = defaults,
) {
  const index = new FilterIndex<string>(network);
  for (const [id, filters] of Object.entries(streams))
    index.set(id, parseStreamFilters(network, filters), options, `meta:${id}`);
  return index;
}

/**
 * The poison-microblock block as the indexer would store it had the node reported one of its
 * successful contract calls as aborted (`status`), or its events as uncommitted: the recordings hold
 * aborted transactions, but none of them emitted events. Rows come from blockRows, as at ingest.
 */
function withAbortedCall(change: "status" | "uncommitted"): {
  rows: ChainBlockRows;
  txid: string;
  events: ChainEvent[];
} {
  const payload = structuredClone(poisonBlock.payload);
  const counts = new Map<string, number>();
  for (const e of payload.events) counts.set(e.txid, (counts.get(e.txid) ?? 0) + 1);
  const tx = payload.transactions.find(
    (t: any) =>
      t.status === "success" &&
      (counts.get(t.txid) ?? 0) >= 3 &&
      poisonBlock.transactions[t.tx_index]?.tx_type === "contract_call",
  );
  if (change === "status") tx.status = "abort_by_response";
  else for (const e of payload.events) if (e.txid === tx.txid) e.committed = false;
  const rows = blockRows(payload);
  return { rows, txid: tx.txid, events: rows.events.filter((e) => e.txid === tx.txid) };
}

describe("failed transactions and their events", () => {
  test("the recording has aborted contract calls; call filters see them only with includeFailed", () => {
    expect(failedTxs.length).toBeGreaterThan(0);
    const contract = failedTxs[0]!.contract_id!;
    const calls = poisonBlock.transactions.filter((t) => t.tx_type === "contract_call" && t.contract_id === contract);
    const filters: StreamFilterInput[] = [{ type: "contract_call", contractId: contract }];
    const plain = indexWith("mainnet", { s: filters }).match(poisonBlock).get("s");
    expect(plain?.transactions ?? []).toEqual(calls.filter((t) => t.status === "success"));
    const all = indexWith("mainnet", { s: filters }, withFailed).match(poisonBlock).get("s");
    expect(all?.transactions).toEqual(calls);
    expect(all!.transactions.some((t) => t.status !== "success")).toBe(true);
  });

  test("a tx filter naming a failure status sees those transactions without includeFailed", () => {
    for (const status of TX_STATUSES.filter((s) => s !== "success")) {
      const expected = poisonBlock.transactions.filter((t) => t.status === status);
      expect(expected.length).toBeGreaterThan(0);
      const got = indexWith("mainnet", { s: [{ type: "tx", status }] })
        .match(poisonBlock)
        .get("s");
      expect(got?.transactions).toEqual(expected);
      expect(
        matchStream(parseStreamFilters("mainnet", [{ type: "tx", status }]), defaults, poisonBlock, "mainnet")
          ?.transactions,
      ).toEqual(expected);
    }
  });

  test("a tx filter without status: failed transactions only with includeFailed", () => {
    const sender = failedTxs[0]!.sender_address!;
    const ofSender = poisonBlock.transactions.filter((t) => t.sender_address === sender);
    const filters: StreamFilterInput[] = [{ type: "tx", sender }];
    expect(indexWith("mainnet", { s: filters }).match(poisonBlock).get("s")?.transactions ?? []).toEqual(
      ofSender.filter((t) => t.status === "success"),
    );
    expect(indexWith("mainnet", { s: filters }, withFailed).match(poisonBlock).get("s")?.transactions).toEqual(
      ofSender,
    );
  });

  for (const change of ["status", "uncommitted"] as const) {
    test(`events of an aborted call (${change}) reach only streams with includeFailed`, () => {
      const { rows, events } = withAbortedCall(change);
      expect(events.length).toBeGreaterThanOrEqual(3);
      const types = [...new Set(events.map((e) => e.type))];
      const filterOf = (type: string): StreamFilterInput =>
        ({ type: type === "contract_event" ? "print_event" : type.replace(/_event$/, "") }) as StreamFilterInput;
      const filters = types.map(filterOf);
      const index = new FilterIndex("mainnet");
      index.set("plain", parseStreamFilters("mainnet", filters), defaults);
      index.set("failed", parseStreamFilters("mainnet", filters), withFailed);
      const result = index.match(rows);
      const ofTypes = rows.events.filter((e) => types.includes(e.type));
      expect(result.get("failed")?.events).toEqual(ofTypes);
      expect(result.get("plain")?.events).toEqual(ofTypes.filter((e) => !events.includes(e)));
      for (const [id, options] of [
        ["plain", defaults],
        ["failed", withFailed],
      ] as const) {
        expect(matchStream(parseStreamFilters("mainnet", filters), options, rows, "mainnet")?.events).toEqual(
          result.get(id)?.events,
        );
      }
    });
  }
});

describe("nft_burn", () => {
  test("matches a burn event by asset, sender and token id (a recorded transfer re-typed as the node reports a burn)", () => {
    const transfer = poisonBlock.events.find((e) => e.type === "nft_transfer_event")!;
    const burn: ChainEvent = { ...transfer, type: "nft_burn_event", recipient: null };
    const rows = { transactions: [], events: [transfer, burn] };
    const cases: [StreamFilterInput, ChainEvent[]][] = [
      [{ type: "nft_burn" }, [burn]],
      [
        { type: "nft_burn", assetIdentifier: burn.asset_identifier!, sender: burn.sender!, tokenId: burn.value_hex! },
        [burn],
      ],
      [{ type: "nft_burn", sender: burn.recipient ?? transfer.recipient! }, []],
      [{ type: "nft_transfer", tokenId: burn.value_hex! }, [transfer]],
    ];
    for (const [filter, expected] of cases) {
      const got = indexWith("mainnet", { s: [filter] })
        .match(rows)
        .get("s");
      expect(got?.events ?? []).toEqual(expected);
    }
  });
});

describe("FilterIndex", () => {
  const stx = poisonBlock.events.filter((e) => e.type === "stx_transfer_event");
  const recipient = stx[0]!.recipient!;

  test("a stream matched by several filters gets each event once and every matching filter's index", () => {
    const index = indexWith("mainnet", {
      s: [
        { type: "stx_transfer", recipient },
        { type: "ft_mint", assetIdentifier: "SP000000000000000000002Q6VF78.nothing::here" },
        { type: "stx_transfer" },
        { type: "block" },
      ],
    });
    const got = index.match(poisonBlock).get("s")!;
    expect(got.events).toEqual(stx);
    expect(got.transactions).toEqual([]);
    expect(got.matchedFilters).toEqual([0, 2, 3]);
  });

  test("set replaces a stream's filters, delete removes it, meta and options stay with it", () => {
    const index = indexWith("mainnet", { a: [{ type: "stx_transfer", recipient }], b: [{ type: "stx_transfer" }] });
    expect(index.size).toBe(2);
    expect(index.meta("a")).toBe("meta:a");
    expect([...index.match(poisonBlock).keys()].sort()).toEqual(["a", "b"]);
    index.set("a", parseStreamFilters("mainnet", [{ type: "nft_burn" }]), withFailed, "meta:a2");
    expect(index.meta("a")).toBe("meta:a2");
    expect(index.options("a")).toEqual(withFailed);
    expect([...index.match(poisonBlock).keys()]).toEqual(["b"]);
    expect(index.delete("b")).toBe(true);
    expect(index.delete("b")).toBe(false);
    expect(index.match(poisonBlock).size).toBe(0);
    expect(index.size).toBe(1);
    expect(index.has("b")).toBe(false);
  });

  test("streams that match nothing are absent from the result", () => {
    const index = indexWith("mainnet", { s: [{ type: "stx_lock" }] });
    expect(index.match(poisonBlock).size).toBe(0);
    expect(
      matchStream(parseStreamFilters("mainnet", [{ type: "stx_lock" }]), defaults, poisonBlock, "mainnet"),
    ).toBeNull();
  });
});

// Property: the index finds exactly what evaluating every filter of every stream finds. ----------------

/** Leaf paths and values of a decoded value, for `where` conditions. */
function leaves(value: PlainClarity, prefix: string[] = [], out: [string, PlainClarity][] = []) {
  if (value !== null && typeof value === "object" && !Array.isArray(value) && prefix.length < 4) {
    for (const [k, v] of Object.entries(value)) leaves(v, [...prefix, k], out);
  } else if (prefix.length > 0) out.push([prefix.join("."), value]);
  return out;
}

function randomFilters(blocks: FixtureBlock[], rand: () => number): StreamFilterInput[] {
  const events = blocks.flatMap((b) => b.events);
  const txs = blocks.flatMap((b) => b.transactions);
  const pick = <T>(list: readonly T[]): T | undefined => list[Math.floor(rand() * list.length)];
  const maybe = <T>(value: () => T | undefined, p = 0.5): T | undefined => (rand() < p ? value() : undefined);
  const nonNull = <T>(list: (T | null)[]) => list.filter((v): v is T => v !== null);
  const principals = nonNull(events.flatMap((e) => [e.sender, e.recipient, e.locked_address]));
  const standard = nonNull(txs.map((t) => t.sender_address));
  const contracts = nonNull([...events.map((e) => e.contract_id), ...txs.map((t) => t.contract_id)]);
  const assets = nonNull(events.map((e) => e.asset_identifier));
  const amounts = nonNull(events.map((e) => e.amount)).flatMap((a) => [
    a,
    String(BigInt(a) + 1n),
    String(BigInt(a) > 0n ? BigInt(a) - 1n : 0n),
  ]);
  const tokenIds = nonNull(events.filter((e) => e.type.startsWith("nft_")).map((e) => e.value_hex));
  const functions = nonNull(txs.map((t) => t.function_name)).flatMap((f) => [
    f,
    `${f.slice(0, 3)}*`,
    `*${f.slice(-2)}`,
    `${f.slice(0, -1)}?`,
  ]);
  const names = contracts.map((c) => c.split(".")[1]!).flatMap((n) => [n, `${n.slice(0, 2)}*`]);
  const decoded = events
    .filter((e) => e.type === "contract_event" && e.value_hex)
    .map((e) => decodeClarityPlain(e.value_hex!));
  const texts = decoded
    .map((d) => JSON.stringify(d))
    .map((t) => t.slice(Math.floor(t.length / 3), Math.floor(t.length / 3) + 6));
  const wheres = decoded.flatMap((d) => leaves(d));

  const count = 1 + Math.floor(rand() * 4);
  const oneFilter = (): StreamFilterInput => {
    const type = pick(FILTER_TYPES)!;
    const p = () => pick(principals);
    const amount = () => pick(amounts);
    switch (type) {
      case "stx_transfer":
        return {
          type,
          sender: maybe(p, 0.3),
          recipient: maybe(p, 0.3),
          minAmount: maybe(amount, 0.3),
          maxAmount: maybe(() => "999999999999999999999", 0.2),
        };
      case "stx_mint":
        return { type, recipient: maybe(p), minAmount: maybe(amount, 0.3) };
      case "stx_burn":
        return { type, sender: maybe(p), minAmount: maybe(amount, 0.3) };
      case "stx_lock":
        return { type, lockedAddress: maybe(p), minAmount: maybe(amount, 0.3) };
      case "ft_transfer":
        return {
          type,
          assetIdentifier: maybe(() => pick(assets)),
          sender: maybe(p, 0.3),
          recipient: maybe(p, 0.3),
          minAmount: maybe(amount, 0.3),
        };
      case "ft_mint":
        return {
          type,
          assetIdentifier: maybe(() => pick(assets)),
          recipient: maybe(p, 0.3),
          minAmount: maybe(amount, 0.3),
        };
      case "ft_burn":
        return {
          type,
          assetIdentifier: maybe(() => pick(assets)),
          sender: maybe(p, 0.3),
          minAmount: maybe(amount, 0.3),
        };
      case "nft_transfer":
        return {
          type,
          assetIdentifier: maybe(() => pick(assets)),
          sender: maybe(p, 0.3),
          recipient: maybe(p, 0.3),
          tokenId: maybe(() => pick(tokenIds)),
        };
      case "nft_mint":
        return {
          type,
          assetIdentifier: maybe(() => pick(assets)),
          recipient: maybe(p, 0.3),
          tokenId: maybe(() => pick(tokenIds)),
        };
      case "nft_burn":
        return {
          type,
          assetIdentifier: maybe(() => pick(assets)),
          sender: maybe(p, 0.3),
          tokenId: maybe(() => pick(tokenIds)),
        };
      case "contract_call":
        return {
          type,
          contractId: maybe(() => pick(contracts)),
          functionName: maybe(() => pick(functions)),
          caller: maybe(() => pick(standard), 0.3),
        };
      case "contract_deploy":
        return { type, deployer: maybe(() => pick(standard)), contractName: maybe(() => pick(names)) };
      case "print_event": {
        const w = maybe(() => pick(wheres), 0.3);
        return {
          type,
          contractId: maybe(() => pick(contracts)),
          topic: maybe(() => "print", 0.2),
          contains: maybe(() => pick(texts), 0.3),
          where: w ? { [w[0]]: w[1] } : undefined,
        };
      }
      case "tx":
        return {
          type,
          txId: maybe(() => pick(txs)?.txid, 0.2),
          txType: maybe(() => pick(txs)?.tx_type as never, 0.3),
          sender: maybe(() => pick(standard), 0.3),
          status: maybe(() => pick(TX_STATUSES), 0.3),
        };
      case "block":
        return { type };
    }
  };
  // Through JSON, as filters arrive: fields left undefined disappear.
  return Array.from({ length: count }, oneFilter).map((f) => JSON.parse(JSON.stringify(f)));
}

describe("property: the index agrees with evaluating every filter", () => {
  for (const [fixture, network] of Object.entries(FIXTURE_NETWORKS)) {
    test(fixture, () => {
      const blocks = fixtureBlocks(fixture);
      const rand = prng(fixture.length * 7919);
      const rowsToMatch: ChainBlockRows[] = [...blocks];
      if (fixture === POISON) rowsToMatch.push(withAbortedCall("status").rows, withAbortedCall("uncommitted").rows);
      const index = new FilterIndex<null>(network);
      const streams = new Map<string, { filters: ReturnType<typeof parseStreamFilters>; options: typeof defaults }>();
      const add = (id: string) => {
        const filters = parseStreamFilters(network, randomFilters(blocks, rand));
        const options = rand() < 0.3 ? withFailed : defaults;
        streams.set(id, { filters, options });
        index.set(id, filters, options, null);
      };
      for (let i = 0; i < 400; i++) add(`s${i}`);
      let matchedSomething = 0;
      for (let round = 0; round < 3; round++) {
        for (const rows of rowsToMatch) {
          const got = index.match(rows);
          for (const [id, { filters, options }] of streams) {
            const expected = matchStream(filters, options, rows, network);
            expect(got.get(id) ?? null).toEqual(expected);
            if (expected && (expected.events.length > 0 || expected.transactions.length > 0)) matchedSomething++;
          }
          expect(got.size).toBeLessThanOrEqual(streams.size);
        }
        // Change the set of streams between rounds: delete some, replace some, add new ones.
        for (const id of [...streams.keys()]) {
          const r = rand();
          if (r < 0.2) {
            streams.delete(id);
            index.delete(id);
          } else if (r < 0.4) add(id);
        }
        for (let i = 0; i < 50; i++) add(`r${round}-${i}`);
        expect(index.size).toBe(streams.size);
      }
      expect(matchedSomething).toBeGreaterThan(0);
    });
  }
});
