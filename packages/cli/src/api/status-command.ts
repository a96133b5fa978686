import type { Status } from "@second-layer/sdk";
import type { Subcommand } from "./api-command.ts";
import { EXIT } from "./cli-errors.ts";
import { fields, json } from "./output.ts";

const block = (b: Status["chainTip"]) => (b ? `${b.height} ${b.indexBlockHash}` : null);

/** `sl status`: the API's /status; exits 2 when it reports `degraded`. */
export const statusCommand: Subcommand = {
  usage: "",
  summary: "chain, integrity, streams, deliveries and views at a glance; exits 2 when degraded",
  async run(ctx) {
    const s = await ctx.sl.status();
    if (ctx.json) ctx.out(json(s));
    else {
      ctx.out(
        fields([
          ["status", s.status],
          ["network", s.network],
          ["chain tip", block(s.chainTip)],
          ["last contiguous", block(s.lastContiguousBlock)],
          ["integrity", s.integrity],
          ["missing blocks", s.totalMissingBlocks],
          ["failed bodies", s.failedBodies],
          ["chain log seq", s.chainLog.seq],
          ["matcher lag", `${s.lag.chainLogEntries} entries, ${s.lag.blocks} blocks`],
          [
            "streams",
            Object.entries(s.streams)
              .map(([k, v]) => `${v} ${k}`)
              .join(", "),
          ],
          ["deliveries", `${s.queue.pending} pending, ${s.queue.running} sending, ${s.queue.failed} parked`],
          ["views", `${s.views.active} active, ${s.views.error} stopped by an error`],
          ["last 24 h", `${s.deliveries24h.sent} sent, ${s.deliveries24h.failed} failed attempts`],
          ["api", ctx.sl.baseUrl],
        ]),
      );
    }
    return s.status === "ok" ? EXIT.ok : EXIT.failed;
  },
};
