import { describe, expect, test } from "bun:test";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import {
  addressFromVersionHash,
  addressHashModeToVersion,
  addressToString,
  cvToString,
  deserializeCV,
  deserializeTransaction,
  PayloadType,
} from "@stacks/transactions";
import { type ApiClient, startTestApi } from "../../../test/support/api.ts";
import { chainhookPredicate } from "../../../test/support/chainhook.ts";
import { createTestDatabase } from "../../../test/support/database.ts";
import { blocksOf, canonicalChain, fixture } from "../../../test/support/fixtures.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import { rollbackAndReplacement, splitAfterBlock } from "../../../test/support/reorg.ts";
import { type Received, WebhookReceiver } from "../../../test/support/webhook-receiver.ts";
import { startTestWorker } from "../../../test/support/worker.ts";

// Chainhook's documented example predicates, one per scope, pointed at contracts and assets of the
// recorded node logs, imported through the API and run by a real indexer and worker to a real
// receiver. What each stream delivers must be what the predicate means to Chainhook: per block, the
// transactions Chainhook's evaluator would select, computed here from the recording itself with
// @stacks/transactions (decoded calls and deployers, Clarity-printed values for `contains`).

type Network = "mainnet" | "testnet";
type IfThis = Record<string, any>;

const ALEX = "SP3K8BC0PPEVCV7NZ6QSRWPQ2JE9E5B6N3PA0KBR9";
const BNS_NAMES = "SP000000000000000000002Q6VF78.bns::names";
const TESTNET_BOOT = "ST000000000000000000002AMW42H";

/** The standard address that signed a transaction. */
function signerOf(tx: ReturnType<typeof deserializeTransaction>, network: Network): string {
  const condition = tx.auth.spendingCondition;
  return addressToString(
    addressFromVersionHash(addressHashModeToVersion(condition.hashMode, network), condition.signer),
  );
}

/** Whether Chainhook's evaluator selects one recorded transaction (with its events) for `ifThis`. */
function selects(tx: any, events: any[], ifThis: IfThis, network: Network): boolean {
  const ofType = (types: string[]) => events.filter((e) => types.includes(e.type));
  switch (ifThis.scope) {
    case "txid":
      return tx.txid === ifThis.equals;
    case "contract_call": {
      const payload: any = deserializeTransaction(tx.raw_tx).payload;
      return (
        payload.payloadType === PayloadType.ContractCall &&
        `${addressToString(payload.contractAddress)}.${payload.contractName.content}` === ifThis.contract_identifier &&
        payload.functionName.content === ifThis.method
      );
    }
    case "contract_deployment": {
      const decoded = deserializeTransaction(tx.raw_tx);
      const payload: any = decoded.payload;
      const deploys = [PayloadType.SmartContract, PayloadType.VersionedSmartContract].includes(payload.payloadType);
      const contractId = `${signerOf(decoded, network)}.${payload.contractName?.content}`;
      return deploys && (ifThis.deployer === "*" || contractId.startsWith(ifThis.deployer));
    }
    case "print_event":
      return ofType(["contract_event"]).some(
        (e) =>
          e.contract_event.topic === "print" &&
          (ifThis.contract_identifier === "*" || e.contract_event.contract_identifier === ifThis.contract_identifier) &&
          (ifThis.contains === "*" || cvToString(deserializeCV(e.contract_event.raw_value)).includes(ifThis.contains)),
      );
    case "ft_event":
    case "nft_event": {
      const kind = ifThis.scope === "ft_event" ? "ft" : "nft";
      return ofType(ifThis.actions.map((a: string) => `${kind}_${a}_event`)).some(
        (e) => e[e.type].asset_identifier === ifThis.asset_identifier,
      );
    }
    case "stx_event":
      return ofType(ifThis.actions.map((a: string) => `stx_${a}_event`)).length > 0;
    default:
      throw new Error(`no reference evaluation for ${ifThis.scope}`);
  }
}

function inHeightRule(height: number, rule: IfThis): boolean {
  if (rule.equals !== undefined) return height === rule.equals;
  if (rule.higher_than !== undefined) return height > rule.higher_than;
  if (rule.lower_than !== undefined) return height < rule.lower_than;
  return height > rule.between[0] && height < rule.between[1];
}

/** Per canonical block with a hit (by index block hash): the txids Chainhook would send, sorted. */
function chainhookHits(chain: any[], ifThis: IfThis, network: Network): Map<string, string[]> {
  const hits = new Map<string, string[]>();
  for (const block of chain) {
    const selected =
      ifThis.scope === "block_height"
        ? inHeightRule(block.block_height, ifThis)
          ? block.transactions
          : []
        : block.transactions.filter((tx: any) =>
            selects(
              tx,
              block.events.filter((e: any) => e.txid === tx.txid),
              ifThis,
              network,
            ),
          );
    if (selected.length > 0) hits.set(block.index_block_hash, selected.map((t: any) => t.txid).sort());
  }
  return hits;
}

/** What a stream told its receiver, net of rollbacks: per block, the txids of its matches, sorted. */
function delivered(received: Received[]): Map<string, string[]> {
  const net = new Map<string, string[]>();
  for (const r of received) {
    const hash = r.body.block.indexBlockHash;
    if (r.body.type === "block.rollback") {
      net.delete(hash);
      continue;
    }
    const { transactions, events } = r.body.matches;
    const txids = new Set<string>([...transactions.map((t: any) => t.txid), ...events.map((e: any) => e.txid)]);
    net.set(hash, [...txids].sort());
  }
  return net;
}

function assertSignedInOrder(received: Received[], streamId: string): void {
  expect(received.every((r) => r.signatureValid)).toBe(true);
  expect(received.map((r) => r.body.streamId)).toEqual(received.map(() => streamId));
  expect(received.map((r) => r.seq)).toEqual(received.map((_, i) => i + 1));
}

/** Imports one predicate per entry; returns the stream ids by endpoint name. */
async function importAll(
  client: ApiClient,
  receiver: WebhookReceiver,
  network: Network,
  scopes: Record<string, IfThis>,
  query = "",
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const [name, ifThis] of Object.entries(scopes)) {
    const res = await client.post(
      `/api/streams/import/chainhook${query}`,
      chainhookPredicate({ name, network, ifThis, url: receiver.url(name) }),
    );
    expect(res.status).toBe(201);
    receiver.setSecret(name, res.json.secret);
    ids.set(name, res.json.stream.id);
  }
  return ids;
}

/** Waits until every stream delivered exactly what Chainhook would have, then checks it stays so. */
async function expectChainhookDeliveries(
  receiver: WebhookReceiver,
  ids: Map<string, string>,
  expected: Map<string, Map<string, string[]>>,
): Promise<void> {
  for (const [name, hits] of expected) {
    expect(hits.size).toBeGreaterThan(0);
    // On a timeout the comparison below shows what differs.
    await receiver
      .waitFor(() => Bun.deepEquals(delivered(receiver.acknowledged(name)), hits), 30_000)
      .catch(() => undefined);
  }
  await Bun.sleep(300);
  for (const [name, hits] of expected) {
    const got = receiver.at(name);
    assertSignedInOrder(got, ids.get(name) as string);
    expect({ name, delivered: delivered(got) }).toEqual({ name, delivered: hits });
  }
}

/**
 * An indexer and a worker for `network`, and an API over the same database whose deployment network is
 * mainnet (so a testnet predicate needs ?network=testnet), with a receiver for the streams.
 */
async function startPipeline(network: Network) {
  const db = await createTestDatabase();
  const indexer = await startTestIndexer(db, { STACKS_NETWORK: network });
  await startTestWorker(db, { STACKS_NETWORK: network });
  const api = await startTestApi(db);
  return { indexer, client: api.client(), receiver: new WebhookReceiver() };
}

describe("Chainhook predicates imported and run over recorded node logs", () => {
  test("poisonmicroblock.tsv (mainnet): every event and transaction scope, including failed transactions", async () => {
    const { indexer, client, receiver } = await startPipeline("mainnet");
    const rows = fixture("poisonmicroblock.tsv");
    const chain = canonicalChain(blocksOf(rows));
    const failed = chain.flatMap((b) => b.transactions).find((t: any) => t.status === "abort_by_response");
    const scopes: Record<string, IfThis> = {
      txid: { scope: "txid", equals: failed.txid },
      "block-height": { scope: "block_height", equals: chain[0].block_height },
      "contract-call": {
        scope: "contract_call",
        contract_identifier: `${ALEX}.swap-helper-v1-03`,
        method: "swap-helper",
      },
      "print-contains": {
        scope: "print_event",
        contract_identifier: `${ALEX}.fixed-weight-pool-v1-01`,
        contains: "swap-y-for-x",
      },
      "print-any-contract": { scope: "print_event", contract_identifier: "*", contains: "name-register" },
      "ft-event": { scope: "ft_event", asset_identifier: `${ALEX}.token-apower::apower`, actions: ["mint", "burn"] },
      "nft-event": { scope: "nft_event", asset_identifier: BNS_NAMES, actions: ["mint", "transfer", "burn"] },
      "stx-event": { scope: "stx_event", actions: ["transfer", "lock"] },
      "stx-burn": { scope: "stx_event", actions: ["burn"] },
    };
    // Like a Chainhook predicate without start_block, each stream scans the stored chain from block 0.
    await replayEventLog(rows, { to: indexer.url, maxAttempts: 1 });
    const ids = await importAll(client, receiver, "mainnet", scopes);
    const expected = new Map(Object.entries(scopes).map(([name, s]) => [name, chainhookHits(chain, s, "mainnet")]));
    // The failed transaction and the failed swap are selected, as Chainhook selects them.
    expect(expected.get("txid")?.size).toBe(1);
    expect([...(expected.get("contract-call")?.values() ?? [])].flat().length).toBeGreaterThan(1);
    await expectChainhookDeliveries(receiver, ids, expected);
    expect(receiver.at("txid")[0]?.body.isBackfill).toBe(true);
  });

  test("pox-4 regtest log (testnet, imported with ?network=testnet): deployments, stx lock, block_height between, print", async () => {
    const { indexer, client, receiver } = await startPipeline("testnet");
    const rows = fixture("regtest-env-pox-4-stack-stx-in-reward-phase-S1.tsv");
    const chain = canonicalChain(blocksOf(rows));
    const pox4 = `${TESTNET_BOOT}.pox-4`;
    const scopes: Record<string, IfThis> = {
      "deployer-boot": { scope: "contract_deployment", deployer: TESTNET_BOOT },
      "deployer-any": { scope: "contract_deployment", deployer: "*" },
      "stx-lock": { scope: "stx_event", actions: ["lock"] },
      "blocks-between": { scope: "block_height", between: [2, 6] },
      "stack-stx-call": { scope: "contract_call", contract_identifier: pox4, method: "stack-stx" },
      "stack-stx-print": { scope: "print_event", contract_identifier: pox4, contains: "stack-stx" },
    };
    await replayEventLog(rows, { to: indexer.url, maxAttempts: 1 });
    const ids = await importAll(client, receiver, "testnet", scopes, "?network=testnet");
    const expected = new Map(Object.entries(scopes).map(([name, s]) => [name, chainhookHits(chain, s, "testnet")]));
    // between [2, 6] excludes both ends: blocks 3, 4 and 5.
    const heightOf = new Map(chain.map((b) => [b.index_block_hash, b.block_height]));
    expect([...(expected.get("blocks-between")?.keys() ?? [])].map((h) => heightOf.get(h))).toEqual([3, 4, 5]);
    await expectChainhookDeliveries(receiver, ids, expected);
  });

  test("mainnet-reorg-scenario2.tsv: a predicate imported before the fork gets the orphaned block rolled back as its own delivery", async () => {
    const { indexer, client, receiver } = await startPipeline("mainnet");
    const rows = fixture("mainnet-reorg-scenario2.tsv");
    const blocks = blocksOf(rows);
    const chain = canonicalChain(blocks);
    const canonical = new Set(chain.map((b) => b.index_block_hash));
    const orphan = blocks.find((b) => !canonical.has(b.index_block_hash));
    const scopes: Record<string, IfThis> = {
      "names-minted": { scope: "nft_event", asset_identifier: BNS_NAMES, actions: ["mint"] },
      "nothing-transfers": {
        scope: "contract_call",
        contract_identifier: "SP32AEEF6WW5Y0NMJ1S8SBSZDAY8R5J32NBZFPKKZ.wrapped-nothing-v8",
        method: "transfer",
      },
      "stx-transfers": { scope: "stx_event", actions: ["transfer"] },
    };
    const ids = await importAll(client, receiver, "mainnet", scopes);
    // The orphan is a hit for the names stream: it is sent, then the fork arrives.
    expect(chainhookHits([orphan], scopes["names-minted"] as IfThis, "mainnet").size).toBe(1);
    const [untilOrphan, afterOrphan] = splitAfterBlock(rows, orphan.index_block_hash);
    await replayEventLog(untilOrphan, { to: indexer.url, maxAttempts: 1 });
    await receiver.waitFor(
      () => receiver.acknowledged("names-minted").some((r) => r.body.block.indexBlockHash === orphan.index_block_hash),
      30_000,
      "the apply of the block that will be orphaned",
    );
    await replayEventLog(afterOrphan, { to: indexer.url, maxAttempts: 1 });
    const expected = new Map(Object.entries(scopes).map(([name, s]) => [name, chainhookHits(chain, s, "mainnet")]));
    await expectChainhookDeliveries(receiver, ids, expected);
    const { rollback, replacement } = rollbackAndReplacement(receiver.at("names-minted"), orphan, canonical);
    expect(rollback).toBeGreaterThan(-1);
    expect(replacement).toBeGreaterThan(rollback);
  });
});
