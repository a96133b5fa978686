import { parseArgs } from "node:util";
import { Ingestor } from "@second-layer/indexer/ingest/ingestor";
import { reprocessJournal } from "@second-layer/indexer/ingest/reprocess";
import { openDatabase } from "./cli-db.ts";

export async function reprocessCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { id: { type: "string" }, all: { type: "boolean", default: false } },
  });
  const { config, db, log } = await openDatabase("reprocess");
  try {
    const ingestor = new Ingestor(db, config.STACKS_NETWORK, log);
    const summary = await reprocessJournal(db.sql, ingestor, { id: values.id, all: values.all }, (o) => {
      const line = o.ok
        ? `ok     #${o.journalId} ${o.path}`
        : `failed #${o.journalId} ${o.path}: ${o.error.code} ${o.error.message}`;
      process.stderr.write(`${line}\n`);
    });
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return summary.failed > 0 ? 2 : 0;
  } finally {
    await db.close();
  }
}
