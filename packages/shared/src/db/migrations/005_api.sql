-- API keys: `sk_live_<random>`, shown once; only a SHA-256 of the key is stored (the keys are 190
-- random bits, so a fast hash is enough: there is nothing to brute-force).
create table api_keys (
  id           uuid primary key default gen_random_uuid(),
  account_id   uuid        not null references accounts (id) on delete cascade,
  name         text        not null,
  -- The first characters of the key, to tell keys apart in lists.
  prefix       text        not null,
  key_hash     text        not null unique,
  created_at   timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);
create index api_keys_account_idx on api_keys (account_id, created_at);

-- /status counts deliveries sent and failed over the last day from the attempts of that day only.
create index delivery_attempts_started_idx on delivery_attempts (started_at);

-- Parked deliveries, counted by /status and listed by the API.
create index deliveries_failed_idx on deliveries (stream_id) where status = 'failed';
