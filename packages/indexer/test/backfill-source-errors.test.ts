import { expect, test } from "bun:test";
import { SourceError } from "@second-layer/indexer/backfill/block-source";
import { SecondLayerSource } from "@second-layer/indexer/backfill/second-layer-source";
import { StacksApiSource } from "@second-layer/indexer/backfill/stacks-api-source";
import { freePort } from "@second-layer/shared/db/local-postgres";
import { onCleanup } from "../../../test/support/cleanup.ts";

async function failureOf(fetchBlock: Promise<unknown>): Promise<SourceError> {
  const err = await fetchBlock.catch((e) => e);
  expect(err).toBeInstanceOf(SourceError);
  return err as SourceError;
}

test("source errors (which are logged) name the URL without its credentials or query string", async () => {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: () => new Response("overloaded", { status: 502 }),
  });
  onCleanup(() => server.stop(true));
  const signal = new AbortController().signal;
  const base = `http://backfill:hunter2@127.0.0.1:${server.port}/api`;

  const api = await failureOf(new StacksApiSource(base).fetchBlock(5, signal));
  expect(api.message).toContain(`GET http://backfill:***@127.0.0.1:${server.port}/api/extended/v2/blocks/5: HTTP 502`);
  const peer = await failureOf(new SecondLayerSource(base).fetchBlock(5, signal));
  expect(peer.message).toContain(`GET http://backfill:***@127.0.0.1:${server.port}/api/journal/blocks: HTTP 502`);
  const closed = `http://backfill:hunter2@127.0.0.1:${await freePort()}`;
  const refused = await failureOf(new SecondLayerSource(closed).fetchBlock(5, signal));
  expect(refused.message).toContain("GET http://backfill:***@127.0.0.1:");
  for (const err of [api, peer, refused]) expect(err.message).not.toContain("hunter2");
});
