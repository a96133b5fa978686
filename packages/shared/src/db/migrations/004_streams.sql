-- Streams: users' filters, matched against the chain log, delivered as signed webhooks.

create table accounts (
  id         uuid primary key default gen_random_uuid(),
  name       text        not null,
  is_admin   boolean     not null default false,
  created_at timestamptz not null default now()
);

-- What a stream is. Changed by people (create, update, pause...) and by the circuit breaker.
create table streams (
  id                         uuid primary key default gen_random_uuid(),
  account_id                 uuid        not null references accounts (id) on delete cascade,
  network                    text        not null,
  name                       text        not null,
  webhook_url                text        not null,
  -- Standard Webhooks secrets (whsec_...), sealed with SECRETS_KEY (secrets-box.ts, bound to the
  -- stream id). During a rotation's grace period the previous secret signs too.
  secret_enc                 text        not null,
  previous_secret_enc        text,
  previous_secret_expires_at timestamptz,
  filters                    jsonb       not null,
  options                    jsonb       not null,
  status                     text        not null default 'active'
                             check (status in ('active', 'paused', 'failed', 'disabled')),
  status_reason              text,
  start_block                integer,
  end_block                  integer,
  -- Hold applies until the block's burn block is this many Bitcoin blocks deep.
  confirmations              integer     not null default 0 check (confirmations >= 0),
  created_at                 timestamptz not null default now(),
  updated_at                 timestamptz not null default now()
);
create index streams_account_idx on streams (account_id, created_at, id);
create index streams_network_status_idx on streams (network, status);

-- The matcher reloads its index of streams when this number moves (bumped in the same transaction as
-- the change, so a reload never reads a version whose change it cannot see yet).
create table stream_registry (
  network text primary key,
  version bigint not null default 0
);

create function bump_stream_registry() returns trigger language plpgsql as $$
begin
  insert into stream_registry (network, version)
  values (coalesce(new.network, old.network), 1)
  on conflict (network) do update set version = stream_registry.version + 1;
  if tg_op = 'UPDATE' and new.network <> old.network then
    insert into stream_registry (network, version) values (old.network, 1)
    on conflict (network) do update set version = stream_registry.version + 1;
  end if;
  return null;
end $$;
create trigger streams_registry_bump after insert or delete or update of network, filters, options, status,
  start_block, end_block, confirmations on streams
  for each row execute function bump_stream_registry();

-- How far a stream has got. Written by the matcher (matching columns) and by senders (the rest),
-- kept apart from `streams` so that delivering never rewrites a stream's definition.
create table stream_state (
  stream_id              uuid primary key references streams (id) on delete cascade,
  -- Chain log entries after this seq are matched live; null while the stream catches up on stored
  -- blocks from start_block.
  live_from_seq          bigint,
  -- The last block the catch-up handled.
  catchup_hash           text,
  catchup_height         integer,
  -- Order of the stream's deliveries (assigned when a delivery is written).
  next_ordinal           bigint      not null default 1,
  -- The last per-stream seq handed to a delivery (assigned when it is first sent: gap-free).
  last_seq               bigint      not null default 0,
  -- When a sender should look at the stream next; null when it has nothing to send.
  due_at                 timestamptz,
  lease_owner            text,
  lease_until            timestamptz,
  consecutive_failures   integer     not null default 0,
  delivered_count        bigint      not null default 0,
  failed_attempts        bigint      not null default 0,
  last_delivered_at      timestamptz,
  last_delivered_seq     bigint,
  last_delivered_height  integer,
  last_error             text,
  last_error_at          timestamptz
);
create index stream_state_due_idx on stream_state (due_at) where due_at is not null;

create table deliveries (
  -- Also the `webhook-id`: stable across retries, so receivers can deduplicate.
  id                     uuid primary key default gen_random_uuid(),
  stream_id              uuid        not null references streams (id) on delete cascade,
  ordinal                bigint      not null,
  seq                    bigint,
  kind                   text        not null check (kind in ('apply', 'rollback')),
  network                text        not null,
  index_block_hash       text        not null,
  block_height           integer     not null,
  burn_block_height      integer     not null,
  -- The chain log entry it came from (null for catch-up and replays).
  chain_seq              bigint,
  is_backfill            boolean     not null default false,
  -- With `confirmations`: not sent before the burn chain reaches this height.
  hold_until_burn_height integer,
  -- The body without `seq`, which is only known when the delivery is first sent.
  payload                jsonb       not null,
  status                 text        not null default 'pending'
                         check (status in ('pending', 'delivered', 'failed', 'cancelled')),
  attempts               integer     not null default 0,
  next_attempt_at        timestamptz,
  created_at             timestamptz not null default now(),
  first_sent_at          timestamptz,
  delivered_at           timestamptz,
  last_status            integer,
  last_error             text,
  unique (stream_id, ordinal)
);
create unique index deliveries_seq_uidx on deliveries (stream_id, seq) where seq is not null;
-- A stream's head of line: its pending deliveries in order.
create index deliveries_pending_idx on deliveries (stream_id, ordinal) where status = 'pending';
-- Which streams were told about a block (rollbacks), and reconciliation by block.
create index deliveries_block_idx on deliveries (index_block_hash, stream_id);
create index deliveries_stream_created_idx on deliveries (stream_id, created_at);
create index deliveries_retention_idx on deliveries (created_at) where status in ('delivered', 'cancelled');

create table delivery_attempts (
  id               bigserial primary key,
  delivery_id      uuid        not null references deliveries (id) on delete cascade,
  stream_id        uuid        not null,
  attempt          integer     not null,
  started_at       timestamptz not null,
  duration_ms      integer     not null,
  status_code      integer,
  error            text,
  response_snippet text,
  worker           text        not null
);
create index delivery_attempts_delivery_idx on delivery_attempts (delivery_id, attempt);
create index delivery_attempts_stream_idx on delivery_attempts (stream_id, id);

-- Where each consumer of the chain log is, per network: it advances in the same transaction as the
-- consumer's own writes, so a crash resumes exactly.
create table chain_cursors (
  consumer   text        not null,
  network    text        not null,
  last_seq   bigint      not null default 0,
  updated_at timestamptz not null default now(),
  primary key (consumer, network)
);
