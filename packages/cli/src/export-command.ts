import { createWriteStream } from "node:fs";
import { parseArgs } from "node:util";
import { exportJournal } from "@second-layer/indexer/ingest/journal-export";
import { formatEventLogRow } from "@second-layer/shared/event-log";
import { openDatabase } from "./cli-db.ts";

export async function exportCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { from: { type: "string" }, out: { type: "string" }, path: { type: "string", multiple: true } },
  });
  const { config, db } = await openDatabase("export");
  const out: NodeJS.WritableStream = values.out ? createWriteStream(values.out) : process.stdout;
  let rows = 0;
  try {
    for await (const row of exportJournal(db.sql, config.STACKS_NETWORK, {
      fromId: values.from,
      paths: values.path,
    })) {
      if (!out.write(`${formatEventLogRow(row)}\n`)) await new Promise<void>((r) => out.once("drain", () => r()));
      rows++;
    }
  } finally {
    if (out !== process.stdout) await new Promise<void>((r) => out.end(() => r()));
    await db.close();
  }
  process.stderr.write(`exported ${rows} journal rows\n`);
  return 0;
}
