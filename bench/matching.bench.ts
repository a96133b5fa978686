import { createHash } from "node:crypto";
import { blockRows } from "@second-layer/indexer/store/block-rows";
import type { ChainBlockRows } from "@second-layer/shared/streams/chain-rows";
import { parseStreamFilters, parseStreamOptions, type StreamFilterInput } from "@second-layer/shared/streams/filters";
import { FilterIndex } from "@second-layer/shared/streams/match";
import { generateChain, signTransactionPool } from "@second-layer/simulator/generate-chain";
import { AddressVersion, addressFromVersionHash, addressToString } from "@stacks/transactions";
import type { BenchResult } from "./run.ts";

// Matching time per block (20 transactions, 60 events) with few and with many active streams. The
// streams are what a busy deployment holds: most watch their own accounts, tokens and contracts (none
// of which occur in this chain), one in a hundred watches the chain's busy market contract, token or
// senders, and one in a thousand wants every STX transfer above a threshold. The issue's target:
// 10,000 streams cost under twice what 10 cost.

const BLOCKS = 100;
const ROUNDS = 30;
const FEW = 10;
const MANY = 10_000;
const TARGET_RATIO = 2;

function hash(label: string): string {
  return createHash("sha256").update(label).digest("hex");
}

/** A valid mainnet address that belongs to nobody in the generated chain. */
function address(label: string): string {
  return addressToString(addressFromVersionHash(AddressVersion.MainnetSingleSig, hash(label).slice(0, 40)));
}

interface ChainFacts {
  market: string;
  token: string;
  senders: string[];
}

/** Stream `i`'s filters: deterministic, so the first 10 of the 10,000 are the 10. */
function filtersOf(i: number, chain: ChainFacts): StreamFilterInput[] {
  if (i % 1000 === 5) return [{ type: "stx_transfer", minAmount: "1500000" }];
  if (i % 100 === 0) {
    const hits: StreamFilterInput[] = [
      { type: "print_event", contractId: chain.market, where: { action: "mint" } },
      { type: "ft_transfer", assetIdentifier: chain.token, minAmount: "1000000" },
      { type: "contract_call", contractId: chain.market, functionName: "mint-*" },
      { type: "stx_transfer", sender: chain.senders[(i / 100) % chain.senders.length] as string },
    ];
    return [hits[(i / 100) % hits.length] as StreamFilterInput];
  }
  const own = address(`account-${i}`);
  const contract = `${address(`deployer-${i % 3000}`)}.app-${i}`;
  const filters: StreamFilterInput[][] = [
    [{ type: "stx_transfer", recipient: own }],
    [
      { type: "ft_transfer", assetIdentifier: `${contract}::token`, recipient: own },
      { type: "ft_mint", assetIdentifier: `${contract}::token` },
    ],
    [{ type: "print_event", contractId: contract, contains: "listing" }],
    [{ type: "contract_call", contractId: contract, functionName: "buy*" }],
    [
      { type: "nft_mint", assetIdentifier: `${contract}::nft` },
      { type: "nft_transfer", assetIdentifier: `${contract}::nft` },
    ],
    [{ type: "tx", sender: own }],
    [
      { type: "stx_transfer", sender: own, minAmount: "1000000" },
      { type: "stx_lock", lockedAddress: own },
    ],
  ];
  return filters[i % filters.length] as StreamFilterInput[];
}

function buildIndex(streams: number, chain: ChainFacts): FilterIndex {
  const index = new FilterIndex("mainnet");
  const options = parseStreamOptions({});
  for (let i = 0; i < streams; i++)
    index.set(`stream-${i}`, parseStreamFilters("mainnet", filtersOf(i, chain)), options);
  return index;
}

/** Median over rounds of the mean time to match one block, in microseconds. */
function timePerBlock(index: FilterIndex, blocks: ChainBlockRows[]): { micros: number; matches: number } {
  let matches = 0;
  for (const block of blocks) matches += index.match(block).size; // warm-up, and the match count
  const perRound: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = Bun.nanoseconds();
    for (const block of blocks) index.match(block);
    perRound.push((Bun.nanoseconds() - start) / 1000 / blocks.length);
  }
  perRound.sort((a, b) => a - b);
  return { micros: perRound[Math.floor(perRound.length / 2)] as number, matches: matches / blocks.length };
}

export async function run(): Promise<BenchResult[]> {
  const pool = await signTransactionPool(100);
  const blocks: ChainBlockRows[] = [...generateChain(BLOCKS, pool)].map((b) => {
    const rows = blockRows(b);
    return { transactions: rows.transactions, events: rows.events };
  });
  const first = blocks[0] as ChainBlockRows;
  const market = first.transactions.find((t) => t.tx_type === "contract_call")?.contract_id as string;
  const token = first.events.find((e) => e.type === "ft_transfer_event")?.asset_identifier?.split("::")[0] as string;
  const chain: ChainFacts = {
    market,
    token: `${token}::bench`,
    senders: [...new Set(first.transactions.map((t) => t.sender_address as string))],
  };

  const buildStart = Bun.nanoseconds();
  const many = buildIndex(MANY, chain);
  const buildMs = (Bun.nanoseconds() - buildStart) / 1e6;
  const few = buildIndex(FEW, chain);

  const fewTime = timePerBlock(few, blocks);
  const manyTime = timePerBlock(many, blocks);
  const ratio = manyTime.micros / fewTime.micros;
  process.stderr.write(
    `matching: ${FEW} streams ${fewTime.micros.toFixed(1)} µs/block (${fewTime.matches.toFixed(1)} matching streams), ` +
      `${MANY} streams ${manyTime.micros.toFixed(1)} µs/block (${manyTime.matches.toFixed(1)} matching streams), ` +
      `ratio ${ratio.toFixed(2)} (target < ${TARGET_RATIO}); index of ${MANY} built in ${buildMs.toFixed(0)} ms\n`,
  );
  return [
    { name: `match one block, ${FEW} streams`, value: fewTime.micros, unit: "µs" },
    {
      name: `match one block, ${MANY} streams`,
      value: manyTime.micros,
      unit: "µs",
      baseline: fewTime.micros * TARGET_RATIO,
      ratio: manyTime.micros / (fewTime.micros * TARGET_RATIO),
    },
    {
      name: `match cost ${MANY} / ${FEW} streams`,
      value: ratio,
      unit: "×",
      baseline: TARGET_RATIO,
      ratio: ratio / TARGET_RATIO,
    },
    { name: `build index of ${MANY} streams`, value: buildMs, unit: "ms" },
  ];
}
