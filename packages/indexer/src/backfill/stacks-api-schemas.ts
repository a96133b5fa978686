import { z } from "zod";

// The parts of Hiro's stacks-blockchain-api responses the backfiller reads. Objects are loose: the API
// adds fields between releases, and what we do not read we do not check.

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, "expected 0x-prefixed hex");
const int = z.number().int();
const uint = int.nonnegative();

/** `GET /extended/v2/blocks/{height}` */
export const apiBlockSchema = z.looseObject({
  height: uint,
  hash: hex,
  index_block_hash: hex,
  parent_index_block_hash: hex,
  parent_block_hash: hex,
  burn_block_hash: hex,
  burn_block_height: uint,
  burn_block_time: uint,
  block_time: uint,
  /** Absent in API versions before Nakamoto; -1 for a Nakamoto block whose node did not send it. */
  tenure_height: int.optional(),
  miner_txid: z.string(),
  tx_count: uint,
  execution_cost_read_count: uint,
  execution_cost_read_length: uint,
  execution_cost_runtime: uint,
  execution_cost_write_count: uint,
  execution_cost_write_length: uint,
});

/** One entry of `GET /extended/v2/blocks/{height}/transactions`. */
export const apiTransactionSchema = z.looseObject({
  tx_id: hex,
  tx_index: uint,
  tx_status: z.string().min(1),
  block_hash: hex,
  tx_result: z.looseObject({ hex }),
  /** Added to the API in 2024; older versions leave it out. */
  vm_error: z.string().nullish(),
  event_count: uint,
  /** "" (or "0x") and 2147483647 for a transaction mined in the anchored block itself. */
  microblock_hash: z.string().nullish(),
  microblock_sequence: int.nullish(),
  execution_cost_read_count: uint,
  execution_cost_read_length: uint,
  execution_cost_runtime: uint,
  execution_cost_write_count: uint,
  execution_cost_write_length: uint,
  smart_contract: z.looseObject({ contract_id: z.string() }).optional(),
});

export const apiTransactionPageSchema = z.looseObject({
  total: uint,
  results: z.array(apiTransactionSchema),
});

/** `GET /extended/v1/tx/{txid}/raw` */
export const apiRawTransactionSchema = z.looseObject({ raw_tx: hex });

const assetEventType = z.enum(["transfer", "mint", "burn"]);
const eventBase = { event_index: uint, tx_id: hex };

/** Events as `GET /extended/v1/tx/events` lists them; `event_index` counts within the transaction. */
export const apiEventSchema = z.discriminatedUnion("event_type", [
  z.looseObject({
    ...eventBase,
    event_type: z.literal("smart_contract_log"),
    contract_log: z.looseObject({ contract_id: z.string(), topic: z.string(), value: z.looseObject({ hex }) }),
  }),
  z.looseObject({
    ...eventBase,
    event_type: z.literal("stx_lock"),
    stx_lock_event: z.looseObject({
      locked_amount: z.string(),
      unlock_height: z.union([uint, z.string()]),
      locked_address: z.string(),
    }),
  }),
  z.looseObject({
    ...eventBase,
    event_type: z.literal("stx_asset"),
    asset: z.looseObject({
      asset_event_type: assetEventType,
      sender: z.string().optional(),
      recipient: z.string().optional(),
      amount: z.string(),
      memo: z.string().optional(),
    }),
  }),
  z.looseObject({
    ...eventBase,
    event_type: z.literal("fungible_token_asset"),
    asset: z.looseObject({
      asset_event_type: assetEventType,
      asset_id: z.string(),
      sender: z.string().optional(),
      recipient: z.string().optional(),
      amount: z.string(),
    }),
  }),
  z.looseObject({
    ...eventBase,
    event_type: z.literal("non_fungible_token_asset"),
    asset: z.looseObject({
      asset_event_type: assetEventType,
      asset_id: z.string(),
      sender: z.string().optional(),
      recipient: z.string().optional(),
      value: z.looseObject({ hex }),
    }),
  }),
]);

export const apiEventPageSchema = z.looseObject({ events: z.array(apiEventSchema) });

/** `GET /extended/v1/contract/{contract_id}`: `abi` is the node's `contract_abi`, as a JSON string. */
export const apiContractSchema = z.looseObject({ abi: z.string().nullish() });

/** `GET /extended/v1/microblock/{hash}` */
export const apiMicroblockSchema = z.looseObject({ microblock_parent_hash: hex });

export type ApiBlock = z.infer<typeof apiBlockSchema>;
export type ApiTransaction = z.infer<typeof apiTransactionSchema>;
export type ApiEvent = z.infer<typeof apiEventSchema>;
