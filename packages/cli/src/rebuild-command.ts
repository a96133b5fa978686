import { parseArgs } from "node:util";
import { rebuildChain } from "@second-layer/indexer/ingest/rebuild";
import { openDatabase } from "./cli-db.ts";
import { ProgressBar } from "./progress-bar.ts";

function height(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new Error(`--${name} must be a block height (a non-negative integer), got ${JSON.stringify(value)}`);
  return Number(value);
}

export async function rebuildCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { from: { type: "string" }, to: { type: "string" }, restart: { type: "boolean", default: false } },
  });
  const from = height("from", values.from);
  const to = height("to", values.to);
  if (from !== undefined && to !== undefined && from > to) throw new Error(`--from ${from} is above --to ${to}`);
  const { config, db } = await openDatabase("rebuild");
  const bar = new ProgressBar("rebuild");
  try {
    const result = await rebuildChain(db, config.STACKS_NETWORK, {
      from,
      to,
      restart: values.restart,
      onProgress: (p) => bar.update(p.done, p.total, `${p.changed} changed${p.resumed ? " (resumed)" : ""}`),
    });
    bar.finish();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return result.unreadable > 0 ? 2 : 0;
  } finally {
    await db.close();
  }
}
