// The webhook body of a delivery. The payload is stored without `seq`: a stream's seq is handed out
// when a delivery is first sent, so deliveries cancelled before that (a rollback of an unsent apply,
// a held apply under `confirmations`) leave no gap a consumer would have to explain.

/** NOTIFY channel for "deliveries were written or became due"; payload: the network. Only a wake-up. */
export const DELIVERIES_CHANNEL = "second_layer_deliveries";

import type { DeliveryBody } from "@second-layer/sdk/webhooks";

export type { DeliveryBody };

/** A delivery as stored: its body (the SDK's DeliveryBody, the consumers' contract) without the seq. */
export type DeliveryPayload = Omit<DeliveryBody, "seq">;

/** The exact body sent for a delivery; the same bytes on every attempt (its signature covers them). */
export function deliveryBody(payload: DeliveryPayload, seq: number): string {
  const body: DeliveryBody = {
    type: payload.type,
    streamId: payload.streamId,
    seq,
    network: payload.network,
    block: payload.block,
    matches: payload.matches,
    matchedFilters: payload.matchedFilters,
    isBackfill: payload.isBackfill,
  };
  return JSON.stringify(body);
}
