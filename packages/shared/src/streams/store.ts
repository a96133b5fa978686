import { generateSecret } from "@second-layer/sdk/webhooks";
import type postgres from "postgres";
import { z } from "zod";
import type { StacksNetwork } from "../config.ts";
import type { Sql } from "../db/connect.ts";
import type { SecretsBox } from "../secrets-box.ts";
import { type AllowedHosts, checkWebhookUrl, WebhookUrlError } from "../webhooks/url-guard.ts";
import { DELIVERIES_CHANNEL } from "./delivery-body.ts";
import {
  type FieldIssue,
  fieldIssues,
  StreamValidationError,
  streamFiltersSchema,
  streamOptionsSchema,
} from "./filters.ts";

// Streams as data: create, change, pause and resume them, rotate their secrets. Used by the API and
// the tests; the worker reads what these functions write.

const NETWORKS = ["mainnet", "testnet", "devnet"] as const;
const height = z.number().int().nonnegative();

const streamFields = {
  name: z.string().trim().min(1).max(200),
  webhookUrl: z.string().max(2000),
  filters: z.array(z.unknown()).min(1, "a stream needs at least one filter"),
  options: z.unknown().optional(),
  endBlock: height.nullable().optional(),
  confirmations: z.number().int().min(0).max(1000).optional(),
};

export const createStreamSchema = z.strictObject({
  ...streamFields,
  startBlock: height.nullable().optional(),
  network: z.enum(NETWORKS).optional(),
});
export type CreateStreamInput = z.input<typeof createStreamSchema>;

/** What can change on an existing stream (its network and startBlock cannot: replay a range instead). */
export const updateStreamSchema = z.strictObject({
  name: streamFields.name.optional(),
  webhookUrl: streamFields.webhookUrl.optional(),
  filters: streamFields.filters.optional(),
  options: streamFields.options,
  endBlock: streamFields.endBlock,
  confirmations: streamFields.confirmations,
});
export type UpdateStreamInput = z.input<typeof updateStreamSchema>;

export type StreamStatus = "active" | "paused" | "failed" | "disabled";

/** A stream as its owner sees it (never its secret). */
export interface StreamView {
  id: string;
  accountId: string;
  network: StacksNetwork;
  name: string;
  webhookUrl: string;
  filters: Record<string, unknown>[];
  options: Record<string, unknown>;
  status: StreamStatus;
  statusReason: string | null;
  startBlock: number | null;
  endBlock: number | null;
  confirmations: number;
  createdAt: string;
  updatedAt: string;
}

export interface StreamContext {
  /** Seals stream secrets under SECRETS_KEY. */
  secrets: SecretsBox;
  /** The deployment's network: a stream that names none is on it. */
  defaultNetwork: StacksNetwork;
  /** WEBHOOK_ALLOWED_PRIVATE_HOSTS */
  allowedPrivateHosts: AllowedHosts;
}

interface StreamRow {
  id: string;
  account_id: string;
  network: StacksNetwork;
  name: string;
  webhook_url: string;
  filters: Record<string, unknown>[];
  options: Record<string, unknown>;
  status: StreamStatus;
  status_reason: string | null;
  start_block: number | null;
  end_block: number | null;
  confirmations: number;
  created_at: Date;
  updated_at: Date;
}

function view(r: StreamRow): StreamView {
  return {
    id: r.id,
    accountId: r.account_id,
    network: r.network,
    name: r.name,
    webhookUrl: r.webhook_url,
    filters: r.filters,
    options: r.options,
    status: r.status,
    statusReason: r.status_reason,
    startBlock: r.start_block,
    endBlock: r.end_block,
    confirmations: r.confirmations,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

/** Validates the parts whose rules depend on the network and on the outside world (DNS for the URL). */
async function checkDefinition(
  network: StacksNetwork,
  input: {
    webhookUrl?: string;
    filters?: unknown[];
    options?: unknown;
    startBlock?: number | null;
    endBlock?: number | null;
  },
  ctx: StreamContext,
) {
  const issues: FieldIssue[] = [];
  const filters = input.filters === undefined ? undefined : streamFiltersSchema(network).safeParse(input.filters);
  if (filters && !filters.success) issues.push(...fieldIssues(filters.error, "filters"));
  const options = input.options === undefined ? undefined : streamOptionsSchema.safeParse(input.options ?? {});
  if (options && !options.success) issues.push(...fieldIssues(options.error, "options"));
  if (input.startBlock != null && input.endBlock != null && input.endBlock < input.startBlock) {
    issues.push({ path: "endBlock", message: `must not be below startBlock (${input.startBlock})` });
  }
  if (input.webhookUrl !== undefined) {
    try {
      await checkWebhookUrl(input.webhookUrl, { allowedPrivateHosts: ctx.allowedPrivateHosts });
    } catch (err) {
      if (!(err instanceof WebhookUrlError)) throw err;
      issues.push({ path: "webhookUrl", message: err.message });
    }
  }
  if (issues.length > 0) throw new StreamValidationError(issues);
  return {
    filters: filters?.success ? filters.data : undefined,
    options: options?.success ? options.data : undefined,
  };
}

function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new StreamValidationError(fieldIssues(parsed.error));
  return parsed.data;
}

/**
 * Creates a stream with a fresh signing secret, returned once (only its ciphertext is stored). With a
 * startBlock at or below the tip the stream first catches up on stored blocks from there; otherwise it
 * is matched live from the chain log's current head.
 */
export async function createStream(
  sql: postgres.Sql,
  accountId: string,
  input: unknown,
  ctx: StreamContext,
): Promise<{ stream: StreamView; secret: string }> {
  const data = parseInput(createStreamSchema, input);
  const network = data.network ?? ctx.defaultNetwork;
  const checked = await checkDefinition(network, { ...data, options: data.options ?? {} }, ctx);
  const secret = generateSecret();
  // The id is chosen here because the sealed secret is bound to it.
  const id = crypto.randomUUID();
  const row = await sql.begin(async (tx) => {
    const [inserted] = await tx<StreamRow[]>`
      insert into streams (id, account_id, network, name, webhook_url, secret_enc, filters, options, start_block,
        end_block, confirmations)
      values (${id}, ${accountId}, ${network}, ${data.name}, ${data.webhookUrl}, ${ctx.secrets.encrypt(secret, id)},
        ${tx.json(checked.filters as never)}, ${tx.json(checked.options as never)}, ${data.startBlock ?? null},
        ${data.endBlock ?? null}, ${data.confirmations ?? 0})
      returning *`;
    if (!inserted) throw new Error("stream insert returned no row");
    await tx`
      insert into stream_state (stream_id, live_from_seq)
      select ${inserted.id}, case
        when ${data.startBlock ?? null}::int is not null and ${data.startBlock ?? null}::int <= coalesce(c.tip_height, -1)
          then null
        else coalesce(c.log_seq, 0) end
      from (select 1) one left join chain_state c on c.network = ${network}`;
    return inserted;
  });
  return { stream: view(row), secret };
}

export async function getStream(sql: Sql, accountId: string | null, id: string): Promise<StreamView | null> {
  const [row] = await sql<StreamRow[]>`
    select * from streams where id = ${id} and (${accountId}::uuid is null or account_id = ${accountId}::uuid)`;
  return row ? view(row) : null;
}

export interface ListStreamsOptions {
  status?: StreamStatus;
  /** The id of the last stream of the previous page. */
  after?: string;
  limit: number;
}

/** An account's streams, oldest first, a page at a time (keyset on (created_at, id)). */
export async function listStreams(sql: Sql, accountId: string, opts: ListStreamsOptions): Promise<StreamView[]> {
  const rows = await sql<StreamRow[]>`
    select * from streams s
    where s.account_id = ${accountId}
      and (${opts.status ?? null}::text is null or s.status = ${opts.status ?? null}::text)
      and (${opts.after ?? null}::uuid is null or (s.created_at, s.id) > (
        select created_at, id from streams where id = ${opts.after ?? null}::uuid))
    order by s.created_at, s.id limit ${opts.limit}`;
  return rows.map(view);
}

export async function updateStream(
  sql: Sql,
  accountId: string | null,
  id: string,
  input: unknown,
  ctx: StreamContext,
): Promise<StreamView | null> {
  const data = parseInput(updateStreamSchema, input);
  const current = await getStream(sql, accountId, id);
  if (!current) return null;
  const checked = await checkDefinition(
    current.network,
    {
      ...data,
      startBlock: current.startBlock,
      endBlock: data.endBlock === undefined ? current.endBlock : data.endBlock,
    },
    ctx,
  );
  const [row] = await sql<StreamRow[]>`
    update streams set
      name = coalesce(${data.name ?? null}, name),
      webhook_url = coalesce(${data.webhookUrl ?? null}, webhook_url),
      filters = coalesce(${checked.filters ? sql.json(checked.filters as never) : null}, filters),
      options = coalesce(${checked.options ? sql.json(checked.options as never) : null}, options),
      end_block = case when ${data.endBlock !== undefined} then ${data.endBlock ?? null}::int else end_block end,
      confirmations = coalesce(${data.confirmations ?? null}::int, confirmations),
      updated_at = now()
    where id = ${id}
    returning *`;
  return row ? view(row) : null;
}

export type StreamAction = "pause" | "resume" | "disable" | "enable";

/** What each action does to a status; anything else is a conflict (e.g. resuming an active stream). */
const TRANSITIONS: Record<StreamAction, { from: StreamStatus[]; to: StreamStatus }> = {
  pause: { from: ["active", "failed"], to: "paused" },
  resume: { from: ["paused", "failed"], to: "active" },
  disable: { from: ["active", "paused", "failed"], to: "disabled" },
  enable: { from: ["disabled"], to: "active" },
};

export class StreamConflictError extends Error {
  readonly code = "INVALID_STATE";
}

/**
 * Pauses, resumes, disables or enables a stream. Paused and failed streams keep accumulating
 * deliveries, which go out in order on resume; a disabled stream is not matched until it is enabled.
 */
export async function changeStreamStatus(
  sql: postgres.Sql,
  accountId: string | null,
  id: string,
  action: StreamAction,
): Promise<StreamView | null> {
  const t = TRANSITIONS[action];
  return await sql.begin(async (tx) => {
    const [current] = await tx<StreamRow[]>`
      select * from streams where id = ${id} and (${accountId}::uuid is null or account_id = ${accountId}::uuid)
      for update`;
    if (!current) return null;
    if (!t.from.includes(current.status)) {
      throw new StreamConflictError(`cannot ${action} a stream that is ${current.status}`);
    }
    const [row] = await tx<StreamRow[]>`
      update streams set status = ${t.to}, status_reason = ${t.to === "active" ? null : `${action}d by its owner`},
        updated_at = now()
      where id = ${id} returning *`;
    if (t.to === "active") {
      // The circuit breaker starts afresh, and whatever accumulated goes out now: including a head of
      // line whose retry the last failed attempt scheduled far out (the one that opened the breaker).
      await tx`update stream_state set consecutive_failures = 0, due_at = now() where stream_id = ${id}`;
      await tx`
        update deliveries set next_attempt_at = null
        where stream_id = ${id} and status = 'pending' and next_attempt_at is not null`;
      await tx`select pg_notify(${DELIVERIES_CHANNEL}, ${current.network})`;
    }
    return row ? view(row) : null;
  });
}

/**
 * A new signing secret, returned once. The previous one keeps signing beside it (two `v1,` signatures)
 * for `graceSeconds`, so receivers can switch without losing a delivery.
 */
export async function rotateStreamSecret(
  sql: Sql,
  accountId: string | null,
  id: string,
  graceSeconds: number,
  ctx: Pick<StreamContext, "secrets">,
): Promise<{ secret: string; previousExpiresAt: string } | null> {
  const secret = generateSecret();
  const [row] = await sql<{ previous_secret_expires_at: Date }[]>`
    update streams set previous_secret_enc = secret_enc, secret_enc = ${ctx.secrets.encrypt(secret, id)},
      previous_secret_expires_at = now() + make_interval(secs => ${graceSeconds}), updated_at = now()
    where id = ${id} and (${accountId}::uuid is null or account_id = ${accountId}::uuid)
    returning previous_secret_expires_at`;
  return row ? { secret, previousExpiresAt: row.previous_secret_expires_at.toISOString() } : null;
}

export async function deleteStream(sql: Sql, accountId: string | null, id: string): Promise<boolean> {
  const deleted = await sql`
    delete from streams where id = ${id} and (${accountId}::uuid is null or account_id = ${accountId}::uuid)`;
  return deleted.count > 0;
}

/**
 * Puts a stream's parked (failed) deliveries back in line; they keep their seq and webhook-id and go
 * out before anything queued after them. Returns how many.
 */
export async function redeliverParked(sql: postgres.Sql, accountId: string | null, id: string): Promise<number | null> {
  return await sql.begin(async (tx) => {
    const [stream] = await tx<{ network: string }[]>`
      select network from streams where id = ${id} and (${accountId}::uuid is null or account_id = ${accountId}::uuid)`;
    if (!stream) return null;
    const moved = await tx`
      update deliveries set status = 'pending', next_attempt_at = null
      where stream_id = ${id} and status = 'failed'`;
    await tx`update stream_state set due_at = now() where stream_id = ${id}`;
    await tx`select pg_notify(${DELIVERIES_CHANNEL}, ${stream.network})`;
    return moved.count;
  });
}

/** The graphile-worker task that replays a range for a stream (run by the worker). */
export const REPLAY_TASK = "stream_replay";

/** Asks the worker to send a stream the stored canonical blocks of a range again (a graphile-worker job). */
export async function requestReplay(
  sql: Sql,
  accountId: string | null,
  id: string,
  range: { fromBlock: number; toBlock: number },
): Promise<boolean> {
  if (range.toBlock < range.fromBlock) {
    throw new StreamValidationError([{ path: "toBlock", message: `must not be below fromBlock (${range.fromBlock})` }]);
  }
  const stream = await getStream(sql, accountId, id);
  if (!stream) return false;
  await sql`select graphile_worker.add_job(${REPLAY_TASK}, ${JSON.stringify({ streamId: id, ...range })}::text::json)`;
  return true;
}
