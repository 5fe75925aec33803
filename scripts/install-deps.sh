#!/usr/bin/env bash
# install-deps.sh — the Debian 12 packages z3 needs at test and demo time (not at run time), installed
# when missing. Idempotent; takes well under a second when everything is there (one dpkg-query).
#
#   bash scripts/install-deps.sh          install what is missing (apt-get update first, only then)
#   bash scripts/install-deps.sh --check  print what is missing, exit 1 if anything is; install nothing
#
# What for:
#   qemu-system-x86 gcc-12 make zstd xz-utils openssh-client bc debian-archive-keyring
#                                   the ZFS test VM (test/zfs-vm/zfsvm.sh prepare/start)
#   ceph-mon ceph-mgr ceph-osd radosgw ceph-common python3 curl
#                                   the local S3 server (scripts/s3-server.sh, Ceph RGW)
#   pigz lz4 xz-utils zstd gnupg    the compressors/encryption z3 backup pipes through
#   pv mbuffer                      z3_ssh_sync's progress/buffer stages (tests, benchmarks)
#   time rclone                     the benchmarks (scripts/bench-*.sh)
#   systemd                         systemd-analyze verify of contrib/systemd (test/integration/systemd-units)
#   prometheus-node-exporter prometheus
#                                   the metrics test: node_exporter scrapes METRICS_FILE, promtool
#                                   checks it and contrib/prometheus/z3.rules.yml
#
# Output: what it installs, on stderr. Needs root (or sudo) only when something is missing.
set -euo pipefail

PACKAGES=(
  qemu-system-x86 gcc-12 make zstd openssh-client bc debian-archive-keyring
  pigz lz4 xz-utils pv mbuffer gnupg curl time python3 rclone systemd
  prometheus-node-exporter prometheus
  ceph-mon ceph-mgr ceph-osd radosgw ceph-common
)

log() { printf '[install-deps] %s\n' "$*" >&2; }

# The packages of $@ that are not installed. dpkg-query prints nothing (and complains on stderr)
# for a package it has never heard of, and "deinstall ok config-files" for a removed one.
missing() {
  local installed
  installed=$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null \
    | awk '$2 == "install" && $4 == "installed" { sub(/:.*/, "", $1); print $1 }') || true
  local p
  for p in "$@"; do
    grep -qxF -- "$p" <<<"$installed" || echo "$p"
  done
}

mapfile -t NEED < <(missing "${PACKAGES[@]}")

if [ "${1:-}" = --check ]; then
  if [ ${#NEED[@]} -gt 0 ]; then log "missing: ${NEED[*]}"; exit 1; fi
  exit 0
elif [ $# -gt 0 ]; then
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
fi

[ ${#NEED[@]} -gt 0 ] || exit 0

SUDO=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { log "error: not root and no sudo; as root: apt-get install ${NEED[*]}"; exit 1; }
  SUDO=(sudo)
fi
t0=$SECONDS
log "installing: ${NEED[*]}"
log "apt-get update"
"${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 -qq update >&2
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
  --no-install-recommends "${NEED[@]}" >&2
mapfile -t STILL < <(missing "${NEED[@]}")
if [ ${#STILL[@]} -gt 0 ]; then log "error: still missing after apt-get install: ${STILL[*]}"; exit 1; fi
log "installed ${#NEED[@]} package(s) in $((SECONDS - t0)) s"
