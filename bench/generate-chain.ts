import { createHash } from "node:crypto";
import { Cl, makeContractCall, makeSTXTokenTransfer, serializeCV } from "@stacks/transactions";

// A deterministic chain of mainnet-like `/new_block` bodies: real signed transactions (raw_tx decodes),
// ~20 transactions and ~60 events per block. Signing is the slow part, so a pool of transactions is
// signed once and reused across blocks (txids repeat between blocks, which the schema allows).

const KEYS = [
  "edf9aee84d9b7abc145504dde6726c64f369d37ee34ded868fabd876c26570bc01",
  "7287ba251d44a4d3fd9276c88ce34c5c52a038955511cccaf77e61068649c17801",
  "530d9f61984c888536871c6573073bdfc0058896dc1adfe9a6a10dfacadc209101",
  "d655b2523bcd65e34889725c73064feb17ceb796831c0e111ba1a552b0f31b3901",
];
const RECIPIENT = "SP3FGQ8Z7JY9BWYZ5WM53E0M9NK7WHJF0691NZ159";
const TOKEN = "SP2C2YFP12AJZB4MABJBAJ55XECVS7E4PMMZ89YZR.usda-token";

interface PooledTx {
  txid: string;
  rawTx: string;
  sender: string;
  kind: "transfer" | "call";
}

function hash(label: string): string {
  return `0x${createHash("sha256").update(label).digest("hex")}`;
}

export async function signTransactionPool(size: number): Promise<PooledTx[]> {
  const pool: PooledTx[] = [];
  for (let i = 0; i < size; i++) {
    const senderKey = KEYS[i % KEYS.length] as string;
    const nonce = BigInt(Math.floor(i / KEYS.length));
    const tx =
      i % 2 === 0
        ? await makeSTXTokenTransfer({
            recipient: RECIPIENT,
            amount: 1000n + BigInt(i),
            senderKey,
            network: "mainnet",
            fee: 300n,
            nonce,
          })
        : await makeContractCall({
            contractAddress: "SP2C2YFP12AJZB4MABJBAJ55XECVS7E4PMMZ89YZR",
            contractName: "usda-token",
            functionName: "transfer",
            functionArgs: [Cl.uint(5000 + i), Cl.principal(RECIPIENT), Cl.principal(RECIPIENT), Cl.none()],
            senderKey,
            network: "mainnet",
            fee: 2000n,
            nonce,
            validateWithAbi: false,
          });
    pool.push({
      txid: `0x${tx.txid()}`,
      rawTx: `0x${tx.serialize()}`,
      sender: RECIPIENT,
      kind: i % 2 === 0 ? "transfer" : "call",
    });
  }
  return pool;
}

const COST = { read_count: 5, read_length: 3000, runtime: 40000, write_count: 2, write_length: 150 };

function eventsFor(tx: PooledTx, i: number, firstIndex: number) {
  const base = { txid: tx.txid, committed: true };
  const print = `0x${serializeCV(Cl.tuple({ action: Cl.stringAscii("transfer"), amount: Cl.uint(5000 + i), memo: Cl.bufferFromUtf8("bench") }))}`;
  return [
    {
      ...base,
      event_index: firstIndex,
      type: "stx_transfer_event",
      stx_transfer_event: { sender: RECIPIENT, recipient: RECIPIENT, amount: String(1000 + i), memo: "" },
    },
    {
      ...base,
      event_index: firstIndex + 1,
      type: "ft_transfer_event",
      ft_transfer_event: {
        asset_identifier: `${TOKEN}::usda`,
        sender: RECIPIENT,
        recipient: RECIPIENT,
        amount: String(5000 + i),
      },
    },
    {
      ...base,
      event_index: firstIndex + 2,
      type: "contract_event",
      contract_event: { contract_identifier: TOKEN, topic: "print", raw_value: print },
    },
  ];
}

export interface ChainOptions {
  blocks: number;
  txsPerBlock?: number;
  pool: PooledTx[];
}

/** Yields block bodies in chain order; each is built on demand so the whole chain is never in memory. */
export function* generateChain(opts: ChainOptions): Generator<Record<string, unknown>> {
  const perBlock = opts.txsPerBlock ?? 20;
  for (let h = 1; h <= opts.blocks; h++) {
    const txs = Array.from(
      { length: perBlock },
      (_, j) => opts.pool[((h - 1) * perBlock + j) % opts.pool.length] as PooledTx,
    );
    const events = txs.flatMap((tx, j) => eventsFor(tx, h * 100 + j, j * 3));
    yield {
      block_hash: hash(`block-${h}`),
      block_height: h,
      block_time: 1_700_000_000 + h * 5,
      index_block_hash: hash(`index-${h}`),
      parent_index_block_hash: hash(`index-${h - 1}`),
      parent_block_hash: hash(`block-${h - 1}`),
      parent_microblock: `0x${"00".repeat(32)}`,
      parent_microblock_sequence: 0,
      burn_block_hash: hash(`burn-${h}`),
      burn_block_height: 800_000 + h,
      burn_block_time: 1_700_000_000 + h * 5,
      tenure_height: 100_000 + Math.floor(h / 10),
      consensus_hash: `0x${"ab".repeat(20)}`,
      miner_txid: hash(`miner-${h}`),
      signer_bitvec: "000800000001ff",
      signer_signature: [`01${"cd".repeat(64)}`],
      anchored_cost: COST,
      confirmed_microblocks_cost: { read_count: 0, read_length: 0, runtime: 0, write_count: 0, write_length: 0 },
      matured_miner_rewards: [],
      transactions: txs.map((tx, j) => ({
        txid: tx.txid,
        tx_index: j,
        status: "success",
        raw_result: "0x0703",
        raw_tx: tx.rawTx,
        vm_error: null,
        execution_cost: COST,
        contract_abi: null,
        microblock_hash: null,
        microblock_sequence: null,
        microblock_parent_hash: null,
      })),
      events,
    };
  }
}
