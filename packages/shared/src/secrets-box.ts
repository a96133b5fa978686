import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { z } from "zod";

// Stream secrets at rest: AES-256-GCM under SECRETS_KEY. A stored value reads
// `v1.<key id>.<base64url iv>.<base64url ciphertext+tag>`. The key id (a keyed hash of the key, not
// the key) tells "encrypted under another SECRETS_KEY" apart from "altered"; the version, key id and
// the caller's context (e.g. the stream id) are authenticated, so a value moved to another row or
// edited anywhere fails to open.

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const GENERATE_HINT = "generate one with `openssl rand -base64 32` (or `openssl rand -hex 32`)";

export type SecretsBoxErrorCode =
  | "SECRETS_KEY_INVALID"
  | "SECRET_WRONG_KEY"
  | "SECRET_TAMPERED"
  | "SECRET_FORMAT_INVALID";

export class SecretsBoxError extends Error {
  constructor(
    readonly code: SecretsBoxErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * SECRETS_KEY as 32 bytes: 64 hex digits, or base64 / base64url of 32 bytes (43 or 44 characters).
 * The message names the variable and never repeats its value.
 */
export function parseSecretsKey(text: string): Buffer {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, "hex");
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const key = Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (key.length === KEY_BYTES) return key;
  }
  throw new SecretsBoxError(
    "SECRETS_KEY_INVALID",
    `SECRETS_KEY must be 32 bytes, written as 64 hex digits or 44 base64 characters; ${GENERATE_HINT}`,
  );
}

/** For the config schema: SECRETS_KEY parsed to its 32 bytes, with the same message when it is not. */
export const secretsKeySchema = z.string().transform((text, ctx) => {
  try {
    return parseSecretsKey(text);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
    return z.NEVER;
  }
});

function keyId(key: Buffer): string {
  return createHmac("sha256", key).update("second-layer secrets-box key id").digest("hex").slice(0, 8);
}

export class SecretsBox {
  private readonly key: Buffer;
  private readonly id: string;

  /** `key`: 32 bytes, or SECRETS_KEY as text (see parseSecretsKey). */
  constructor(key: Buffer | string) {
    this.key = typeof key === "string" ? parseSecretsKey(key) : key;
    if (this.key.length !== KEY_BYTES) {
      throw new SecretsBoxError("SECRETS_KEY_INVALID", `SECRETS_KEY must be 32 bytes; ${GENERATE_HINT}`);
    }
    this.id = keyId(this.key);
  }

  /** Encrypts `plaintext`, bound to `context` (the same context must be given to open it). */
  encrypt(plaintext: string, context = ""): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(this.aad(this.id, context));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, this.id, iv.toString("base64url"), body.toString("base64url")].join(".");
  }

  /** Decrypts what `encrypt` produced; throws SecretsBoxError saying whether the key, the value or its shape is wrong. */
  decrypt(sealed: string, context = ""): string {
    const parts = sealed.split(".");
    if (parts.length !== 4 || parts[0] !== VERSION) {
      throw new SecretsBoxError("SECRET_FORMAT_INVALID", `a sealed secret starts with ${VERSION}. and has 4 parts`);
    }
    const [, id, ivText, bodyText] = parts as [string, string, string, string];
    if (id !== this.id) {
      throw new SecretsBoxError(
        "SECRET_WRONG_KEY",
        `this secret was sealed under another SECRETS_KEY (key id ${id}; the configured key's id is ${this.id})`,
      );
    }
    const iv = Buffer.from(ivText, "base64url");
    const body = Buffer.from(bodyText, "base64url");
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) {
      throw new SecretsBoxError("SECRET_FORMAT_INVALID", "a sealed secret's iv or body has the wrong length");
    }
    const decipher = createDecipheriv("aes-256-gcm", this.key, iv);
    decipher.setAAD(this.aad(id, context));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString(
        "utf8",
      );
    } catch {
      throw new SecretsBoxError(
        "SECRET_TAMPERED",
        "a sealed secret failed authentication: it was altered, or belongs to another record",
      );
    }
  }

  private aad(id: string, context: string): Buffer {
    return Buffer.from(`${VERSION}.${id}.${context}`, "utf8");
  }
}
