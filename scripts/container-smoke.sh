#!/usr/bin/env bash
# The container smoke test (`bun run test:containers`; .ci/run runs it after the unit tests). Provisions
# a container engine where Docker is absent (../shared/tools/container-host: podman with a Docker-API
# socket, docker-compose 1.29, local stand-ins for the oven/bun and postgres images), then runs
# scripts/container-smoke.ts, which builds the images, runs the compose stack for real and tears it
# down again. Exits non-zero when any check fails. SL_CONTAINER_HOST overrides the tool's path; without
# it (and without the tool) the machine's own docker and compose are used. (Not CONTAINER_HOST: podman
# reads that as the URL of a remote service, and the tool's health-check loop inherits our environment.)
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
container_host="${SL_CONTAINER_HOST:-$(cd .. && pwd)/shared/tools/container-host}"
if [ -x "$container_host" ]; then
  echo "[smoke] provisioning the container engine: $container_host setup"
  "$container_host" setup .
  export SL_CONTAINER_HOST="$container_host"
elif ! command -v docker >/dev/null 2>&1; then
  echo "[smoke] no container engine: install Docker, or set SL_CONTAINER_HOST to container-host" >&2
  exit 1
fi
echo "[smoke] engine ready after $(($(date +%s) - start)) s"

# In the background so a SIGTERM (CI's time limit) reaches it: it then tears its stack down.
status=0
bun scripts/container-smoke.ts &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' TERM INT
wait "$pid" || status=$?
if kill -0 "$pid" 2>/dev/null; then wait "$pid" || status=$?; fi
echo "[smoke] total $(($(date +%s) - start)) s"
exit "$status"
