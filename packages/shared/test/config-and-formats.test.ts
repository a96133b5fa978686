import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onCleanup } from "../../../test/support/cleanup.ts";
import { ConfigError, loadConfig } from "../src/config.ts";
import { formatEventLogRow, parseEventLog, unescapeCopyText } from "../src/event-log.ts";
import { inIpRanges, parseIpAddress, parseIpRange } from "../src/ip-ranges.ts";
import { toPostgresJson } from "../src/json-text.ts";
import { redactUrl } from "../src/redact-url.ts";

describe("loadConfig", () => {
  test("defaults make an empty environment valid", () => {
    const c = loadConfig({});
    expect(c.STACKS_NETWORK).toBe("mainnet");
    expect(c.REQUIRE_INTEGRITY).toBe(false);
    expect(c.MAX_BODY_BYTES).toBe(500 * 1024 * 1024);
    expect(c.HOST).toBe("127.0.0.1");
    expect(c.TRUST_PROXY).toBe(0);
    expect(c.MAX_INFLIGHT_BODY_BYTES).toBe(1024 * 1024 * 1024);
    const allowed = (address: string) => inIpRanges(parseIpAddress(address)!, c.OBSERVER_ALLOWED_IPS);
    for (const local of ["127.0.0.1", "10.2.3.4", "172.31.0.1", "192.168.1.1", "::1", "fd00::1", "::ffff:10.0.0.1"]) {
      expect(allowed(local)).toBe(true);
    }
    for (const remote of ["8.8.8.8", "172.32.0.1", "2001:db8::1", "::ffff:8.8.8.8"])
      expect(allowed(remote)).toBe(false);
  });

  test("TRUST_PROXY is off, one hop, or a count of hops", () => {
    expect(loadConfig({ TRUST_PROXY: "false" }).TRUST_PROXY).toBe(0);
    expect(loadConfig({ TRUST_PROXY: "true" }).TRUST_PROXY).toBe(1);
    expect(loadConfig({ TRUST_PROXY: "3" }).TRUST_PROXY).toBe(3);
    expect(() => loadConfig({ TRUST_PROXY: "-1" })).toThrow(/TRUST_PROXY/);
  });

  test("the in-flight cap grows with MAX_BODY_BYTES by default, and may not be set below it", () => {
    expect(loadConfig({ MAX_BODY_BYTES: String(2 ** 31) }).MAX_INFLIGHT_BODY_BYTES).toBe(2 ** 31);
    expect(() => loadConfig({ MAX_BODY_BYTES: "1000", MAX_INFLIGHT_BODY_BYTES: "999" })).toThrow(
      /MAX_INFLIGHT_BODY_BYTES="999": must be at least MAX_BODY_BYTES \(1000\)/,
    );
  });

  test("a bad CIDR in OBSERVER_ALLOWED_IPS is named", () => {
    const message = configErrorOf({ OBSERVER_ALLOWED_IPS: "10.0.0.0/8, 10.0.0.0/33" });
    expect(message).toContain("OBSERVER_ALLOWED_IPS");
    expect(message).toContain('"10.0.0.0/33" is not an IP address or CIDR range');
  });

  test("a bad URL is shown with its password masked; secrets are never shown", () => {
    const message = configErrorOf({
      DATABASE_URL: "mysql://indexer:hunter2@db.internal:3306/chain?sslkey=topsecret",
      STACKS_NODE_RPC_URL: "not a url, token:s3cr3t@node",
      AUTO_BACKFILL_SOURCE_API_KEY: "key-with-a-newline\nhunter3",
    });
    expect(message).toContain("AUTO_BACKFILL_SOURCE_API_KEY=(hidden): must be printable ASCII");
    expect(message).toContain('DATABASE_URL="mysql://indexer:***@db.internal:3306/chain"');
    expect(message).toContain("STACKS_NODE_RPC_URL=");
    for (const secret of ["hunter2", "topsecret", "s3cr3t", "hunter3", "key-with"])
      expect(message).not.toContain(secret);
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

describe("secrets from files (X_FILE)", () => {
  const dir = mkdtempSync(join(tmpdir(), "sl-config-"));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const key = randomBytes(32).toString("base64");
  const adminKey = `sk_live_${"a1".repeat(12)}`;

  test("SECRETS_KEY_FILE and API_BOOTSTRAP_KEY_FILE fill the variables, trailing newline and all", () => {
    const c = loadConfig({
      SECRETS_KEY_FILE: write("secrets-key", `${key}\n`),
      API_BOOTSTRAP_KEY_FILE: write("admin-key", `${adminKey}\n`),
    });
    expect(c.SECRETS_KEY).toBe(key);
    expect(c.API_BOOTSTRAP_KEY).toBe(adminKey);
  });

  test("a value in the environment wins over the file", () => {
    const other = randomBytes(32).toString("hex");
    const c = loadConfig({ SECRETS_KEY: other, SECRETS_KEY_FILE: write("ignored", key) });
    expect(c.SECRETS_KEY).toBe(other);
  });

  test("a missing or empty file is named with its path; a bad value read from a file is never shown", () => {
    const missing = join(dir, "nope");
    const message = configErrorOf({
      SECRETS_KEY_FILE: missing,
      API_BOOTSTRAP_KEY_FILE: write("empty", "\n"),
    });
    expect(message).toContain(`SECRETS_KEY_FILE="${missing}": cannot read the file (ENOENT)`);
    expect(message).toContain("API_BOOTSTRAP_KEY_FILE=");
    expect(message).toContain("the file is empty");
    const bad = configErrorOf({ SECRETS_KEY_FILE: write("short", "c2hvcnQtYW5kLXNlY3JldA==") });
    expect(bad).toContain("SECRETS_KEY=(hidden) (read from SECRETS_KEY_FILE): must be 32 bytes");
    expect(bad).not.toContain("c2hvcnQtYW5kLXNlY3JldA");
  });
});

function configErrorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("redactUrl", () => {
  test("masks the password, hides a bare user name (a token), drops query and fragment", () => {
    expect(redactUrl("postgres://sl:pw@db:5432/sl?sslmode=require")).toBe("postgres://sl:***@db:5432/sl");
    expect(redactUrl("https://ghp_token@example.com/x#frag")).toBe("https://***@example.com/x");
    expect(redactUrl("https://api.example.com/v2/info?api_key=k")).toBe("https://api.example.com/v2/info");
    expect(redactUrl("http://127.0.0.1:20443")).toBe("http://127.0.0.1:20443");
  });

  test("text that is not a URL is masked up to its last @", () => {
    expect(redactUrl("postgres://u:p?ss@host/db?x=1")).toBe("postgres://***@host/db");
    expect(redactUrl("user:pa ss@host")).toBe("***@host");
    expect(redactUrl("localhost:5432")).toBe("localhost:5432");
  });
});

describe("IP ranges", () => {
  test("CIDRs, single hosts and IPv4-mapped IPv6 forms", () => {
    const ranges = ["10.0.0.0/8", "192.0.2.7", "::ffff:198.51.100.0/120", "fc00::/7"].map(parseIpRange);
    const inside = (a: string) => inIpRanges(parseIpAddress(a)!, ranges);
    expect(["10.255.0.1", "192.0.2.7", "198.51.100.9", "::ffff:10.0.0.1", "fd12::1"].map(inside)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(["11.0.0.1", "192.0.2.8", "198.51.101.1", "fe80::1"].map(inside)).toEqual([false, false, false, false]);
  });

  test("only dotted-quad IPv4, valid prefixes", () => {
    for (const bad of ["10/8", "10.0.0.0/33", "10.1", "0x0a000001", "", "host.example"]) {
      expect(() => parseIpRange(bad)).toThrow(`"${bad}" is not an IP address or CIDR range`);
    }
    expect(parseIpAddress("10.1")).toBeNull();
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
