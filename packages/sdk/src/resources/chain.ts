import type { QueryOf, Transport } from "../http.ts";
import { paginate } from "../paginate.ts";
import { type FollowOptions, followEventStream } from "../sse.ts";
import type { ChainEvent, Network } from "../types.ts";

type NetworkOption = { network?: Network };
type Paged<Q> = Omit<Q, "cursor">;

/** Blocks, transactions, reorgs, the mempool and the chain log. */
export class ChainResource {
  constructor(private readonly http: Transport) {}

  /** The canonical block at a height, or any stored block by index_block_hash or block_hash. */
  block(heightOrHash: number | string, query: NetworkOption = {}) {
    return this.http.call("get", "/api/blocks/{heightOrHash}", { params: { heightOrHash }, query });
  }

  /** One page of canonical blocks, newest first. */
  blocks(query: QueryOf<"/api/blocks", "get"> = {}) {
    return this.http.call("get", "/api/blocks", { query });
  }

  iterateBlocks(query: Paged<QueryOf<"/api/blocks", "get">> = {}) {
    return paginate(
      (cursor) => this.blocks({ ...query, cursor: cursor === undefined ? undefined : Number(cursor) }),
      (page) => page.blocks,
    );
  }

  /** One page of a block's transactions, in block order. */
  blockTransactions(
    heightOrHash: number | string,
    query: QueryOf<"/api/blocks/{heightOrHash}/transactions", "get"> = {},
  ) {
    return this.http.call("get", "/api/blocks/{heightOrHash}/transactions", { params: { heightOrHash }, query });
  }

  iterateBlockTransactions(
    heightOrHash: number | string,
    query: Paged<QueryOf<"/api/blocks/{heightOrHash}/transactions", "get">> = {},
  ) {
    return paginate(
      (cursor) =>
        this.blockTransactions(heightOrHash, { ...query, cursor: cursor === undefined ? undefined : Number(cursor) }),
      (page) => page.transactions,
    );
  }

  /** A mined transaction with its events and every block holding it. */
  tx(txid: string, query: NetworkOption = {}) {
    return this.http.call("get", "/api/tx/{txid}", { params: { txid }, query });
  }

  /** One page of reorgs, newest first. */
  reorgs(query: QueryOf<"/api/reorgs", "get"> = {}) {
    return this.http.call("get", "/api/reorgs", { query });
  }

  iterateReorgs(query: Paged<QueryOf<"/api/reorgs", "get">> = {}) {
    return paginate(
      (cursor) => this.reorgs({ ...query, cursor: cursor === undefined ? undefined : Number(cursor) }),
      (page) => page.reorgs,
    );
  }

  /** One page of pending transactions, newest first. */
  mempool(query: QueryOf<"/api/mempool", "get"> = {}) {
    return this.http.call("get", "/api/mempool", { query });
  }

  iterateMempool(query: Paged<QueryOf<"/api/mempool", "get">> = {}) {
    return paginate(
      (cursor) => this.mempool({ ...query, cursor }),
      (page) => page.transactions,
    );
  }

  /** The chain log after `after` (one page): `{events, next, head}`. */
  events(query: QueryOf<"/api/chain/events", "get"> = {}) {
    return this.http.call("get", "/api/chain/events", { query });
  }

  /** The chain log from `after` up to the head as it was when the last page came, then stops. */
  async *iterateEvents(query: QueryOf<"/api/chain/events", "get"> = {}): AsyncGenerator<ChainEvent, void, undefined> {
    let after = query.after ?? 0;
    for (;;) {
      const page = await this.events({ ...query, after });
      yield* page.events;
      if (page.events.length === 0 || page.next >= page.head) return;
      after = page.next;
    }
  }

  /**
   * The chain log live (`GET /api/chain/events/stream`): every apply and rollback in seq order,
   * forever, resuming after the last seq received when the connection drops. Starts after
   * `lastEventId`, else after `after` (0: the whole log), else at the head.
   */
  async *follow(
    options: FollowOptions & NetworkOption & { after?: number } = {},
  ): AsyncGenerator<ChainEvent, void, undefined> {
    const { network, after, ...follow } = options;
    for await (const e of followEventStream(
      this.http,
      "/api/chain/events/stream",
      { query: { network, after } },
      follow,
    )) {
      if (e.event === "block.apply" || e.event === "block.rollback") yield JSON.parse(e.data) as ChainEvent;
    }
  }
}
