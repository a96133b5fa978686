-- Views: tenants' tables built from the chain by declarative handlers. Each view has its own schema
-- (named by us, never by the tenant); this table holds definitions, status and cursors.
create table views (
  id              uuid primary key default gen_random_uuid(),
  account_id      uuid        not null references accounts (id) on delete cascade,
  name            text        not null,
  network         text        not null,
  definition      jsonb       not null,
  schema_name     text        not null unique,
  -- Moves on every change that needs the processor to reload (a rebuild resets the cursor too).
  version         integer     not null default 1,
  status          text        not null default 'active' check (status in ('active', 'error')),
  status_reason   text,
  error_height    integer,
  -- The chain log seq the view's tables reflect; advanced in the same transaction as its rows.
  last_seq        bigint      not null default 0,
  processed_height integer,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  unique (account_id, name)
);
create index views_network_status_idx on views (network, status);

-- Undo for reorgs. While a block is applied near the tip, the processor sets
-- second_layer.undo_block / undo_height for its transaction; every row a handler then inserts,
-- updates or deletes is recorded with its previous version (null for a new row) in the view's
-- _undo table. Rolling the block back restores those versions, newest first. Each block applied this
-- way also leaves a marker row (table_name ''), so a rollback can tell "nothing to undo" from "applied
-- without undo data" (deeper than VIEW_UNDO_DEPTH), which only a reindex can repair.
create function second_layer_view_undo_capture() returns trigger language plpgsql as $$
begin
  execute format(
    'insert into %I._undo (index_block_hash, block_height, table_name, row_id, old_row) values ($1, $2, $3, $4, $5)',
    tg_table_schema)
  using current_setting('second_layer.undo_block'), current_setting('second_layer.undo_height')::integer,
        tg_table_name, case when tg_op = 'INSERT' then new._id else old._id end,
        case when tg_op = 'INSERT' then null else to_jsonb(old) end;
  return null;
end $$;

create function second_layer_view_undo(view_schema text, block text) returns integer language plpgsql as $$
declare
  r record;
  n integer := 0;
begin
  -- Restoring must not record undo of its own.
  perform set_config('second_layer.undo_block', '', true);
  for r in execute format(
    'select table_name, row_id, old_row from %I._undo where index_block_hash = $1 and table_name <> '''' order by id desc',
    view_schema)
    using block
  loop
    execute format('delete from %I.%I where _id = $1', view_schema, r.table_name) using r.row_id;
    if r.old_row is not null then
      execute format('insert into %I.%I select * from jsonb_populate_record(null::%I.%I, $1)',
                     view_schema, r.table_name, view_schema, r.table_name) using r.old_row;
    end if;
    n := n + 1;
  end loop;
  execute format('delete from %I._undo where index_block_hash = $1', view_schema) using block;
  return n;
end $$;
