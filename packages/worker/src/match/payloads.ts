import type { BlockData } from "@second-layer/shared/chain-blocks";
import type { StacksNetwork } from "@second-layer/shared/config";
import type { DeliveryPayload } from "@second-layer/shared/streams/delivery-body";
import { blockPayload, matchesPayload, type PayloadCache } from "@second-layer/shared/streams/payload";
import type { StreamMatch } from "@second-layer/shared/streams/predicate";
import type { NewDelivery } from "./delivery-plan.ts";
import type { RegisteredStream } from "./stream-registry.ts";

/** Events and transactions rendered for one stream, reused for the next that matched them. */
const rendered: PayloadCache = new WeakMap();

/** The `block.apply` delivery of what a stream matched in a block. */
export function applyDelivery(
  network: StacksNetwork,
  stream: Pick<RegisteredStream, "id" | "options" | "confirmations">,
  data: BlockData,
  match: StreamMatch,
  origin: { chainSeq: number | null; isBackfill: boolean },
): NewDelivery {
  const payload: DeliveryPayload = {
    type: "block.apply",
    streamId: stream.id,
    network,
    block: blockPayload(data.block, stream.options),
    matches: matchesPayload(match, stream.options, rendered),
    matchedFilters: match.matchedFilters,
    isBackfill: origin.isBackfill,
  };
  return {
    streamId: stream.id,
    kind: "apply",
    indexBlockHash: data.block.index_block_hash,
    blockHeight: data.block.block_height,
    burnBlockHeight: data.block.burn_block_height,
    chainSeq: origin.chainSeq,
    isBackfill: origin.isBackfill,
    // Finality: held until the block's burn block is `confirmations` Bitcoin blocks deep.
    holdUntilBurnHeight: stream.confirmations > 0 ? data.block.burn_block_height + stream.confirmations : null,
    payload,
  };
}
