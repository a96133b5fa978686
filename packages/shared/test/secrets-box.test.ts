import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { generateSecret } from "@second-layer/sdk/webhooks";
import { parseSecretsKey, SecretsBox, SecretsBoxError, secretsKeySchema } from "../src/secrets-box.ts";

function errorOf(fn: () => unknown): SecretsBoxError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SecretsBoxError);
    return err as SecretsBoxError;
  }
  throw new Error("expected a SecretsBoxError");
}

describe("SECRETS_KEY", () => {
  test("32 bytes as hex, base64 or base64url all give the same key", () => {
    const key = randomBytes(32);
    for (const text of [
      key.toString("hex"),
      key.toString("hex").toUpperCase(),
      key.toString("base64"),
      key.toString("base64url"),
      ` ${key.toString("base64")}\n`,
    ]) {
      expect(parseSecretsKey(text).equals(key)).toBe(true);
    }
  });

  test("anything else is refused with a message naming SECRETS_KEY and not repeating the value", () => {
    for (const bad of [
      "",
      "short",
      randomBytes(16).toString("hex"),
      randomBytes(31).toString("base64"),
      randomBytes(33).toString("base64"),
      `${randomBytes(32).toString("hex")}00`,
      "z".repeat(64),
    ]) {
      const err = errorOf(() => parseSecretsKey(bad));
      expect(err.code).toBe("SECRETS_KEY_INVALID");
      expect(err.message).toContain("SECRETS_KEY");
      if (bad) expect(err.message).not.toContain(bad);
    }
    const parsed = secretsKeySchema.safeParse("nope");
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toContain("SECRETS_KEY");
  });
});

describe("SecretsBox", () => {
  const key = randomBytes(32).toString("base64");

  test("round trip, with a fresh IV each time, and nothing of the secret visible", () => {
    const box = new SecretsBox(key);
    const secret = generateSecret();
    const a = box.encrypt(secret, "stream-1");
    const b = box.encrypt(secret, "stream-1");
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(a).not.toContain(secret.slice(6, 20));
    expect(box.decrypt(a, "stream-1")).toBe(secret);
    expect(new SecretsBox(Buffer.from(key, "base64")).decrypt(b, "stream-1")).toBe(secret);
    expect(box.decrypt(box.encrypt("", ""))).toBe("");
  });

  test("a value sealed under another key says so", () => {
    const sealed = new SecretsBox(key).encrypt("whsec_x", "s");
    const err = errorOf(() => new SecretsBox(randomBytes(32)).decrypt(sealed, "s"));
    expect(err.code).toBe("SECRET_WRONG_KEY");
    expect(err.message).toContain("SECRETS_KEY");
  });

  test("any altered byte, a changed key id or another record's context fails authentication", () => {
    const box = new SecretsBox(key);
    const sealed = box.encrypt("whsec_abcdefghijklmnopqrstuvwxyz012345", "stream-1");
    const [version, id, iv, body] = sealed.split(".") as [string, string, string, string];
    const bodyBytes = Buffer.from(body, "base64url");
    for (let i = 0; i < bodyBytes.length; i++) {
      const altered = Buffer.from(bodyBytes);
      altered[i] = (altered[i] as number) ^ 0x01;
      const err = errorOf(() => box.decrypt([version, id, iv, altered.toString("base64url")].join("."), "stream-1"));
      expect(err.code).toBe("SECRET_TAMPERED");
    }
    const ivBytes = Buffer.from(iv, "base64url");
    ivBytes[0] = (ivBytes[0] as number) ^ 0x80;
    expect(
      errorOf(() => box.decrypt([version, id, ivBytes.toString("base64url"), body].join("."), "stream-1")).code,
    ).toBe("SECRET_TAMPERED");
    expect(errorOf(() => box.decrypt(sealed, "stream-2")).code).toBe("SECRET_TAMPERED");
    expect(errorOf(() => box.decrypt(sealed)).code).toBe("SECRET_TAMPERED");
  });

  test("malformed values and unknown versions are refused as such", () => {
    const box = new SecretsBox(key);
    const sealed = box.encrypt("x");
    for (const bad of [
      "",
      "whsec_plain",
      sealed.replace(/^v1/, "v2"),
      `${sealed}.extra`,
      sealed.split(".").slice(0, 3).join("."),
    ]) {
      expect(errorOf(() => box.decrypt(bad)).code).toBe("SECRET_FORMAT_INVALID");
    }
    const [v, id] = sealed.split(".");
    expect(errorOf(() => box.decrypt(`${v}.${id}.AAAA.AAAA`)).code).toBe("SECRET_FORMAT_INVALID");
  });

  test("a key of the wrong size is refused", () => {
    expect(errorOf(() => new SecretsBox(randomBytes(16))).code).toBe("SECRETS_KEY_INVALID");
    expect(errorOf(() => new SecretsBox("not a key")).code).toBe("SECRETS_KEY_INVALID");
  });
});
