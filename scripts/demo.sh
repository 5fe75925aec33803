#!/usr/bin/env bash
# demo.sh — `npm run demo`: z3's main job, end to end, on a machine without ZFS.
#
# Boots a small QEMU VM with real OpenZFS (test/zfs-vm), starts a local S3 server (Ceph RGW on
# 127.0.0.1, scripts/s3-server.sh), creates pool `demo` with dataset `demo/data` and three daily
# snapshots, then runs z3 for real — status, a full backup, an incremental, status, destroy the
# dataset, restore — and checks that every file's sha256 matches. Each command is printed before
# it runs: `$ …` on this machine (zfs/zpool are shims that run the real command in the VM),
# `vm$ …` in the VM's shell.
#
# Needs: Debian 12, root (it installs the Debian packages it lacks: scripts/install-deps.sh),
# Node.js >= 20 and `npm ci` done. First run: ~2.5 min more to build the OpenZFS module (cached).
#
# env: KEEP=1       leave the VM and the S3 server running at the end, and print how to use them
#      ZFSVM_PORT, ZFSVM_RUN, ZFSVM_FLAVOR, …   the VM's knobs (see test/zfs-vm/zfsvm.sh)
#      NO_COLOR=1   no colors
# At exit it stops the VM and the S3 server only if it started them; in a VM it did not start it
# destroys its pool `demo`. Each run writes under a new S3 prefix (demo-<timestamp>).
set -euo pipefail
ROOT=$(dirname "$(dirname "$(realpath "$0")")")
cd "$ROOT"
T0=$EPOCHREALTIME
ZFSVM=test/zfs-vm/zfsvm.sh
POOL=demo
DATASET=$POOL/data
VDEV=/tmp/zpool-$POOL.img
BUCKET_NAME=z3-demo
PREFIX=demo-$(date -u +%Y%m%d-%H%M%S)
SNAP_PREFIX=zfs-auto-snap:daily

# ---- output
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  B=$'\e[1m' D=$'\e[2m' G=$'\e[32m' R=$'\e[31m' C=$'\e[36m' N=$'\e[0m'
else
  B='' D='' G='' R='' C='' N=''
fi
elapsed() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { s = int(b - a); printf "%d:%02d", s / 60, s % 60 }'; }
STEP=0 STEPS=7
section() { STEP=$((STEP + 1)); printf '\n%s── %d/%d  %s%s %s[%s]%s\n' "$B" "$STEP" "$STEPS" "$*" "$N" "$D" "$(elapsed)" "$N"; }
say() { printf '%s# %s%s\n' "$D" "$*" "$N"; }
# a word as the shell would need it written
q() {
  if [[ $1 =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then printf '%s' "$1"; else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}
show() { local a out=''; for a in "$@"; do out+=" $(q "$a")"; done; printf '%s$%s%s\n' "$C" "$N" "$out"; }
showraw() { printf '%s$%s %s\n' "$C" "$N" "$*"; }
fail() { printf '%sdemo failed: %s%s\n' "$R$B" "$*" "$N" >&2; exit 1; }
# print a command, run it; a failure ends the demo with the command named
run() {
  show "$@"
  local rc=0; "$@" || rc=$?
  [ $rc -eq 0 ] || fail "exit $rc from: $*"
}
# print a guest shell script, run it in the VM
vm() {
  printf '%svm$%s %s\n' "$C" "$N" "$1"
  local rc=0; test/zfs-vm/ssh-vm "$1" || rc=$?
  [ $rc -eq 0 ] || fail "exit $rc from the guest script: $1"
}
# run a command whose stderr is a log: show it dimmed and indented (stdout passes through)
quietly() { { "$@" 2>&1 1>&3 3>&- | sed -u "/^[[:space:]]*$/d; s/secret=[^ )]*/secret=(hidden)/g; s/^/  $D/; s/\$/$N/" >&2; } 3>&1; }
# like run, for a command whose stderr is a log
runlog() {
  show "$@"
  local rc=0; quietly "$@" || rc=$?
  [ $rc -eq 0 ] || fail "exit $rc from: $*"
}

# ---- cleanup: stop what this run started, unless KEEP=1
VM_STARTED='' S3_STARTED='' POOL_MADE='' BIN='' CLEANED=''
cleanup() {
  [ -z "$CLEANED" ] || return 0
  CLEANED=1
  local envp=''
  [ -z "${ZFSVM_PORT_SET:-}" ] || envp+="ZFSVM_PORT=$ZFSVM_PORT "
  [ -z "${ZFSVM_RUN:-}" ] || envp+="ZFSVM_RUN=$ZFSVM_RUN "
  local v
  for v in ZFSVM_FLAVOR ZFSVM_CACHE S3_SERVER CEPH_DIR RGW_PORT MON_PORT MON_V1_PORT; do
    [ -z "${!v:-}" ] || envp+="$v=${!v} "
  done
  if [ -n "${KEEP:-}" ]; then
    printf '\n%sKEEP=1: the VM and the S3 server keep running.%s Play with them (from %s):\n' "$B" "$N" "$ROOT"
    cat <<EOF
  export ${envp}PATH=$BIN:\$PATH
  eval "\$(bash $ZFSVM env)"
  eval "\$(bash scripts/s3-server.sh env)"
  export Z3_CONFIG=/dev/null BUCKET=$BUCKET_NAME HOST=\$Z3_TEST_S3_ENDPOINT S3_KEY_ID=\$Z3_TEST_S3_KEY_ID \\
         S3_SECRET=\$Z3_TEST_S3_SECRET S3_STORAGE_CLASS=STANDARD S3_PREFIX=$PREFIX FILESYSTEM=$DATASET
  z3 status; zfs list -t all -r $POOL     # z3 from $BIN; zfs, zpool: shims to the VM
  test/zfs-vm/ssh-vm                      # a shell in the VM
Stop them (in that shell): bash $ZFSVM stop; bash scripts/s3-server.sh stop
EOF
    return 0
  fi
  printf '\n%s── cleanup%s\n' "$B" "$N"
  if [ -n "$VM_STARTED" ]; then
    say "stopping the VM (this demo started it)"
    quietly bash "$ZFSVM" stop || true
  elif [ -n "$POOL_MADE" ]; then
    say "the VM was already running: it keeps running; removing pool $POOL from it"
    test/zfs-vm/ssh-vm "zpool destroy -f $POOL; rm -f $VDEV" || true
  fi
  if [ -n "$S3_STARTED" ]; then
    say "stopping the S3 server (this demo started it)"
    quietly bash scripts/s3-server.sh stop || true
  elif [ -n "${Z3_TEST_S3_ENDPOINT:-}" ]; then
    say "the S3 server was already running: it keeps running (objects under $BUCKET_NAME/$PREFIX/)"
  fi
  [ -z "$BIN" ] || rm -rf "$BIN"
}
on_exit() {
  local rc=$?
  cleanup
  [ $rc -eq 0 ] || printf '%sdemo FAILED (exit %d) after %s%s\n' "$R$B" "$rc" "$(elapsed)" "$N" >&2
}
trap on_exit EXIT
trap 'exit 130' INT TERM
[ -z "${ZFSVM_PORT:-}" ] || ZFSVM_PORT_SET=1

printf '%sz3 demo%s: ZFS → S3 backup and restore, with real OpenZFS in a VM and a local S3 server.\n' "$B" "$N"
say "'\$' lines run here (zfs and zpool are shims that run the real command in the VM);"
say "'vm\$' lines run in the VM's shell. Nothing here touches this machine's disks."

# ---- 1. host
section "This machine: Debian packages, the build"
[ "$(id -u)" = 0 ] || command -v sudo >/dev/null || fail "run as root (it installs Debian packages and builds the VM)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || fail "Node.js >= 20 is needed (this is $(node --version))"
[ -d node_modules/@aws-sdk/client-s3 ] || fail "run 'npm ci' first"
if bash scripts/install-deps.sh --check 2>/dev/null; then
  say "Debian packages (QEMU, Ceph, pigz, …): all installed"
else
  say "installing the Debian packages it needs (QEMU, Ceph, pigz, …; a few minutes the first time)"
  run bash scripts/install-deps.sh
fi
if [ -f dist/bin/z3.js ] && [ -z "$(find src tsconfig.json tsconfig.build.json package.json -newer dist/bin/z3.js -print -quit)" ]; then
  say "dist/ is up to date"
else
  run npm run build --silent
fi
# `z3` on PATH, as `npm install -g .` would give it
BIN=$(mktemp -d "${TMPDIR:-/tmp}/z3-demo-bin.XXXXXX")
printf '#!/bin/sh\nexec node %s "$@"\n' "$(q "$ROOT/dist/bin/z3.js")" > "$BIN/z3"
chmod +x "$BIN/z3"
export PATH=$BIN:$PATH

# ---- 2. VM
section "A VM with real OpenZFS"
if [ -f "${ZFSVM_CACHE:-$HOME/.cache/zfsvm}/current-${ZFSVM_FLAVOR:-bookworm}/ready" ]; then
  say "prepare: checks Debian's kernel/OpenZFS versions, reuses the cached build (a few seconds)"
else
  say "prepare, first time: downloads Debian's kernel + zfs-dkms and compiles the OpenZFS module"
  say "(about 2.5 min on 2 cores; cached in ~/.cache/zfsvm for the next runs)"
fi
runlog bash "$ZFSVM" prepare
vm_state=0; bash "$ZFSVM" status >/dev/null 2>&1 || vm_state=$?
if [ $vm_state -eq 0 ]; then
  say "a VM is already running on port ${ZFSVM_PORT:-2222}: reusing it"
else
  say "booting it: 10-20 s (software emulation when there is no KVM)"
  VM_STARTED=1
fi
runlog bash "$ZFSVM" start
showraw "eval \"\$(bash $ZFSVM env)\"   # PATH=test/zfs-vm/bin:\$PATH ZFSVM_PORT=… ZFSVM_KEY=…"
eval "$(bash "$ZFSVM" env)"
run zfs version

# ---- 3. S3
section "A local S3 server (Ceph RGW)"
s3_state=0; bash scripts/s3-server.sh status >/dev/null 2>&1 || s3_state=$?
if [ $s3_state -eq 0 ]; then
  say "already running: reusing it"
else
  say "not running: starting it (10-60 s)"
  S3_STARTED=1
fi
# shellcheck disable=SC2016  # printed, not run
showraw 'eval "$(bash scripts/s3-server.sh start)"   # Z3_TEST_S3_ENDPOINT=… Z3_TEST_S3_KEY_ID=… Z3_TEST_S3_SECRET=…'
S3_ENV=$(quietly bash scripts/s3-server.sh start) || fail "scripts/s3-server.sh start"
eval "$S3_ENV"
: "${Z3_TEST_S3_ENDPOINT:?}" "${Z3_TEST_S3_KEY_ID:?}" "${Z3_TEST_S3_SECRET:?}"
# z3 reads its settings from the environment (a key of z3.conf = a variable of the same name);
# drop any the caller has set, so that the run is the documented default
unset SNAPSHOT_PREFIX COMPRESSOR GPG_RECIPIENT CONCURRENCY CHUNK_SIZE MAX_RETRIES S3_REGION \
  S3_FORCE_PATH_STYLE SSH_OPTIONS AWS_PROFILE
export Z3_CONFIG=/dev/null BUCKET=$BUCKET_NAME HOST=$Z3_TEST_S3_ENDPOINT S3_KEY_ID=$Z3_TEST_S3_KEY_ID \
  S3_SECRET=$Z3_TEST_S3_SECRET S3_STORAGE_CLASS=STANDARD S3_PREFIX=$PREFIX FILESYSTEM=$DATASET
s3curl() {  # METHOD PATH: a request signed with the demo's keys; prints the HTTP status
  local m=(-X "$1"); [ "$1" != HEAD ] || m=(-I)   # -X HEAD would wait for a body
  curl -s -o /dev/null -w '%{http_code}' --max-time 30 "${m[@]}" --aws-sigv4 aws:amz:us-east-1:s3 \
    --user "$S3_KEY_ID:$S3_SECRET" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$HOST/$2" || true
}
if [ "$(s3curl HEAD "$BUCKET")" = 200 ]; then
  say "bucket $BUCKET exists"
else
  # shellcheck disable=SC2016  # printed as written: the secret is not shown
  printf '%s$%s curl --aws-sigv4 aws:amz:us-east-1:s3 --user "$S3_KEY_ID:$S3_SECRET" -X PUT %s/%s\n' "$C" "$N" "$HOST" "$BUCKET"
  code=$(s3curl PUT "$BUCKET")
  [ "$code" = 200 ] || fail "creating bucket $BUCKET: HTTP $code"
fi
say "z3's settings, as /etc/z3_backup/z3.conf would hold them (Ceph refuses the default STANDARD_IA):"
printf '%s$%s export Z3_CONFIG=/dev/null BUCKET=%s HOST=%s S3_KEY_ID=%s S3_SECRET=%s \\\n' \
  "$C" "$N" "$BUCKET" "$HOST" "$S3_KEY_ID" '(hidden)'
printf '         S3_STORAGE_CLASS=STANDARD S3_PREFIX=%s FILESYSTEM=%s\n' "$PREFIX" "$FILESYSTEM"

# ---- 4. pool, dataset, snapshots
section "A pool, a dataset, three daily snapshots"
if test/zfs-vm/ssh-vm "zpool list -H -o name $POOL" >/dev/null 2>&1; then
  say "pool $POOL is left from an earlier run: recreating it"
  run zpool destroy -f "$POOL"
fi
POOL_MADE=1
vm "truncate -s 256M $VDEV"
run zpool create "$POOL" "$VDEV"
run zfs create "$DATASET"
# names as zfs-auto-snapshot gives them, one per day: the oldest two days ago
snap() { echo "$SNAP_PREFIX-$(date -u -d "-$1 days" +%Y-%m-%d-0000)"; }
S1=$(snap 2) S2=$(snap 1) S3=$(snap 0)
vm "cd /$DATASET && dd if=/dev/urandom of=photo.raw bs=1M count=4 status=none && seq 1 50000 > numbers.txt && echo 'day one' > notes.txt"
run zfs snapshot "$DATASET@$S1"
vm "cd /$DATASET && echo 'day two' >> notes.txt && mkdir docs && dd if=/dev/urandom of=docs/report.pdf bs=1M count=1 status=none"
run zfs snapshot "$DATASET@$S2"
vm "cd /$DATASET && rm numbers.txt && echo 'day three' >> notes.txt && dd if=/dev/urandom of=docs/draft.odt bs=256K count=2 status=none"
run zfs snapshot "$DATASET@$S3"
run zfs list -t all -o name,used,refer -r "$DATASET"

# ---- 5. backup
section "Back up to S3: full, then incremental"
run z3 status
run z3 backup --full --snapshot "$S1"
say "no --snapshot: everything after the last backed-up snapshot, as incrementals"
run z3 backup
run z3 status
say "z3 holds the newest backed-up snapshot (zfs hold), so no snapshot tool destroys the base"
run z3 holds

# ---- 6. destroy, restore
section "Lose the dataset, restore it from S3"
CHECKSUMS="cd /$DATASET && find . -type f | sort | xargs sha256sum"
# a guest script whose output is kept
vmout() { printf '%svm$%s %s\n' "$C" "$N" "$1" >&2; test/zfs-vm/ssh-vm "$1"; }
BEFORE=$(vmout "$CHECKSUMS") || fail "checksums before"
printf '%s\n' "$BEFORE"
SNAPS_BEFORE=$(zfs list -H -o name -t snapshot -r "$DATASET")
say "a held snapshot cannot be destroyed: release z3's hold first"
HOLD=$(z3 holds | head -n 1) || fail "z3 holds"
run zfs release "${HOLD%% *}" "${HOLD##* }"
run zfs destroy -r "$DATASET"
run zfs list -t all -r "$POOL"
run z3 restore "$S3"
run zfs list -t all -o name,used,refer -r "$DATASET"
AFTER=$(vmout "$CHECKSUMS") || fail "checksums after the restore"
printf '%s\n' "$AFTER"
SNAPS_AFTER=$(zfs list -H -o name -t snapshot -r "$DATASET")

# ---- 7. verdict
section "Compare"
if [ "$SNAPS_BEFORE" = "$SNAPS_AFTER" ]; then
  printf 'snapshots: the same %d as before the destroy\n' "$(wc -l <<<"$SNAPS_AFTER")"
else
  printf 'snapshots before:\n%s\nsnapshots after:\n%s\n' "$SNAPS_BEFORE" "$SNAPS_AFTER"
  fail "the restored dataset does not have the same snapshots"
fi
if [ -z "$BEFORE" ] || [ "$BEFORE" != "$AFTER" ]; then
  diff <(printf '%s\n' "$BEFORE") <(printf '%s\n' "$AFTER") || true
  printf '%schecksums match: NO%s\n' "$R$B" "$N"
  fail "the restored files differ from the backed-up ones"
fi
printf 'files: the same %d, byte for byte (sha256)\n' "$(wc -l <<<"$AFTER")"
cleanup
printf '\n%sdemo done in %s%s (min:s)\n' "$B" "$(elapsed)" "$N"
printf '%schecksums match: OK%s\n' "$G$B" "$N"
