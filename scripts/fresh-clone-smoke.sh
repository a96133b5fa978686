#!/usr/bin/env bash
# The README's promise, checked: a fresh clone, the quick-start command exactly as the README writes
# it (plus --demo), and within a minute or two the indexer and the api answer, the demo stream has
# received signed deliveries (verified with the SDK's verifyWebhook by the demo's receiver, and
# acknowledged in the api's delivery records) and the demo view has rows. Run by .ci/run.
#
#   scripts/fresh-clone-smoke.sh [TIME_LIMIT_SECONDS]    (default 150)
set -euo pipefail

limit="${1:-150}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d -t sl-fresh-XXXXXX)"
# The local Postgres runs as the `postgres` user when we are root: it must be able to reach the clone.
chmod 755 "$work"
log="$work/dev.log"
pid=""

say() { printf 'fresh-clone: %s\n' "$*"; }

# GET with an optional bearer key; prints the body, fails on a non-2xx (bun is there; curl may not be).
get() {
  # shellcheck disable=SC2016 # the ${...} belongs to the JavaScript, not the shell
  bun -e 'const r = await fetch(process.argv[1], { headers: process.argv[2] ? { authorization: `Bearer ${process.argv[2]}` } : {} });
    if (!r.ok) process.exit(1); process.stdout.write(await r.text());' "$1" "${2:-}"
}

cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # A dev run that was killed leaves its Postgres behind: stop it before removing its files.
  pg_pid_file="$work/second-layer/.sl-data/postgres/pgdata/postmaster.pid"
  if [ -f "$pg_pid_file" ]; then kill -INT "$(head -1 "$pg_pid_file")" 2>/dev/null || true; sleep 1; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  say "FAILED: $*"
  say "last lines of bun run dev:"
  tail -40 "$log" | sed 's/^/  | /'
  exit 1
}

say "cloning $repo"
git clone -q "$repo" "$work/second-layer"
cd "$work/second-layer"
chmod -R a+rX "$work/second-layer"

# The first line of the README's quick-start block, without its comment, then --demo.
command="$(awk '/^## Quick start/{q=1} q && /^```sh/{getline; print; exit}' README.md | sed 's/[[:space:]]*#.*$//')"
[ -n "$command" ] || fail "no quick-start command found in README.md"
say "running: $command --demo"
bash -c "$command --demo" >"$log" 2>&1 &
pid=$!

deadline=$(( $(date +%s) + limit ))
until get http://127.0.0.1:3700/health >/dev/null 2>&1 && get http://127.0.0.1:3800/health >/dev/null 2>&1; do
  kill -0 "$pid" 2>/dev/null || fail "bun run dev exited before the services answered"
  [ "$(date +%s)" -lt "$deadline" ] || fail "the indexer and api did not answer /health within ${limit}s"
  sleep 1
done
say "indexer and api answer /health"

key="$(cat .sl-data/admin-key 2>/dev/null || true)"
[ -n "$key" ] || fail "no admin key in .sl-data/admin-key"
api() { get "http://127.0.0.1:3800$1" "$key"; }

delivered=0
rows=0
while :; do
  kill -0 "$pid" 2>/dev/null || fail "bun run dev exited"
  stream_id="$(api /api/streams 2>/dev/null | bun -e 'const j=await Bun.stdin.json(); console.log(j.streams.find((s)=>s.name==="demo")?.id ?? "")' 2>/dev/null || true)"
  if [ -n "$stream_id" ]; then
    delivered="$(api "/api/streams/$stream_id/deliveries?status=delivered&limit=500" 2>/dev/null \
      | bun -e 'const j=await Bun.stdin.json(); console.log(j.deliveries.length)' 2>/dev/null || echo 0)"
  fi
  rows="$(api "/api/views/demo-market/balances/count" 2>/dev/null | bun -e 'const j=await Bun.stdin.json(); console.log(j.count ?? 0)' 2>/dev/null || echo 0)"
  verified="$(grep -c 'receiver: ✓ seq' "$log" || true)"
  if [ "$delivered" -gt 0 ] && [ "$verified" -gt 0 ] && [ "$rows" -gt 0 ]; then break; fi
  [ "$(date +%s)" -lt "$deadline" ] || fail "within ${limit}s: ${delivered} deliveries acknowledged, ${verified} verified by the receiver, ${rows} view rows"
  sleep 2
done
grep -q 'signature check failed' "$log" && fail "the receiver saw a delivery whose signature did not verify"
say "demo stream: $delivered deliveries acknowledged, $verified verified by the receiver; demo view: $rows balance rows"
say "passed in $(( limit - (deadline - $(date +%s)) ))s"
