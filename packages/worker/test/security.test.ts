import { afterEach, describe, expect, test } from "bun:test";
import { StreamValidationError } from "@second-layer/shared/streams/filters";
import { createStream, rotateStreamSecret } from "@second-layer/shared/streams/store";
import { parseAllowedHosts } from "@second-layer/shared/webhooks/url-guard";
import { Webhook } from "standardwebhooks";
import { createTestDatabase } from "../../../test/support/database.ts";
import {
  eventually,
  expectGapFreeSeq,
  stopScenarioWorkers,
  streamScenario,
} from "../../../test/support/stream-scenario.ts";
import { type Received, status } from "../../../test/support/webhook-receiver.ts";
import { createAccount, streamContext, testStream } from "../../../test/support/worker.ts";

// Webhooks go to public addresses only (at creation and again when connecting), and a rotated
// secret signs beside the new one for its grace period, verifiable by an independent implementation.

afterEach(stopScenarioWorkers);

function verifies(secret: string, r: Received | undefined): boolean {
  try {
    new Webhook(secret).verify(r?.raw ?? "", r?.headers ?? {});
    return true;
  } catch {
    return false;
  }
}

function signatures(r: Received | undefined): string[] {
  return (r?.headers["webhook-signature"] ?? "").split(" ");
}

describe("SSRF guard", () => {
  test("creating a stream with a loopback, private or metadata URL is refused on webhookUrl, unless the host is allowed", async () => {
    const db = await createTestDatabase();
    const account = await createAccount(db.sql);
    const strict = { ...streamContext(), allowedPrivateHosts: parseAllowedHosts("") };
    const input = (webhookUrl: string) => ({ name: "ssrf", webhookUrl, filters: [{ type: "block" }] });
    for (const url of [
      "http://127.0.0.1:8080/hook",
      "http://localhost/hook",
      "http://[::1]/hook",
      "http://10.1.2.3/hook",
      "http://192.168.0.10/hook",
      "http://169.254.169.254/latest/meta-data",
    ]) {
      const err = await createStream(db.sql, account, input(url), strict).catch((e) => e);
      expect(err).toBeInstanceOf(StreamValidationError);
      expect((err as StreamValidationError).details.map((d) => d.path)).toEqual(["webhookUrl"]);
      expect((err as StreamValidationError).message).toContain("WEBHOOK_ALLOWED_PRIVATE_HOSTS");
    }
    const [count] = await db.sql`select count(*)::int as n from streams`;
    expect(count?.n).toBe(0);

    const exempt = { ...strict, allowedPrivateHosts: parseAllowedHosts("127.0.0.1") };
    const { stream } = await createStream(db.sql, account, input("http://127.0.0.1:8080/hook"), exempt);
    expect(stream.webhookUrl).toBe("http://127.0.0.1:8080/hook");
    // The exemption names a host, not a range.
    const other = await createStream(db.sql, account, input("http://10.1.2.3/hook"), exempt).catch((e) => e);
    expect(other).toBeInstanceOf(StreamValidationError);
  });

  test("at send time, a worker that does not allow the host refuses to connect, and records why", async () => {
    const s = await streamScenario();
    // Created where 127.0.0.1 and localhost are allowed; sent by a worker where nothing is.
    const byAddress = await s.stream("by-address");
    const { stream } = await testStream(s.db.sql, s.account, {
      name: "by-name",
      webhookUrl: `${s.receiver.base.replace("127.0.0.1", "localhost")}/by-name`,
      filters: [{ type: "block" }],
    });
    await s.startWorker({ WEBHOOK_ALLOWED_PRIVATE_HOSTS: "", WEBHOOK_RETRY_SCHEDULE: "50ms" });
    await s.extend("a", 1, 1, "g");

    for (const [streamId, host] of [
      [byAddress, "127.0.0.1"],
      [stream.id, "localhost"],
    ] as const) {
      const attempts = await eventually(`${host}: both attempts recorded`, async () => {
        const rows = await s.db.sql<{ status_code: number | null; error: string }[]>`
          select status_code, error from delivery_attempts where stream_id = ${streamId} order by id`;
        return rows.length === 2 ? rows : null;
      });
      for (const a of attempts) {
        expect(a.status_code).toBeNull();
        expect(a.error).toMatch(/is a loopback address; webhooks go to public addresses only/);
        if (host === "localhost") expect(a.error).toContain("(resolved from localhost)");
      }
      const [row] = await s.db.sql`select status from deliveries where stream_id = ${streamId}`;
      expect(row?.status).toBe("failed");
    }
    expect(s.receiver.received).toHaveLength(0);
  });
  test("a redirect is not followed (it could point anywhere): the attempt fails with its status", async () => {
    const s = await streamScenario();
    await s.startWorker({ WEBHOOK_RETRY_SCHEDULE: "50ms" });
    const streamId = await s.stream("redirects");
    s.receiver.setBehavior("redirects", () => status(307, { location: s.receiver.url("elsewhere") }));
    await s.extend("a", 1, 1, "g");
    const [row] = await eventually("the delivery parked", async () => {
      const rows = await s.db.sql`select status, attempts, last_status from deliveries where stream_id = ${streamId}`;
      return rows[0]?.status === "failed" ? rows : null;
    });
    expect(row).toEqual({ status: "failed", attempts: 2, last_status: 307 });
    expect(s.receiver.at("redirects")).toHaveLength(2);
    expect(s.receiver.at("elsewhere")).toHaveLength(0);
  });
});

describe("secret rotation", () => {
  test("during the grace period both secrets sign (either verifies alone); after it, only the new one", async () => {
    const s = await streamScenario();
    await s.startWorker();
    const { stream, secret: original } = await testStream(s.db.sql, s.account, {
      webhookUrl: s.receiver.url("rotated"),
      filters: [{ type: "block" }],
    });
    const streamId = stream.id;
    s.receiver.setSecret("rotated", original);
    await s.extend("a", 1, 1, "g");
    await s.receiver.waitFor(() => s.receiver.acknowledged("rotated").length === 1, 20_000, "the first delivery");
    expect(signatures(s.receiver.acknowledged("rotated")[0])).toHaveLength(1);

    const rotated = await rotateStreamSecret(s.db.sql, null, streamId, 3600, streamContext());
    const next = rotated?.secret as string;
    expect(next).toMatch(/^whsec_/);
    expect(next).not.toBe(original);
    await s.extend("a", 2, 2, "a1");
    await s.receiver.waitFor(() => s.receiver.acknowledged("rotated").length === 2, 20_000, "the second delivery");
    const during = s.receiver.acknowledged("rotated")[1];
    expect(signatures(during)).toHaveLength(2);
    expect(signatures(during).every((sig) => sig.startsWith("v1,"))).toBe(true);
    expect(verifies(original, during)).toBe(true);
    expect(verifies(next, during)).toBe(true);

    // The grace period ends: moved to now rather than waited out.
    await s.db.sql`update streams set previous_secret_expires_at = now() where id = ${streamId}`;
    s.receiver.setSecret("rotated", next);
    await s.extend("a", 3, 3, "a2");
    await s.receiver.waitFor(() => s.receiver.acknowledged("rotated").length === 3, 20_000, "the third delivery");
    const after = s.receiver.acknowledged("rotated")[2];
    expect(signatures(after)).toHaveLength(1);
    expect(verifies(next, after)).toBe(true);
    expect(verifies(original, after)).toBe(false);
    expectGapFreeSeq(s.receiver.acknowledged("rotated"), streamId);
  });

  test("a rotation while a worker holds the stream's lease signs the very next delivery with both secrets", async () => {
    const s = await streamScenario();
    await s.startWorker();
    const { stream, secret: original } = await testStream(s.db.sql, s.account, {
      webhookUrl: s.receiver.url("held"),
      filters: [{ type: "block" }],
    });
    s.receiver.setSecret("held", original);
    // Block 1's POST is answered only once the secret is rotated and block 2 is matched: the same
    // lease then goes straight on to block 2.
    const answer = s.receiver.holdFirst("held");
    await s.extend("a", 1, 1, "g");
    await s.receiver.waitFor(() => s.receiver.at("held").length === 1, 20_000, "the first POST");
    const next = (await rotateStreamSecret(s.db.sql, null, stream.id, 3600, streamContext()))?.secret as string;
    await s.extend("a", 2, 2, "a1");
    await eventually("block 2 matched", async () => {
      const [row] = await s.db.sql`select count(*)::int as n from deliveries where stream_id = ${stream.id}`;
      return row?.n === 2;
    });
    answer();
    await s.receiver.waitFor(() => s.receiver.acknowledged("held").length === 2, 20_000, "the second delivery");
    const second = s.receiver.acknowledged("held")[1];
    expect(signatures(second)).toHaveLength(2);
    expect(verifies(next, second)).toBe(true);
    expect(verifies(original, second)).toBe(true);
  });
});
