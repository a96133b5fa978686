import { z } from "zod";

// Schemas for the bodies a Stacks node POSTs to an event observer. They check what we store and
// let unknown fields through untouched (the node adds fields between releases; the journal keeps them).

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, "expected 0x-prefixed hex");
const hash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "expected a 0x-prefixed 32-byte hash");
const uintString = z.union([z.string().regex(/^\d+$/, "expected an unsigned integer"), z.number().int().nonnegative()]);
const height = z.number().int().nonnegative();

export const executionCostSchema = z.looseObject({
  read_count: z.number(),
  read_length: z.number(),
  runtime: z.number(),
  write_count: z.number(),
  write_length: z.number(),
});

export const nodeTransactionSchema = z.looseObject({
  txid: hash,
  tx_index: z.number().int().nonnegative(),
  status: z.string().min(1),
  raw_result: hex.nullish(),
  raw_tx: hex,
  vm_error: z.string().nullish(),
  execution_cost: executionCostSchema.nullish(),
  contract_abi: z.unknown().optional(),
  contract_interface: z.unknown().optional(),
  microblock_hash: hash.nullish(),
  microblock_sequence: z.number().int().nullish(),
  microblock_parent_hash: hash.nullish(),
  burnchain_op: z.record(z.string(), z.unknown()).nullish(),
});

const stxTransfer = z.looseObject({
  sender: z.string(),
  recipient: z.string(),
  amount: uintString,
  memo: z.string().optional(),
});
const stxMint = z.looseObject({ recipient: z.string(), amount: uintString });
const stxBurn = z.looseObject({ sender: z.string(), amount: uintString });
const stxLock = z.looseObject({
  locked_amount: uintString,
  unlock_height: uintString,
  locked_address: z.string(),
  contract_identifier: z.string().optional(),
});
const ftTransfer = z.looseObject({
  asset_identifier: z.string(),
  sender: z.string(),
  recipient: z.string(),
  amount: uintString,
});
const ftMint = z.looseObject({ asset_identifier: z.string(), recipient: z.string(), amount: uintString });
const ftBurn = z.looseObject({ asset_identifier: z.string(), sender: z.string(), amount: uintString });
const nftTransfer = z.looseObject({
  asset_identifier: z.string(),
  sender: z.string(),
  recipient: z.string(),
  raw_value: hex,
});
const nftMint = z.looseObject({ asset_identifier: z.string(), recipient: z.string(), raw_value: hex });
const nftBurn = z.looseObject({ asset_identifier: z.string(), sender: z.string(), raw_value: hex });
const contractEvent = z.looseObject({ contract_identifier: z.string(), topic: z.string(), raw_value: hex });

const eventBase = { txid: hash, event_index: z.number().int().nonnegative(), committed: z.boolean() };

/**
 * What every event must have for the block to be stored. The body under the key named like the
 * type is checked separately (see `EVENT_BODY_SCHEMAS`): an event type a later node adds, or a body
 * whose shape changed, is kept as an unknown item instead of failing the whole block.
 */
export const nodeEventEnvelopeSchema = z.looseObject({ ...eventBase, type: z.string().min(1) });

/** The body schema of each event type we understand, by the node's type name. */
export const EVENT_BODY_SCHEMAS = {
  stx_transfer_event: stxTransfer,
  stx_mint_event: stxMint,
  stx_burn_event: stxBurn,
  stx_lock_event: stxLock,
  ft_transfer_event: ftTransfer,
  ft_mint_event: ftMint,
  ft_burn_event: ftBurn,
  nft_transfer_event: nftTransfer,
  nft_mint_event: nftMint,
  nft_burn_event: nftBurn,
  contract_event: contractEvent,
} as const;

export type KnownEventType = keyof typeof EVENT_BODY_SCHEMAS;

export function isKnownEventType(type: string): type is KnownEventType {
  return Object.hasOwn(EVENT_BODY_SCHEMAS, type);
}

export const newBlockSchema = z.looseObject({
  block_hash: hash,
  block_height: height,
  index_block_hash: hash,
  parent_index_block_hash: hash,
  parent_block_hash: hash,
  parent_microblock: hash.nullish(),
  parent_microblock_sequence: z.number().int().nullish(),
  burn_block_hash: hash,
  burn_block_height: height,
  burn_block_time: z.number().int().nonnegative(),
  block_time: z.number().int().nonnegative().nullish(),
  tenure_height: z.number().int().nonnegative().nullish(),
  consensus_hash: hex.nullish(),
  miner_txid: hash.nullish(),
  signer_bitvec: z.string().nullish(),
  signer_signature: z.array(z.string()).nullish(),
  signer_signature_hash: hash.nullish(),
  miner_signature: hex.nullish(),
  cycle_number: z.number().int().nullish(),
  reward_set: z.unknown().optional(),
  matured_miner_rewards: z.array(z.unknown()).optional(),
  anchored_cost: executionCostSchema.nullish(),
  confirmed_microblocks_cost: executionCostSchema.nullish(),
  transactions: z.array(nodeTransactionSchema),
  events: z.array(nodeEventEnvelopeSchema),
});

export const newMicroblocksSchema = z.looseObject({
  parent_index_block_hash: hash,
  burn_block_hash: hash.nullish(),
  burn_block_height: height.nullish(),
  burn_block_timestamp: z.number().int().nullish(),
  transactions: z.array(nodeTransactionSchema),
  events: z.array(nodeEventEnvelopeSchema),
});

export const newBurnBlockSchema = z.looseObject({
  burn_block_hash: hash,
  burn_block_height: height,
  burn_amount: uintString.nullish(),
  consensus_hash: hex.nullish(),
  parent_burn_block_hash: hash.nullish(),
  reward_recipients: z.array(z.looseObject({ recipient: z.string(), amt: uintString })).default([]),
  reward_slot_holders: z.array(z.string()).default([]),
});

export const newMempoolTxSchema = z.array(hex);

export const dropMempoolTxSchema = z.looseObject({
  dropped_txids: z.array(hash),
  reason: z.string(),
  new_txid: hash.nullish(),
});

export type NewBlockPayload = z.infer<typeof newBlockSchema>;
export type NodeTransaction = z.infer<typeof nodeTransactionSchema>;
export type NodeEvent = z.infer<typeof nodeEventEnvelopeSchema>;
export type NewMicroblocksPayload = z.infer<typeof newMicroblocksSchema>;
export type NewBurnBlockPayload = z.infer<typeof newBurnBlockSchema>;
export type DropMempoolTxPayload = z.infer<typeof dropMempoolTxSchema>;

/** zod issues as `{path, message}` with a dotted field path such as `transactions.3.raw_tx`. */
export function describeIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.slice(0, 20).map((i) => ({ path: i.path.join(".") || "(body)", message: i.message }));
}
