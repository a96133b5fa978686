import { integrityReport } from "@second-layer/indexer/integrity/integrity";
import { openDatabase } from "./cli-db.ts";

export async function integrityCommand(): Promise<number> {
  const { config, db } = await openDatabase("integrity");
  try {
    const report = await integrityReport(db.sql, config.STACKS_NETWORK);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return report.status === "healthy" || report.status === "empty" ? 0 : 2;
  } finally {
    await db.close();
  }
}
