import type { Config } from "@second-layer/shared/config";
import type { Sql } from "@second-layer/shared/db/connect";
import type { Logger } from "@second-layer/shared/logger";
import type { Ingestor } from "../ingest/ingestor.ts";
import { Backfiller } from "./backfiller.ts";
import type { BlockSource } from "./block-source.ts";
import { SecondLayerSource } from "./second-layer-source.ts";
import { StacksApiSource } from "./stacks-api-source.ts";

function sourceOf(config: Config, url: string): BlockSource {
  return config.AUTO_BACKFILL_SOURCE_TYPE === "second-layer"
    ? new SecondLayerSource(url)
    : new StacksApiSource(url, config.AUTO_BACKFILL_SOURCE_API_KEY);
}

/** The backfiller the AUTO_BACKFILL* variables ask for, not yet started; null when backfilling is off. */
export function backfillerFromConfig(
  config: Config,
  deps: { sql: Sql; ingestor: Ingestor; log: Logger },
): Backfiller | null {
  if (!config.AUTO_BACKFILL || !config.AUTO_BACKFILL_SOURCE) return null;
  return new Backfiller({
    ...deps,
    network: config.STACKS_NETWORK,
    source: sourceOf(config, config.AUTO_BACKFILL_SOURCE),
    log: deps.log.child({ component: "backfill" }),
    rate: config.AUTO_BACKFILL_RATE,
    graceSeconds: config.AUTO_BACKFILL_GRACE_SECONDS,
  });
}
