import { CHAIN_CHANNEL, type ChainWakeUp } from "@second-layer/shared/chain-log";
import type { Db } from "@second-layer/shared/db/connect";
import type { Logger } from "@second-layer/shared/logger";
import { DELIVERIES_CHANNEL } from "@second-layer/shared/streams/delivery-body";

export interface WakeTargets {
  chain(network: string): void;
  deliveries(): void;
}

/**
 * Turns NOTIFYs into pokes, so the matcher and the senders react in milliseconds. Only wake-ups: the
 * chain log and the deliveries table are the truth, and every loop also polls in case one is missed.
 */
export async function listenForWakeUps(db: Db, log: Logger, targets: WakeTargets): Promise<() => Promise<void>> {
  const chain = await db.sql.listen(CHAIN_CHANNEL, (payload) => {
    try {
      targets.chain((JSON.parse(payload) as ChainWakeUp).network);
    } catch {
      log.warn({ payload }, "unreadable chain wake-up ignored");
    }
  });
  const deliveries = await db.sql.listen(DELIVERIES_CHANNEL, () => targets.deliveries());
  return async () => {
    await chain.unlisten();
    await deliveries.unlisten();
  };
}
