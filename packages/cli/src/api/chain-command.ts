import type { ChainEvent } from "@second-layer/sdk";
import { intOption, type Subcommand } from "./api-command.ts";
import { EXIT } from "./cli-errors.ts";
import { jsonLine } from "./output.ts";

const line = (e: ChainEvent) =>
  `${String(e.seq).padStart(8)} ${e.kind.padEnd(8)} height ${e.block.height} ${e.block.indexBlockHash} txs ${e.block.txCount} events ${e.block.eventCount}${e.reorgId ? ` reorg ${e.reorgId}` : ""}\n`;

export const chainCommands: Record<string, Subcommand> = {
  follow: {
    usage: "[--after SEQ] [--network NET]",
    summary: "the chain log live (every apply and rollback), from the head or after SEQ; Ctrl-C stops",
    options: { after: { type: "string" }, network: { type: "string" } },
    async run(ctx, _p, values) {
      const events = ctx.sl.chain.follow({
        after: intOption(values, "after"),
        network: values.network as "mainnet" | "testnet" | "devnet" | undefined,
        signal: ctx.signal,
        onReconnect: (r) =>
          ctx.note(`connection lost (${r.reason}); resuming after seq ${r.lastEventId ?? "-"} in ${r.delayMs} ms\n`),
      });
      for await (const e of events) ctx.out(ctx.json ? jsonLine(e) : line(e));
      return EXIT.ok;
    },
  },
};
