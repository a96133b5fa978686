#!/usr/bin/env bash
# Provisions a Hetzner dedicated server (Ubuntu 24.04) for Second Layer, as root:
#   Docker Engine + Compose v2, the NVMe data array (RAID0 at /mnt/data when two empty NVMe disks are
#   present, else a folder), UFW (22, 80, 443, 20444), fail2ban, a checkout of the repository,
#   docker/.env with random secrets, a systemd unit running the compose stack with the Hetzner
#   override (Stacks node, Caddy with TLS for the domain, tuned Postgres, nightly backups), then
#   starts it and waits until it is healthy.
#
#   hetzner-setup.sh --domain api.example.com --repo https://github.com/you/second-layer.git
#                    [--branch main] [--dir /opt/second-layer] [--data-dir /mnt/data]
#                    [--network mainnet] [--dry-run]
#
# Idempotent: run it again after a change or a failure; what is done stays (an existing .env and its
# secrets are never replaced, an existing array is not touched). --dry-run prints every step and
# changes nothing (it only reads the machine's state). `bun run deploy --target hetzner` runs it over
# SSH. SL_LSBLK replaces the `lsblk` used to find the disks (tests).
set -euo pipefail

DOMAIN=""
REPO=""
BRANCH="main"
APP_DIR="/opt/second-layer"
DATA_DIR="/mnt/data"
NETWORK="mainnet"
DRY_RUN=0
LSBLK="${SL_LSBLK:-lsblk}"
HEALTH_TIMEOUT_S=900

usage() {
  cat <<'EOF'
usage: hetzner-setup.sh --domain api.example.com --repo https://github.com/you/second-layer.git
                        [--branch main] [--dir /opt/second-layer] [--data-dir /mnt/data]
                        [--network mainnet] [--dry-run]
EOF
}

die() {
  echo "error: $*" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --domain) DOMAIN="${2:-}"; shift 2 ;;
    --repo) REPO="${2:-}"; shift 2 ;;
    --branch) BRANCH="${2:-}"; shift 2 ;;
    --dir) APP_DIR="${2:-}"; shift 2 ;;
    --data-dir) DATA_DIR="${2:-}"; shift 2 ;;
    --network) NETWORK="${2:-}"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

[[ "$DOMAIN" =~ ^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$ ]] ||
  die "--domain must be the API's public host name, e.g. api.example.com (got \"$DOMAIN\")"
[[ "$NETWORK" =~ ^(mainnet|testnet|devnet)$ ]] || die "--network must be mainnet, testnet or devnet"
[[ "$APP_DIR" == /* && "$DATA_DIR" == /* ]] || die "--dir and --data-dir must be absolute paths"

step() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }

# Runs a command, or in a dry run prints it (quoted as a shell would need it).
run() {
  if [ "$DRY_RUN" = 1 ]; then
    printf '    +'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# Writes stdin to a file with a mode, or in a dry run shows what would be written.
write_file() {
  local path=$1 mode=$2 content
  content=$(cat)
  if [ "$DRY_RUN" = 1 ]; then
    note "would write $path (mode $mode):"
    printf '%s\n' "$content" | sed 's/^/      | /'
  else
    install -m "$mode" /dev/null "$path"
    printf '%s\n' "$content" >"$path"
  fi
}

compose_args=(-f docker/docker-compose.yml -f docker/docker-compose.hetzner.yml --env-file docker/.env)

# ---- 1. The machine -----------------------------------------------------------------------------
step "checking the machine"
if [ "$(id -u)" != 0 ]; then
  [ "$DRY_RUN" = 1 ] || die "run as root (sudo $0 ...)"
  note "not root: fine for a dry run"
fi
os="unknown"
if [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  os=$(. /etc/os-release && echo "${ID:-}-${VERSION_ID:-}")
fi
if [ "$os" != "ubuntu-24.04" ]; then
  [ "$DRY_RUN" = 1 ] || die "this script is for Ubuntu 24.04 (found $os)"
  note "found $os, not ubuntu-24.04: fine for a dry run"
fi

# ---- 2. Packages --------------------------------------------------------------------------------
step "base packages (git, ufw, fail2ban, mdadm, openssl, curl)"
missing=()
for p in ca-certificates curl git ufw fail2ban mdadm openssl; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  run apt-get update -q
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
else
  note "all present"
fi

# ---- 3. Docker ----------------------------------------------------------------------------------
step "Docker Engine and the Compose plugin"
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  note "present: $(docker --version)"
else
  run install -m 0755 -d /etc/apt/keyrings
  run curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o /etc/apt/keyrings/docker.asc
  run chmod a+r /etc/apt/keyrings/docker.asc
  arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
  write_file /etc/apt/sources.list.d/docker.list 0644 <<EOF
deb [arch=$arch signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu noble stable
EOF
  run apt-get update -q
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin
fi
run systemctl enable --now docker

# ---- 4. Data array ------------------------------------------------------------------------------
step "data at $DATA_DIR"

# Prints the NVMe disks with no partition table, file system, mount or child device.
empty_nvme_disks() {
  local listing line name kind fstype pttype mountpoint
  listing=$("$LSBLK" -P -p -o NAME,TYPE,PKNAME,FSTYPE,PTTYPE,MOUNTPOINT 2>/dev/null || true)
  field() { sed -nE "s/(^|.* )$1=\"([^\"]*)\".*/\\2/p" <<<"$line"; }
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    name=$(field NAME)
    kind=$(field TYPE)
    fstype=$(field FSTYPE)
    pttype=$(field PTTYPE)
    mountpoint=$(field MOUNTPOINT)
    if [ "$kind" != disk ] || [[ "$name" != /dev/nvme* ]]; then continue; fi
    [ -z "$fstype$pttype$mountpoint" ] || continue
    grep -q "PKNAME=\"$name\"" <<<"$listing" && continue
    echo "$name"
  done <<<"$listing"
}

if mountpoint -q "$DATA_DIR" 2>/dev/null; then
  note "already mounted: $(findmnt -n -o SOURCE "$DATA_DIR")"
else
  mapfile -t disks < <(empty_nvme_disks)
  if [ ${#disks[@]} -ge 2 ]; then
    md=/dev/md/second-layer-data
    note "two empty NVMe disks: ${disks[0]} ${disks[1]} -> RAID0 $md"
    run mdadm --create "$md" --run --level=0 --raid-devices=2 --name=second-layer-data "${disks[0]}" "${disks[1]}"
    run mkfs.ext4 -q -L sl-data "$md"
    run sh -c "mdadm --detail --scan | grep second-layer-data >> /etc/mdadm/mdadm.conf"
    run update-initramfs -u
    run mkdir -p "$DATA_DIR"
    if ! grep -q "LABEL=sl-data" /etc/fstab 2>/dev/null; then
      run sh -c "echo 'LABEL=sl-data $DATA_DIR ext4 defaults,noatime,nofail 0 2' >> /etc/fstab"
    fi
    run mount "$DATA_DIR"
  else
    note "no two empty NVMe disks (found ${#disks[@]}): $DATA_DIR is a folder on the root file system"
    run mkdir -p "$DATA_DIR"
  fi
fi
for sub in postgres stacks-node caddy/data caddy/config backups; do
  run mkdir -p "$DATA_DIR/$sub"
done

# ---- 5. Firewall --------------------------------------------------------------------------------
step "firewall: SSH, HTTP, HTTPS and Stacks P2P in; everything else closed"
# Docker's published ports bypass UFW, so the compose files publish only these four to the world
# (the indexer and the api are bound to 127.0.0.1; Caddy serves the api on 80/443).
run ufw default deny incoming
run ufw default allow outgoing
for port in 22 80 443 20444; do
  run ufw allow "$port/tcp"
done
run ufw --force enable

# ---- 6. fail2ban --------------------------------------------------------------------------------
step "fail2ban for SSH"
write_file /etc/fail2ban/jail.d/second-layer.conf 0644 <<'EOF'
[sshd]
enabled = true
maxretry = 5
findtime = 10m
bantime = 1h
EOF
run systemctl enable fail2ban
run systemctl restart fail2ban

# ---- 7. The checkout ----------------------------------------------------------------------------
step "repository at $APP_DIR"
if [ -d "$APP_DIR/.git" ]; then
  note "present ($(git -C "$APP_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')); update with: git -C $APP_DIR pull && systemctl restart second-layer"
else
  [ -n "$REPO" ] || die "--repo URL is required for the first run (no checkout at $APP_DIR yet)"
  run git clone --branch "$BRANCH" "$REPO" "$APP_DIR"
fi

# ---- 8. docker/.env -----------------------------------------------------------------------------
env_file="$APP_DIR/docker/.env"
step "settings and secrets in $env_file"
if [ -f "$env_file" ]; then
  note "present: kept as it is (its secrets must not change)"
else
  random_hex() { openssl rand -hex "$1"; }
  postgres_password=$(random_hex 24)
  secrets_key=$(openssl rand -base64 32)
  admin_key="sk_live_$(random_hex 20)"
  # Replaces NAME=... lines of the example (values may hold / + = , so no sed).
  render_env() {
    local line key
    while IFS= read -r line || [ -n "$line" ]; do
      key=${line%%=*}
      case "$key" in
        POSTGRES_PASSWORD) echo "POSTGRES_PASSWORD=$postgres_password" ;;
        SECRETS_KEY) echo "SECRETS_KEY=$secrets_key" ;;
        API_BOOTSTRAP_KEY) echo "API_BOOTSTRAP_KEY=$admin_key" ;;
        DOMAIN) echo "DOMAIN=$DOMAIN" ;;
        DATA_DIR) echo "DATA_DIR=$DATA_DIR" ;;
        STACKS_NETWORK) echo "STACKS_NETWORK=$NETWORK" ;;
        API_HOST_BIND) echo "API_HOST_BIND=127.0.0.1" ;;
        *) echo "$line" ;;
      esac
    done
  }
  if [ "$DRY_RUN" = 1 ]; then
    note "would write $env_file (mode 0600) from docker/.env.example with DOMAIN=$DOMAIN, DATA_DIR=$DATA_DIR,"
    note "STACKS_NETWORK=$NETWORK, API_HOST_BIND=127.0.0.1 and a random POSTGRES_PASSWORD, SECRETS_KEY and"
    note "API_BOOTSTRAP_KEY (not shown here)"
  else
    umask 077
    render_env <"$APP_DIR/docker/.env.example" >"$env_file"
    chmod 600 "$env_file"
    echo "    admin API key (shown this once; also in $env_file as API_BOOTSTRAP_KEY):"
    echo "      $admin_key"
    echo "    back up $env_file: SECRETS_KEY is needed to read the stored stream secrets"
  fi
fi

# ---- 9. systemd ---------------------------------------------------------------------------------
step "systemd unit second-layer.service"
write_file /etc/systemd/system/second-layer.service 0644 <<EOF
[Unit]
Description=Second Layer (docker compose: $APP_DIR)
Requires=docker.service
After=docker.service network-online.target
Wants=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
WorkingDirectory=$APP_DIR
ExecStart=/usr/bin/docker compose ${compose_args[*]} up -d --build --remove-orphans
ExecStop=/usr/bin/docker compose ${compose_args[*]} down
ExecReload=/usr/bin/docker compose ${compose_args[*]} up -d --build --remove-orphans
# The first start builds the images.
TimeoutStartSec=1800

[Install]
WantedBy=multi-user.target
EOF
run systemctl daemon-reload
run systemctl enable second-layer.service

# ---- 10. Start ----------------------------------------------------------------------------------
step "starting (the first start builds the images: a few minutes)"
run systemctl start second-layer.service

# ---- 11. Health ---------------------------------------------------------------------------------
step "waiting for the indexer and the api to be healthy"
if [ "$DRY_RUN" = 1 ]; then
  note "would poll http://127.0.0.1:3700/health and http://127.0.0.1:3800/ready for up to ${HEALTH_TIMEOUT_S}s"
else
  deadline=$(($(date +%s) + HEALTH_TIMEOUT_S))
  until curl -fsS -o /dev/null http://127.0.0.1:3700/health && curl -fsS -o /dev/null http://127.0.0.1:3800/ready; do
    if [ "$(date +%s)" -gt "$deadline" ]; then
      echo "not healthy after ${HEALTH_TIMEOUT_S}s; look at: cd $APP_DIR && docker compose ${compose_args[*]} logs --tail 100" >&2
      exit 1
    fi
    sleep 5
  done
  note "healthy: $(curl -fsS http://127.0.0.1:3700/health)"
fi

step "done"
note "point the DNS record of $DOMAIN at this server; Caddy then gets its certificate by itself"
note "API: https://$DOMAIN  (reference: https://$DOMAIN/docs)"
note "status: systemctl status second-layer; logs: cd $APP_DIR && docker compose ${compose_args[*]} logs -f"
