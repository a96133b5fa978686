import type { NewBlockPayload, NodeEvent, NodeTransaction } from "@second-layer/shared/stacks/node-payloads";
import type { ApiBlock, ApiEvent, ApiTransaction } from "./stacks-api-schemas.ts";

// Pure mapping from Hiro stacks-blockchain-api responses back to the `/new_block` body the node sent,
// so a backfilled block goes through the same journal and store path as a pushed one. Where the API
// has thrown information away, the comments say what the node would have sent instead and why.

/** What the API serves about one transaction of a block, gathered by the stacks-api source. */
export interface ApiTransactionDetails {
  tx: ApiTransaction;
  rawTx: string;
  events: ApiEvent[];
  /** The node's `contract_abi` of a contract deploy; null for every other transaction. */
  contractAbi: unknown;
  /** Parent of the microblock the transaction was streamed in; null for anchored transactions. */
  microblockParentHash: string | null;
}

const NO_MICROBLOCK = `0x${"0".repeat(64)}`;
const HASH = /^0x[0-9a-fA-F]{64}$/;
const BOOT_ADDRESSES = new Set(["SP000000000000000000002Q6VF78", "ST000000000000000000002AMW42H"]);

/** The API marks a transaction mined in the anchored block itself with an empty microblock hash. */
export function inMicroblock(tx: ApiTransaction): boolean {
  return tx.microblock_hash != null && tx.microblock_hash !== "" && tx.microblock_hash !== "0x";
}

function cost(c: ApiBlock | ApiTransaction) {
  return {
    read_count: c.execution_cost_read_count,
    read_length: c.execution_cost_read_length,
    runtime: c.execution_cost_runtime,
    write_count: c.execution_cost_write_count,
    write_length: c.execution_cost_write_length,
  };
}

function nodeTransaction(d: ApiTransactionDetails): NodeTransaction {
  const streamed = inMicroblock(d.tx);
  return {
    txid: d.tx.tx_id,
    tx_index: d.tx.tx_index,
    status: d.tx.tx_status,
    raw_result: d.tx.tx_result.hex,
    raw_tx: d.rawTx,
    vm_error: d.tx.vm_error ?? null,
    execution_cost: cost(d.tx),
    contract_abi: d.contractAbi ?? null,
    microblock_hash: streamed ? d.tx.microblock_hash : null,
    microblock_sequence: streamed ? d.tx.microblock_sequence : null,
    microblock_parent_hash: streamed ? d.microblockParentHash : null,
    // The API turns burnchain operations into synthetic transactions; the node's op record is gone.
    burnchain_op: null,
  };
}

function isPoxContract(contractId: string): boolean {
  const [address, name] = contractId.split(".");
  return BOOT_ADDRESSES.has(address ?? "") && /^pox(-\d+)?$/.test(name ?? "");
}

/** A node event body. Shapes are checked by `newBlockSchema` once the whole body is built. */
function nodeEvent(base: Pick<NodeEvent, "txid" | "event_index" | "committed">, type: string, body: object): NodeEvent {
  return { ...base, type, [type]: body } as NodeEvent;
}

function assetEvent(
  base: Pick<NodeEvent, "txid" | "event_index" | "committed">,
  asset: "stx" | "ft" | "nft",
  a: { asset_event_type: "transfer" | "mint" | "burn"; sender?: string; recipient?: string },
  fields: object,
): NodeEvent {
  // The API fills the party a mint or burn does not have with ""; the node leaves it out.
  const parties =
    a.asset_event_type === "transfer"
      ? { sender: a.sender, recipient: a.recipient }
      : a.asset_event_type === "mint"
        ? { recipient: a.recipient }
        : { sender: a.sender };
  return nodeEvent(base, `${asset}_${a.asset_event_type}_event`, { ...parties, ...fields });
}

function toNodeEvent(
  ev: ApiEvent,
  base: Pick<NodeEvent, "txid" | "event_index" | "committed">,
  poxContract: string | undefined,
): NodeEvent {
  switch (ev.event_type) {
    case "smart_contract_log":
      return nodeEvent(base, "contract_event", {
        contract_identifier: ev.contract_log.contract_id,
        topic: ev.contract_log.topic,
        raw_value: ev.contract_log.value.hex,
      });
    case "stx_lock":
      // The API drops the locking contract. Every pox-2+ lock comes with the pox contract's own print
      // event earlier in the same transaction, which names it; pox-1 locks had no such field at all.
      return nodeEvent(base, "stx_lock_event", {
        locked_amount: ev.stx_lock_event.locked_amount,
        unlock_height: String(ev.stx_lock_event.unlock_height),
        locked_address: ev.stx_lock_event.locked_address,
        contract_identifier: poxContract,
      });
    case "stx_asset":
      return assetEvent(
        base,
        "stx",
        ev.asset,
        ev.asset.asset_event_type === "transfer"
          ? // Nodes since 2.1 always send a memo ("" for none); the API leaves an empty one out and adds 0x.
            { amount: ev.asset.amount, memo: ev.asset.memo?.replace(/^0x/, "") ?? "" }
          : { amount: ev.asset.amount },
      );
    case "fungible_token_asset":
      return assetEvent(base, "ft", ev.asset, { asset_identifier: ev.asset.asset_id, amount: ev.asset.amount });
    case "non_fungible_token_asset":
      return assetEvent(base, "nft", ev.asset, { asset_identifier: ev.asset.asset_id, raw_value: ev.asset.value.hex });
  }
}

/**
 * The node numbers events across the whole block, in transaction order; the API renumbers them per
 * transaction. Concatenating in (tx_index, event_index) order restores the node's numbers exactly, as
 * long as the API kept every event: it keeps only committed events of successful transactions.
 */
function blockEvents(ordered: ApiTransactionDetails[]): NodeEvent[] {
  const events: NodeEvent[] = [];
  for (const d of ordered) {
    let poxContract: string | undefined;
    for (const ev of [...d.events].sort((a, b) => a.event_index - b.event_index)) {
      if (ev.event_type === "smart_contract_log" && isPoxContract(ev.contract_log.contract_id)) {
        poxContract = ev.contract_log.contract_id;
      }
      events.push(toNodeEvent(ev, { txid: d.tx.tx_id, event_index: events.length, committed: true }, poxContract));
    }
  }
  return events;
}

export function mapStacksApiBlock(block: ApiBlock, details: ApiTransactionDetails[]): NewBlockPayload {
  const ordered = [...details].sort((a, b) => a.tx.tx_index - b.tx.tx_index);
  // The parent microblock is the last one of the stream this block confirms, and every confirmed
  // microblock transaction is in the block: the highest sequence among them names it.
  const lastStreamed = ordered
    .filter((d) => inMicroblock(d.tx))
    .reduce<ApiTransaction | null>(
      (last, d) => ((d.tx.microblock_sequence ?? 0) >= (last?.microblock_sequence ?? -1) ? d.tx : last),
      null,
    );
  // The API shows an epoch 2.x block with tenure_height = height (each 2.x block is its own tenure) and
  // its own receipt time as block_time: the node sent neither. Nakamoto tenures hold many blocks, so
  // there the two heights differ and both values are the node's.
  const epoch2 = block.tenure_height === undefined || block.tenure_height === block.height;
  return {
    block_hash: block.hash,
    block_height: block.height,
    index_block_hash: block.index_block_hash,
    parent_index_block_hash: block.parent_index_block_hash,
    parent_block_hash: block.parent_block_hash,
    parent_microblock: lastStreamed?.microblock_hash ?? NO_MICROBLOCK,
    parent_microblock_sequence: lastStreamed?.microblock_sequence ?? 0,
    burn_block_hash: block.burn_block_hash,
    burn_block_height: block.burn_block_height,
    burn_block_time: block.burn_block_time,
    block_time: epoch2 ? undefined : block.block_time,
    tenure_height: epoch2 || block.tenure_height === -1 ? undefined : block.tenure_height,
    miner_txid: HASH.test(block.miner_txid) ? block.miner_txid : undefined,
    anchored_cost: cost(block),
    transactions: ordered.map(nodeTransaction),
    events: blockEvents(ordered),
  };
}
