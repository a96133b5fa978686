import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../src/config.ts";
import { formatEventLogRow, parseEventLog, unescapeCopyText } from "../src/event-log.ts";
import { toPostgresJson } from "../src/json-text.ts";

describe("loadConfig", () => {
  test("defaults make an empty environment valid", () => {
    const c = loadConfig({});
    expect(c.STACKS_NETWORK).toBe("mainnet");
    expect(c.REQUIRE_INTEGRITY).toBe(false);
    expect(c.MAX_BODY_BYTES).toBe(500 * 1024 * 1024);
  });

  test("names every bad variable at once", () => {
    let err: unknown;
    try {
      loadConfig({
        STACKS_NETWORK: "moonnet",
        PORT: "http",
        AUTO_BACKFILL: "sometimes",
        DATABASE_URL: "mysql://x",
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    for (const name of ["STACKS_NETWORK", "PORT", "AUTO_BACKFILL", "DATABASE_URL"]) expect(message).toContain(name);
  });
});

describe("event logs", () => {
  test("COPY-escaped payloads are unescaped; ISO-timestamped ones are taken raw", () => {
    // In COPY text a JSON escape's backslash is itself escaped: `\\n` in the file is `\n` in the JSON.
    const copy = String.raw`1	2022-10-05 16:20:34.244945+00	/new_block	{"a":"x\\ny","b":"\101"}`;
    const iso = String.raw`2	2025-10-16T16:10:40.482Z	/new_block	{"a":"x\ny"}`;
    const [a, b] = parseEventLog(`${copy}\n${iso}\n`);
    expect(JSON.parse(a?.payload as string)).toEqual({ a: "x\ny", b: "A" });
    expect(JSON.parse(b?.payload as string)).toEqual({ a: "x\ny" });
    expect(unescapeCopyText("\\x41\\\\")).toBe("A\\");
  });

  test("a malformed line names its line number", () => {
    expect(() => parseEventLog("ok\tonly-two")).toThrow(/line 1/);
  });

  test("our export rows read back unchanged", () => {
    const row = {
      id: "7",
      receivedAt: "2026-01-01T00:00:00.000Z",
      path: "/new_block",
      payload: '{"k":"v\\t"}',
    };
    expect(parseEventLog(formatEventLogRow(row))).toEqual([row]);
  });
});

describe("toPostgresJson", () => {
  test("drops NUL characters Postgres cannot store, keeps an escaped backslash before u0000", () => {
    expect(JSON.parse(toPostgresJson({ s: "a\u0000b" }))).toEqual({ s: "ab" });
    expect(JSON.parse(toPostgresJson({ s: "a\\u0000b" }))).toEqual({ s: "a\\u0000b" });
    expect(JSON.parse(toPostgresJson({ s: "a\\\u0000b" }))).toEqual({ s: "a\\b" });
  });
});
