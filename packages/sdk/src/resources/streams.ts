import type { BodyOf, QueryOf, Transport } from "../http.ts";
import { paginate } from "../paginate.ts";
import { type FollowOptions, followEventStream } from "../sse.ts";
import type { DeliveryAttemptEvent, DeliveryQueuedEvent } from "../types.ts";

type DeliveriesQuery = Omit<QueryOf<"/api/streams/{id}/deliveries", "get">, "cursor">;
type ListQuery = Omit<QueryOf<"/api/streams", "get">, "cursor">;

/** One event of a stream's live log; `id` is where a reconnect resumes (`lastEventId`). */
export type StreamLogEvent =
  | { type: "delivery.queued"; id: string; data: DeliveryQueuedEvent }
  | { type: "delivery.attempt"; id: string; data: DeliveryAttemptEvent };

/** `/api/streams`: webhook streams, their deliveries and their live log. */
export class StreamsResource {
  constructor(private readonly http: Transport) {}

  /** Creates a stream; the answer has its signing secret, shown this once. */
  create(input: BodyOf<"/api/streams", "post">) {
    return this.http.call("post", "/api/streams", { body: input });
  }

  /** One page of the caller's streams, oldest first. */
  list(query: QueryOf<"/api/streams", "get"> = {}) {
    return this.http.call("get", "/api/streams", { query });
  }

  /** Every stream, page after page. */
  iterate(query: ListQuery = {}) {
    return paginate(
      (cursor) => this.list({ ...query, cursor }),
      (page) => page.streams,
    );
  }

  /** A stream with its delivery figures (`stats`). */
  get(id: string) {
    return this.http.call("get", "/api/streams/{id}", { params: { id } });
  }

  update(id: string, changes: BodyOf<"/api/streams/{id}", "patch">) {
    return this.http.call("patch", "/api/streams/{id}", { params: { id }, body: changes });
  }

  /** Deletes the stream and its deliveries. */
  async delete(id: string): Promise<void> {
    await this.http.call("delete", "/api/streams/{id}", { params: { id } });
  }

  /** Deliveries accumulate while paused and go out in order on resume. */
  pause(id: string) {
    return this.http.call("post", "/api/streams/{id}/pause", { params: { id } });
  }

  /** Resumes a paused or failed stream. */
  resume(id: string) {
    return this.http.call("post", "/api/streams/{id}/resume", { params: { id } });
  }

  /** The stream is no longer matched until enabled. */
  disable(id: string) {
    return this.http.call("post", "/api/streams/{id}/disable", { params: { id } });
  }

  enable(id: string) {
    return this.http.call("post", "/api/streams/{id}/enable", { params: { id } });
  }

  /** A new signing secret (shown once); the previous one keeps signing until `previousSecretExpiresAt`. */
  rotateSecret(id: string) {
    return this.http.call("post", "/api/streams/{id}/rotate-secret", { params: { id } });
  }

  /** Sends the stored canonical blocks of a height range again (bodies with `isBackfill: true`). */
  replay(id: string, range: BodyOf<"/api/streams/{id}/replay", "post">) {
    return this.http.call("post", "/api/streams/{id}/replay", { params: { id }, body: range });
  }

  /** Puts parked (failed) deliveries back in line with their seq and webhook-id. */
  redeliver(id: string) {
    return this.http.call("post", "/api/streams/{id}/redeliver", { params: { id } });
  }

  /** Sends a signed `stream.test` webhook now and tells what the receiver answered. */
  test(id: string) {
    return this.http.call("post", "/api/streams/{id}/test", { params: { id } });
  }

  /** One page of a stream's deliveries in queue order. */
  deliveries(id: string, query: QueryOf<"/api/streams/{id}/deliveries", "get"> = {}) {
    return this.http.call("get", "/api/streams/{id}/deliveries", { params: { id }, query });
  }

  /** Every delivery matching `query`; `{ afterSeq: n }` is what a consumer that handled up to n missed. */
  iterateDeliveries(id: string, query: DeliveriesQuery = {}) {
    return paginate(
      (cursor) => this.deliveries(id, { ...query, cursor }),
      (page) => page.deliveries,
    );
  }

  /** One delivery with its body and every attempt. */
  delivery(id: string, deliveryId: string) {
    return this.http.call("get", "/api/streams/{id}/deliveries/{deliveryId}", { params: { id, deliveryId } });
  }

  /** Creates the stream equivalent to a Hiro Chainhook predicate (with notes on how it differs). */
  importChainhook(predicate: BodyOf<"/api/streams/import/chainhook", "post">, query: ImportChainhookQuery = {}) {
    return this.http.call("post", "/api/streams/import/chainhook", {
      body: predicate,
      query: {
        ...query,
        dropAuthorizationHeader: flag(query.dropAuthorizationHeader),
        ignoreExpireAfterOccurrence: flag(query.ignoreExpireAfterOccurrence),
      },
    });
  }

  /**
   * The stream's deliveries and attempts as they happen (`GET /api/streams/{id}/logs`), resuming
   * after a dropped connection where it left off.
   */
  async *logs(id: string, options: FollowOptions & { backlog?: number } = {}): AsyncGenerator<StreamLogEvent> {
    const { backlog, ...follow } = options;
    for await (const e of followEventStream(
      this.http,
      "/api/streams/{id}/logs",
      { params: { id }, query: { backlog } },
      follow,
    )) {
      if (e.event !== "delivery.queued" && e.event !== "delivery.attempt") continue;
      yield { type: e.event, id: e.id ?? "", data: JSON.parse(e.data) } as StreamLogEvent;
    }
  }
}

export interface ImportChainhookQuery {
  /** The predicate's network to import (required when it has several). */
  network?: "mainnet" | "testnet" | "devnet";
  /** The stream's name (default: the predicate's). */
  name?: string;
  /** Accept that deliveries are signed instead of carrying the predicate's authorization_header. */
  dropAuthorizationHeader?: boolean;
  /** Accept that the stream keeps delivering after expire_after_occurrence matches. */
  ignoreExpireAfterOccurrence?: boolean;
}

const flag = (v: boolean | undefined) => (v === undefined ? undefined : v ? ("true" as const) : ("false" as const));
