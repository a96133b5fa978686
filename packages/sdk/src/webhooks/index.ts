// `@second-layer/sdk/webhooks`: everything a webhook receiver needs, without the API client.
export { parseWebhook, type VerifiedWebhook } from "./parse-webhook.ts";
export type {
  BlockApplyBody,
  BlockPayload,
  BlockRollbackBody,
  ClarityPayload,
  DeliveryBody,
  EventPayload,
  PlainClarity,
  StreamTestBody,
  TransactionPayload,
  WebhookBody,
} from "./payloads.ts";
export { type SeqObservation, type SeqRange, SeqTracker, type SeqTrackerOptions } from "./seq-tracker.ts";
export {
  generateSecret,
  type HeaderSource,
  type SignInput,
  secretKey,
  sign,
  type VerifyOptions,
  verifyWebhook,
  WebhookSecretError,
  WebhookVerificationError,
  webhookHeaders,
} from "./signature.ts";
