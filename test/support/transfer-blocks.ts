import {
  blockHashes,
  buildBlock,
  chainAccounts,
  type PooledTx,
  signTransactionPool,
} from "@second-layer/simulator/generate-chain";

// `/new_block` bodies whose transactions carry the STX transfers and burns a test chooses: real signed
// transactions from the simulator's pool (so the indexer decodes them as a node's), with the test's
// own events on them. One transaction per event; a failed transaction keeps its events, flagged.

export interface TestTransfer {
  kind: "transfer" | "burn";
  sender: string;
  /** Transfers only. */
  recipient?: string;
  amount: bigint;
  /** The transaction aborted: its event is stored but no view may see it. */
  failed?: boolean;
}

/** Mainnet accounts of the generated chain: senders and recipients of test transfers. */
export const TEST_ACCOUNTS = [...chainAccounts("mainnet").senders, chainAccounts("mainnet").recipient];

/** Most events one block can carry (the pool's size: a block holds a transaction once). */
export const MAX_EVENTS_PER_BLOCK = 12;

let pool: Promise<PooledTx[]> | null = null;

/** The signed transactions blocks borrow (signed once per test process). */
export function transactionPool(): Promise<PooledTx[]> {
  pool ??= signTransactionPool(MAX_EVENTS_PER_BLOCK);
  return pool;
}

/** A block `label` at `height` on the block labelled `parent`, one transaction per event. */
export async function transferBlock(label: string, height: number, parent: string, events: TestTransfer[]) {
  if (events.length > MAX_EVENTS_PER_BLOCK) throw new Error(`at most ${MAX_EVENTS_PER_BLOCK} events per block`);
  const txs = (await transactionPool()).slice(0, events.length);
  const body = buildBlock({ height, label, parent: blockHashes(parent), txs });
  body.transactions = body.transactions.map((tx, i) =>
    events[i]?.failed
      ? { ...tx, status: "abort_by_response", raw_result: "0x080100000000000000000000000000000001" }
      : tx,
  );
  body.events = events.map((e, i) => {
    const common = { txid: (txs[i] as PooledTx).txid, event_index: i, committed: true };
    return e.kind === "transfer"
      ? {
          ...common,
          type: "stx_transfer_event",
          stx_transfer_event: {
            sender: e.sender,
            recipient: e.recipient as string,
            amount: String(e.amount),
            memo: "",
          },
        }
      : { ...common, type: "stx_burn_event", stx_burn_event: { sender: e.sender, amount: String(e.amount) } };
  });
  return body;
}

/** The index block hash of a block label (as `transferBlock` derives it). */
export function indexHashOf(label: string): string {
  return blockHashes(label).indexBlockHash;
}

/** Two transfers and, every third block, a burn, between the test accounts: different in every block. */
export function someTransfers(height: number): TestTransfer[] {
  const at = (i: number) => TEST_ACCOUNTS[(height + i) % TEST_ACCOUNTS.length] as string;
  const events: TestTransfer[] = [
    { kind: "transfer", sender: at(0), recipient: at(1), amount: BigInt(1000 + height) },
    { kind: "transfer", sender: at(2), recipient: at(0), amount: BigInt(2 * height + 1) },
  ];
  if (height % 3 === 0) events.push({ kind: "burn", sender: at(1), amount: BigInt(height) });
  return events;
}

/** Posts `transferBlock(...)` to an indexer; throws unless it was stored. Returns the body. */
export async function postTransferBlock(
  indexerUrl: string,
  label: string,
  height: number,
  parent: string,
  events: TestTransfer[] = someTransfers(height),
) {
  const body = await transferBlock(label, height, parent, events);
  const res = await fetch(`${indexerUrl}/new_block`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as { ok?: boolean };
  if (res.status !== 200 || answer.ok !== true) throw new Error(`${label}: ${res.status} ${JSON.stringify(answer)}`);
  return body;
}

/**
 * Posts blocks `<branch><h>` for heights from..to, the first on the block labelled `parent` and each
 * next one on the one before, with `eventsAt(h)`'s transfers; returns their bodies, oldest first.
 */
export async function postTransferChain(
  indexerUrl: string,
  branch: string,
  from: number,
  to: number,
  parent: string,
  eventsAt: (height: number) => TestTransfer[] = someTransfers,
) {
  const bodies = [];
  for (let h = from; h <= to; h++) {
    bodies.push(
      await postTransferBlock(indexerUrl, `${branch}${h}`, h, h === from ? parent : `${branch}${h - 1}`, eventsAt(h)),
    );
  }
  return bodies;
}
