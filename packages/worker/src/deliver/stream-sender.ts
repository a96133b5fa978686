import type { Db } from "@second-layer/shared/db/connect";
import type { Logger } from "@second-layer/shared/logger";
import type { SecretsBox } from "@second-layer/shared/secrets-box";
import { type DeliveryPayload, deliveryBody } from "@second-layer/shared/streams/delivery-body";
import { type SealedSecrets, signingSecrets } from "@second-layer/shared/streams/signing-secrets";
import { postWebhook, type WebhookOutcome } from "@second-layer/shared/webhooks/post-webhook";
import type { Dispatcher } from "undici";
import type { WorkerMetrics } from "../metrics.ts";
import { nextRetryDelayMs, type RetryPolicy } from "./retry-policy.ts";

export interface SenderDeps {
  db: Db;
  log: Logger;
  metrics: WorkerMetrics;
  /** This process, in leases and attempt records. */
  workerId: string;
  secrets: SecretsBox;
  dispatcher: Dispatcher;
  policy: RetryPolicy;
  timeoutMs: number;
  /** Consecutive failed attempts after which the stream is marked failed. */
  failureThreshold: number;
}

interface StreamRow extends SealedSecrets {
  network: string;
  status: string;
  webhook_url: string;
}

interface HeadRow {
  id: string;
  seq: string | null;
  kind: "apply" | "rollback";
  block_height: number;
  attempts: number;
  hold_until_burn_height: number | null;
  next_attempt_at: Date | null;
  payload: DeliveryPayload;
  burn_tip: number | null;
  stream_status: string;
}

/** How long a held apply (confirmations) waits before the sender looks at the burn chain again. */
const HELD_POLL_MS = 5_000;

/**
 * Sends one stream's deliveries strictly in order while this worker holds the stream's lease: the
 * head of line goes out, and nothing after it until it succeeded or was parked. Each delivery gets
 * the stream's next seq the first time it is sent, and keeps it (and its webhook-id) on retries.
 */
export class StreamSender {
  constructor(private readonly deps: SenderDeps) {}

  get leaseMs(): number {
    return this.deps.timeoutMs + 30_000;
  }

  /**
   * Sends up to `max` deliveries of a leased stream, then gives the lease back with the next due time.
   * Returns that time when it is a known moment (a retry, a held apply), so the caller can look then.
   * Once `stopping()` says so, it finishes the delivery in flight and sends nothing more.
   */
  async drain(streamId: string, max: number, stopping: () => boolean = () => false): Promise<Date | null> {
    const { db } = this.deps;
    const [stream] = await db.sql<StreamRow[]>`
      select id, network, status, webhook_url, secret_enc, previous_secret_enc, previous_secret_expires_at
      from streams where id = ${streamId}`;
    if (stream?.status !== "active") return await this.release(streamId, null);
    const secrets = signingSecrets(this.deps.secrets, stream);
    let sent = 0;
    while (sent < max && !stopping()) {
      const head = await this.claimHead(streamId, stream.network);
      if (!head) return await this.release(streamId, "auto");
      if (head.stream_status !== "active") return await this.release(streamId, null);
      if (head.seq === null) {
        // Not sendable yet: held for confirmations (look again soon), or waiting for a retry.
        const due = head.hold_until_burn_height !== null ? new Date(Date.now() + HELD_POLL_MS) : head.next_attempt_at;
        return await this.release(streamId, due ?? new Date());
      }
      if (head.next_attempt_at && head.next_attempt_at.getTime() > Date.now()) {
        return await this.release(streamId, head.next_attempt_at);
      }
      const seq = Number(head.seq);
      const outcome = await postWebhook({
        url: stream.webhook_url,
        id: head.id,
        seq,
        body: deliveryBody(head.payload, seq),
        secrets,
        timeoutMs: this.deps.timeoutMs,
        dispatcher: this.deps.dispatcher,
      });
      this.deps.metrics.attempts.inc({ network: stream.network, outcome: outcome.ok ? "success" : "failure" });
      this.deps.metrics.attemptSeconds.observe({ network: stream.network }, outcome.ms / 1000);
      if (outcome.ok) {
        await this.recordSuccess(streamId, head, outcome);
        sent++;
        continue;
      }
      const next = await this.recordFailure(streamId, head, outcome);
      if (next === "stop") return await this.release(streamId, null);
      if (next !== "go-on") return await this.release(streamId, next);
    }
    return await this.release(streamId, "auto");
  }

  /**
   * The head of line, locked against the matcher cancelling it; if it is ready to go out for the
   * first time it gets the stream's next seq in the same statement (held applies and retries do not).
   */
  private async claimHead(streamId: string, network: string): Promise<HeadRow | null> {
    const [row] = await this.deps.db.sql<HeadRow[]>`
      with head as (
        select id, seq, hold_until_burn_height, next_attempt_at from deliveries
        where stream_id = ${streamId} and status = 'pending'
        order by ordinal limit 1
        for update
      ),
      burn as (
        select greatest(
          (select max(burn_block_height) from burn_blocks where network = ${network} and canonical),
          (select b.burn_block_height from chain_state s
             join blocks b on b.network = s.network and b.index_block_hash = s.tip_index_block_hash
           where s.network = ${network})) as tip
        from head where head.hold_until_burn_height is not null
      ),
      ready as (
        select id from head
        where seq is null and next_attempt_at is null
          and (hold_until_burn_height is null or hold_until_burn_height <= (select tip from burn))
      ),
      numbered as (
        update stream_state set last_seq = last_seq + 1
        where stream_id = ${streamId} and exists (select 1 from ready)
        returning last_seq
      ),
      stamped as (
        update deliveries d set seq = numbered.last_seq, first_sent_at = now()
        from numbered where d.id = (select id from ready)
        returning d.id, d.seq
      )
      select d.id, coalesce(stamped.seq, d.seq) as seq, d.kind, d.block_height, d.attempts,
        d.hold_until_burn_height, d.next_attempt_at, d.payload, (select tip from burn) as burn_tip,
        (select status from streams where id = ${streamId}) as stream_status
      from head join deliveries d on d.id = head.id
      left join stamped on stamped.id = head.id`;
    if (!row) return null;
    // A held apply whose burn block is deep enough was just numbered above; one that is not stays held.
    if (row.seq !== null) return { ...row, hold_until_burn_height: null };
    return row;
  }

  private async recordSuccess(streamId: string, head: HeadRow, outcome: Extract<WebhookOutcome, { ok: true }>) {
    const { db, workerId } = this.deps;
    await db.sql`
      with done as (
        update deliveries set status = 'delivered', delivered_at = now(), attempts = attempts + 1,
          last_status = ${outcome.status}, last_error = null, next_attempt_at = null
        where id = ${head.id}
        returning seq, block_height
      ),
      attempt as (
        insert into delivery_attempts (delivery_id, stream_id, attempt, started_at, duration_ms, status_code,
          response_snippet, worker)
        values (${head.id}, ${streamId}, ${head.attempts + 1}, now() - make_interval(secs => ${outcome.ms / 1000}),
          ${outcome.ms}, ${outcome.status}, ${outcome.snippet}, ${workerId})
      )
      update stream_state set consecutive_failures = 0, delivered_count = delivered_count + 1,
        last_delivered_at = now(), last_delivered_seq = (select seq from done),
        last_delivered_height = (select block_height from done),
        lease_until = now() + make_interval(secs => ${this.leaseMs / 1000})
      where stream_id = ${streamId}`;
    this.deps.metrics.delivered.inc({ kind: head.kind });
  }

  /**
   * Records a failed attempt and says what happens next: a retry time, "go-on" (the delivery is parked
   * and the next one may go), or "stop" (the stream is disabled or failed).
   */
  private async recordFailure(
    streamId: string,
    head: HeadRow,
    outcome: Extract<WebhookOutcome, { ok: false }>,
  ): Promise<Date | "go-on" | "stop"> {
    const { db, workerId, policy, failureThreshold, log } = this.deps;
    const attempts = head.attempts + 1;
    const delayMs = outcome.gone ? null : nextRetryDelayMs(policy, attempts, outcome.retryAfterMs);
    const parked = !outcome.gone && delayMs === null;
    const retryAt = delayMs === null ? null : new Date(Date.now() + delayMs);
    const error = outcome.error.slice(0, 500);
    const [state] = await db.sql<{ consecutive_failures: number }[]>`
      with failed as (
        update deliveries set attempts = ${attempts}, last_status = ${outcome.status}, last_error = ${error},
          status = case when ${parked} then 'failed' else status end,
          next_attempt_at = ${retryAt}
        where id = ${head.id}
      ),
      attempt as (
        insert into delivery_attempts (delivery_id, stream_id, attempt, started_at, duration_ms, status_code, error,
          response_snippet, worker)
        values (${head.id}, ${streamId}, ${attempts}, now() - make_interval(secs => ${outcome.ms / 1000}),
          ${outcome.ms}, ${outcome.status}, ${error}, ${outcome.snippet}, ${workerId})
      )
      update stream_state set consecutive_failures = consecutive_failures + 1, failed_attempts = failed_attempts + 1,
        last_error = ${error}, last_error_at = now(),
        lease_until = now() + make_interval(secs => ${this.leaseMs / 1000})
      where stream_id = ${streamId}
      returning consecutive_failures`;
    const failures = state?.consecutive_failures ?? attempts;
    const fields = { streamId, deliveryId: head.id, seq: head.seq, status: outcome.status, attempts, error };
    if (outcome.gone) {
      await this.setStatus(streamId, "disabled", "the receiver answered 410 Gone");
      log.warn(fields, "webhook receiver answered 410: stream disabled");
      return "stop";
    }
    // Counted before the breaker is looked at: the attempt that parks a delivery may also open it.
    if (parked) {
      this.deps.metrics.parked.inc();
      log.warn(fields, "delivery parked as failed after its last retry");
    }
    if (failures >= failureThreshold) {
      await this.setStatus(streamId, "failed", `${failures} consecutive failed attempts; last: ${error}`);
      log.warn({ ...fields, failures }, "stream failed: circuit breaker open");
      return "stop";
    }
    if (parked) return "go-on";
    log.info({ ...fields, retryAt }, "webhook failed; will retry");
    return retryAt as Date;
  }

  private async setStatus(streamId: string, status: "disabled" | "failed", reason: string): Promise<void> {
    await this.deps.db.sql`
      update streams set status = ${status}, status_reason = ${reason}, updated_at = now()
      where id = ${streamId} and status = 'active'`;
  }

  /**
   * Gives the lease back. `auto`: due now if anything is pending, else nothing to do; the row lock
   * taken first makes the check see every delivery the matcher committed, and a delivery it commits
   * later sets the due time itself. null: not due (the stream is not active).
   */
  private async release(streamId: string, due: Date | "auto" | null): Promise<Date | null> {
    const { db, workerId } = this.deps;
    await db.sql.begin(async (tx) => {
      await tx`select 1 from stream_state where stream_id = ${streamId} for update`;
      if (due === "auto") {
        await tx`
          update stream_state set lease_owner = null, lease_until = null,
            due_at = case when exists (select 1 from deliveries where stream_id = ${streamId} and status = 'pending')
              then now() else null end
          where stream_id = ${streamId} and lease_owner = ${workerId}`;
      } else {
        await tx`
          update stream_state set lease_owner = null, lease_until = null, due_at = ${due}
          where stream_id = ${streamId} and lease_owner = ${workerId}`;
      }
    });
    return due instanceof Date ? due : null;
  }
}
