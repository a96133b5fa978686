import { describe, expect, test } from "bun:test";
import { hexToCV } from "@stacks/transactions";
import { FIXTURE_NETWORKS, type FixtureBlock, fixtureBlocks } from "../../../../test/support/chain-rows.ts";
import { decodeClarityPlain } from "../../src/stacks/clarity-plain.ts";
import type { ChainEvent, ChainTransaction } from "../../src/streams/chain-rows.ts";
import { parseStreamFilters, parseStreamOptions, type StreamFilterInput } from "../../src/streams/filters.ts";
import { FilterIndex } from "../../src/streams/match.ts";
import { matchStream } from "../../src/streams/predicate.ts";

// Every filter type, field by field, against the events and transactions of the recorded node logs.
// Each case says in plain code which rows it expects (derived from the data, never counted by hand);
// the case passes when the single-stream matcher and the index both return exactly those rows.

const POISON = "poisonmicroblock.tsv";
const REORG = "mainnet-reorg-scenario2.tsv";
const MOCKNET = "mocknet.tsv";
const POX = "regtest-env-pox-4-stack-stx-in-reward-phase-S1.tsv";
const FUZZED = "fuzzed-transactions-1.tsv";
const GENESIS = "mainnet-block0.tsv";

const blocksByFixture = new Map<string, FixtureBlock[]>(
  Object.keys(FIXTURE_NETWORKS).map((name) => [name, fixtureBlocks(name)]),
);
const blocks = (name: string) => blocksByFixture.get(name)!;
const events = (name: string, type?: string) =>
  blocks(name)
    .flatMap((b) => b.events)
    .filter((e) => !type || e.type === type);
const txs = (name: string) => blocks(name).flatMap((b) => b.transactions);

function mostCommon(values: (string | null)[]): string {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  const best = [...counts].sort((a, b) => b[1] - a[1])[0];
  if (!best) throw new Error("no values to choose from");
  return best[0];
}

function median(values: (string | null)[]): string {
  const sorted = values
    .filter((v): v is string => v !== null)
    .map(BigInt)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return String(sorted[Math.floor(sorted.length / 2)]);
}

function max(values: (string | null)[]): bigint {
  return values.filter((v): v is string => v !== null).reduce((m, v) => (BigInt(v) > m ? BigInt(v) : m), 0n);
}

/** A principal that occurs in the fixture's events but never in `column` of events of `type`. */
function principalNotIn(name: string, type: string, column: keyof ChainEvent): string {
  const used = new Set(events(name, type).map((e) => e[column]));
  const other = events(name)
    .flatMap((e) => [e.sender, e.recipient])
    .find((p): p is string => p !== null && !used.has(p));
  if (!other) throw new Error(`every principal of ${name} is a ${type} ${String(column)}`);
  return other;
}

const visible = (e: ChainEvent) => e.committed && e.tx_success;
const amountAtLeast = (e: ChainEvent, min: string) => BigInt(e.amount!) >= BigInt(min);

interface Case {
  name: string;
  fixture: string;
  filter: StreamFilterInput;
  options?: Record<string, unknown>;
  event?: (e: ChainEvent) => boolean;
  tx?: (t: ChainTransaction) => boolean;
  /** A positive case must find something; a negative one nothing. */
  expect: "some" | "none";
}

function run(c: Case) {
  const network = FIXTURE_NETWORKS[c.fixture]!;
  const filters = parseStreamFilters(network, [c.filter]);
  const options = parseStreamOptions(c.options);
  const index = new FilterIndex(network);
  index.set("stream", filters, options);
  let found = 0;
  for (const block of blocks(c.fixture)) {
    const expectedEvents = c.event ? block.events.filter((e) => visible(e) && c.event!(e)) : [];
    const expectedTxs = c.tx ? block.transactions.filter((t) => t.status === "success" && c.tx!(t)) : [];
    const single = matchStream(filters, options, block, network);
    const indexed = index.match(block).get("stream") ?? null;
    for (const got of [single, indexed]) {
      expect(got?.events ?? []).toEqual(expectedEvents);
      expect(got?.transactions ?? []).toEqual(expectedTxs);
    }
    found += expectedEvents.length + expectedTxs.length;
  }
  if (c.expect === "some") expect(found).toBeGreaterThan(0);
  else expect(found).toBe(0);
}

function cases(title: string, list: Case[]) {
  describe(title, () => {
    for (const c of list) test(`${c.name} (${c.fixture})`, () => run(c));
  });
}

const is = (type: string) => (e: ChainEvent) => e.type === type;

// stx_transfer ------------------------------------------------------------------------------------
{
  const all = events(POISON, "stx_transfer_event");
  const sender = mostCommon(all.map((e) => e.sender));
  const recipient = mostCommon(all.map((e) => e.recipient));
  const mid = median(all.map((e) => e.amount));
  const toRecipient = all.filter((e) => e.recipient === recipient);
  const midToRecipient = median(toRecipient.map((e) => e.amount));
  const exact = all[0]!.amount!;
  const t = is("stx_transfer_event");
  cases("stx_transfer", [
    { name: "no fields: every transfer", fixture: POISON, filter: { type: "stx_transfer" }, event: t, expect: "some" },
    {
      name: "sender",
      fixture: POISON,
      filter: { type: "stx_transfer", sender },
      event: (e) => t(e) && e.sender === sender,
      expect: "some",
    },
    {
      name: "recipient",
      fixture: POISON,
      filter: { type: "stx_transfer", recipient },
      event: (e) => t(e) && e.recipient === recipient,
      expect: "some",
    },
    {
      name: "minAmount (median)",
      fixture: POISON,
      filter: { type: "stx_transfer", minAmount: mid },
      event: (e) => t(e) && amountAtLeast(e, mid),
      expect: "some",
    },
    {
      name: "maxAmount (median)",
      fixture: POISON,
      filter: { type: "stx_transfer", maxAmount: mid },
      event: (e) => t(e) && BigInt(e.amount!) <= BigInt(mid),
      expect: "some",
    },
    {
      name: "minAmount = maxAmount: exactly that amount",
      fixture: POISON,
      filter: { type: "stx_transfer", minAmount: exact, maxAmount: exact },
      event: (e) => t(e) && e.amount === exact,
      expect: "some",
    },
    {
      name: "recipient and minAmount together",
      fixture: POISON,
      filter: { type: "stx_transfer", recipient, minAmount: midToRecipient },
      event: (e) => t(e) && e.recipient === recipient && amountAtLeast(e, midToRecipient),
      expect: "some",
    },
    {
      name: "minAmount as a JSON integer",
      fixture: REORG,
      filter: {
        type: "stx_transfer",
        minAmount: Number(median(events(REORG, "stx_transfer_event").map((e) => e.amount))),
      },
      event: (e) => t(e) && amountAtLeast(e, median(events(REORG, "stx_transfer_event").map((e) => e.amount))),
      expect: "some",
    },
    {
      name: "devnet recipient",
      fixture: FUZZED,
      filter: {
        type: "stx_transfer",
        recipient: mostCommon(events(FUZZED, "stx_transfer_event").map((e) => e.recipient)),
      },
      event: (e) => t(e) && e.recipient === mostCommon(events(FUZZED, "stx_transfer_event").map((e) => e.recipient)),
      expect: "some",
    },
    {
      name: "a principal that never sends STX",
      fixture: POISON,
      filter: { type: "stx_transfer", sender: principalNotIn(POISON, "stx_transfer_event", "sender") },
      event: () => false,
      expect: "none",
    },
    {
      name: "minAmount above the largest transfer",
      fixture: POISON,
      filter: { type: "stx_transfer", minAmount: String(max(all.map((e) => e.amount)) + 1n) },
      event: () => false,
      expect: "none",
    },
    {
      name: "the sender as recipient (fields are not interchangeable)",
      fixture: POISON,
      filter: { type: "stx_transfer", recipient: sender },
      event: (e) => t(e) && e.recipient === sender,
      expect: all.some((e) => e.recipient === sender) ? "some" : "none",
    },
  ]);
}

// stx_mint, stx_burn, stx_lock ------------------------------------------------------------------------
{
  const mints = events(MOCKNET, "stx_mint_event");
  const recipient = mints[mints.length - 1]!.recipient!;
  const mid = median(mints.map((e) => e.amount));
  const t = is("stx_mint_event");
  cases("stx_mint", [
    { name: "no fields", fixture: MOCKNET, filter: { type: "stx_mint" }, event: t, expect: "some" },
    {
      name: "recipient",
      fixture: MOCKNET,
      filter: { type: "stx_mint", recipient },
      event: (e) => t(e) && e.recipient === recipient,
      expect: "some",
    },
    {
      name: "minAmount",
      fixture: POX,
      filter: { type: "stx_mint", minAmount: median(events(POX, "stx_mint_event").map((e) => e.amount)) },
      event: (e) => t(e) && amountAtLeast(e, median(events(POX, "stx_mint_event").map((e) => e.amount))),
      expect: "some",
    },
    {
      name: "recipient and minAmount (median)",
      fixture: MOCKNET,
      filter: { type: "stx_mint", recipient, minAmount: mid },
      event: (e) => t(e) && e.recipient === recipient && amountAtLeast(e, mid),
      expect: mints.some((e) => e.recipient === recipient && amountAtLeast(e, mid)) ? "some" : "none",
    },
    {
      name: "mainnet genesis mint",
      fixture: GENESIS,
      filter: { type: "stx_mint", recipient: events(GENESIS, "stx_mint_event")[0]!.recipient! },
      event: (e) => t(e) && e.recipient === events(GENESIS, "stx_mint_event")[0]!.recipient,
      expect: "some",
    },
    {
      name: "minAmount above every mint",
      fixture: MOCKNET,
      filter: { type: "stx_mint", minAmount: String(max(mints.map((e) => e.amount)) + 1n) },
      event: () => false,
      expect: "none",
    },
  ]);

  const burns = events(POISON, "stx_burn_event");
  const burner = mostCommon(burns.map((e) => e.sender));
  const b = is("stx_burn_event");
  cases("stx_burn", [
    { name: "no fields", fixture: POISON, filter: { type: "stx_burn" }, event: b, expect: "some" },
    {
      name: "sender",
      fixture: POISON,
      filter: { type: "stx_burn", sender: burner },
      event: (e) => b(e) && e.sender === burner,
      expect: "some",
    },
    {
      name: "minAmount (median)",
      fixture: POISON,
      filter: { type: "stx_burn", minAmount: median(burns.map((e) => e.amount)) },
      event: (e) => b(e) && amountAtLeast(e, median(burns.map((e) => e.amount))),
      expect: "some",
    },
    {
      name: "a principal that never burns",
      fixture: POISON,
      filter: { type: "stx_burn", sender: principalNotIn(POISON, "stx_burn_event", "sender") },
      event: () => false,
      expect: "none",
    },
  ]);

  const [lock] = events(POX, "stx_lock_event");
  const l = is("stx_lock_event");
  cases("stx_lock", [
    { name: "no fields", fixture: POX, filter: { type: "stx_lock" }, event: l, expect: "some" },
    {
      name: "lockedAddress",
      fixture: POX,
      filter: { type: "stx_lock", lockedAddress: lock!.locked_address! },
      event: (e) => l(e) && e.locked_address === lock!.locked_address,
      expect: "some",
    },
    {
      name: "minAmount = the locked amount",
      fixture: POX,
      filter: { type: "stx_lock", minAmount: lock!.amount! },
      event: l,
      expect: "some",
    },
    {
      name: "minAmount one above the locked amount",
      fixture: POX,
      filter: { type: "stx_lock", minAmount: String(BigInt(lock!.amount!) + 1n) },
      event: () => false,
      expect: "none",
    },
    {
      name: "another address",
      fixture: POX,
      filter: { type: "stx_lock", lockedAddress: principalNotIn(POX, "stx_lock_event", "locked_address") },
      event: () => false,
      expect: "none",
    },
  ]);
}

// ft_* ------------------------------------------------------------------------------------------------
for (const [type, nodeType] of [
  ["ft_transfer", "ft_transfer_event"],
  ["ft_mint", "ft_mint_event"],
  ["ft_burn", "ft_burn_event"],
] as const) {
  const all = events(POISON, nodeType);
  const asset = mostCommon(all.map((e) => e.asset_identifier));
  const ofAsset = all.filter((e) => e.asset_identifier === asset);
  const mid = median(ofAsset.map((e) => e.amount));
  const t = is(nodeType);
  const list: Case[] = [
    { name: "no fields", fixture: POISON, filter: { type }, event: t, expect: "some" },
    {
      name: "assetIdentifier",
      fixture: POISON,
      filter: { type, assetIdentifier: asset },
      event: (e) => t(e) && e.asset_identifier === asset,
      expect: "some",
    },
    {
      name: "assetIdentifier and minAmount (median of that asset)",
      fixture: POISON,
      filter: { type, assetIdentifier: asset, minAmount: mid },
      event: (e) => t(e) && e.asset_identifier === asset && amountAtLeast(e, mid),
      expect: "some",
    },
    {
      name: "an asset that only NFTs use",
      fixture: POISON,
      filter: { type, assetIdentifier: events(POISON, "nft_mint_event")[0]!.asset_identifier! },
      event: () => false,
      expect: "none",
    },
  ];
  if (type !== "ft_mint") {
    const sender = mostCommon(all.map((e) => e.sender));
    list.push({
      name: "sender",
      fixture: POISON,
      filter: { type, sender },
      event: (e) => t(e) && e.sender === sender,
      expect: "some",
    });
  }
  if (type !== "ft_burn") {
    const recipient = mostCommon(all.map((e) => e.recipient));
    list.push({
      name: "recipient",
      fixture: POISON,
      filter: { type, recipient },
      event: (e) => t(e) && e.recipient === recipient,
      expect: "some",
    });
  }
  cases(type, list);
}

// nft_* ------------------------------------------------------------------------------------------------
/** The friendly form of a token id when it is a uint (`u123`), else its hex. */
function friendlyTokenId(hex: string): string {
  const cv = hexToCV(hex);
  return cv.type === "uint" ? `u${cv.value}` : hex;
}
{
  const transfers = events(POISON, "nft_transfer_event");
  const mints = [...events(POISON, "nft_mint_event")];
  const [transfer] = transfers;
  const [mint] = mints;
  const tt = is("nft_transfer_event");
  const tm = is("nft_mint_event");
  cases("nft_transfer", [
    { name: "no fields", fixture: POISON, filter: { type: "nft_transfer" }, event: tt, expect: "some" },
    {
      name: "assetIdentifier",
      fixture: POISON,
      filter: { type: "nft_transfer", assetIdentifier: transfer!.asset_identifier! },
      event: (e) => tt(e) && e.asset_identifier === transfer!.asset_identifier,
      expect: "some",
    },
    {
      name: "sender",
      fixture: POISON,
      filter: { type: "nft_transfer", sender: transfer!.sender! },
      event: (e) => tt(e) && e.sender === transfer!.sender,
      expect: "some",
    },
    {
      name: "recipient",
      fixture: POISON,
      filter: { type: "nft_transfer", recipient: transfer!.recipient! },
      event: (e) => tt(e) && e.recipient === transfer!.recipient,
      expect: "some",
    },
    {
      name: "tokenId as hex",
      fixture: POISON,
      filter: { type: "nft_transfer", tokenId: transfer!.value_hex! },
      event: (e) => tt(e) && e.value_hex === transfer!.value_hex,
      expect: "some",
    },
    {
      name: "tokenId in its friendly form",
      fixture: POISON,
      filter: { type: "nft_transfer", tokenId: friendlyTokenId(transfer!.value_hex!) },
      event: (e) => tt(e) && e.value_hex === transfer!.value_hex,
      expect: "some",
    },
    {
      name: "a token id no event carries",
      fixture: POISON,
      filter: { type: "nft_transfer", tokenId: "u340282366920938463463374607431768211455" },
      event: () => false,
      expect: "none",
    },
  ]);
  cases("nft_mint", [
    { name: "no fields", fixture: POISON, filter: { type: "nft_mint" }, event: tm, expect: "some" },
    {
      name: "assetIdentifier",
      fixture: POISON,
      filter: { type: "nft_mint", assetIdentifier: mint!.asset_identifier! },
      event: (e) => tm(e) && e.asset_identifier === mint!.asset_identifier,
      expect: "some",
    },
    {
      name: "recipient",
      fixture: POISON,
      filter: { type: "nft_mint", recipient: mint!.recipient! },
      event: (e) => tm(e) && e.recipient === mint!.recipient,
      expect: "some",
    },
    {
      name: "assetIdentifier and tokenId",
      fixture: REORG,
      filter: {
        type: "nft_mint",
        assetIdentifier: events(REORG, "nft_mint_event")[0]!.asset_identifier!,
        tokenId: events(REORG, "nft_mint_event")[0]!.value_hex!,
      },
      event: (e) =>
        tm(e) &&
        e.asset_identifier === events(REORG, "nft_mint_event")[0]!.asset_identifier &&
        e.value_hex === events(REORG, "nft_mint_event")[0]!.value_hex,
      expect: "some",
    },
    {
      name: "a transfer's asset and token id (mint filters see only mints)",
      fixture: POISON,
      filter: { type: "nft_mint", recipient: principalNotIn(POISON, "nft_mint_event", "recipient") },
      event: () => false,
      expect: "none",
    },
  ]);
  // The recordings hold no NFT burn: a burn filter on the collections that do occur finds nothing,
  // although their transfers and mints are there (see the predicate tests for a burn event).
  cases("nft_burn", [
    {
      name: "an asset with transfers and mints but no burns",
      fixture: POISON,
      filter: { type: "nft_burn", assetIdentifier: transfer!.asset_identifier! },
      event: () => false,
      expect: "none",
    },
    { name: "no fields", fixture: POISON, filter: { type: "nft_burn" }, event: is("nft_burn_event"), expect: "none" },
  ]);
}

// contract_call and contract_deploy ---------------------------------------------------------------------
{
  const calls = txs(POISON).filter((t) => t.tx_type === "contract_call" && t.status === "success");
  const contract = mostCommon(calls.map((t) => t.contract_id));
  const fn = mostCommon(calls.filter((t) => t.contract_id === contract).map((t) => t.function_name));
  const caller = mostCommon(calls.map((t) => t.sender_address));
  const prefix = fn.slice(0, 4);
  const isCall = (t: ChainTransaction) => t.tx_type === "contract_call";
  cases("contract_call", [
    { name: "no fields: every call", fixture: POISON, filter: { type: "contract_call" }, tx: isCall, expect: "some" },
    {
      name: "contractId",
      fixture: POISON,
      filter: { type: "contract_call", contractId: contract },
      tx: (t) => isCall(t) && t.contract_id === contract,
      expect: "some",
    },
    {
      name: "functionName exact",
      fixture: POISON,
      filter: { type: "contract_call", functionName: fn },
      tx: (t) => isCall(t) && t.function_name === fn,
      expect: "some",
    },
    {
      name: `functionName glob "${prefix}*"`,
      fixture: POISON,
      filter: { type: "contract_call", functionName: `${prefix}*` },
      tx: (t) => isCall(t) && t.function_name!.startsWith(prefix),
      expect: "some",
    },
    {
      name: "functionName glob with ? for the last character",
      fixture: POISON,
      filter: { type: "contract_call", functionName: `${fn.slice(0, -1)}?` },
      tx: (t) => isCall(t) && t.function_name!.length === fn.length && t.function_name!.startsWith(fn.slice(0, -1)),
      expect: "some",
    },
    {
      name: "functionName glob *x* (anywhere)",
      fixture: POISON,
      filter: { type: "contract_call", functionName: `*${fn.slice(1, 3)}*` },
      tx: (t) => isCall(t) && t.function_name!.includes(fn.slice(1, 3)),
      expect: "some",
    },
    {
      name: "caller",
      fixture: POISON,
      filter: { type: "contract_call", caller },
      tx: (t) => isCall(t) && t.sender_address === caller,
      expect: "some",
    },
    {
      name: "contractId, functionName and caller",
      fixture: REORG,
      filter: {
        type: "contract_call",
        contractId: txs(REORG).find(isCall)!.contract_id!,
        functionName: txs(REORG).find(isCall)!.function_name!,
        caller: txs(REORG).find(isCall)!.sender_address!,
      },
      tx: (t) => {
        const first = txs(REORG).find(isCall)!;
        return (
          isCall(t) &&
          t.contract_id === first.contract_id &&
          t.function_name === first.function_name &&
          t.sender_address === first.sender_address
        );
      },
      expect: "some",
    },
    {
      name: "a function name no call uses",
      fixture: POISON,
      filter: { type: "contract_call", contractId: contract, functionName: `${fn}-never*` },
      tx: () => false,
      expect: "none",
    },
  ]);

  const deploys = (name: string) =>
    txs(name).filter((t) => t.tx_type === "smart_contract" || t.tx_type === "versioned_smart_contract");
  const isDeploy = (t: ChainTransaction) => t.tx_type === "smart_contract" || t.tx_type === "versioned_smart_contract";
  const nameOf = (t: ChainTransaction) => t.contract_id!.split(".")[1]!;
  const poxDeploys = deploys(POX);
  const versioned = poxDeploys.find((t) => t.tx_type === "versioned_smart_contract")!;
  cases("contract_deploy", [
    { name: "no fields", fixture: MOCKNET, filter: { type: "contract_deploy" }, tx: isDeploy, expect: "some" },
    {
      name: "deployer",
      fixture: GENESIS,
      filter: { type: "contract_deploy", deployer: deploys(GENESIS)[0]!.sender_address! },
      tx: (t) => isDeploy(t) && t.sender_address === deploys(GENESIS)[0]!.sender_address,
      expect: "some",
    },
    {
      name: "contractName exact (a versioned deploy)",
      fixture: POX,
      filter: { type: "contract_deploy", contractName: nameOf(versioned) },
      tx: (t) => isDeploy(t) && nameOf(t) === nameOf(versioned),
      expect: "some",
    },
    {
      name: 'contractName glob "pox*"',
      fixture: POX,
      filter: { type: "contract_deploy", contractName: "pox*" },
      tx: (t) => isDeploy(t) && nameOf(t).startsWith("pox"),
      expect: "some",
    },
    {
      name: 'contractName "pox" matches only the name itself',
      fixture: POX,
      filter: { type: "contract_deploy", contractName: "pox" },
      tx: (t) => isDeploy(t) && nameOf(t) === "pox",
      expect: poxDeploys.some((t) => nameOf(t) === "pox") ? "some" : "none",
    },
    {
      name: "a deployer that deployed nothing",
      fixture: POISON,
      filter: { type: "contract_deploy", deployer: caller },
      tx: () => false,
      expect: "none",
    },
  ]);
}

// print_event ---------------------------------------------------------------------------------------
{
  const [pox] = events(POX, "contract_event").filter((e) => e.contract_id!.endsWith(".pox-4"));
  const [lock] = events(POX, "stx_lock_event");
  const pe = is("contract_event");
  const swaps = events(POISON, "contract_event").filter((e) => e.contract_id!.includes("pool"));
  const swapContract = mostCommon(swaps.map((e) => e.contract_id));
  cases("print_event", [
    { name: "no fields", fixture: POX, filter: { type: "print_event" }, event: pe, expect: "some" },
    {
      name: "contractId",
      fixture: POX,
      filter: { type: "print_event", contractId: pox!.contract_id! },
      event: (e) => pe(e) && e.contract_id === pox!.contract_id,
      expect: "some",
    },
    {
      name: "topic",
      fixture: POISON,
      filter: { type: "print_event", topic: "print" },
      event: (e) => pe(e) && e.topic === "print",
      expect: "some",
    },
    {
      name: "contains a string of the decoded value",
      fixture: POX,
      filter: { type: "print_event", contains: "stack-stx" },
      event: (e) => pe(e) && e === pox,
      expect: "some",
    },
    {
      name: "contains the stacker's address (a principal inside the tuple)",
      fixture: POX,
      filter: { type: "print_event", contains: lock!.locked_address! },
      event: (e) => pe(e) && e === pox,
      expect: "some",
    },
    {
      name: "where: a path through (ok ...) into the tuple",
      fixture: POX,
      filter: { type: "print_event", where: { "ok.name": "stack-stx" } },
      event: (e) => pe(e) && e === pox,
      expect: "some",
    },
    {
      name: "where: the lock amount equals the stx_lock event's amount, given as a JSON integer",
      fixture: POX,
      filter: {
        type: "print_event",
        contractId: pox!.contract_id!,
        where: { "ok.data.lock-amount": Number(lock!.amount), "ok.stacker": lock!.locked_address! },
      },
      event: (e) => pe(e) && e === pox,
      expect: "some",
    },
    {
      name: "where: a nested tuple compared whole",
      fixture: POX,
      filter: {
        type: "print_event",
        where: { "ok.data.pox-addr": { version: "0x00", hashbytes: "0x164247d6f2b425ac5771423ae6c80c754f7172b0" } },
      },
      event: (e) => pe(e) && e === pox,
      expect: "some",
    },
    {
      name: "where and contains on swap prints",
      fixture: POISON,
      filter: { type: "print_event", contractId: swapContract, contains: "swap", where: { action: "swap-y-for-x" } },
      event: (e) =>
        pe(e) && e.contract_id === swapContract && (decodeClarityPlain(e.value_hex!) as any).action === "swap-y-for-x",
      expect: "some",
    },
    {
      name: "where: another value at the path",
      fixture: POX,
      filter: { type: "print_event", where: { "ok.name": "delegate-stx" } },
      event: () => false,
      expect: "none",
    },
    {
      name: "where: a path that does not exist",
      fixture: POX,
      filter: { type: "print_event", where: { "ok.data.no-such-field": "1" } },
      event: () => false,
      expect: "none",
    },
    {
      name: "contains a string no value holds",
      fixture: POX,
      filter: { type: "print_event", contains: "delegate-stack-extend" },
      event: () => false,
      expect: "none",
    },
  ]);
}

// tx and block --------------------------------------------------------------------------------------
{
  const all = txs(POISON);
  const target = all.find((t) => t.tx_type === "token_transfer" && t.status === "success")!;
  const sender = mostCommon(all.map((t) => t.sender_address));
  const list: Case[] = [
    {
      name: "txId",
      fixture: POISON,
      filter: { type: "tx", txId: target.txid.toUpperCase().replace("0X", "0x") },
      tx: (t) => t.txid === target.txid,
      expect: "some",
    },
    {
      name: "sender",
      fixture: POISON,
      filter: { type: "tx", sender },
      tx: (t) => t.sender_address === sender,
      expect: "some",
    },
    {
      name: "status success",
      fixture: POISON,
      filter: { type: "tx", status: "success" },
      tx: (t) => t.status === "success",
      expect: "some",
    },
    {
      name: "a txid from another recording",
      fixture: POISON,
      filter: { type: "tx", txId: txs(MOCKNET)[0]!.txid },
      tx: () => false,
      expect: "none",
    },
  ];
  for (const txType of new Set(Object.keys(FIXTURE_NETWORKS).flatMap((f) => txs(f).map((t) => t.tx_type)))) {
    const fixture = Object.keys(FIXTURE_NETWORKS).find((f) => txs(f).some((t) => t.tx_type === txType))!;
    list.push({
      name: `txType ${txType}`,
      fixture,
      filter: { type: "tx", txType: txType as never },
      tx: (t) => t.tx_type === txType,
      expect: "some",
    });
  }
  cases("tx", list);

  describe("block", () => {
    for (const fixture of Object.keys(FIXTURE_NETWORKS)) {
      test(`every block matches, with nothing else (${fixture})`, () => {
        const network = FIXTURE_NETWORKS[fixture]!;
        const filters = parseStreamFilters(network, [{ type: "block" }]);
        const index = new FilterIndex(network);
        index.set("s", filters, parseStreamOptions({}));
        for (const block of blocks(fixture)) {
          const expected = { transactions: [], events: [], matchedFilters: [0] };
          expect(index.match(block).get("s")).toEqual(expected);
          expect(matchStream(filters, { includeFailed: false }, block, network)).toEqual(expected);
        }
      });
    }
  });
}
