import type { EventLogRow } from "@second-layer/shared/event-log";
import { decodeClarityHex } from "@second-layer/shared/stacks/clarity";
import { decodeTransaction } from "@second-layer/shared/stacks/decode-transaction";
import { onCleanup } from "../../../test/support/cleanup.ts";

// A stand-in for Hiro's stacks-blockchain-api, serving recorded node payloads the way the real API
// stores and renders them (its event-server and db-controller): only committed events of successful
// transactions, event_index renumbered per transaction, memos 0x-prefixed and left out when empty,
// stx_lock without its contract, "" for the absent party of a mint or burn, epoch 2.x blocks with
// tenure_height = height and block_time = burn_block_time (replay mode), ABIs as JSON strings.

const MAX_TX_PAGE = 50;
const MAX_EVENT_PAGE = 100;
const ANCHORED_SEQUENCE = 2147483647;

function repr(hex: string): string {
  try {
    return decodeClarityHex(hex).repr;
  } catch {
    return "?";
  }
}

/** Nodes before 2.0.11 sent no `anchored_cost`; the API then adds up the transactions' costs. */
export function blockCost(b: any): any {
  const keys = ["read_count", "read_length", "runtime", "write_count", "write_length"];
  return (
    b.anchored_cost ??
    Object.fromEntries(
      keys.map((k) => [k, b.transactions.reduce((n: number, t: any) => n + (t.execution_cost?.[k] ?? 0), 0)]),
    )
  );
}

function costFields(c: any) {
  return {
    execution_cost_read_count: c?.read_count ?? 0,
    execution_cost_read_length: c?.read_length ?? 0,
    execution_cost_runtime: c?.runtime ?? 0,
    execution_cost_write_count: c?.write_count ?? 0,
    execution_cost_write_length: c?.write_length ?? 0,
  };
}

function apiTxType(rawTx: string): string {
  const t = decodeTransaction(rawTx).txType;
  if (t === "versioned_smart_contract") return "smart_contract";
  if (t === "coinbase_to_alt_recipient" || t === "nakamoto_coinbase") return "coinbase";
  return t;
}

function apiEvent(ev: any, eventIndex: number): any {
  const base = { event_index: eventIndex, tx_id: ev.txid };
  const body = ev[ev.type];
  const asset = (eventType: string) => ({
    asset_event_type: eventType,
    sender: body.sender ?? "",
    recipient: body.recipient ?? "",
  });
  switch (ev.type) {
    case "contract_event":
      return {
        ...base,
        event_type: "smart_contract_log",
        contract_log: {
          contract_id: body.contract_identifier,
          topic: body.topic,
          value: { hex: body.raw_value, repr: repr(body.raw_value) },
        },
      };
    case "stx_lock_event":
      return {
        ...base,
        event_type: "stx_lock",
        stx_lock_event: {
          locked_amount: body.locked_amount,
          unlock_height: Number(body.unlock_height),
          locked_address: body.locked_address,
        },
      };
    case "stx_transfer_event":
    case "stx_mint_event":
    case "stx_burn_event": {
      const kind = ev.type.split("_")[1];
      const memo = kind === "transfer" && body.memo ? { memo: `0x${body.memo}` } : {};
      return { ...base, event_type: "stx_asset", asset: { ...asset(kind), amount: body.amount, ...memo } };
    }
    case "ft_transfer_event":
    case "ft_mint_event":
    case "ft_burn_event":
      return {
        ...base,
        event_type: "fungible_token_asset",
        asset: { ...asset(ev.type.split("_")[1]), asset_id: body.asset_identifier, amount: body.amount },
      };
    default:
      return {
        ...base,
        event_type: "non_fungible_token_asset",
        asset: {
          ...asset(ev.type.split("_")[1]),
          asset_id: body.asset_identifier,
          value: { hex: body.raw_value, repr: repr(body.raw_value) },
        },
      };
  }
}

/** The canonical block per height: the chain ending at the highest block, first seen below a missing parent. */
export function canonicalByHeight(blocks: any[]): Map<number, any> {
  const byHash = new Map<string, any>();
  for (const b of blocks) if (!byHash.has(b.index_block_hash)) byHash.set(b.index_block_hash, b);
  const tip = [...byHash.values()].reduce((a, b) => (b.block_height > a.block_height ? b : a));
  const chain = new Map<number, any>();
  for (let b = tip; b; b = byHash.get(b.parent_index_block_hash)) chain.set(b.block_height, b);
  for (const b of byHash.values()) if (!chain.has(b.block_height)) chain.set(b.block_height, b);
  return chain;
}

export class FakeStacksApi {
  readonly requests: string[] = [];
  private failures = 0;
  private readonly blocks = new Map<number, any>();
  private readonly blockTxs = new Map<number, any[]>();
  private readonly rawTxs = new Map<string, string>();
  private readonly txEvents = new Map<string, any[]>();
  private readonly contracts = new Map<string, any>();
  private readonly microblocks = new Map<string, any>();

  constructor(nodeBlocks: any[]) {
    for (const b of canonicalByHeight(nodeBlocks).values()) this.add(b);
  }

  /** The next `n` requests answer 503, as an overloaded API does. */
  failNext(n: number): void {
    this.failures = n;
  }

  private add(b: any): void {
    this.blocks.set(b.block_height, {
      canonical: true,
      height: b.block_height,
      hash: b.block_hash,
      block_time: b.block_time ?? b.burn_block_time,
      tenure_height: b.tenure_height ?? (b.signer_bitvec ? -1 : b.block_height),
      index_block_hash: b.index_block_hash,
      parent_block_hash: b.parent_block_hash,
      parent_index_block_hash: b.parent_index_block_hash,
      burn_block_time: b.burn_block_time,
      burn_block_hash: b.burn_block_hash,
      burn_block_height: b.burn_block_height,
      miner_txid: b.miner_txid,
      tx_count: b.transactions.length,
      ...costFields(blockCost(b)),
    });
    const success = new Set(b.transactions.filter((t: any) => t.status === "success").map((t: any) => t.txid));
    const kept = b.events
      .filter((e: any) => e.committed && success.has(e.txid))
      .sort((x: any, y: any) => x.event_index - y.event_index);
    const txs = b.transactions.map((t: any) => {
      const events = kept.filter((e: any) => e.txid === t.txid).map((e: any, i: number) => apiEvent(e, i));
      this.txEvents.set(t.txid, events);
      this.rawTxs.set(t.txid, t.raw_tx);
      const txType = apiTxType(t.raw_tx);
      const decoded = decodeTransaction(t.raw_tx);
      if (txType === "smart_contract" && decoded.contractId) {
        this.contracts.set(decoded.contractId, {
          tx_id: t.txid,
          contract_id: decoded.contractId,
          abi: JSON.stringify(t.contract_abi ?? null),
        });
      }
      if (t.microblock_hash) {
        this.microblocks.set(t.microblock_hash, {
          microblock_hash: t.microblock_hash,
          microblock_sequence: t.microblock_sequence,
          microblock_parent_hash: t.microblock_parent_hash,
        });
      }
      return {
        tx_id: t.txid,
        tx_index: t.tx_index,
        tx_type: txType,
        tx_status: t.status,
        tx_result: { hex: t.raw_result, repr: repr(t.raw_result) },
        vm_error: t.vm_error ?? null,
        event_count: events.length,
        block_hash: b.block_hash,
        block_height: b.block_height,
        canonical: true,
        sender_address: decoded.senderAddress,
        fee_rate: decoded.fee,
        microblock_hash: t.microblock_hash ?? "",
        microblock_sequence: t.microblock_sequence ?? ANCHORED_SEQUENCE,
        microblock_canonical: true,
        ...costFields(t.execution_cost),
        ...(txType === "smart_contract" ? { smart_contract: { contract_id: decoded.contractId } } : {}),
        events: [],
      };
    });
    this.blockTxs.set(b.block_height, txs);
  }

  private page(url: URL, max: number): { limit: number; offset: number } | null {
    const limit = Number(url.searchParams.get("limit") ?? 20);
    return limit > max ? null : { limit, offset: Number(url.searchParams.get("offset") ?? 0) };
  }

  handle(req: Request): Response {
    const url = new URL(req.url);
    this.requests.push(`${url.pathname}${url.search}`);
    if (this.failures > 0) {
      this.failures--;
      return Response.json({ error: "overloaded" }, { status: 503 });
    }
    const notFound = Response.json({ error: "not found" }, { status: 404 });
    const tooMany = Response.json({ error: "limit too large" }, { status: 400 });
    let m = url.pathname.match(/^\/extended\/v2\/blocks\/(\d+)(\/transactions)?$/);
    if (m) {
      const height = Number(m[1]);
      const block = this.blocks.get(height);
      if (!block) return notFound;
      if (!m[2]) return Response.json(block);
      const page = this.page(url, MAX_TX_PAGE);
      if (!page) return tooMany;
      const txs = this.blockTxs.get(height) ?? [];
      return Response.json({ ...page, total: txs.length, results: txs.slice(page.offset, page.offset + page.limit) });
    }
    m = url.pathname.match(/^\/extended\/v1\/tx\/(0x[0-9a-f]+)\/raw$/);
    if (m) {
      const raw = this.rawTxs.get(m[1] ?? "");
      return raw ? Response.json({ raw_tx: raw }) : notFound;
    }
    if (url.pathname === "/extended/v1/tx/events") {
      const page = this.page(url, MAX_EVENT_PAGE);
      if (!page) return tooMany;
      const events = this.txEvents.get(url.searchParams.get("tx_id") ?? "") ?? [];
      return Response.json({ ...page, events: events.slice(page.offset, page.offset + page.limit) });
    }
    m = url.pathname.match(/^\/extended\/v1\/contract\/(.+)$/);
    if (m) return this.contracts.has(m[1] ?? "") ? Response.json(this.contracts.get(m[1] ?? "")) : notFound;
    m = url.pathname.match(/^\/extended\/v1\/microblock\/(0x[0-9a-f]+)$/);
    if (m) return this.microblocks.has(m[1] ?? "") ? Response.json(this.microblocks.get(m[1] ?? "")) : notFound;
    return notFound;
  }
}

/** A FakeStacksApi for the `/new_block` rows of a recording, listening on 127.0.0.1. */
export function serveFakeStacksApi(rows: EventLogRow[]): { api: FakeStacksApi; url: string } {
  const api = new FakeStacksApi(rows.filter((r) => r.path === "/new_block").map((r) => JSON.parse(r.payload)));
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => api.handle(req) });
  onCleanup(() => server.stop(true));
  return { api, url: `http://127.0.0.1:${server.port}` };
}
