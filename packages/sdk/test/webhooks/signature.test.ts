import { describe, expect, test } from "bun:test";
import { Webhook } from "standardwebhooks";
import {
  generateSecret,
  secretKey,
  sign,
  verifyWebhook,
  WebhookSecretError,
  webhookHeaders,
} from "../../src/webhooks/signature.ts";

// The test vector published with the Standard Webhooks reference libraries:
// github.com/standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts,
// test "sign function works" (the same values appear in the other languages' tests).
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

function expectCode(fn: () => unknown, code: string) {
  try {
    fn();
  } catch (err) {
    expect((err as { code?: string }).code).toBe(code);
    return;
  }
  throw new Error(`expected an error with code ${code}`);
}

describe("Standard Webhooks signing", () => {
  test("reproduces the specification's test vector", () => {
    expect(sign({ id: VECTOR.id, timestamp: VECTOR.timestamp, body: VECTOR.body, secrets: [VECTOR.secret] })).toBe(
      VECTOR.signature,
    );
    // Bytes sign the same as the string they encode.
    expect(
      sign({ id: VECTOR.id, timestamp: VECTOR.timestamp, body: Buffer.from(VECTOR.body), secrets: [VECTOR.secret] }),
    ).toBe(VECTOR.signature);
  });

  test("verifies the vector, and rejects it with a changed body, id or timestamp", () => {
    const headers = {
      "webhook-id": VECTOR.id,
      "webhook-timestamp": String(VECTOR.timestamp),
      "webhook-signature": VECTOR.signature,
    };
    const now = VECTOR.timestamp + 10;
    expect(verifyWebhook(VECTOR.secret, headers, VECTOR.body, { now })).toEqual({
      id: VECTOR.id,
      timestamp: VECTOR.timestamp,
    });
    expectCode(
      () => verifyWebhook(VECTOR.secret, headers, VECTOR.body.replace("2", "3"), { now }),
      "WEBHOOK_SIGNATURE_MISMATCH",
    );
    expectCode(
      () => verifyWebhook(VECTOR.secret, { ...headers, "webhook-id": "msg_other" }, VECTOR.body, { now }),
      "WEBHOOK_SIGNATURE_MISMATCH",
    );
    expectCode(
      () =>
        verifyWebhook(VECTOR.secret, { ...headers, "webhook-timestamp": String(VECTOR.timestamp + 1) }, VECTOR.body, {
          now,
        }),
      "WEBHOOK_SIGNATURE_MISMATCH",
    );
    expectCode(() => verifyWebhook(generateSecret(), headers, VECTOR.body, { now }), "WEBHOOK_SIGNATURE_MISMATCH");
  });

  test("timestamps outside the tolerance, malformed or missing headers are refused", () => {
    const secret = generateSecret();
    const body = '{"type":"block.apply"}';
    const at = 1_750_000_000;
    const headers = webhookHeaders({ id: "del_1", timestamp: at, body, secrets: [secret] });
    expect(verifyWebhook(secret, headers, body, { now: at + 300 }).id).toBe("del_1");
    expect(verifyWebhook(secret, headers, body, { now: at - 300 }).id).toBe("del_1");
    expectCode(() => verifyWebhook(secret, headers, body, { now: at + 301 }), "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE");
    expectCode(() => verifyWebhook(secret, headers, body, { now: at - 301 }), "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE");
    expect(verifyWebhook(secret, headers, body, { now: at + 1000, toleranceSeconds: 1000 }).id).toBe("del_1");
    expectCode(
      () => verifyWebhook(secret, { ...headers, "webhook-timestamp": "1e9" }, body, { now: at }),
      "WEBHOOK_TIMESTAMP_INVALID",
    );
    const { "webhook-signature": _s, ...unsigned } = headers;
    expectCode(() => verifyWebhook(secret, unsigned, body, { now: at }), "WEBHOOK_HEADERS_MISSING");
    // A truncated signature must not pass for a prefix of the real one.
    const truncated = { ...headers, "webhook-signature": headers["webhook-signature"].slice(0, 12) };
    expectCode(() => verifyWebhook(secret, truncated, body, { now: at }), "WEBHOOK_SIGNATURE_MISMATCH");
    // Header names are case-insensitive, in a plain object as in a Headers instance.
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWebhook(secret, upper, body, { now: at }).id).toBe("del_1");
    expect(verifyWebhook(secret, new Headers(headers), body, { now: at }).id).toBe("del_1");
  });

  test("rotation: one signature per secret, and a receiver with either secret verifies", () => {
    const [oldSecret, newSecret] = [generateSecret(), generateSecret()];
    const body = "{}";
    const at = 1_750_000_000;
    const headers = webhookHeaders({ id: "del_2", timestamp: at, body, secrets: [newSecret, oldSecret] });
    const parts = headers["webhook-signature"].split(" ");
    expect(parts).toHaveLength(2);
    for (const p of parts) expect(p).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(verifyWebhook(oldSecret, headers, body, { now: at }).id).toBe("del_2");
    expect(verifyWebhook(newSecret, headers, body, { now: at }).id).toBe("del_2");
    expect(verifyWebhook([generateSecret(), newSecret], headers, body, { now: at }).id).toBe("del_2");
  });

  test("agrees with the standardwebhooks package both ways", () => {
    for (let i = 0; i < 20; i++) {
      const secret = generateSecret(24 + i);
      const id = `del_${crypto.randomUUID()}`;
      const body = JSON.stringify({ seq: i, text: "ünïcödé ✓", big: "340282366920938463463374607431768211455" });
      const now = Math.floor(Date.now() / 1000);
      const theirs = new Webhook(secret);
      // Ours verified by theirs (it checks the timestamp against the real clock).
      const headers = webhookHeaders({ id, timestamp: now, body, secrets: [secret] });
      expect(theirs.verify(body, headers)).toEqual(JSON.parse(body));
      // Theirs verified by ours.
      const signature = theirs.sign(id, new Date(now * 1000), body);
      expect(signature).toBe(headers["webhook-signature"]);
      expect(
        verifyWebhook(
          secret,
          { "webhook-id": id, "webhook-timestamp": String(now), "webhook-signature": signature },
          body,
          {
            now,
          },
        ).id,
      ).toBe(id);
    }
  });
});

describe("secrets", () => {
  test("generated secrets are whsec_ + base64 of the requested length, all different", () => {
    const secrets = new Set(Array.from({ length: 50 }, () => generateSecret()));
    expect(secrets.size).toBe(50);
    for (const s of secrets) {
      expect(s).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      expect(secretKey(s)).toHaveLength(32);
    }
    expect(secretKey(generateSecret(24))).toHaveLength(24);
    expect(secretKey(generateSecret(64))).toHaveLength(64);
    expect(() => generateSecret(16)).toThrow(WebhookSecretError);
    expect(() => generateSecret(65)).toThrow(WebhookSecretError);
  });

  test("a malformed or too short secret is refused without repeating it", () => {
    for (const bad of ["whsec_not base64!", `whsec_${Buffer.alloc(16).toString("base64")}`, "whsec_"]) {
      let message = "";
      try {
        secretKey(bad);
      } catch (err) {
        expect(err).toBeInstanceOf(WebhookSecretError);
        message = (err as Error).message;
      }
      expect(message).not.toBe("");
      expect(message).not.toContain(bad.slice(6) || "\u0000");
    }
  });

  test("ids with a dot and empty secret lists cannot be signed", () => {
    expect(() => sign({ id: "a.b", timestamp: 1, body: "", secrets: [generateSecret()] })).toThrow();
    expect(() => sign({ id: "a", timestamp: 1, body: "", secrets: [] })).toThrow(WebhookSecretError);
  });
});
