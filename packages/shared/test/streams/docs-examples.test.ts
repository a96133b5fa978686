import { describe, expect, test } from "bun:test";
import { type DeliveryBody, verifyWebhook } from "@second-layer/sdk/webhooks";
import { fixtureBlocks } from "../../../../test/support/chain-rows.ts";
import { type DocBlock, docBlocks } from "../../../../test/support/doc-blocks.ts";
import type { StacksNetwork } from "../../src/config.ts";
import { deliveryBody } from "../../src/streams/delivery-body.ts";
import { FILTER_TYPES, parseStreamFilters, parseStreamOptions } from "../../src/streams/filters.ts";
import { matchesPayload } from "../../src/streams/payload.ts";
import { matchStream } from "../../src/streams/predicate.ts";

// docs/streams.md shows every filter type with the `matches` it delivers. Each ```json filter block
// must parse on its network; one with `fixture=` must produce, on the first block of that recorded
// log it matches, exactly the ```json matches block that follows it. The example body must have the
// fields the worker writes, and the example headers must verify against it.

const DOC = "docs/streams.md";
const blocks = docBlocks(DOC);
const filterBlocks = blocks.filter((b) => b.lang === "json" && b.words.includes("filter"));
const defaults = parseStreamOptions({});

function networkOf(b: DocBlock): StacksNetwork {
  const network = b.attrs.network ?? "mainnet";
  if (network !== "mainnet" && network !== "testnet" && network !== "devnet") {
    throw new Error(`${DOC}:${b.line}: unknown network ${network}`);
  }
  return network;
}

/** The `matches` a stream with this one filter gets for the first block of the log it matches. */
function firstMatches(filter: unknown, network: StacksNetwork, fixture: string) {
  const filters = parseStreamFilters(network, [filter]);
  for (const block of fixtureBlocks(fixture)) {
    const match = matchStream(filters, defaults, block, network);
    if (match) return matchesPayload(match, defaults);
  }
  return null;
}

describe(`filter examples of ${DOC}`, () => {
  test("every filter type has an example", () => {
    const types = new Set(filterBlocks.map((b) => (JSON.parse(b.text) as { type: string }).type));
    expect([...types].sort()).toEqual([...FILTER_TYPES].sort());
  });

  for (const b of filterBlocks) {
    test(`${DOC}:${b.line} parses as a ${networkOf(b)} filter`, () => {
      expect(() => parseStreamFilters(networkOf(b), [JSON.parse(b.text)])).not.toThrow();
    });
    const fixture = b.attrs.fixture;
    if (fixture === undefined) continue;
    test(`${DOC}:${b.line} delivers the matches shown after it (${fixture})`, () => {
      const shown = blocks[blocks.indexOf(b) + 1];
      expect(shown?.words).toContain("matches");
      expect(firstMatches(JSON.parse(b.text), networkOf(b), fixture)).toEqual(JSON.parse(shown?.text ?? "null"));
    });
  }
});

test(`the example body of ${DOC} has the fields of a delivery, and its headers verify`, () => {
  const bodyBlock = blocks.find((b) => b.words.includes("body"));
  const headerBlock = blocks.find((b) => b.words.includes("headers"));
  if (!bodyBlock || !headerBlock?.attrs.secret) throw new Error(`${DOC} has no example body and headers`);
  const body = JSON.parse(bodyBlock.text) as DeliveryBody;
  const { seq, ...payload } = body;
  const sent = deliveryBody(payload, seq);
  expect(sent).toBe(JSON.stringify(body));
  const headers = Object.fromEntries(
    headerBlock.text.split("\n").map((line) => line.split(": ", 2) as [string, string]),
  );
  expect(headers["webhook-seq"]).toBe(String(seq));
  const verified = verifyWebhook(headerBlock.attrs.secret, headers, sent, {
    now: Number(headers["webhook-timestamp"]),
  });
  expect(verified.id).toBe(headers["webhook-id"] as string);
  // The body is the stx_transfer example's block: the same matches.
  const transfer = filterBlocks.find((b) => b.text.includes('"stx_transfer"'));
  expect(body.matches).toEqual(JSON.parse(blocks[blocks.indexOf(transfer as DocBlock) + 1]?.text ?? "null"));
});
