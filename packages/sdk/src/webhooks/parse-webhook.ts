import type { WebhookBody } from "./payloads.ts";
import { type HeaderSource, type VerifyOptions, verifyWebhook } from "./signature.ts";

export interface VerifiedWebhook {
  /** `webhook-id`: the delivery's id, the same on every retry (deduplicate on it, or on seq). */
  id: string;
  /** `webhook-timestamp` of this attempt, unix seconds. */
  timestamp: number;
  body: WebhookBody;
}

/**
 * Verifies a received webhook (see verifyWebhook) and parses its body. Pass the raw body exactly as
 * received: a body parsed and serialized again does not keep its bytes, and its signature fails.
 */
export function parseWebhook(
  secrets: string | readonly string[],
  headers: HeaderSource,
  rawBody: string | Uint8Array,
  options?: VerifyOptions,
): VerifiedWebhook {
  const { id, timestamp } = verifyWebhook(secrets, headers, rawBody, options);
  const text = typeof rawBody === "string" ? rawBody : new TextDecoder().decode(rawBody);
  return { id, timestamp, body: JSON.parse(text) as WebhookBody };
}
