import type { z } from "zod";
import { type BlockSource, parseSourceBlock, type SourceBlock, SourceError } from "./block-source.ts";
import { getJson, type RequestOptions } from "./http.ts";
import { type ApiTransactionDetails, inMicroblock, mapStacksApiBlock } from "./map-stacks-api-block.ts";
import {
  type ApiBlock,
  type ApiEvent,
  type ApiTransaction,
  apiBlockSchema,
  apiContractSchema,
  apiEventPageSchema,
  apiMicroblockSchema,
  apiRawTransactionSchema,
  apiTransactionPageSchema,
} from "./stacks-api-schemas.ts";

/** The largest pages the API serves (its `maxLimit` for transactions and for events). */
const TRANSACTION_PAGE = 50;
const EVENT_PAGE = 100;

/**
 * Blocks from a Hiro-compatible stacks-blockchain-api. The API has no endpoint that returns a block as the
 * node sent it, so the pieces are read one by one (block, its transactions, each raw transaction, events,
 * deployed ABIs) and put back together by `mapStacksApiBlock`. Requests are sequential: public APIs
 * rate-limit hard, and the backfiller's own rate is counted in blocks.
 */
export class StacksApiSource implements BlockSource {
  readonly kind = "stacks-api";
  private readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(baseUrl: string, apiKey?: string) {
    this.base = baseUrl.replace(/\/+$/, "");
    this.headers = apiKey ? { "x-api-key": apiKey } : {};
  }

  async fetchBlock(height: number, signal: AbortSignal): Promise<SourceBlock | null> {
    const opts = { signal, headers: this.headers };
    const block = await getJson(`${this.base}/extended/v2/blocks/${height}`, apiBlockSchema, opts);
    if (!block) return null;
    const microblockParents = new Map<string, string>();
    const details: ApiTransactionDetails[] = [];
    for (const tx of await this.transactions(block, opts)) {
      details.push(await this.details(tx, microblockParents, opts));
    }
    return parseSourceBlock(JSON.stringify(mapStacksApiBlock(block, details)), height, this.kind);
  }

  /** A resource the block says exists: a 404 means the source changed under us, so asking again may help. */
  private async need<S extends z.ZodType>(path: string, schema: S, opts: RequestOptions): Promise<z.infer<S>> {
    const found = await getJson(`${this.base}${path}`, schema, opts);
    if (found === null) throw new SourceError(`${this.kind}: GET ${path} answered 404`, true);
    return found;
  }

  private async transactions(block: ApiBlock, opts: RequestOptions): Promise<ApiTransaction[]> {
    const txs: ApiTransaction[] = [];
    while (txs.length < block.tx_count) {
      const path = `/extended/v2/blocks/${block.height}/transactions?limit=${TRANSACTION_PAGE}&offset=${txs.length}`;
      const page = await this.need(path, apiTransactionPageSchema, opts);
      if (page.results.length === 0) break;
      txs.push(...page.results);
    }
    // A reorg at the source between two requests would mix two blocks' data: never store such a mix.
    if (txs.length !== block.tx_count || txs.some((tx) => tx.block_hash !== block.hash)) {
      throw new SourceError(`${this.kind}: block ${block.height} changed while it was being read`, true);
    }
    return txs;
  }

  private async details(
    tx: ApiTransaction,
    microblockParents: Map<string, string>,
    opts: RequestOptions,
  ): Promise<ApiTransactionDetails> {
    const { raw_tx } = await this.need(`/extended/v1/tx/${tx.tx_id}/raw`, apiRawTransactionSchema, opts);
    return {
      tx,
      rawTx: raw_tx,
      events: tx.event_count > 0 ? await this.events(tx, opts) : [],
      contractAbi:
        tx.smart_contract && tx.tx_status === "success"
          ? await this.contractAbi(tx.smart_contract.contract_id, opts)
          : null,
      microblockParentHash: inMicroblock(tx) ? await this.microblockParent(tx, microblockParents, opts) : null,
    };
  }

  private async events(tx: ApiTransaction, opts: RequestOptions): Promise<ApiEvent[]> {
    const events: ApiEvent[] = [];
    while (events.length < tx.event_count) {
      const path = `/extended/v1/tx/events?tx_id=${tx.tx_id}&limit=${EVENT_PAGE}&offset=${events.length}`;
      const page = await this.need(path, apiEventPageSchema, opts);
      if (page.events.length === 0) break;
      events.push(...page.events);
    }
    if (events.length !== tx.event_count) {
      throw new SourceError(
        `${this.kind}: ${tx.tx_id} has ${tx.event_count} events but ${events.length} were served`,
        true,
      );
    }
    return events;
  }

  private async contractAbi(contractId: string, opts: RequestOptions): Promise<unknown> {
    const contract = await getJson(`${this.base}/extended/v1/contract/${contractId}`, apiContractSchema, opts);
    if (!contract?.abi) return null;
    try {
      return JSON.parse(contract.abi);
    } catch {
      throw new SourceError(`${this.kind}: the ABI of ${contractId} is not JSON`, false);
    }
  }

  private async microblockParent(
    tx: ApiTransaction,
    cache: Map<string, string>,
    opts: RequestOptions,
  ): Promise<string> {
    const hash = tx.microblock_hash ?? "";
    const known = cache.get(hash);
    if (known) return known;
    const { microblock_parent_hash } = await this.need(`/extended/v1/microblock/${hash}`, apiMicroblockSchema, opts);
    cache.set(hash, microblock_parent_hash);
    return microblock_parent_hash;
  }
}
