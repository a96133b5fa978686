import { z } from "@hono/zod-openapi";

// Request and response shapes of the chain data routes. The bodies are built by the shared payload
// builders (streams/payload.ts), so a transaction, an event or a block reads the same here as in a
// webhook. Amounts and other uint128/uint64 values are decimal strings.

const MAX_HEIGHT = 2 ** 31 - 1;
const HASH = /^(0x)?[0-9a-fA-F]{64}$/;

/** A 32-byte hash as stored: lower case with `0x`. */
export const normalizeHash = (h: string) => `0x${h.replace(/^0x/, "").toLowerCase()}`;

const amount = z.string().openapi({ description: "Decimal string (exact uint128)", example: "1000000" });
const hash = z.string().openapi({ example: "0x68152e9344e0f3e7cdb5da0fbd2e6fc0e34cbe8e1d3e1a4e6fcbe7c8b6d869c1" });
const plain = z.unknown().openapi({
  description:
    "The Clarity value as plain JSON: integers as decimal strings, buffers as 0x hex, none as null, (ok v) as {ok: v}, tuples as objects (docs/streams.md)",
});

export const NetworkQuery = z.object({
  network: z
    .enum(["mainnet", "testnet", "devnet"])
    .optional()
    .openapi({ description: "Defaults to the deployment's STACKS_NETWORK" }),
});

const pageLimit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt);
const int = (max: number, description: string) => z.coerce.number().int().min(0).max(max).openapi({ description });
const seq = (description: string) => int(Number.MAX_SAFE_INTEGER, description);

export const BlockRefParam = z.object({
  heightOrHash: z
    .string()
    .regex(/^(\d{1,10}|(0x)?[0-9a-fA-F]{64})$/, "expected a block height or a 32-byte hex hash")
    .refine((v) => !/^\d+$/.test(v) || Number(v) <= MAX_HEIGHT, `a height is at most ${MAX_HEIGHT}`)
    .openapi({
      param: { name: "heightOrHash", in: "path" },
      description: "A height (the canonical block there) or an index_block_hash or block_hash (any block)",
      example: "4",
    }),
});

export const TxidParam = z.object({
  txid: z
    .string()
    .regex(HASH, "expected a transaction id: 32 bytes of hex")
    .openapi({ param: { name: "txid", in: "path" }, example: `0x${"5ce46d2b".padEnd(64, "0")}` }),
});

export const BlocksQuery = NetworkQuery.extend({
  cursor: int(MAX_HEIGHT, "`next` of the previous page (a height)").optional(),
  limit: pageLimit(200, 50),
});

export const BlockTransactionsQuery = NetworkQuery.extend({
  cursor: int(MAX_HEIGHT, "`next` of the previous page (a tx index)").optional(),
  limit: pageLimit(500, 200),
});

export const ReorgsQuery = NetworkQuery.extend({
  cursor: seq("`next` of the previous page (a reorg id)").optional(),
  limit: pageLimit(200, 50),
});

export const MempoolQuery = NetworkQuery.extend({
  cursor: z
    .string()
    .regex(HASH, "expected the txid `next` named")
    .optional()
    .openapi({ description: "`next` of the previous page (a txid)" }),
  limit: pageLimit(500, 100),
});

export const MAX_CHAIN_EVENTS = 1000;

export const ChainEventsQuery = NetworkQuery.extend({
  after: seq("Entries after this seq (0: from the start)").default(0),
  limit: pageLimit(MAX_CHAIN_EVENTS, 100),
});

export const ChainStreamQuery = NetworkQuery.extend({
  after: seq("Start after this seq (0: the whole log); default: the current head (live from now)").optional(),
});

export const ClaritySchema = z
  .object({
    hex: z.string().openapi({ description: "The serialized Clarity value: the exact form" }),
    repr: z.string().optional().openapi({ description: "Clarity notation, e.g. (ok u1)" }),
    value: plain.optional(),
  })
  .openapi("ClarityValue");

export const TransactionSchema = z
  .object({
    txid: hash,
    txIndex: z.number().int(),
    type: z.string().openapi({ example: "contract_call" }),
    sender: z.string().optional(),
    sponsor: z.string().optional(),
    status: z.string().openapi({ example: "success" }),
    fee: amount.optional(),
    nonce: amount.optional(),
    contractId: z.string().optional(),
    functionName: z.string().optional(),
    args: z.array(ClaritySchema.extend({ type: z.string().optional() })).optional(),
    tokenTransfer: z.object({ recipient: z.string(), amount, memo: z.string().nullable() }).optional(),
    result: ClaritySchema.optional(),
    vmError: z.string().nullable(),
    rawTx: z.string().optional(),
  })
  .openapi("Transaction");

export const EventSchema = z
  .object({
    type: z.string().openapi({ description: "The node's event type", example: "stx_transfer_event" }),
    txid: hash,
    eventIndex: z.number().int(),
    committed: z.boolean(),
    txSuccess: z.boolean(),
    assetIdentifier: z.string().optional(),
    contractId: z.string().optional(),
    topic: z.string().optional(),
    sender: z.string().optional(),
    recipient: z.string().optional(),
    lockedAddress: z.string().optional(),
    amount: amount.optional(),
    unlockHeight: z.string().optional(),
    memo: z.string().optional(),
    rawValue: z.string().optional().openapi({ description: "Hex of the event's Clarity value" }),
    value: plain.optional(),
  })
  .openapi("Event");

const blockFields = {
  height: z.number().int(),
  hash,
  indexBlockHash: hash,
  parentIndexBlockHash: hash,
  burnBlockHeight: z.number().int(),
  timestamp: z.number().int().openapi({ description: "Unix seconds: the block's own time, or its burn block's" }),
};

export const BlockSchema = z
  .object({
    ...blockFields,
    canonical: z.boolean(),
    metadata: z
      .object({
        parentBlockHash: hash,
        burnBlockHash: hash,
        burnBlockTime: z.number().int(),
        tenureHeight: z.number().int().nullable(),
        consensusHash: z.string().nullable(),
        minerTxid: z.string().nullable(),
        cycleNumber: z.number().int().nullable(),
        signerBitvec: z.string().nullable(),
        signerSignatureHash: z.string().nullable(),
        executionCost: z.unknown(),
        txCount: z.number().int(),
        eventCount: z.number().int(),
      })
      .optional()
      .openapi({
        description: "Always sent by these routes (as `block.metadata` of webhooks with includeBlockMetadata)",
      }),
  })
  .openapi("Block");

export const BlockListSchema = z
  .object({ blocks: z.array(BlockSchema), next: z.string().nullable() })
  .openapi("BlockList");

const BlockRefSchema = z
  .object({ indexBlockHash: hash, hash, height: z.number().int(), canonical: z.boolean() })
  .openapi("BlockRef");

export const BlockTransactionsSchema = z
  .object({ block: BlockRefSchema, transactions: z.array(TransactionSchema), next: z.string().nullable() })
  .openapi("BlockTransactions");

export const TxDetailSchema = z
  .object({
    transaction: TransactionSchema,
    block: BlockRefSchema.openapi({ description: "The block whose copy is shown: the canonical one if any" }),
    events: z.array(EventSchema),
    blocks: z
      .array(BlockRefSchema.extend({ txIndex: z.number().int() }))
      .openapi({ description: "Every block holding the transaction; competing forks can hold it twice" }),
  })
  .openapi("TransactionDetail");

export const ReorgSchema = z
  .object({
    id: z.string(),
    detectedAt: z.string(),
    depth: z.number().int(),
    oldTipHash: z.string().nullable(),
    oldTipHeight: z.number().int().nullable(),
    newTipHash: hash,
    newTipHeight: z.number().int(),
    forkPointHash: z.string().nullable(),
    forkPointHeight: z.number().int().nullable(),
    orphanedBlocks: z.array(z.string()).openapi({ description: "index_block_hashes, highest first" }),
    restoredBlocks: z.array(z.string()).openapi({ description: "index_block_hashes, lowest first" }),
  })
  .openapi("Reorg");

export const ReorgListSchema = z
  .object({ reorgs: z.array(ReorgSchema), next: z.string().nullable() })
  .openapi("ReorgList");

export const MempoolTxSchema = z
  .object({
    txid: hash,
    type: z.string().nullable(),
    sender: z.string().nullable(),
    nonce: amount.nullable(),
    fee: amount.nullable(),
    receivedAt: z.string(),
    rawTx: z.string(),
  })
  .openapi("MempoolTransaction");

export const MempoolListSchema = z
  .object({ transactions: z.array(MempoolTxSchema), next: z.string().nullable() })
  .openapi("MempoolList");

export const ChainEventSchema = z
  .object({
    seq: z.number().int().openapi({ description: "Gap-free per network; also the SSE event id" }),
    kind: z.enum(["apply", "rollback"]),
    reorgId: z.string().nullable().openapi({ description: "The reorg this change is part of" }),
    createdAt: z.string(),
    block: z
      .object({ ...blockFields, txCount: z.number().int(), eventCount: z.number().int() })
      .openapi("BlockSummary"),
  })
  .openapi("ChainEvent");

export const ChainEventListSchema = z
  .object({
    events: z.array(ChainEventSchema),
    next: z.number().int().openapi({ description: "The `after` to ask with next (the last seq, or `after`)" }),
    head: z.number().int().openapi({ description: "The newest seq of the log when answered" }),
  })
  .openapi("ChainEventList");
