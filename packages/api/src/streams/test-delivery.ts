import { type SealedSecrets, signingSecrets } from "@second-layer/shared/streams/signing-secrets";
import { postWebhook } from "@second-layer/shared/webhooks/post-webhook";
import type { ApiDeps } from "../http/app-env.ts";

interface StreamRow extends SealedSecrets {
  network: string;
  webhook_url: string;
}

/**
 * A signed `stream.test` webhook sent right now, so an owner can check their receiver and its
 * signature check. It is not a delivery: no seq, not retried, not recorded.
 */
export async function sendTestDelivery(deps: ApiDeps, accountId: string, streamId: string) {
  const [stream] = await deps.db.sql<StreamRow[]>`
    select id, network, webhook_url, secret_enc, previous_secret_enc, previous_secret_expires_at
    from streams where id = ${streamId} and account_id = ${accountId}`;
  if (!stream) return null;
  const secrets = signingSecrets(deps.secrets, stream);
  const webhookId = `test_${crypto.randomUUID().replaceAll("-", "")}`;
  const body = JSON.stringify({
    type: "stream.test",
    streamId: stream.id,
    seq: 0,
    network: stream.network,
    sentAt: new Date().toISOString(),
  });
  const outcome = await postWebhook({
    url: stream.webhook_url,
    id: webhookId,
    seq: 0,
    body,
    secrets,
    timeoutMs: deps.config.WEBHOOK_TIMEOUT_SECONDS * 1000,
    dispatcher: deps.dispatcher,
  });
  return {
    ok: outcome.ok,
    status: outcome.status,
    durationMs: outcome.ms,
    error: outcome.ok ? null : outcome.error,
    webhookId,
  };
}
