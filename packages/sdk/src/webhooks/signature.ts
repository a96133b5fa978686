import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

// Standard Webhooks (https://www.standardwebhooks.com, spec/standard-webhooks.md in
// github.com/standard-webhooks/standard-webhooks): HMAC-SHA256 over "id.timestamp.body" keyed with
// the base64-decoded secret, sent as `v1,<base64>`; several signatures, space-separated, let a
// consumer move to a new secret while the old one still verifies.

const PREFIX = "whsec_";
/** The specification's bounds for a symmetric secret. */
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;

export class WebhookSecretError extends Error {
  readonly code = "WEBHOOK_SECRET_INVALID";
}

export class WebhookVerificationError extends Error {
  constructor(
    readonly code:
      | "WEBHOOK_HEADERS_MISSING"
      | "WEBHOOK_TIMESTAMP_INVALID"
      | "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE"
      | "WEBHOOK_SIGNATURE_MISMATCH",
    message: string,
  ) {
    super(message);
  }
}

/** A new secret: `whsec_` + base64 of `bytes` random bytes (24 to 64; default 32). */
export function generateSecret(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    throw new WebhookSecretError(`a secret has ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes, not ${bytes}`);
  }
  return PREFIX + randomBytes(bytes).toString("base64");
}

/** The key bytes of a secret, with or without the `whsec_` prefix. The message never repeats the secret. */
export function secretKey(secret: string): Uint8Array {
  const encoded = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    throw new WebhookSecretError("a webhook secret is whsec_ followed by base64");
  }
  const key = Buffer.from(encoded, "base64");
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw new WebhookSecretError(`a webhook secret decodes to ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes`);
  }
  return key;
}

export interface SignInput {
  /** The message id (`webhook-id`): stable across retries of one delivery. */
  id: string;
  /** Unix seconds of this attempt (`webhook-timestamp`). */
  timestamp: number;
  /** The exact bytes sent as the body. */
  body: string | Uint8Array;
  /** Every secret a signature is wanted for (more than one while rotating). */
  secrets: readonly string[];
}

function signature(key: Uint8Array, id: string, timestamp: number, body: string | Uint8Array): Buffer {
  return createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The `webhook-signature` header value: `v1,<base64>` per secret, space-separated. */
export function sign({ id, timestamp, body, secrets }: SignInput): string {
  // A "." in the id would let one (id, timestamp, body) split pass for another.
  if (id.length === 0 || id.includes(".")) throw new Error("a webhook id is non-empty and has no '.'");
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new Error("a webhook timestamp is whole unix seconds");
  if (secrets.length === 0) throw new WebhookSecretError("at least one secret is needed to sign");
  return secrets.map((s) => `v1,${signature(secretKey(s), id, timestamp, body).toString("base64")}`).join(" ");
}

/** The three Standard Webhooks headers of one attempt. */
export function webhookHeaders(
  input: SignInput,
): Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string> {
  return {
    "webhook-id": input.id,
    "webhook-timestamp": String(input.timestamp),
    "webhook-signature": sign(input),
  };
}

export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(" ") : value;
  }
  return undefined;
}

export interface VerifyOptions {
  /** How far the timestamp may be from now, either way (default 300 s). */
  toleranceSeconds?: number;
  /** Unix seconds to check against (default: the clock). */
  now?: number;
}

/**
 * Checks a received webhook: headers present, timestamp within tolerance, and some `v1` signature
 * equal (in constant time) to one computed with one of `secrets`. Throws WebhookVerificationError.
 */
export function verifyWebhook(
  secrets: string | readonly string[],
  headers: HeaderSource,
  rawBody: string | Uint8Array,
  { toleranceSeconds = 300, now = Math.floor(Date.now() / 1000) }: VerifyOptions = {},
): { id: string; timestamp: number } {
  const id = header(headers, "webhook-id");
  const timestampText = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestampText || !signatures) {
    throw new WebhookVerificationError(
      "WEBHOOK_HEADERS_MISSING",
      "webhook-id, webhook-timestamp and webhook-signature are all required",
    );
  }
  if (!/^\d{1,15}$/.test(timestampText)) {
    throw new WebhookVerificationError("WEBHOOK_TIMESTAMP_INVALID", "webhook-timestamp is not unix seconds");
  }
  const timestamp = Number(timestampText);
  if (Math.abs(now - timestamp) > toleranceSeconds) {
    throw new WebhookVerificationError(
      "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE",
      `webhook-timestamp ${timestamp} is more than ${toleranceSeconds} s from now (${now})`,
    );
  }
  const given = signatures
    .split(" ")
    .filter((s) => s.startsWith("v1,"))
    .map((s) => Buffer.from(s.slice(3), "base64"));
  for (const secret of typeof secrets === "string" ? [secrets] : secrets) {
    const expected = signature(secretKey(secret), id, timestamp, rawBody);
    for (const candidate of given) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return { id, timestamp };
    }
  }
  throw new WebhookVerificationError("WEBHOOK_SIGNATURE_MISMATCH", "no webhook-signature matches the body");
}
