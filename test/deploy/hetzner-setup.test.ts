import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onCleanup } from "../support/cleanup.ts";

// hetzner-setup.sh --dry-run on this machine: it must print every step of the provisioning and change
// nothing. A stand-in for `lsblk` (SL_LSBLK) describes the disks the script would find.

const SCRIPT = join(import.meta.dir, "../../hetzner-setup.sh");

function sandbox(): string {
  const dir = mkdtempSync(join(tmpdir(), "sl-hetzner-"));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An `lsblk -P` stand-in listing these disks and partitions. */
function fakeLsblk(dir: string, lines: string[]): string {
  const path = join(dir, "lsblk");
  writeFileSync(path, `#!/bin/sh\ncat <<'EOF'\n${lines.join("\n")}\nEOF\n`);
  chmodSync(path, 0o755);
  return path;
}

const disk = (
  name: string,
  extra: Partial<Record<"PKNAME" | "FSTYPE" | "PTTYPE" | "MOUNTPOINT" | "TYPE", string>> = {},
) => {
  const f = { TYPE: "disk", PKNAME: "", FSTYPE: "", PTTYPE: "", MOUNTPOINT: "", ...extra };
  return `NAME="${name}" TYPE="${f.TYPE}" PKNAME="${f.PKNAME}" FSTYPE="${f.FSTYPE}" PTTYPE="${f.PTTYPE}" MOUNTPOINT="${f.MOUNTPOINT}"`;
};

function dryRun(dir: string, lsblk: string, args: string[] = []) {
  const run = Bun.spawnSync(
    [
      "bash",
      SCRIPT,
      "--dry-run",
      "--domain",
      "api.example.com",
      "--repo",
      "https://example.com/second-layer.git",
      "--dir",
      join(dir, "app"),
      "--data-dir",
      join(dir, "data"),
      ...args,
    ],
    { env: { ...process.env, SL_LSBLK: lsblk } },
  );
  return { code: run.exitCode, out: run.stdout.toString(), err: run.stderr.toString() };
}

describe("hetzner-setup.sh --dry-run", () => {
  test("prints every step, with the RAID0 of the two empty NVMe disks, and changes nothing", () => {
    const dir = sandbox();
    const lsblk = fakeLsblk(dir, [
      disk("/dev/nvme0n1", { PTTYPE: "gpt" }),
      disk("/dev/nvme0n1p1", { TYPE: "part", PKNAME: "/dev/nvme0n1", FSTYPE: "ext4", MOUNTPOINT: "/" }),
      disk("/dev/nvme1n1"),
      disk("/dev/nvme2n1"),
      disk("/dev/sda"),
    ]);
    const before = readdirSync(dir).sort();
    const { code, out, err } = dryRun(dir, lsblk);
    expect(err).toBe("");
    expect(code).toBe(0);
    const steps = [...out.matchAll(/^==> (.*)$/gm)].map((m) => m[1]);
    expect(steps).toEqual([
      "checking the machine",
      "base packages (git, ufw, fail2ban, mdadm, openssl, curl)",
      "Docker Engine and the Compose plugin",
      `data at ${join(dir, "data")}`,
      "firewall: SSH, HTTP, HTTPS and Stacks P2P in; everything else closed",
      "fail2ban for SSH",
      `repository at ${join(dir, "app")}`,
      `settings and secrets in ${join(dir, "app/docker/.env")}`,
      "systemd unit second-layer.service",
      "starting (the first start builds the images: a few minutes)",
      "waiting for the indexer and the api to be healthy",
      "done",
    ]);
    // Only the two empty NVMe disks go into the array.
    expect(out).toContain(
      "+ mdadm --create /dev/md/second-layer-data --run --level=0 --raid-devices=2 --name=second-layer-data /dev/nvme1n1 /dev/nvme2n1",
    );
    expect(out).toContain("+ mkfs.ext4 -q -L sl-data /dev/md/second-layer-data");
    for (const port of [22, 80, 443, 20444]) expect(out).toContain(`+ ufw allow ${port}/tcp`);
    expect(out).toContain("+ ufw --force enable");
    expect(out).toContain("/etc/fail2ban/jail.d/second-layer.conf");
    expect(out).toContain("+ git clone --branch main https://example.com/second-layer.git");
    expect(out).toContain(
      "ExecStart=/usr/bin/docker compose -f docker/docker-compose.yml -f docker/docker-compose.hetzner.yml",
    );
    expect(out).toContain("+ systemctl start second-layer.service");
    // No secret is generated, let alone shown, in a dry run; nothing was created.
    expect(out).not.toMatch(/sk_live_|SECRETS_KEY=\S/);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(existsSync(join(dir, "app"))).toBe(false);
  });

  test("without two empty NVMe disks the data lives in a folder; a second run keeps the checkout and its .env", () => {
    const dir = sandbox();
    mkdirSync(join(dir, "app/.git"), { recursive: true });
    mkdirSync(join(dir, "app/docker"), { recursive: true });
    writeFileSync(join(dir, "app/docker/.env"), "SECRETS_KEY=kept\n");
    const lsblk = fakeLsblk(dir, [disk("/dev/nvme0n1"), disk("/dev/nvme1n1", { FSTYPE: "linux_raid_member" })]);
    const { code, out } = dryRun(dir, lsblk);
    expect(code).toBe(0);
    expect(out).toContain("no two empty NVMe disks (found 1)");
    expect(out).not.toContain("mdadm --create");
    expect(out).not.toContain("git clone");
    expect(out).toContain("present: kept as it is (its secrets must not change)");
  });

  test("bad input is refused with what to fix", () => {
    const dir = sandbox();
    const lsblk = fakeLsblk(dir, []);
    const badDomain = dryRun(dir, lsblk, ["--domain", "not a domain"]);
    expect(badDomain.code).toBe(2);
    expect(badDomain.err).toContain("--domain must be the API's public host name");
    const badNetwork = dryRun(dir, lsblk, ["--network", "moonnet"]);
    expect([badNetwork.code, badNetwork.err]).toEqual([2, "error: --network must be mainnet, testnet or devnet\n"]);
    const unknown = dryRun(dir, lsblk, ["--colour"]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("unknown option --colour");
  });
});
