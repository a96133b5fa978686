import type { Db, Sql } from "@second-layer/shared/db/connect";
import { toPostgresJson } from "@second-layer/shared/json-text";
import type { Logger } from "@second-layer/shared/logger";
import type { SecretsBox } from "@second-layer/shared/secrets-box";
import { type DeliveryPayload, deliveryBody } from "@second-layer/shared/streams/delivery-body";
import { type SealedSecrets, signingSecrets } from "@second-layer/shared/streams/signing-secrets";
import { postWebhook, type WebhookOutcome } from "@second-layer/shared/webhooks/post-webhook";
import type { Dispatcher } from "undici";
import type { WorkerMetrics } from "../metrics.ts";
import { Batcher } from "./batcher.ts";
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
  /** `claim`: the statement takes the leases; `hold`: this process holds them (or held: a lease can run out). */
  lease: "claim" | "hold";
  /** More assignments to each stream's state row, each followed by a comma. */
  assignments?: Fragment;
  /** More relations for them, joined to `verdict v` (e.g. `join done on done.stream_id = v.stream_id`). */
  join?: Fragment;
}

/**
 * The CTEs with which one statement takes the heads of line of the streams in `input` (stream_id,
 * network, skip: a delivery the same statement records, which its snapshot still sees pending, and
 * more: false when the lease has sent its share), so that a delivery costs a part of one statement
 * and one commit: `head` (each stream's first pending delivery, locked against the matcher cancelling
 * it), `burn` (the burn chain's tip, read only for held applies), `ready` (heads that go out for the
 * first time now: they get their stream's next seq), `verdict` (whether the head goes out now, and if
 * not when to look again), `locked` (the state rows, locked in stream order like the matcher's, so
 * that the two cannot deadlock), `state` (the one update of each state row: the seq, the lease kept or
 * given back with that due time, and the caller's assignments), `stamped`, `next_head` (the heads to
 * send), and `outcome`: a row per stream with its head, or with the time the stream falls due when
 * the lease went back with a retry or a hold to wait for.
 *
 * Each table is reached through its key with the statement's ids (`= any(array(...))`): a cached plan
 * cannot tell how many streams a batch has, and a join it guessed large would scan the tables.
 *
 * A lease given back with nothing pending is not due; but a delivery committed after this statement's
 * snapshot is not seen here, so if the state row changed since then (every writer of deliveries
 * updates it in the same transaction), the stream is left due and a sender looks again.
 */
function headOfLine(sql: Sql, workerId: string, leaseMs: number, opts: HeadOfLine): Fragment {
  const claiming = opts.lease === "claim";
  const mine = sql`(${claiming} or s.lease_owner = ${workerId})`;
  return sql`
    head as (
      select i.stream_id, h.id, h.seq, h.hold_until_burn_height, h.next_attempt_at
      from input i cross join lateral (
        select d.id, d.seq, d.hold_until_burn_height, d.next_attempt_at from deliveries d
        where d.stream_id = i.stream_id and d.status = 'pending' and d.id is distinct from i.skip
        order by d.ordinal limit 1
        for update
      ) h
    ),
    burn as (
      select n.network, greatest(
        (select max(burn_block_height) from burn_blocks where network = n.network and canonical),
        (select b.burn_block_height from chain_state s
           join blocks b on b.network = s.network and b.index_block_hash = s.tip_index_block_hash
         where s.network = n.network)) as tip
      from (select distinct i.network from input i join head h on h.stream_id = i.stream_id
            where h.hold_until_burn_height is not null) n
    ),
    ready as (
      -- Only an active stream's head is numbered: a paused or failed stream's next delivery gets its
      -- seq when it really goes out, not when the success before it is recorded.
      select h.stream_id, h.id from head h
      join input i on i.stream_id = h.stream_id left join burn b on b.network = i.network
      join streams x on x.id = h.stream_id and x.id = any(array(select stream_id from input))
      where i.more and x.status = 'active' and h.seq is null and h.next_attempt_at is null
        and (h.hold_until_burn_height is null or h.hold_until_burn_height <= b.tip)
    ),
    verdict as (
      select i.stream_id, h.id is null as idle, r.id as ready_id,
        h.id is not null and i.more and x.status = 'active' and (h.seq is not null or r.id is not null)
          and (h.next_attempt_at is null or h.next_attempt_at <= now()) as go,
        case
          when h.id is null then null
          when not i.more then now()
          when x.status <> 'active' then null
          -- Not sendable yet: held for confirmations (look again soon), or waiting for a retry.
          when h.seq is null and r.id is null then case when h.hold_until_burn_height is not null
            then now() + make_interval(secs => ${HELD_POLL_MS / 1000}) else coalesce(h.next_attempt_at, now()) end
          else h.next_attempt_at
        end as due,
        st.xmin as seen
      from input i
      join streams x on x.id = i.stream_id and x.id = any(array(select stream_id from input))
      join stream_state st on st.stream_id = i.stream_id and st.stream_id = any(array(select stream_id from input))
      left join head h on h.stream_id = i.stream_id left join ready r on r.stream_id = i.stream_id
    ),
    locked as (
      select stream_id from stream_state where stream_id = any(array(select stream_id from input))
      order by stream_id
      for update
    ),
    state as (
      update stream_state s set ${opts.assignments ?? sql``}
        last_seq = s.last_seq + case when v.ready_id is null then 0 else 1 end,
        lease_owner = case when v.go and ${claiming} then ${workerId} when v.go or not ${mine} then s.lease_owner end,
        lease_until = case when v.go then now() + make_interval(secs => ${leaseMs / 1000})
          when not ${mine} then s.lease_until end,
        due_at = case when v.go or not ${mine} then s.due_at
          when v.idle then case when s.xmin <> v.seen then now() end
          else v.due end
      from verdict v ${opts.join ?? sql``}
      where s.stream_id = v.stream_id and s.stream_id = any(array(select stream_id from locked))
      returning s.stream_id, s.last_seq, s.due_at
    ),
    stamped as (
      update deliveries d set seq = st.last_seq, first_sent_at = now()
      from ready r join state st on st.stream_id = r.stream_id
      where d.id = r.id and d.id = any(array(select id from ready))
      returning d.id, d.seq
    ),
    next_head as (
      select h.stream_id, d.id, coalesce(stamped.seq, d.seq) as seq, d.kind, d.attempts, d.payload
      from head h join verdict v on v.stream_id = h.stream_id and v.go
      join deliveries d on d.id = h.id and d.id = any(array(select id from head))
      left join stamped on stamped.id = h.id
    ),
    outcome as (
      select v.stream_id, n.id as head_id, n.seq, n.kind, n.attempts, n.payload,
        case when not v.go and st.due_at > now() then st.due_at end as wake_at,
        x.webhook_url, x.secret_enc, x.previous_secret_enc, x.previous_secret_expires_at
      from verdict v join state st on st.stream_id = v.stream_id
      join streams x on x.id = v.stream_id and x.id = any(array(select stream_id from input))
      left join next_head n on n.stream_id = v.stream_id
    )`;
}

/**
 * A head of line as a sending statement returns it: no head when the lease was given back. The
 * stream's URL and sealed secrets come with every head, so a rotation or a new URL applies from the
 * next delivery on, even while this process keeps the lease.
 */
type HeadOutcome = { stream_id: string } & {
  [K in keyof HeadRow as K extends "id" ? "head_id" : K]: HeadRow[K] | null;
} & { wake_at: Date | null } & Pick<
    ClaimedStream,
    "webhook_url" | "secret_enc" | "previous_secret_enc" | "previous_secret_expires_at"
  >;

/** The head to send, or null with the time the stream falls due if that is a known moment. */
function step(row: HeadOutcome | undefined): Step {
  if (!row?.head_id) return { head: null, wakeAt: row?.wake_at ?? null };
  const { head_id, seq, kind, attempts, payload, webhook_url, secret_enc, previous_secret_enc } = row;
  return {
    head: { id: head_id, seq, kind, attempts, payload } as HeadRow,
    wakeAt: null,
    target: {
      webhook_url,
      secret_enc,
      previous_secret_enc,
      previous_secret_expires_at: row.previous_secret_expires_at,
    },
  };
}

interface Step {
  head: HeadRow | null;
  wakeAt: Date | null;
  /** Where and with what the head goes out, as the stream row says now (with a head only). */
  target?: Pick<HeadOutcome, "webhook_url" | "secret_enc" | "previous_secret_enc" | "previous_secret_expires_at">;
}

/** A success to record, and whether its lease may send the next head. */
interface Success {
  stream: ClaimedStream;
  head: HeadRow;
  outcome: Extract<WebhookOutcome, { ok: true }>;
  more: boolean;
}

/** Statements that serve many streams at once run at most this many at a time, of at most so many streams. */
const BATCHES = { parallel: 2, max: 64 };

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

  /** Claims of slots that look for work at the same moment, served by one statement. */
  private readonly claims = new Batcher<string[], Lease | null>((requests) => this.claimMany(requests), BATCHES);
  /** Successes recorded at the same moment, by one statement. */
  private readonly successes = new Batcher<Success, Step>((items) => this.recordSuccesses(items), BATCHES);

  /**
   * Leases the most overdue stream of `networks` that no one holds (SKIP LOCKED) and, in the same
   * statement, numbers its head of line: one commit before the first POST. Null when no stream was due.
   */
  async claim(networks: string[]): Promise<Lease | null> {
    return await this.claims.submit(networks);
  }

  /** One statement for simultaneous claims (of the same networks: one pool's). */
  private async claimMany(requests: string[][]): Promise<(Lease | null)[]> {
    const { db, workerId } = this.deps;
    const sql = db.sql;
    const rows = await sql<(ClaimedStream & HeadOutcome)[]>`
      with pick as (
        -- Driven by the due streams, oldest first (stream_state_due_idx), not by every stream of the
        -- network: offset 0 keeps the planner from turning the lookup of each one's stream around.
        select st.stream_id, x.network from stream_state st
        cross join lateral (
          select network from streams
          where id = st.stream_id and status = 'active' and network = any(${requests[0] ?? []}::text[])
          offset 0
        ) x
        where st.due_at <= now() and (st.lease_until is null or st.lease_until < now())
        order by st.due_at
        limit ${requests.length}
        for update of st skip locked
      ),
      input as (select stream_id, network, null::uuid as skip, true as more from pick),
      ${headOfLine(sql, workerId, this.leaseMs, { lease: "claim" })}
      select x.id, x.network, x.webhook_url, x.secret_enc, x.previous_secret_enc, x.previous_secret_expires_at,
        o.head_id, o.seq, o.kind, o.attempts, o.payload, o.wake_at
      from outcome o join streams x on x.id = o.stream_id`.catch((err) => {
      // Stream rows are locked before their heads, while the matcher cancelling a rolled-back head
      // locks them the other way round; Postgres breaks such a deadlock by failing this claim, which
      // changed nothing: the streams are still due, and the matcher's commit wakes the senders again.
      if ((err as { code?: string }).code === DEADLOCK) return [];
      throw err;
    });
    return requests.map((_, i) => {
      const row = rows[i];
      if (!row) return null;
      const { head_id, seq, kind, attempts, payload, wake_at, stream_id, ...stream } = row;
      const { head, wakeAt } = step(row);
      return { stream, secrets: head ? signingSecrets(this.deps.secrets, stream) : [], head, wakeAt };
    });
  }

  /**
   * Sends a leased stream's deliveries in order, up to `max`, or until `stopping()` says so (the
   * delivery in flight is finished); `abort` cancels that delivery instead (shutdown ran out of time):
   * it is not recorded as an attempt, stays pending with its seq and webhook-id, and the stream is due
   * again at once for whoever runs next. A success is recorded and the next head numbered in one
   * statement, so a delivery costs one commit, and a crash finds at most the one delivery in flight
   * unrecorded. Returns the time the stream falls due when the lease went back with a known one (a
   * retry, a held apply), so the caller can look then.
   */
  async drain(
    lease: Lease,
    max: number,
    stopping: () => boolean = () => false,
    abort?: AbortSignal,
  ): Promise<Date | null> {
    let { stream, secrets, head, wakeAt } = lease;
    const next = (s: Step) => {
      ({ head, wakeAt } = s);
      if (s.target) {
        stream = { ...stream, ...s.target };
        secrets = signingSecrets(this.deps.secrets, stream);
      }
    };
    let sent = 0;
    while (head) {
      const current = head;
      const seq = Number(current.seq);
      const outcome = await postWebhook({
        url: stream.webhook_url,
        id: current.id,
        seq,
        body: deliveryBody(current.payload, seq),
        secrets,
        timeoutMs: this.deps.timeoutMs,
        dispatcher: this.deps.dispatcher,
        signal: abort,
      });
      if (!outcome.ok && outcome.aborted) {
        this.deps.log.info(
          { streamId: stream.id, deliveryId: current.id, seq },
          "delivery cancelled by shutdown; it will be sent again",
        );
        const now = new Date();
        await this.release(stream.id, now);
        return now;
      }
      this.deps.metrics.attempts.inc({ network: stream.network, outcome: outcome.ok ? "success" : "failure" });
      this.deps.metrics.attemptSeconds.observe({ network: stream.network }, outcome.ms / 1000);
      if (outcome.ok) {
        sent++;
        next(await this.recordSuccess(stream, current, outcome, sent < max && !stopping()));
        this.deps.metrics.delivered.inc({ kind: current.kind });
        continue;
      }
      const after = await this.recordFailure(stream.id, current, outcome);
      if (after !== "go-on") {
        await this.release(stream.id, after === "stop" ? null : after);
        return after === "stop" ? null : after;
      }
      next(await this.claimHead(stream, !stopping()));
    }
    return wakeAt;
  }

  /** Takes the next head of line of a stream whose lease this process holds, or gives the lease back. */
  private async claimHead(stream: ClaimedStream, more: boolean): Promise<Step> {
    const { db, workerId } = this.deps;
    const sql = db.sql;
    const [row] = await sql<HeadOutcome[]>`
      with input as (
        select ${stream.id}::uuid as stream_id, ${stream.network}::text as network, null::uuid as skip,
          ${more}::boolean as more
      ),
      ${headOfLine(sql, workerId, this.leaseMs, { lease: "hold" })}
      select * from outcome`;
    return step(row);
  }

  /**
   * Records a delivered head and, in the same statement and commit, takes the next one (null: the
   * lease was given back). A crash before the commit resends only the delivered head; after it, only
   * the new one, which may already be in flight. Successes of other streams recorded at the same
   * moment share the statement.
   */
  private async recordSuccess(
    stream: ClaimedStream,
    head: HeadRow,
    outcome: Extract<WebhookOutcome, { ok: true }>,
    more: boolean,
  ): Promise<Step> {
    return await this.successes.submit({ stream, head, outcome, more });
  }

  private async recordSuccesses(items: Success[]): Promise<Step[]> {
    const { db, workerId } = this.deps;
    const sql = db.sql;
    const input = items.map(({ stream, head, outcome, more }) => ({
      stream_id: stream.id,
      network: stream.network,
      skip: head.id,
      more,
      attempt: head.attempts + 1,
      status_code: outcome.status,
      duration_ms: outcome.ms,
      snippet: outcome.snippet,
    }));
    const run = () => sql<HeadOutcome[]>`
      with input as (
        select * from jsonb_to_recordset(${toPostgresJson(input)}::text::jsonb) as i(stream_id uuid, network text,
          skip uuid, more boolean, attempt integer, status_code integer, duration_ms integer, snippet text)
      ),
      done as (
        update deliveries d set status = 'delivered', delivered_at = now(), attempts = d.attempts + 1,
          last_status = i.status_code, last_error = null, next_attempt_at = null
        from input i where d.id = i.skip and d.id = any(array(select skip from input))
        returning d.stream_id, d.seq, d.block_height
      ),
      attempt as (
        insert into delivery_attempts (delivery_id, stream_id, attempt, started_at, duration_ms, status_code,
          response_snippet, worker)
        select i.skip, i.stream_id, i.attempt, now() - make_interval(secs => i.duration_ms / 1000.0),
          i.duration_ms, i.status_code, i.snippet, ${workerId}
        from input i
      ),
      ${headOfLine(sql, workerId, this.leaseMs, {
        lease: "hold",
        assignments: sql`consecutive_failures = 0, delivered_count = s.delivered_count + 1,
          last_delivered_at = now(), last_delivered_seq = done.seq, last_delivered_height = done.block_height,`,
        join: sql`join done on done.stream_id = v.stream_id`,
      })}
      select * from outcome`;
    // The state rows are locked in stream order, as the matcher locks them; the heads before them, as
    // the matcher cancelling a rolled-back head does. Should a deadlock still happen, the statement
    // changed nothing and is run again.
    let rows: HeadOutcome[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        rows = await run();
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== DEADLOCK || attempt === 3) throw err;
      }
    }
    const byStream = new Map(rows.map((r) => [r.stream_id, r]));
    return items.map((item) => step(byStream.get(item.stream.id)));
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

  /** Gives the lease back: due at `due` (a retry; now, after a cancelled delivery), or not at all (null: stopped). */
  private async release(streamId: string, due: Date | null): Promise<void> {
    const { db, workerId } = this.deps;
    await db.sql`
      update stream_state set lease_owner = null, lease_until = null, due_at = ${due}
      where stream_id = ${streamId} and lease_owner = ${workerId}`;
  }
}
