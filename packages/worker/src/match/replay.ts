import { loadBlocks } from "@second-layer/shared/chain-blocks";
import type { StacksNetwork } from "@second-layer/shared/config";
import type { Db } from "@second-layer/shared/db/connect";
import { DELIVERIES_CHANNEL } from "@second-layer/shared/streams/delivery-body";
import { parseStreamFilters, parseStreamOptions } from "@second-layer/shared/streams/filters";
import { matchStream } from "@second-layer/shared/streams/predicate";
import { z } from "zod";
import { type NewDelivery, writeDeliveries } from "./delivery-plan.ts";
import { applyDelivery } from "./payloads.ts";

export const replayRequestSchema = z.object({
  streamId: z.uuid(),
  fromBlock: z.number().int().nonnegative(),
  toBlock: z.number().int().nonnegative(),
});
export type ReplayRequest = z.infer<typeof replayRequestSchema>;

/**
 * Sends a stream the stored canonical blocks of a height range again, as `block.apply` deliveries with
 * `isBackfill: true`, after whatever it already has queued. A slice of blocks per transaction.
 */
export async function replayRange(db: Db, req: ReplayRequest, slice = 100): Promise<number> {
  let written = 0;
  for (let from = req.fromBlock; from <= req.toBlock; from += slice) {
    const to = Math.min(req.toBlock, from + slice - 1);
    written += await db.sql.begin(async (tx) => {
      const [stream] = await tx<
        { network: StacksNetwork; filters: unknown; options: unknown; confirmations: number }[]
      >`
        select network, filters, options, confirmations from streams where id = ${req.streamId}`;
      if (!stream) return 0;
      const filters = parseStreamFilters(stream.network, stream.filters);
      const options = parseStreamOptions(stream.options);
      const blocks = await tx<{ index_block_hash: string }[]>`
        select index_block_hash from blocks
        where network = ${stream.network} and canonical and block_height between ${from} and ${to}
        order by block_height`;
      const data = await loadBlocks(
        tx,
        stream.network,
        blocks.map((b) => b.index_block_hash),
      );
      const deliveries: NewDelivery[] = [];
      for (const { index_block_hash } of blocks) {
        const block = data.get(index_block_hash);
        const match = block && matchStream(filters, options, block.rows, stream.network);
        if (block && match) {
          const target = { id: req.streamId, options, confirmations: stream.confirmations };
          deliveries.push(applyDelivery(stream.network, target, block, match, { chainSeq: null, isBackfill: true }));
        }
      }
      const n = await writeDeliveries(tx, stream.network, deliveries);
      if (n > 0) await tx`select pg_notify(${DELIVERIES_CHANNEL}, ${stream.network})`;
      return n;
    });
  }
  return written;
}
