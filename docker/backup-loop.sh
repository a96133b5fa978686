#!/usr/bin/env bash
# Nightly pg_dump for docker-compose.hetzner.yml: waits for BACKUP_HOUR (UTC), writes a custom-format
# dump to /backups (written under a temporary name, renamed when complete), deletes dumps older than
# BACKUP_RETENTION_DAYS, and repeats. Connection settings come from PGHOST, PGUSER, PGPASSWORD, PGDATABASE.
set -euo pipefail

hour="${BACKUP_HOUR:-3}"
keep_days="${BACKUP_RETENTION_DAYS:-7}"

seconds_until_hour() {
  local now target
  now=$(date -u +%s)
  target=$(date -u -d "today ${hour}:00" +%s)
  if [ "$target" -le "$now" ]; then target=$(date -u -d "tomorrow ${hour}:00" +%s); fi
  echo $((target - now))
}

trap 'exit 0' TERM INT
while true; do
  wait_s=$(seconds_until_hour)
  echo "next backup in ${wait_s}s (at ${hour}:00 UTC)"
  sleep "$wait_s" &
  wait $!
  name="second-layer-$(date -u +%Y%m%dT%H%M%SZ).dump"
  if pg_dump --format=custom --compress=6 --file="/backups/.${name}.partial"; then
    mv "/backups/.${name}.partial" "/backups/${name}"
    echo "backup written: ${name} ($(du -h "/backups/${name}" | cut -f1))"
  else
    rm -f "/backups/.${name}.partial"
    echo "backup FAILED at $(date -u)" >&2
  fi
  find /backups -maxdepth 1 -name 'second-layer-*.dump' -mtime "+$((keep_days - 1))" -print -delete
done
