import type { Db } from "@second-layer/shared/db/connect";
import type { Logger } from "@second-layer/shared/logger";
import { followNodeTip, type NodeTipOutcome } from "../store/follow-node-tip.ts";
import { fetchNodeInfo } from "./node-status.ts";

export type NodeTipCheck = NodeTipOutcome & { checkedAt: string };

/**
 * Every few seconds, asks the node (STACKS_NODE_RPC_URL) for its tip and makes sure it is canonical
 * here. What the last check found is reported by /health, so a disagreement is visible.
 */
export class NodeTipFollower {
  private timer: Timer | null = null;
  private running: Promise<unknown> | null = null;
  last: NodeTipCheck | null = null;

  constructor(private readonly opts: { db: Db; network: string; rpcUrl: string; intervalMs: number; log: Logger }) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.check().finally(() => {
        this.running = null;
      });
    }, this.opts.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One check; never throws (an unreachable node is reported by /health's own probe). */
  async check(): Promise<NodeTipCheck | null> {
    const { db, network, rpcUrl, log } = this.opts;
    try {
      const info = await fetchNodeInfo(rpcUrl);
      if (!info.stacks_tip || !info.stacks_tip_consensus_hash) return this.last;
      const tip = {
        blockHash: info.stacks_tip,
        consensusHash: info.stacks_tip_consensus_hash,
        height: info.stacks_tip_height,
      };
      const outcome = await db.sql.begin((tx) => followNodeTip(tx, network, tip));
      if (outcome.status === "followed") {
        log.warn(
          {
            height: outcome.height,
            indexBlockHash: outcome.indexBlockHash,
            orphaned: outcome.orphaned.length,
            reorgId: outcome.reorgId,
          },
          "the node's tip was not canonical here: fork choice now follows the node",
        );
      }
      this.last = { ...outcome, checkedAt: new Date().toISOString() };
    } catch (err) {
      log.debug({ err: (err as Error).message }, "node tip check failed");
    }
    return this.last;
  }
}
