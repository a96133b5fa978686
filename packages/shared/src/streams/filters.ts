import { z } from "zod";
import type { StacksNetwork } from "../config.ts";
import {
  assetIdentifierProblem,
  contractIdProblem,
  principalProblem,
  standardAddressProblem,
} from "../stacks/principals.ts";
import { tokenIdHex } from "./token-id.ts";

// Stream filters as users write them (`docs/streams.md` lists every type and field). Within one filter
// every given field must hold; a stream matches when any of its filters does. Parsed filters are
// stored as they come out of these schemas: plain JSON, amounts as decimal strings.

export const MAX_FILTERS_PER_STREAM = 100;
const MAX_WHERE_FIELDS = 20;
const MAX_TEXT = 1000;
const UINT128_MAX = (1n << 128n) - 1n;

/** A uint128 amount: a decimal string, or a JSON integer small enough to be exact. Out: decimal string. */
const amount = z
  .union([z.string(), z.number()], { error: 'expected an amount as a decimal string, e.g. "1000000"' })
  .transform((value, ctx) => {
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value) || value < 0) {
        ctx.addIssue({
          code: "custom",
          message: "expected a non-negative integer; write amounts above 2^53 as decimal strings",
        });
        return z.NEVER;
      }
      return String(value);
    }
    if (!/^\d{1,78}$/.test(value) || BigInt(value) > UINT128_MAX) {
      ctx.addIssue({ code: "custom", message: `expected a decimal uint128 amount, got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return BigInt(value).toString();
  });

/** A string checked by `problem`, whose message becomes the issue's. */
function checked(problem: (value: string) => string | null) {
  return z.string().check((ctx) => {
    const message = problem(ctx.value);
    if (message) ctx.issues.push({ code: "custom", message, input: ctx.value });
  });
}

/** `*` matches any run of characters, `?` one character, `\*` and `\?` themselves. */
const glob = z.string().min(1).max(128).regex(/^\S+$/, "a name pattern has no spaces");

const clarityJson: z.ZodType<unknown> = z.json().transform((value, ctx) => plainWhereValue(value, ctx));

/**
 * `where` values are compared with decoded Clarity values, which hold no JSON numbers (integers decode
 * to decimal strings): integers given as numbers are turned into those strings, fractions refused.
 */
function plainWhereValue(value: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof value === "number") {
    if (Number.isSafeInteger(value)) return String(value);
    ctx.addIssue({ code: "custom", message: `Clarity has no value equal to ${value}; write integers as strings` });
    return z.NEVER;
  }
  if (Array.isArray(value)) return value.map((v) => plainWhereValue(v, ctx));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainWhereValue(v, ctx)]));
  }
  return value;
}

const wherePath = z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, 'expected a dotted path like "data.amount"');

export const TX_TYPES = [
  "token_transfer",
  "smart_contract",
  "versioned_smart_contract",
  "contract_call",
  "poison_microblock",
  "coinbase",
  "coinbase_to_alt_recipient",
  "nakamoto_coinbase",
  "tenure_change",
  "burnchain_op",
] as const;

export const TX_STATUSES = ["success", "abort_by_response", "abort_by_post_condition"] as const;

function buildFilterSchema(network: StacksNetwork) {
  const principal = checked((v) => principalProblem(v, network));
  const standardAddress = checked((v) => standardAddressProblem(v, network));
  const contractId = checked((v) => contractIdProblem(v, network));
  const assetIdentifier = checked((v) => assetIdentifierProblem(v, network));
  const tokenId = z
    .union([z.string(), z.number()], {
      error: "expected a token id: u123, 123, a principal or 0x-hex of a Clarity value",
    })
    .check((ctx) => {
      try {
        tokenIdHex(ctx.value, network);
      } catch (err) {
        ctx.issues.push({ code: "custom", message: (err as Error).message, input: ctx.value });
      }
    });

  const nft = { assetIdentifier: assetIdentifier.optional(), tokenId: tokenId.optional() };
  const ft = { assetIdentifier: assetIdentifier.optional(), minAmount: amount.optional() };

  return z.discriminatedUnion(
    "type",
    [
      z
        .strictObject({
          type: z.literal("stx_transfer"),
          sender: principal.optional(),
          recipient: principal.optional(),
          minAmount: amount.optional(),
          maxAmount: amount.optional(),
        })
        .check((ctx) => {
          const { minAmount, maxAmount } = ctx.value;
          if (minAmount !== undefined && maxAmount !== undefined && BigInt(minAmount) > BigInt(maxAmount)) {
            ctx.issues.push({
              code: "custom",
              path: ["maxAmount"],
              message: `maxAmount ${maxAmount} is below minAmount ${minAmount}: nothing could match`,
              input: ctx.value,
            });
          }
        }),
      z.strictObject({ type: z.literal("stx_mint"), recipient: principal.optional(), minAmount: amount.optional() }),
      z.strictObject({ type: z.literal("stx_burn"), sender: principal.optional(), minAmount: amount.optional() }),
      z.strictObject({
        type: z.literal("stx_lock"),
        lockedAddress: principal.optional(),
        minAmount: amount.optional(),
      }),
      z.strictObject({
        type: z.literal("ft_transfer"),
        ...ft,
        sender: principal.optional(),
        recipient: principal.optional(),
      }),
      z.strictObject({ type: z.literal("ft_mint"), ...ft, recipient: principal.optional() }),
      z.strictObject({ type: z.literal("ft_burn"), ...ft, sender: principal.optional() }),
      z.strictObject({
        type: z.literal("nft_transfer"),
        ...nft,
        sender: principal.optional(),
        recipient: principal.optional(),
      }),
      z.strictObject({ type: z.literal("nft_mint"), ...nft, recipient: principal.optional() }),
      z.strictObject({ type: z.literal("nft_burn"), ...nft, sender: principal.optional() }),
      z.strictObject({
        type: z.literal("contract_call"),
        contractId: contractId.optional(),
        functionName: glob.optional(),
        caller: standardAddress.optional(),
      }),
      z.strictObject({
        type: z.literal("contract_deploy"),
        deployer: standardAddress.optional(),
        contractName: glob.optional(),
      }),
      z.strictObject({
        type: z.literal("print_event"),
        contractId: contractId.optional(),
        topic: z.string().min(1).max(MAX_TEXT).optional(),
        contains: z.string().min(1).max(MAX_TEXT).optional(),
        where: z
          .record(wherePath, clarityJson)
          .refine((w) => Object.keys(w).length > 0, "give at least one field path, or leave `where` out")
          .refine((w) => Object.keys(w).length <= MAX_WHERE_FIELDS, `at most ${MAX_WHERE_FIELDS} field paths`)
          .optional(),
      }),
      z.strictObject({
        type: z.literal("tx"),
        txId: z
          .string()
          .regex(/^0x[0-9a-fA-F]{64}$/, "expected a 0x-prefixed 32-byte transaction id")
          .transform((v) => v.toLowerCase())
          .optional(),
        txType: z.enum(TX_TYPES).optional(),
        sender: standardAddress.optional(),
        status: z.enum(TX_STATUSES).optional(),
      }),
      z.strictObject({ type: z.literal("block") }),
    ],
    {
      error: (issue) =>
        issue.code === "invalid_union" ? `unknown filter type; expected one of ${FILTER_TYPES.join(", ")}` : undefined,
    },
  );
}

export const FILTER_TYPES = [
  "stx_transfer",
  "stx_mint",
  "stx_burn",
  "stx_lock",
  "ft_transfer",
  "ft_mint",
  "ft_burn",
  "nft_transfer",
  "nft_mint",
  "nft_burn",
  "contract_call",
  "contract_deploy",
  "print_event",
  "tx",
  "block",
] as const;

const filterSchemas = new Map<StacksNetwork, ReturnType<typeof buildFilterSchema>>();

/** The schema of one filter, its principals checked against `network`. */
export function streamFilterSchema(network: StacksNetwork) {
  let schema = filterSchemas.get(network);
  if (!schema) {
    schema = buildFilterSchema(network);
    filterSchemas.set(network, schema);
  }
  return schema;
}

/** The `filters` of a stream: at least one, at most MAX_FILTERS_PER_STREAM. */
export function streamFiltersSchema(network: StacksNetwork) {
  return z.array(streamFilterSchema(network)).min(1).max(MAX_FILTERS_PER_STREAM);
}

/** A filter as stored and matched (amounts as decimal strings). */
export type StreamFilter = z.output<ReturnType<typeof buildFilterSchema>>;
/** A filter as a user may write it (amounts also as JSON integers). */
export type StreamFilterInput = z.input<ReturnType<typeof buildFilterSchema>>;
export type FilterType = StreamFilter["type"];

export const streamOptionsSchema = z.strictObject({
  /** Also match events of failed transactions, uncommitted events and failed transactions. */
  includeFailed: z.boolean().default(false),
  /** Add decoded plain JSON beside every Clarity hex value in payloads. */
  decodeClarityValues: z.boolean().default(true),
  includeRawTx: z.boolean().default(false),
  includeBlockMetadata: z.boolean().default(false),
});

export type StreamOptions = z.output<typeof streamOptionsSchema>;
export type StreamOptionsInput = z.input<typeof streamOptionsSchema>;

/** One problem with a field path from the top of the checked value, e.g. `filters.2.minAmount`. */
export interface FieldIssue {
  path: string;
  message: string;
}

export class StreamValidationError extends Error {
  readonly code = "INVALID_STREAM";
  constructor(readonly details: FieldIssue[]) {
    super(details.map((d) => `${d.path}: ${d.message}`).join("; "));
  }
}

/** Zod issues as field issues under `prefix` (the field the checked value sits in). */
export function fieldIssues(error: z.ZodError, prefix?: string): FieldIssue[] {
  const pathOf = (path: PropertyKey[]) => [...(prefix ? [prefix] : []), ...path.map(String)].join(".") || "(root)";
  return error.issues.flatMap((issue) =>
    // Each unknown key gets its own path, so a client can point at the field itself.
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: pathOf([...issue.path, key]), message: "unknown field" }))
      : [{ path: pathOf(issue.path), message: issue.message }],
  );
}

/** Parses a stream's `filters`; throws StreamValidationError with `filters.N.field` paths. */
export function parseStreamFilters(network: StacksNetwork, filters: unknown): StreamFilter[] {
  const parsed = streamFiltersSchema(network).safeParse(filters);
  if (!parsed.success) throw new StreamValidationError(fieldIssues(parsed.error, "filters"));
  return parsed.data;
}

/** Parses a stream's `options` (absent means all defaults); throws with `options.field` paths. */
export function parseStreamOptions(options: unknown): StreamOptions {
  const parsed = streamOptionsSchema.safeParse(options ?? {});
  if (!parsed.success) throw new StreamValidationError(fieldIssues(parsed.error, "options"));
  return parsed.data;
}
