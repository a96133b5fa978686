import type { Db, Sql } from "@second-layer/shared/db/connect";
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

/** A stream as a sender claims it: what it needs to send, read in the claiming statement. */
export interface ClaimedStream extends SealedSecrets {
  network: string;
  webhook_url: string;
}

/**
 * A claimed stream and its head of line. Null head: nothing to send now, the lease was given back,
 * and `wakeAt` says when the stream falls due if that is a known moment (a retry, a held apply).
 */
export interface Lease {
  stream: ClaimedStream;
  secrets: string[];
  head: HeadRow | null;
  wakeAt: Date | null;
}

/** A head of line to send, numbered. */
interface HeadRow {
  id: string;
  seq: string;
  kind: "apply" | "rollback";
  attempts: number;
  payload: DeliveryPayload;
}

/** How long a held apply (confirmations) waits before the sender looks at the burn chain again. */
const HELD_POLL_MS = 5_000;
/** SQLSTATE deadlock_detected. */
const DEADLOCK = "40P01";

/** A piece of SQL spliced into a statement. */
type Fragment = ReturnType<Sql["unsafe"]>;

interface HeadOfLine {
  /** The stream: a parameter, or a column of an earlier CTE. */
  stream: { id: Fragment; network: Fragment };
  /** `claim`: the statement takes the lease; `hold`: this process holds it (or held it: a lease can run out). */
  lease: "claim" | "hold";
  /** A delivery the same statement records as delivered: not the head, though its snapshot says pending. */
  skip?: string;
  /** False when the lease has sent its share: the head is not taken, the lease goes back (due now). */
  more?: boolean;
  /** More assignments to the stream's state row, each followed by a comma. */
  assignments?: Fragment;
}

/**
 * The CTEs with which one statement takes a stream's head of line, so that a delivery costs one
 * statement and one commit: `head` (its first pending delivery, locked against the matcher cancelling
 * it), `burn` (the burn chain's tip, read only for a held apply), `ready` (the head, if it goes out for
 * the first time now: it gets the stream's next seq), `verdict` (whether the head goes out now, and
 * if not when to look again), `state` (the one update of the stream's state row: the seq, the lease
 * kept or given back with that due time, and the caller's assignments), `stamped`, and `next_head`,
 * the head to send (no row: the lease was given back), and `outcome`: one row with the head, or with
 * the time the stream falls due when the lease went back with a retry or a hold to wait for.
 *
 * A lease given back with nothing pending is not due; but a delivery committed after this statement's
 * snapshot is not seen here, so if the state row changed since then (every writer of deliveries
 * updates it in the same transaction), the stream is left due and a sender looks again.
 */
function headOfLine(sql: Sql, workerId: string, leaseMs: number, opts: HeadOfLine): Fragment {
  const { id, network } = opts.stream;
  const more = opts.more ?? true;
  const claiming = opts.lease === "claim";
  const mine = sql`(${claiming} or s.lease_owner = ${workerId})`;
  return sql`
    head as (
      select id, seq, hold_until_burn_height, next_attempt_at from deliveries
      where stream_id = ${id} and status = 'pending' and id is distinct from ${opts.skip ?? null}::uuid
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
      where ${more} and seq is null and next_attempt_at is null
        and (hold_until_burn_height is null or hold_until_burn_height <= (select tip from burn))
    ),
    verdict as (
      select h.id is null as idle,
        h.id is not null and ${more} and x.status = 'active' and (h.seq is not null or r.id is not null)
          and (h.next_attempt_at is null or h.next_attempt_at <= now()) as go,
        case
          when h.id is null then null
          when not ${more} then now()
          when x.status <> 'active' then null
          -- Not sendable yet: held for confirmations (look again soon), or waiting for a retry.
          when h.seq is null and r.id is null then case when h.hold_until_burn_height is not null
            then now() + make_interval(secs => ${HELD_POLL_MS / 1000}) else coalesce(h.next_attempt_at, now()) end
          else h.next_attempt_at
        end as due,
        (select xmin from stream_state where stream_id = ${id}) as seen
      from streams x left join head h on true left join ready r on true
      where x.id = ${id}
    ),
    state as (
      update stream_state s set ${opts.assignments ?? sql``}
        last_seq = s.last_seq + (select count(*) from ready),
        lease_owner = case when v.go and ${claiming} then ${workerId} when v.go or not ${mine} then s.lease_owner end,
        lease_until = case when v.go then now() + make_interval(secs => ${leaseMs / 1000})
          when not ${mine} then s.lease_until end,
        due_at = case when v.go or not ${mine} then s.due_at
          when v.idle then case when s.xmin <> v.seen then now() end
          else v.due end
      from verdict v
      where s.stream_id = ${id}
      returning s.last_seq, s.due_at
    ),
    stamped as (
      update deliveries d set seq = (select last_seq from state), first_sent_at = now()
      from ready where d.id = ready.id
      returning d.id, d.seq
    ),
    next_head as (
      select d.id, coalesce(stamped.seq, d.seq) as seq, d.kind, d.attempts, d.payload
      from head join deliveries d on d.id = head.id
      left join stamped on stamped.id = head.id
      where (select go from verdict)
    ),
    outcome as (
      select n.id as head_id, n.seq, n.kind, n.attempts, n.payload,
        case when not v.go and st.due_at > now() then st.due_at end as wake_at
      from verdict v cross join state st left join next_head n on true
    )`;
}

/** A head of line as a sending statement returns it: no head when the lease was given back. */
type HeadOutcome = { [K in keyof HeadRow as K extends "id" ? "head_id" : K]: HeadRow[K] | null } & {
  wake_at: Date | null;
};

/** The head to send, or null with the time the stream falls due if that is a known moment. */
function step(row: HeadOutcome | undefined): { head: HeadRow | null; wakeAt: Date | null } {
  if (!row?.head_id) return { head: null, wakeAt: row?.wake_at ?? null };
  const { head_id, seq, kind, attempts, payload } = row;
  return { head: { id: head_id, seq, kind, attempts, payload } as HeadRow, wakeAt: null };
}

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
   * Leases the most overdue stream of `networks` that no one holds (SKIP LOCKED) and, in the same
   * statement, numbers its head of line: one commit before the first POST. Null when no stream was due.
   */
  async claim(networks: string[]): Promise<Lease | null> {
    const { db, workerId } = this.deps;
    const sql = db.sql;
    const rows = await sql<(ClaimedStream & HeadOutcome)[]>`
      with pick as (
        select st.stream_id, x.network from stream_state st join streams x on x.id = st.stream_id
        where st.due_at <= now() and (st.lease_until is null or st.lease_until < now())
          and x.status = 'active' and x.network = any(${networks}::text[])
        order by st.due_at
        limit 1
        for update of st skip locked
      ),
      ${headOfLine(sql, workerId, this.leaseMs, {
        stream: { id: sql`(select stream_id from pick)`, network: sql`(select network from pick)` },
        lease: "claim",
      })}
      select x.id, x.network, x.webhook_url, x.secret_enc, x.previous_secret_enc, x.previous_secret_expires_at,
        o.head_id, o.seq, o.kind, o.attempts, o.payload, o.wake_at
      from pick join streams x on x.id = pick.stream_id cross join outcome o`.catch((err) => {
      // The stream's row is locked before its head, while the matcher cancelling a rolled-back head
      // locks them the other way round; Postgres breaks such a deadlock by failing this claim, which
      // changed nothing: the stream is still due, and the matcher's commit wakes the senders again.
      if ((err as { code?: string }).code === DEADLOCK) return [];
      throw err;
    });
    const row = rows[0];
    if (!row) return null;
    const { head_id, seq, kind, attempts, payload, wake_at, ...stream } = row;
    const { head, wakeAt } = step(row);
    return { stream, secrets: head ? signingSecrets(this.deps.secrets, stream) : [], head, wakeAt };
  }

  /**
   * Sends a leased stream's deliveries in order, up to `max`, or until `stopping()` says so (the
   * delivery in flight is finished). A success is recorded and the next head numbered in one
   * statement, so a delivery costs one commit, and a crash finds at most the one delivery in flight
   * unrecorded. Returns the time the stream falls due when the lease went back with a known one (a
   * retry, a held apply), so the caller can look then.
   */
  async drain(lease: Lease, max: number, stopping: () => boolean = () => false): Promise<Date | null> {
    const { stream } = lease;
    let { head, wakeAt } = lease;
    let sent = 0;
    while (head) {
      const current = head;
      const seq = Number(current.seq);
      const outcome = await postWebhook({
        url: stream.webhook_url,
        id: current.id,
        seq,
        body: deliveryBody(current.payload, seq),
        secrets: lease.secrets,
        timeoutMs: this.deps.timeoutMs,
        dispatcher: this.deps.dispatcher,
      });
      this.deps.metrics.attempts.inc({ network: stream.network, outcome: outcome.ok ? "success" : "failure" });
      this.deps.metrics.attemptSeconds.observe({ network: stream.network }, outcome.ms / 1000);
      if (outcome.ok) {
        sent++;
        ({ head, wakeAt } = await this.recordSuccess(stream, current, outcome, sent < max && !stopping()));
        this.deps.metrics.delivered.inc({ kind: current.kind });
        continue;
      }
      const after = await this.recordFailure(stream.id, current, outcome);
      if (after !== "go-on") {
        await this.release(stream.id, after === "stop" ? null : after);
        return after === "stop" ? null : after;
      }
      ({ head, wakeAt } = await this.claimHead(stream, !stopping()));
    }
    return wakeAt;
  }

  /** Takes the next head of line of a stream whose lease this process holds, or gives the lease back. */
  private async claimHead(stream: ClaimedStream, more: boolean) {
    const { db, workerId } = this.deps;
    const sql = db.sql;
    const [row] = await sql<HeadOutcome[]>`
      with ${headOfLine(sql, workerId, this.leaseMs, {
        stream: { id: sql`${stream.id}::uuid`, network: sql`${stream.network}` },
        lease: "hold",
        more,
      })}
      select * from outcome`;
    return step(row);
  }

  /**
   * Records a delivered head and, in the same statement and commit, takes the next one (null: the
   * lease was given back). A crash before the commit resends only the delivered head; after it, only
   * the new one, which may already be in flight.
   */
  private async recordSuccess(
    stream: ClaimedStream,
    head: HeadRow,
    outcome: Extract<WebhookOutcome, { ok: true }>,
    more: boolean,
  ) {
    const { db, workerId } = this.deps;
    const sql = db.sql;
    const streamId = stream.id;
    const [row] = await sql<HeadOutcome[]>`
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
      ),
      ${headOfLine(sql, workerId, this.leaseMs, {
        stream: { id: sql`${streamId}::uuid`, network: sql`${stream.network}` },
        lease: "hold",
        skip: head.id,
        more,
        assignments: sql`consecutive_failures = 0, delivered_count = s.delivered_count + 1,
          last_delivered_at = now(), last_delivered_seq = (select seq from done),
          last_delivered_height = (select block_height from done),`,
      })}
      select * from outcome`;
    return step(row);
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

  /** Gives the lease back after a failed attempt: due at `due` (a retry), or not at all (null: stopped). */
  private async release(streamId: string, due: Date | null): Promise<void> {
    const { db, workerId } = this.deps;
    await db.sql`
      update stream_state set lease_owner = null, lease_until = null, due_at = ${due}
      where stream_id = ${streamId} and lease_owner = ${workerId}`;
  }
}
