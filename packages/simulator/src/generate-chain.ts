import { createHash } from "node:crypto";
import type { NewBlockPayload } from "@second-layer/shared/stacks/node-payloads";
import {
  Cl,
  getAddressFromPrivateKey,
  makeContractCall,
  makeSTXTokenTransfer,
  serializeCV,
} from "@stacks/transactions";

// A deterministic chain of mainnet-like `/new_block` bodies (Nakamoto-era fields, as in the recorded
// fixtures) carrying real signed transactions, so raw_tx decodes exactly as a node's would. Signing
// is the slow part: a pool is signed once and reused across blocks (txids then repeat between
// blocks, which the schema allows: a transaction's key includes its block).

// A token transfer emits 1 event and a marketplace call 5; the pool alternates them, so every block
// carries 3 events per transaction on average (60).
const TXS_PER_BLOCK = 20;
const BLOCKS_PER_TENURE = 30;
const BLOCK_SECONDS = 5;
const FIRST_BURN_HEIGHT = 900_000;
const FIRST_TENURE_HEIGHT = 180_000;
const GENESIS_TIME = 1_750_000_000;
// Eight signers, all of whom signed: u16 count, u32 byte length, then the bits.
const SIGNERS = 8;
const SIGNER_BITVEC = "000800000001ff";

function hash(label: string): string {
  return createHash("sha256").update(label).digest("hex");
}

const KEYS = Array.from({ length: 10 }, (_, i) => `${hash(`bench-key-${i}`)}01`);

/** The accounts and contracts of the generated chain on one network (addresses differ per network). */
export function chainAccounts(network: "mainnet" | "testnet" = "mainnet") {
  const senders = KEYS.map((k) => getAddressFromPrivateKey(k, network));
  const deployer = senders[0] as string;
  return {
    network,
    senders,
    deployer,
    market: `${deployer}.bench-market`,
    token: `${deployer}.bench-token`,
    recipient:
      network === "mainnet" ? "SP3FGQ8Z7JY9BWYZ5WM53E0M9NK7WHJF0691NZ159" : "ST3FGQ8Z7JY9BWYZ5WM53E0M9NK7WHJF07ZG6V7S",
  };
}
export type ChainAccounts = ReturnType<typeof chainAccounts>;

export interface PooledTx {
  txid: string;
  rawTx: string;
  sender: string;
  accounts: ChainAccounts;
  /** STX amount of a transfer; price (and, modulo 100,000, token id) of a marketplace call. */
  amount: bigint;
  kind: "transfer" | "mint";
}

export async function signTransactionPool(
  size: number,
  network: "mainnet" | "testnet" = "mainnet",
): Promise<PooledTx[]> {
  const accounts = chainAccounts(network);
  const { deployer: DEPLOYER, recipient: RECIPIENT } = accounts;
  const pool: PooledTx[] = [];
  for (let i = 0; i < size; i++) {
    const k = i % KEYS.length;
    const common = {
      senderKey: KEYS[k] as string,
      network,
      nonce: BigInt(Math.floor(i / KEYS.length)),
    };
    const kind = i % 2 === 0 ? "transfer" : "mint";
    const amount = 1_000_000n + BigInt(i) * 137n;
    const tx =
      kind === "transfer"
        ? await makeSTXTokenTransfer({ ...common, recipient: RECIPIENT, amount, fee: 180n })
        : await makeContractCall({
            ...common,
            contractAddress: DEPLOYER,
            contractName: "bench-market",
            functionName: "mint-with-token",
            functionArgs: [Cl.uint(i), Cl.uint(amount), Cl.contractPrincipal(DEPLOYER, "bench-token")],
            fee: 3_000n,
            validateWithAbi: false,
          });
    pool.push({
      txid: `0x${tx.txid()}`,
      rawTx: `0x${tx.serialize()}`,
      sender: accounts.senders[k] as string,
      accounts,
      amount,
      kind,
    });
  }
  return pool;
}

type NodeEvent = NewBlockPayload["events"][number];

function eventsOf(tx: PooledTx, firstIndex: number): NodeEvent[] {
  const { recipient: RECIPIENT, deployer: DEPLOYER, market: MARKET, token: TOKEN } = tx.accounts;
  const at = (n: number) => ({ txid: tx.txid, committed: true, event_index: firstIndex + n });
  if (tx.kind === "transfer") {
    const amount = String(tx.amount);
    const memo = "00".repeat(34);
    return [
      {
        ...at(0),
        type: "stx_transfer_event",
        stx_transfer_event: { sender: tx.sender, recipient: RECIPIENT, amount, memo },
      },
    ];
  }
  const tokenId = Cl.uint(tx.amount % 100_000n);
  const print = Cl.tuple({
    action: Cl.stringAscii("mint"),
    buyer: Cl.principal(tx.sender),
    id: tokenId,
    price: Cl.uint(tx.amount),
    memo: Cl.bufferFromUtf8("second-layer bench"),
  });
  const asset_identifier = `${TOKEN}::bench`;
  const price = String(tx.amount);
  const royalty = String(tx.amount / 10n);
  return [
    {
      ...at(0),
      type: "ft_transfer_event",
      ft_transfer_event: { asset_identifier, sender: tx.sender, recipient: MARKET, amount: price },
    },
    {
      ...at(1),
      type: "ft_transfer_event",
      ft_transfer_event: { asset_identifier, sender: MARKET, recipient: DEPLOYER, amount: royalty },
    },
    {
      ...at(2),
      type: "stx_transfer_event",
      stx_transfer_event: { sender: tx.sender, recipient: DEPLOYER, amount: "1000000", memo: "" },
    },
    {
      ...at(3),
      type: "nft_mint_event",
      nft_mint_event: {
        asset_identifier: `${MARKET}::bench-nft`,
        recipient: tx.sender,
        raw_value: `0x${serializeCV(tokenId)}`,
      },
    },
    {
      ...at(4),
      type: "contract_event",
      contract_event: { contract_identifier: MARKET, topic: "print", raw_value: `0x${serializeCV(print)}` },
    },
  ];
}

function executionCost(tx: PooledTx) {
  return tx.kind === "transfer"
    ? { read_count: 0, read_length: 0, runtime: 0, write_count: 0, write_length: 0 }
    : { read_count: 14, read_length: 9_380, runtime: 61_205, write_count: 6, write_length: 412 };
}

/** Labels name blocks: the main chain's block at height h is `${h}`; a fork's are other labels. */
const indexHash = (label: string) => `0x${hash(`index-${label}`)}`;
const blockHash = (label: string) => `0x${hash(`block-${label}`)}`;
const burnHash = (tenure: number) => `0x${hash(`burn-${tenure}`)}`;
const burnTime = (tenure: number) => GENESIS_TIME + tenure * BLOCKS_PER_TENURE * BLOCK_SECONDS - 2;

/** A block's own hashes, derived from its label. */
export function blockHashes(label: string): { indexBlockHash: string; blockHash: string } {
  return { indexBlockHash: indexHash(label), blockHash: blockHash(label) };
}

export interface BlockSpec {
  height: number;
  label: string;
  parent: { indexBlockHash: string; blockHash: string };
  txs: PooledTx[];
  /** Unix seconds; by default the chain's 5-second cadence from its genesis time. */
  time?: number;
}

/** The burn block a height belongs to: a tenure spans BLOCKS_PER_TENURE Stacks blocks. */
export function tenureOf(height: number): { tenure: number; burnHeight: number; burnHash: string; burnTime: number } {
  const tenure = Math.floor((height - 1) / BLOCKS_PER_TENURE);
  return { tenure, burnHeight: FIRST_BURN_HEIGHT + tenure, burnHash: burnHash(tenure), burnTime: burnTime(tenure) };
}

/** A `/new_block` body carrying `txs` (each with its events), linked to its parent by label. */
export function buildBlock(spec: BlockSpec): NewBlockPayload {
  const { height: h, label, parent, txs } = spec;
  const events: NodeEvent[] = [];
  for (const tx of txs) events.push(...eventsOf(tx, events.length));
  const costs = txs.map(executionCost);
  const total = (key: keyof ReturnType<typeof executionCost>) => costs.reduce((sum, c) => sum + c[key], 0);
  const { tenure } = tenureOf(h);
  // The first block of a tenure follows a new burn block; the others share their tenure's.
  const parentTenure = (h - 1) % BLOCKS_PER_TENURE === 0 ? tenure - 1 : tenure;
  return {
    anchored_cost: {
      read_count: total("read_count"),
      read_length: total("read_length"),
      runtime: total("runtime"),
      write_count: total("write_count"),
      write_length: total("write_length"),
    },
    block_hash: blockHash(label),
    block_height: h,
    block_time: spec.time ?? GENESIS_TIME + h * BLOCK_SECONDS,
    burn_block_hash: burnHash(tenure),
    burn_block_height: FIRST_BURN_HEIGHT + tenure,
    burn_block_time: burnTime(tenure),
    confirmed_microblocks_cost: { read_count: 0, read_length: 0, runtime: 0, write_count: 0, write_length: 0 },
    consensus_hash: `0x${hash(`consensus-${tenure}`).slice(0, 40)}`,
    cycle_number: null,
    events,
    index_block_hash: indexHash(label),
    matured_miner_rewards: [],
    miner_signature: `0x00${hash(`miner-sig-${label}`)}${hash(`miner-sig-${label}/2`)}`,
    miner_txid: `0x${hash(`commit-${tenure}`)}`,
    parent_block_hash: parent.blockHash,
    parent_burn_block_hash: burnHash(parentTenure),
    parent_burn_block_height: FIRST_BURN_HEIGHT + parentTenure,
    parent_burn_block_timestamp: burnTime(parentTenure),
    parent_index_block_hash: parent.indexBlockHash,
    parent_microblock: `0x${"00".repeat(32)}`,
    parent_microblock_sequence: 0,
    reward_set: null,
    signer_bitvec: SIGNER_BITVEC,
    signer_signature: Array.from(
      { length: SIGNERS },
      (_, s) => `00${hash(`sig-${label}-${s}`)}${hash(`sig-${label}-${s}/2`)}`,
    ),
    signer_signature_hash: blockHash(label),
    tenure_height: FIRST_TENURE_HEIGHT + tenure,
    transactions: txs.map((tx, j) => ({
      burnchain_op: null,
      contract_interface: null,
      execution_cost: costs[j],
      microblock_hash: null,
      microblock_parent_hash: null,
      microblock_sequence: null,
      raw_result: "0x0703",
      raw_tx: tx.rawTx,
      status: "success",
      tx_index: j,
      txid: tx.txid,
      vm_error: null,
    })),
  };
}

/** Yields bodies for heights 1..blocks in chain order, each built on demand. */
export function* generateChain(blocks: number, pool: PooledTx[]): Generator<NewBlockPayload> {
  for (let h = 1; h <= blocks; h++) {
    const txs = Array.from(
      { length: TXS_PER_BLOCK },
      (_, j) => pool[((h - 1) * TXS_PER_BLOCK + j) % pool.length] as PooledTx,
    );
    yield buildBlock({ height: h, label: String(h), parent: blockHashes(String(h - 1)), txs });
  }
}
