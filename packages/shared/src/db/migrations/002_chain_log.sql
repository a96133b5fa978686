-- The chain log: every change of the canonical chain, per network, in commit order. It is the
-- contract between the indexer and every consumer (stream matcher, views): folding it (apply adds a
-- block, rollback removes it) gives the canonical chain at every moment.
--
-- `seq` is gap-free and strictly increasing per network. It is taken from chain_state.log_seq under
-- the chain_state row lock that every ingest holds until it commits, so commit order and seq order
-- agree: a reader that asks for `seq > N` never skips a row that commits later (a bigserial could).
create table chain_log (
  network                 text    not null,
  seq                     bigint  not null,
  kind                    text    not null check (kind in ('apply', 'rollback')),
  index_block_hash        text    not null,
  block_hash              text    not null,
  block_height            integer not null,
  parent_index_block_hash text    not null,
  burn_block_height       integer not null,
  reorg_id                bigint references reorgs (id),
  created_at              timestamptz not null default now(),
  primary key (network, seq),
  foreign key (network, index_block_hash) references blocks (network, index_block_hash)
);
create index chain_log_block_idx on chain_log (index_block_hash, network);

alter table chain_state add column log_seq bigint not null default 0;

-- Databases indexed before the log existed: their canonical chain becomes the log's first applies,
-- lowest first, so a consumer starting at seq 0 sees the same chain as one that followed all along.
insert into chain_log (network, seq, kind, index_block_hash, block_hash, block_height, parent_index_block_hash,
                       burn_block_height)
select network, row_number() over (partition by network order by block_height), 'apply', index_block_hash,
       block_hash, block_height, parent_index_block_hash, burn_block_height
from blocks where canonical;
update chain_state s set log_seq = l.n
from (select network, count(*) as n from chain_log group by network) l
where l.network = s.network;

-- Where a block's rows came from. `node`: pushed by the node. `second-layer`: another indexer's
-- journal, byte for byte. `stacks-api`: rebuilt from a Hiro-compatible API, which lacks failed
-- transactions' events and uncommitted events; the node's own copy replaces such a block when it
-- arrives. Earlier backfills did not say which source they used: assume the lossy one, so the node's
-- copy wins.
alter table blocks drop constraint blocks_source_check;
update blocks set source = 'stacks-api' where source = 'backfill';
alter table blocks add constraint blocks_source_check check (source in ('node', 'second-layer', 'stacks-api'));
-- The journal says the same of each body it keeps (old rows keep their unspecific 'backfill').
alter table journal drop constraint journal_source_check;
alter table journal add constraint journal_source_check
  check (source in ('node', 'second-layer', 'stacks-api', 'backfill'));

-- Retried POSTs are recognised before decoding: a block by its hash, any other body by comparing it
-- with the newest body the node sent (the node retries one POST until it gets a 200).
create index journal_node_recent_idx on journal (network, id) where source = 'node';

-- Things the node sent that this version cannot interpret (an event type added in a later node
-- release, a raw_tx that does not decode). The block is stored with them, and they are listed here
-- so integrity reports them and `sl rebuild` can revisit them after an upgrade.
create table unknown_items (
  network          text    not null,
  index_block_hash text    not null,
  block_height     integer not null,
  kind             text    not null check (kind in ('event', 'transaction')),
  -- the event type or the transaction id
  item             text    not null,
  event_index      integer,
  reason           text    not null,
  detected_at      timestamptz not null default now(),
  foreign key (network, index_block_hash) references blocks (network, index_block_hash)
);
create index unknown_items_block_idx on unknown_items (network, index_block_hash);

-- Mempool with chain semantics: a transaction is mined while a canonical block holds it; an orphaned
-- block hands it back to the mempool (unless the new chain holds it too).
alter table mempool_txs add column mined_index_block_hash text;
alter table mempool_txs add column mined_block_height integer;
create index mempool_txs_mined_idx on mempool_txs (mined_index_block_hash, network) where mined_index_block_hash is not null;
create index mempool_txs_pending_idx on mempool_txs (network, received_at)
  where mined_index_block_hash is null and dropped_at is null;

-- Bitcoin reorgs: a new burn block at a height replaces every burn block at or above it. Where an
-- older database holds two at one height, the one received last was the node's latest word.
alter table burn_blocks add column canonical boolean not null default true;
update burn_blocks b set canonical = false
where exists (select 1 from burn_blocks o
              where o.network = b.network and o.burn_block_height = b.burn_block_height
                and (o.received_at, o.burn_block_hash) > (b.received_at, b.burn_block_hash));
create unique index burn_blocks_canonical_height_uidx on burn_blocks (network, burn_block_height) where canonical;

-- `sl rebuild` progress, so an interrupted rebuild resumes where it stopped.
create table rebuild_runs (
  network      text    not null,
  from_height  integer not null,
  to_height    integer not null,
  -- the last block done, in (height, index_block_hash) order
  done_height  integer,
  done_hash    text,
  blocks_done  bigint  not null default 0,
  blocks_changed bigint not null default 0,
  started_at   timestamptz not null default now(),
  finished_at  timestamptz,
  primary key (network, from_height, to_height)
);
