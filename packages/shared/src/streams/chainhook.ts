import { z } from "zod";
import type { StacksNetwork } from "../config.ts";
import { clarityNameProblem } from "../stacks/principals.ts";
import {
  type FieldIssue,
  fieldIssues,
  type StreamFilter,
  type StreamFilterInput,
  type StreamOptions,
  streamFiltersSchema,
  streamOptionsSchema,
} from "./filters.ts";
import { globOfLiteral } from "./glob.ts";

// Hiro Chainhook 1.x Stacks predicates as streams (`docs/streams.md`, "Migrating from Chainhook").
// A part is translated only when the stream selects exactly what Chainhook's evaluator selects with
// it; a part that cannot be carried over is refused with its path in the predicate. Where only the
// shape or the transport of a delivery differs, it is carried over with a note. Chainhook's evaluator,
// not its prose docs, decides the meaning: `between` excludes both ends, failed transactions are
// evaluated too, and a predicate without `start_block` scans from block 0.

const STREAM_NETWORKS: readonly StacksNetwork[] = ["mainnet", "testnet", "devnet"];
const SCOPES = [
  "txid",
  "block_height",
  "contract_call",
  "contract_deployment",
  "print_event",
  "ft_event",
  "nft_event",
  "stx_event",
] as const;

export interface ChainhookImportOptions {
  /** The network to import (`?network=`); required when the predicate has several. */
  network?: StacksNetwork;
  /** The deployment's network: without `network`, a single-network predicate must be for it. */
  deploymentNetwork: StacksNetwork;
  /** The owner accepts deliveries without the predicate's Authorization header (they are signed instead). */
  dropAuthorizationHeader?: boolean;
  /** The owner accepts a stream that keeps delivering after `expire_after_occurrence` matches. */
  ignoreExpireAfterOccurrence?: boolean;
}

export interface TranslatedStream {
  name: string;
  webhookUrl: string;
  filters: StreamFilter[];
  options: StreamOptions;
  startBlock: number;
  endBlock: number | null;
  network: StacksNetwork;
}

/** Where in the predicate each stream field came from, to point the store's errors back at it. */
export type StreamFieldSources = Record<"name" | "webhookUrl" | "startBlock" | "endBlock", string>;

export type ChainhookTranslation =
  | {
      ok: true;
      stream: TranslatedStream;
      translatedFrom: { uuid: string; name: string };
      notes: string[];
      sources: StreamFieldSources;
    }
  | { ok: false; issues: FieldIssue[] };

const height = z.number().int().nonnegative();

const envelopeSchema = z.strictObject({
  chain: z.string(),
  uuid: z.string().min(1),
  name: z.string(),
  version: z.number().int().nonnegative(),
  owner_uuid: z.string().nullish(),
  networks: z
    .record(z.string(), z.unknown())
    .refine((n) => Object.keys(n).length > 0, "give the predicate for at least one network"),
});

const specSchema = z.strictObject({
  if_this: z.record(z.string(), z.unknown(), { error: "expected an object with a scope" }),
  then_that: z.unknown(),
  start_block: height.nullish(),
  end_block: height.nullish(),
  blocks: z.array(height).nullish(),
  expire_after_occurrence: height.nullish(),
  capture_all_events: z.boolean().nullish(),
  decode_clarity_values: z.boolean().nullish(),
  include_contract_abi: z.boolean().nullish(),
});
type Spec = z.output<typeof specSchema>;

const httpPostSchema = z.strictObject({ url: z.string(), authorization_header: z.string().optional() });

const tokenActions = z.array(z.enum(["mint", "transfer", "burn"])).min(1, "give at least one action");
const scopeSchemas = {
  txid: z.strictObject({ scope: z.literal("txid"), equals: z.string() }),
  block_height: z.strictObject({
    scope: z.literal("block_height"),
    equals: height.optional(),
    higher_than: height.optional(),
    lower_than: height.optional(),
    between: z.tuple([height, height]).optional(),
  }),
  contract_call: z.strictObject({
    scope: z.literal("contract_call"),
    contract_identifier: z.string(),
    method: z.string(),
  }),
  contract_deployment: z.strictObject({
    scope: z.literal("contract_deployment"),
    deployer: z.string().optional(),
    implement_trait: z.string().optional(),
  }),
  print_event: z.strictObject({
    scope: z.literal("print_event"),
    contract_identifier: z.string(),
    contains: z.string().optional(),
    matches_regex: z.string().optional(),
  }),
  ft_event: z.strictObject({ scope: z.literal("ft_event"), asset_identifier: z.string(), actions: tokenActions }),
  nft_event: z.strictObject({ scope: z.literal("nft_event"), asset_identifier: z.string(), actions: tokenActions }),
  stx_event: z.strictObject({
    scope: z.literal("stx_event"),
    actions: z.array(z.enum(["mint", "transfer", "lock", "burn"])).min(1, "give at least one action"),
  }),
} satisfies Record<(typeof SCOPES)[number], z.ZodType>;
type Scope = { [K in keyof typeof scopeSchemas]: z.output<(typeof scopeSchemas)[K]> }[keyof typeof scopeSchemas];

/** Heights, both ends included; `to: null` is open. */
interface Range {
  from: number;
  to: number | null;
}

const intersect = (a: Range, b: Range): Range => ({
  from: Math.max(a.from, b.from),
  to: a.to === null ? b.to : b.to === null ? a.to : Math.min(a.to, b.to),
});
const isEmpty = (r: Range) => r.to !== null && r.to < r.from;

/** A filter with the predicate path each of its fields came from. */
interface SourcedFilter {
  filter: StreamFilterInput;
  sources: Record<string, string>;
}

/** The collected outcome of translating one part: problems with paths, and notes for the owner. */
class Findings {
  readonly issues: FieldIssue[] = [];
  readonly notes: string[] = [];
  refuse(path: string, message: string): void {
    this.issues.push({ path, message });
  }
  note(message: string): void {
    this.notes.push(message);
  }
  /** Parses `value` with `schema`, refusing each problem under `path`; undefined when it fails. */
  parse<S extends z.ZodType>(schema: S, value: unknown, path: string): z.output<S> | undefined {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    this.issues.push(...fieldIssues(parsed.error, path));
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Translates a Chainhook Stacks predicate into the definition of an equivalent stream, or says with
 * paths into the predicate (`networks.mainnet.if_this.matches_regex`) what cannot be translated.
 */
export function translateChainhookPredicate(predicate: unknown, opts: ChainhookImportOptions): ChainhookTranslation {
  const f = new Findings();
  if (!isObject(predicate)) return refused("(root)", "expected a Chainhook predicate: a JSON object");
  if (!("networks" in predicate) && ("filters" in predicate || "action" in predicate)) {
    return refused(
      "(root)",
      "this looks like a Chainhooks 2.0 definition (filters/action); only Chainhook 1.x predicates " +
        "(chain, uuid, name, version, networks.<network>.if_this/then_that) can be imported",
    );
  }
  const envelope = f.parse(envelopeSchema, predicate, "");
  if (envelope && envelope.chain !== "stacks") {
    f.refuse(
      "chain",
      envelope.chain === "bitcoin"
        ? "Bitcoin predicates cannot be imported: Second Layer indexes the Stacks chain"
        : `expected "stacks", got ${JSON.stringify(envelope.chain)}`,
    );
  }
  if (!envelope || f.issues.length > 0) return { ok: false, issues: f.issues };

  const network = chooseNetwork(Object.keys(envelope.networks), opts, f);
  if (!network) return { ok: false, issues: f.issues };
  const at = `networks.${network}`;
  const spec = f.parse(specSchema, envelope.networks[network], at);
  if (!spec) return { ok: false, issues: f.issues };

  for (const other of Object.keys(envelope.networks).filter((n) => n !== network)) {
    f.note(`networks.${other} was not imported (a stream follows one network); import again with ?network=${other}`);
  }
  if (envelope.owner_uuid) f.note("owner_uuid is a Hiro Platform field and is not used");

  const webhookUrl = translateAction(spec.then_that, `${at}.then_that`, opts, f);
  const scope = translateScope(spec.if_this, `${at}.if_this`, f);
  const range = translateRange(spec, scope?.range, at, f);
  translateSettings(spec, at, opts, f);
  if (!scope || webhookUrl === null || !range || f.issues.length > 0) return { ok: false, issues: f.issues };

  const filters = validateFilters(scope.filters, network, `${at}.if_this`, f);
  if (!filters) return { ok: false, issues: f.issues };
  f.note(
    "Chainhook evaluates failed transactions too, so options.includeFailed is true: failed transactions " +
      "and their events are delivered with their status. PATCH options.includeFailed to false to receive " +
      "successful ones only",
  );
  f.note(
    "Deliveries are Second Layer webhooks, not Chainhook payloads: one POST per block with the matching " +
      "transactions and events, signed with Standard Webhooks (verify webhook-signature with the secret in " +
      "this answer), numbered by seq and sent in order; a reorg sends block.rollback deliveries of their own",
  );
  return {
    ok: true,
    stream: {
      name: envelope.name,
      webhookUrl,
      filters,
      options: streamOptionsSchema.parse({
        includeFailed: true,
        decodeClarityValues: spec.decode_clarity_values ?? false,
      }),
      startBlock: range.from,
      endBlock: range.to,
      network,
    },
    translatedFrom: { uuid: envelope.uuid, name: envelope.name },
    notes: f.notes,
    sources: {
      name: "name",
      webhookUrl: `${at}.then_that.http_post.url`,
      startBlock: `${at}.start_block`,
      endBlock: `${at}.end_block`,
    },
  };
}

function refused(path: string, message: string): ChainhookTranslation {
  return { ok: false, issues: [{ path, message }] };
}

/** The network to import: the requested one, else the only one, which must be the deployment's. */
function chooseNetwork(keys: string[], opts: ChainhookImportOptions, f: Findings): StacksNetwork | null {
  for (const key of keys) {
    if (key === "simnet") {
      f.refuse("networks.simnet", "simnet is Clarinet's in-memory chain; there is no node for Second Layer to index");
    } else if (!STREAM_NETWORKS.includes(key as StacksNetwork)) {
      f.refuse(
        `networks.${key}`,
        "unknown network; Chainhook's Stacks networks are mainnet, testnet, devnet and simnet",
      );
    }
  }
  const listed = keys.join(", ");
  if (opts.network) {
    if (!keys.includes(opts.network)) {
      f.refuse(
        `networks.${opts.network}`,
        `?network=${opts.network} asks for it, but the predicate has only ${listed}`,
      );
      return null;
    }
    return f.issues.length > 0 ? null : opts.network;
  }
  if (keys.length > 1) {
    f.refuse("networks", `the predicate is for several networks (${listed}); choose one with ?network=`);
    return null;
  }
  const only = keys[0] as string;
  if (f.issues.length > 0) return null;
  if (only !== opts.deploymentNetwork) {
    f.refuse(
      `networks.${only}`,
      `this deployment indexes ${opts.deploymentNetwork}; to create a ${only} stream, import with ?network=${only} ` +
        `(a worker must serve ${only}: NETWORKS)`,
    );
    return null;
  }
  return only as StacksNetwork;
}

/** then_that → the webhook URL (null when refused). */
function translateAction(thenThat: unknown, at: string, opts: ChainhookImportOptions, f: Findings): string | null {
  const needHttp = "a stream delivers to then_that.http_post {url, authorization_header}";
  if (thenThat === undefined) return fail(f, at, `required: ${needHttp}`);
  if (thenThat === "noop") return fail(f, at, `noop delivers nothing; ${needHttp}`);
  if (!isObject(thenThat)) return fail(f, at, `expected an object; ${needHttp}`);
  let url: string | null = null;
  for (const [key, value] of Object.entries(thenThat)) {
    if (key === "file_append") {
      f.refuse(
        `${at}.file_append`,
        "Second Layer delivers over HTTP only and cannot append to a file on its own disk; use http_post " +
          "with the URL of a receiver",
      );
    } else if (key === "http_post") {
      const post = f.parse(httpPostSchema, value, `${at}.http_post`);
      if (post) url = post.url;
      const header = post?.authorization_header?.trim();
      if (header && !opts.dropAuthorizationHeader) {
        f.refuse(
          `${at}.http_post.authorization_header`,
          "Second Layer sends no Authorization header: deliveries are signed with Standard Webhooks " +
            "(webhook-id, webhook-timestamp and webhook-signature, keyed with the stream's secret, returned on " +
            "import). Make the receiver verify the signature instead of the header, then import with " +
            "?dropAuthorizationHeader=true",
        );
      } else if (header) {
        f.note(
          "authorization_header was dropped (?dropAuthorizationHeader=true): deliveries carry no Authorization " +
            "header; verify their webhook-signature with the secret in this answer",
        );
      }
    } else {
      f.refuse(`${at}.${key}`, `unknown action; ${needHttp}`);
    }
  }
  if (Object.keys(thenThat).length === 0) f.refuse(at, `empty; ${needHttp}`);
  return url;
}

function fail(f: Findings, path: string, message: string): null {
  f.refuse(path, message);
  return null;
}

interface ScopeTranslation {
  filters: SourcedFilter[];
  /** Heights the scope itself selects (block_height). */
  range?: Range;
}

/** if_this → filters. */
function translateScope(ifThis: Record<string, unknown>, at: string, f: Findings): ScopeTranslation | null {
  const name = ifThis.scope;
  if (typeof name !== "string" || !(SCOPES as readonly string[]).includes(name)) {
    return fail(
      f,
      `${at}.scope`,
      `${name === undefined ? "required" : `unknown scope ${JSON.stringify(name)}`}; Stacks predicates have ${SCOPES.join(", ")}`,
    );
  }
  const scope = f.parse(scopeSchemas[name as keyof typeof scopeSchemas], ifThis, at) as Scope | undefined;
  if (!scope) return null;
  const p = (field: string) => `${at}.${field}`;
  switch (scope.scope) {
    case "txid":
      return { filters: [{ filter: { type: "tx", txId: scope.equals }, sources: { txId: p("equals") } }] };
    case "block_height":
      return blockHeightScope(scope, at, f);
    case "contract_call": {
      const problem = clarityNameProblem(scope.method);
      if (problem) return fail(f, p("method"), problem);
      return {
        filters: [
          {
            // The method is a name, not a pattern: Clarity names may hold `*` and `?`.
            filter: {
              type: "contract_call",
              contractId: scope.contract_identifier,
              functionName: globOfLiteral(scope.method),
            },
            sources: { contractId: p("contract_identifier"), functionName: p("method") },
          },
        ],
      };
    }
    case "contract_deployment":
      return deploymentScope(scope, at, f);
    case "print_event":
      return printScope(scope, at, f);
    case "ft_event":
    case "nft_event": {
      const kind = scope.scope === "ft_event" ? "ft" : "nft";
      noteWholeTransactions(f);
      return {
        filters: [...new Set(scope.actions)].map((action) => ({
          filter: { type: `${kind}_${action}`, assetIdentifier: scope.asset_identifier } as StreamFilterInput,
          sources: { assetIdentifier: p("asset_identifier") },
        })),
      };
    }
    case "stx_event":
      noteWholeTransactions(f);
      return {
        filters: [...new Set(scope.actions)].map((action) => ({
          filter: { type: `stx_${action}` } as StreamFilterInput,
          sources: {},
        })),
      };
  }
}

function noteWholeTransactions(f: Findings): void {
  f.note("Chainhook sends each matching transaction whole; the stream sends the matching events, each with its txid");
}

/** block_height: every transaction of the blocks in the range, as Chainhook sends them. */
function blockHeightScope(
  scope: z.output<typeof scopeSchemas.block_height>,
  at: string,
  f: Findings,
): ScopeTranslation | null {
  const given = (["equals", "higher_than", "lower_than", "between"] as const).filter((k) => scope[k] !== undefined);
  if (given.length !== 1) return fail(f, at, "give exactly one of equals, higher_than, lower_than, between");
  const key = given[0] as (typeof given)[number];
  let range: Range;
  if (scope.equals !== undefined) range = { from: scope.equals, to: scope.equals };
  else if (scope.higher_than !== undefined) range = { from: scope.higher_than + 1, to: null };
  else if (scope.lower_than !== undefined) range = { from: 0, to: scope.lower_than - 1 };
  else {
    const [low, high] = scope.between as [number, number];
    range = { from: low + 1, to: high - 1 };
    f.note(
      `block_height between [${low}, ${high}] excludes both ends, as Chainhook evaluates it: the stream covers ` +
        `blocks ${low + 1} to ${high - 1}`,
    );
  }
  if (isEmpty(range)) {
    return fail(f, `${at}.${key}`, "matches no block (Chainhook's lower_than and between exclude their bounds)");
  }
  // A `tx` filter, not a `block` filter: Chainhook sends each block in range with its transactions.
  return { filters: [{ filter: { type: "tx" }, sources: {} }], range };
}

function deploymentScope(
  scope: z.output<typeof scopeSchemas.contract_deployment>,
  at: string,
  f: Findings,
): ScopeTranslation | null {
  if (scope.implement_trait !== undefined) {
    return fail(
      f,
      `${at}.implement_trait`,
      "not translatable: Second Layer does not analyse which traits a deployed contract implements (and " +
        "Chainhook's evaluator never did either: it matches no deployment for implement_trait). Select " +
        "deployments by deployer, or with a contract_deploy filter on deployer and contractName",
    );
  }
  if (scope.deployer === undefined) return fail(f, at, "give deployer (an address, or * for every deployment)");
  if (scope.deployer === "*") return { filters: [{ filter: { type: "contract_deploy" }, sources: {} }] };
  return {
    filters: [
      { filter: { type: "contract_deploy", deployer: scope.deployer }, sources: { deployer: `${at}.deployer` } },
    ],
  };
}

const REGEX_SYNTAX = /[\\^$.|?*+()[\]{}]/;

function printScope(
  scope: z.output<typeof scopeSchemas.print_event>,
  at: string,
  f: Findings,
): ScopeTranslation | null {
  if ((scope.contains === undefined) === (scope.matches_regex === undefined)) {
    return fail(f, at, "give exactly one of contains and matches_regex");
  }
  let contains = scope.contains;
  let containsAt = `${at}.contains`;
  if (scope.matches_regex !== undefined) {
    containsAt = `${at}.matches_regex`;
    if (REGEX_SYNTAX.test(scope.matches_regex) || scope.matches_regex === "") {
      return fail(
        f,
        containsAt,
        "not translatable: Second Layer filters have no regular expressions. A print_event filter can " +
          "look for a plain text in the printed value (contains) or compare fields of it exactly (where, " +
          'e.g. {"action": "swap"}); create the stream with those, or import a predicate that uses contains',
      );
    }
    contains = scope.matches_regex;
    f.note(`matches_regex ${JSON.stringify(contains)} has no regex syntax, so it is the plain text search contains`);
  }
  const filter: Record<string, unknown> = { type: "print_event", topic: "print" };
  const sources: Record<string, string> = {};
  if (scope.contract_identifier !== "*") {
    filter.contractId = scope.contract_identifier;
    sources.contractId = `${at}.contract_identifier`;
  }
  if (contains !== undefined && contains !== "*") {
    const problem = containsProblem(contains);
    if (problem) return fail(f, containsAt, problem);
    filter.contains = contains;
    sources.contains = containsAt;
    f.note(
      `contains ${JSON.stringify(contains)} is looked for in the JSON text of the decoded value ` +
        '(e.g. {"action":"swap","amount":"100"}) where Chainhook looks in its Clarity form ' +
        '((tuple (action "swap") (amount u100))); plain words of the data are found in both',
    );
  }
  noteWholeTransactions(f);
  return { filters: [{ filter: filter as StreamFilterInput, sources }] };
}

/**
 * Why `text` would find other prints here than in Chainhook, or null. Chainhook searches the value's
 * Clarity form, the stream its JSON text: they agree on the data (strings, names, principals, digits)
 * but not on Clarity's own syntax.
 */
function containsProblem(text: string): string | null {
  if (!/[()"']|(^|[\s(])u\d|\b(tuple|some|none)\b/.test(text)) return null;
  return (
    `not translatable: ${JSON.stringify(text)} looks for Clarity's printed syntax (parentheses, quotes, ` +
    "u-prefixed integers, tuple/some/none), which Chainhook finds in the value's Clarity form; Second Layer " +
    'searches the JSON text of the decoded value (uints as "100", none as null), so it would select other ' +
    "prints. Look for a plain word of the data instead, or compare fields exactly with a print_event filter's where"
  );
}

/** start_block, end_block, blocks and the scope's own heights → the stream's startBlock..endBlock. */
function translateRange(spec: Spec, scopeRange: Range | undefined, at: string, f: Findings): Range | null {
  const start = spec.start_block ?? null;
  const end = spec.end_block ?? null;
  if (start !== null && end !== null && end < start) {
    return fail(f, `${at}.end_block`, `end_block (${end}) is below start_block (${start})`);
  }
  let range: Range = { from: start ?? 0, to: end };
  if (spec.blocks != null) {
    const heights = [...new Set(spec.blocks)].sort((a, b) => a - b);
    const low = heights[0];
    const high = heights.at(-1);
    if (low === undefined || high === undefined)
      return fail(f, `${at}.blocks`, "give at least one height, or leave blocks out");
    if (high - low + 1 !== heights.length) {
      return fail(
        f,
        `${at}.blocks`,
        "not translatable: these heights are not one contiguous range, and a stream follows one range " +
          "(startBlock to endBlock); import one predicate per range",
      );
    }
    range = intersect(range, { from: low, to: high });
  }
  if (scopeRange) range = intersect(range, scopeRange);
  if (isEmpty(range)) return fail(f, `${at}.if_this`, "block_height and start_block/end_block/blocks leave no block");
  if (start === null && spec.blocks == null && range.from === 0) {
    f.note(
      "no start_block: like Chainhook, which scans from block 0, the stream starts at block 0 and first " +
        "receives the stored blocks (isBackfill: true), then new ones",
    );
  }
  return range;
}

/** The settings beside if_this and then_that. */
function translateSettings(spec: Spec, at: string, opts: ChainhookImportOptions, f: Findings): void {
  if (spec.expire_after_occurrence != null) {
    if (opts.ignoreExpireAfterOccurrence) {
      f.note(
        `expire_after_occurrence (${spec.expire_after_occurrence}) was ignored ` +
          "(?ignoreExpireAfterOccurrence=true): the stream delivers every match until you pause or delete it",
      );
    } else {
      f.refuse(
        `${at}.expire_after_occurrence`,
        "Second Layer streams do not stop after a number of matches, so this stream would deliver more than " +
          "the predicate asks. Bound it with end_block, or import with ?ignoreExpireAfterOccurrence=true and " +
          "pause or delete the stream when you have what you need",
      );
    }
  }
  if (spec.capture_all_events) {
    f.refuse(`${at}.capture_all_events`, "Second Layer has no equivalent; leave it out or set it to false");
  }
  if (spec.include_contract_abi) {
    f.note(
      "include_contract_abi: deliveries do not carry contract ABIs; read one from the node's " +
        "GET /v2/contracts/interface/{address}/{name}",
    );
  }
}

/** Checks the translated filters with the stream schema; problems point at the predicate fields they came from. */
function validateFilters(
  sourced: SourcedFilter[],
  network: StacksNetwork,
  at: string,
  f: Findings,
): StreamFilter[] | null {
  const parsed = streamFiltersSchema(network).safeParse(sourced.map((s) => s.filter));
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const [index, field] = issue.path;
    const source = typeof index === "number" ? sourced[index]?.sources[String(field)] : undefined;
    f.refuse(source ?? at, issue.message);
  }
  return null;
}
