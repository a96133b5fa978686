-- Journal: every event-observer POST, byte for byte, before anything else is derived from it.
-- Bodies are split into chunks so a 500 MB body never has to exist as one SQL parameter
-- (a bytea literal that large would exceed Postgres's 1 GB allocation limit once hex-encoded).
create table journal (
  id          bigserial primary key,
  network     text        not null,
  path        text        not null,
  -- 'node' for what the event observer received, 'backfill' for blocks fetched to fill a gap.
  source      text        not null default 'node' check (source in ('node', 'backfill')),
  received_at timestamptz not null default now(),
  byte_size   bigint      not null,
  sha256      text        not null,
  -- Bodies are stored zstd-compressed: JSON shrinks 3-10x, which cuts WAL and disk for the
  -- largest table, and the bytes sent to Postgres (bytea travels hex-encoded).
  encoding    text        not null default 'zstd' check (encoding in ('identity', 'zstd')),
  stored_size bigint      not null,
  chunk_count integer     not null check (chunk_count >= 1)
);
create index journal_network_path_idx on journal (network, path, id);

create table journal_chunks (
  journal_id bigint  not null references journal (id),
  seq        integer not null,
  data       bytea   not null,
  primary key (journal_id, seq)
);

-- The journal stays append-only: processing failures live beside it, and reprocessing resolves them.
create table journal_failures (
  journal_id  bigint primary key references journal (id),
  error_code  text        not null,
  error       text        not null,
  details     jsonb,
  failed_at   timestamptz not null default now(),
  attempts    integer     not null default 1,
  resolved_at timestamptz
);
create index journal_failures_unresolved_idx on journal_failures (journal_id) where resolved_at is null;

create table blocks (
  network                    text    not null,
  index_block_hash           text    not null,
  block_hash                 text    not null,
  block_height               integer not null,
  parent_index_block_hash    text    not null,
  parent_block_hash          text    not null,
  parent_microblock_hash     text,
  parent_microblock_sequence integer,
  burn_block_hash            text    not null,
  burn_block_height          integer not null,
  burn_block_time            bigint  not null,
  block_time                 bigint,
  tenure_height              integer,
  consensus_hash             text,
  miner_txid                 text,
  signer_bitvec              text,
  signer_signature           jsonb,
  signer_signature_hash      text,
  miner_signature            text,
  cycle_number               integer,
  reward_set                 jsonb,
  matured_miner_rewards      jsonb,
  anchored_cost              jsonb,
  confirmed_microblocks_cost jsonb,
  tx_count                   integer not null,
  event_count                integer not null,
  canonical                  boolean not null default false,
  -- Arrival order: between siblings at one height the first seen stays canonical.
  seen_seq                   bigserial,
  received_at                timestamptz not null default now(),
  source                     text    not null default 'node' check (source in ('node', 'backfill')),
  journal_id                 bigint references journal (id),
  primary key (network, index_block_hash)
);
-- At most one canonical block per height: fork choice can never leave two.
create unique index blocks_canonical_height_uidx on blocks (network, block_height) where canonical;
-- Secondary indexes lead with the selective column, not `network`: the foreign-key checks from
-- transactions/events look blocks up by (network, index_block_hash), and a plan cached while the
-- table was empty could otherwise pick an index whose only usable column is `network` and scan
-- every block of the network per row (measured: per-block ingest cost grew with the chain).
create index blocks_height_idx on blocks (block_height, network);
create index blocks_parent_idx on blocks (parent_index_block_hash, network);
create index blocks_block_hash_idx on blocks (block_hash, network);

create table transactions (
  network                 text    not null,
  index_block_hash        text    not null,
  txid                    text    not null,
  tx_index                integer not null,
  block_height            integer not null,
  canonical               boolean not null,
  tx_type                 text    not null,
  sender_address          text,
  sponsor_address         text,
  sponsored               boolean not null default false,
  nonce                   numeric(20, 0),
  sponsor_nonce           numeric(20, 0),
  fee                     numeric(20, 0),
  anchor_mode             text,
  post_condition_mode     text,
  contract_id             text,
  function_name           text,
  function_args           jsonb,
  token_transfer_recipient text,
  token_transfer_amount   numeric(39, 0),
  token_transfer_memo     text,
  status                  text    not null,
  raw_result              text,
  vm_error                text,
  execution_cost          jsonb,
  contract_abi            jsonb,
  microblock_hash         text,
  microblock_sequence     integer,
  microblock_parent_hash  text,
  burnchain_op            jsonb,
  raw_tx                  text    not null,
  primary key (network, index_block_hash, txid),
  foreign key (network, index_block_hash) references blocks (network, index_block_hash)
);
create index transactions_txid_idx on transactions (network, txid);
create index transactions_sender_idx on transactions (network, sender_address, block_height);
create index transactions_contract_idx on transactions (network, contract_id, block_height) where contract_id is not null;
create index transactions_microblock_idx on transactions (network, microblock_hash) where microblock_hash is not null;

create table events (
  network          text    not null,
  index_block_hash text    not null,
  event_index      integer not null,
  txid             text    not null,
  block_height     integer not null,
  canonical        boolean not null,
  committed        boolean not null,
  -- Copied from the transaction so filters can skip events of failed transactions without a join.
  tx_success       boolean not null,
  type             text    not null,
  asset_identifier text,
  contract_id      text,
  sender           text,
  recipient        text,
  amount           numeric(39, 0),
  value_hex        text,
  topic            text,
  memo             text,
  locked_address   text,
  unlock_height    bigint,
  data             jsonb   not null,
  primary key (network, index_block_hash, event_index),
  foreign key (network, index_block_hash) references blocks (network, index_block_hash)
);
create index events_txid_idx on events (network, txid);
create index events_type_height_idx on events (network, type, block_height);
create index events_contract_idx on events (network, contract_id, block_height) where contract_id is not null;
create index events_asset_idx on events (network, asset_identifier, block_height) where asset_identifier is not null;

create table microblocks (
  network                 text    not null,
  microblock_hash         text    not null,
  microblock_sequence     integer not null,
  microblock_parent_hash  text    not null,
  parent_index_block_hash text    not null,
  burn_block_hash         text,
  burn_block_height       integer,
  burn_block_time         bigint,
  tx_count                integer not null,
  transactions            jsonb   not null,
  events                  jsonb   not null,
  received_at             timestamptz not null default now(),
  journal_id              bigint references journal (id),
  primary key (network, microblock_hash)
);
create index microblocks_parent_idx on microblocks (network, parent_index_block_hash);

create table burn_blocks (
  network                text    not null,
  burn_block_hash        text    not null,
  burn_block_height      integer not null,
  parent_burn_block_hash text,
  consensus_hash         text,
  burn_amount            numeric(39, 0),
  reward_recipients      jsonb   not null,
  reward_slot_holders    jsonb   not null,
  received_at            timestamptz not null default now(),
  primary key (network, burn_block_hash)
);
create index burn_blocks_height_idx on burn_blocks (network, burn_block_height);

create table mempool_txs (
  network         text not null,
  txid            text not null,
  raw_tx          text not null,
  tx_type         text,
  sender_address  text,
  nonce           numeric(20, 0),
  fee             numeric(20, 0),
  received_at     timestamptz not null default now(),
  dropped_at      timestamptz,
  drop_reason     text,
  replaced_by_txid text,
  primary key (network, txid)
);

create table chain_state (
  network              text primary key,
  tip_index_block_hash text,
  tip_height           integer,
  highest_height_seen  integer,
  -- Kept up to date per block so /health never scans the chain: the lowest canonical height, and
  -- the top of the unbroken canonical run that starts there (last contiguous block).
  lowest_height        integer,
  contiguous_height    integer,
  blocks_out_of_order  bigint not null default 0,
  updated_at           timestamptz not null default now()
);

create table reorgs (
  id                 bigserial primary key,
  network            text    not null,
  detected_at        timestamptz not null default now(),
  old_tip_hash       text,
  old_tip_height     integer,
  new_tip_hash       text    not null,
  new_tip_height     integer not null,
  fork_point_hash    text,
  fork_point_height  integer,
  depth              integer not null,
  orphaned_blocks    text[]  not null,
  restored_blocks    text[]  not null
);
create index reorgs_network_idx on reorgs (network, id);
