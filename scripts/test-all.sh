#!/usr/bin/env bash
# test-all.sh — THE test command (`npm test`, and what CI runs): every check and every test tier,
# with the wall time of each, a summary, and a non-zero exit if anything failed.
#
#   bash scripts/test-all.sh              all tiers, in this order:
#                                         build typecheck lint format unit integration e2e
#   bash scripts/test-all.sh unit e2e     only the named tiers (a developer's shortcut; e2e adds build)
#
# Expects `npm ci` done. Starts what the tiers need and stops, at the end, what it started:
# - the S3 server (scripts/s3-server.sh: Ceph RGW on 127.0.0.1:7480), unless Z3_TEST_S3_* are set;
# - the ZFS VM (test/zfs-vm/zfsvm.sh prepare + start), unless it already runs.
# Both are brought up in the background while the static checks and the unit tier run.
# The e2e tier is mandatory: a VM that cannot be prepared or booted is a failure, never a skip.
#
# env: ZFSVM_FLAVOR=bookworm  OpenZFS 2.1 (Debian 12's; default, what CI runs)
#                  =backports OpenZFS 2.3 (bookworm-backports): ZFSVM_FLAVOR=backports npm test
#      Z3_TEST_S3_ENDPOINT, Z3_TEST_S3_KEY_ID, Z3_TEST_S3_SECRET (optional Z3_TEST_S3_REGION,
#                  Z3_TEST_BUCKET): use that S3 server (MinIO, AWS, …) instead of starting Ceph
#      S3_SERVER=moto  start moto_server instead of Ceph (quick inner loop; not sufficient for CI)
#      Z3_TEST_KEEP=1  leave the S3 server and the VM running at the end (faster re-runs)
#      ZFSVM_*         more VM knobs: see the top of test/zfs-vm/zfsvm.sh
#      Z3_TEST_SUMMARY_FILE  also write the closing "tests: N passed, N failed" line there
set -uo pipefail
ROOT=$(dirname "$(dirname "$(realpath "$0")")")
cd "$ROOT" || exit 1
ALL_TIERS=(build typecheck lint format unit integration e2e)
log() { printf '[test-all %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
T0=$EPOCHREALTIME

TIERS=("$@")
[ ${#TIERS[@]} -gt 0 ] || TIERS=("${ALL_TIERS[@]}")
for t in "${TIERS[@]}"; do
  case " ${ALL_TIERS[*]} " in *" $t "*) ;; *) log "unknown tier '$t' (${ALL_TIERS[*]})"; exit 2 ;; esac
done
want() { case " ${TIERS[*]} " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
want e2e && ! want build && TIERS=(build "${TIERS[@]}")   # e2e drives dist/

# Debian packages the tiers need (QEMU, Ceph RGW, compressors, …): a no-op once installed, so
# `npm ci && npm test` works on a fresh machine as the README says
if want integration || want e2e; then
  bash "$ROOT/scripts/install-deps.sh" || { log "installing the Debian packages failed"; exit 1; }
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/z3-test-all.XXXXXX")
SUMMARY=()
FAILED=0
record() {  # name status seconds
  SUMMARY+=("$(printf '  %-14s %-28s %8s s' "$1" "$2" "$3")")
  case $2 in ok*) ;; *) FAILED=1 ;; esac
}

# ---- services, brought up in the background

# Run a command, then note when it ended in $TMP/NAME.end: the summary shows how long the service
# took to come up, not how long the tiers in front of it kept us from looking.
in_background() {  # name command...
  local name=$1 rc=0; shift
  "$@" || rc=$?
  echo "$EPOCHREALTIME" >"$TMP/$name.end"
  return $rc
}
took() {  # name start
  awk -v a="$2" -v b="$(cat "$TMP/$1.end" 2>/dev/null || echo "$EPOCHREALTIME")" 'BEGIN { printf "%.1f", b - a }'
}
S3_MODE=none S3_PID='' S3_STARTED='' VMPREP_PID='' VM_STARTED='' T_S3='' T_VMPREP=''

s3_begin() {
  if [ -n "${Z3_TEST_S3_KEY_ID:-}" ] && [ -n "${Z3_TEST_S3_SECRET:-}" ]; then
    S3_MODE=external; log "S3: using Z3_TEST_S3_ENDPOINT=${Z3_TEST_S3_ENDPOINT:-(AWS)}"; return
  fi
  S3_MODE=ours
  bash scripts/s3-server.sh status >/dev/null 2>&1 || S3_STARTED=1
  T_S3=$EPOCHREALTIME
  in_background s3 bash scripts/s3-server.sh start >"$TMP/s3.env" 2>"$TMP/s3.log" </dev/null &
  S3_PID=$!
  log "S3: starting ${S3_SERVER:-ceph} in the background"
}

s3_ready() {  # 0 when Z3_TEST_S3_* are set and the server is up
  case $S3_MODE in
    external) return 0 ;;
    ready) return 0 ;;
    failed) return 1 ;;
  esac
  local rc=0
  wait "$S3_PID" || rc=$?
  sed 's/^/  /' "$TMP/s3.log" >&2
  if [ $rc -ne 0 ]; then record s3-server "FAILED (exit $rc)" "$(took s3 "$T_S3")"; S3_MODE=failed; return 1; fi
  eval "$(cat "$TMP/s3.env")"
  record s3-server "ok (background)" "$(took s3 "$T_S3")"
  S3_MODE=ready
}

vm_begin() {
  T_VMPREP=$EPOCHREALTIME
  in_background vm-prepare bash test/zfs-vm/zfsvm.sh prepare >/dev/null 2>"$TMP/vm-prepare.log" </dev/null &
  VMPREP_PID=$!
  log "VM: preparing ${ZFSVM_FLAVOR:-bookworm} in the background"
}

vm_ready() {
  local rc=0
  wait "$VMPREP_PID" || rc=$?
  sed 's/^/  /' "$TMP/vm-prepare.log" >&2
  if [ $rc -ne 0 ]; then record vm-prepare "FAILED (exit $rc)" "$(took vm-prepare "$T_VMPREP")"; return 1; fi
  record vm-prepare "ok (background)" "$(took vm-prepare "$T_VMPREP")"
  local t=$EPOCHREALTIME
  bash test/zfs-vm/zfsvm.sh status >/dev/null 2>&1 || VM_STARTED=1
  if ! bash test/zfs-vm/zfsvm.sh start </dev/null; then record vm-start FAILED "$(since "$t")"; return 1; fi
  record vm-start ok "$(since "$t")"
  eval "$(bash test/zfs-vm/zfsvm.sh env)"
}

cleanup() {
  trap - EXIT INT TERM
  [ -z "$VMPREP_PID" ] || wait "$VMPREP_PID" 2>/dev/null
  [ -z "$S3_PID" ] || wait "$S3_PID" 2>/dev/null
  if [ -n "${Z3_TEST_KEEP:-}" ]; then
    log "Z3_TEST_KEEP: leaving the services running"
  else
    [ -z "$VM_STARTED" ] || bash test/zfs-vm/zfsvm.sh stop
    [ -z "$S3_STARTED" ] || bash scripts/s3-server.sh stop
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---- tiers
run_tier() {  # name command...
  local name=$1; shift
  log "== $name: $*"
  local t=$EPOCHREALTIME rc=0
  "$@" || rc=$?
  local d; d=$(since "$t")
  if [ $rc -eq 0 ]; then record "$name" ok "$d"; log "== $name: ok in $d s"
  else record "$name" "FAILED (exit $rc)" "$d"; log "== $name: FAILED (exit $rc) in $d s"; fi
}
# every tier appends its fault tests' counts to one ledger (test/faults/reporter.ts), printed last
export Z3_FAULT_LEDGER=$TMP/fault-ledger.jsonl
vitest_tier() {  # project
  npx vitest run --project "$1" --reporter=default --reporter=./test/faults/reporter.ts \
    --reporter=json --outputFile.json="$TMP/vitest-$1.json"
}

if want integration || want e2e; then s3_begin; fi
if want e2e; then vm_begin; fi

want build && run_tier build npm run build
want typecheck && run_tier typecheck npm run typecheck
want lint && run_tier lint npm run lint
want format && run_tier format npm run format:check
want unit && run_tier unit vitest_tier unit
if want integration; then
  if s3_ready; then run_tier integration vitest_tier integration
  else record integration "FAILED (no S3 server)" 0; fi
fi
if want e2e; then
  if ! s3_ready; then record e2e "FAILED (no S3 server)" 0
  elif ! vm_ready; then record e2e "FAILED (no ZFS VM)" 0
  else run_tier e2e vitest_tier e2e; fi
fi

# ---- summary
# shellcheck disable=SC2016  # JavaScript, not shell
COUNTS=$(node -e '
  let p = 0, f = 0, s = 0;
  for (const file of process.argv.slice(1)) {
    try {
      const r = JSON.parse(require("fs").readFileSync(file, "utf8"));
      p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests + r.numTodoTests;
    } catch { /* the tier did not get to write a report: its failure is in the summary */ }
  }
  console.log(`${p} passed, ${f} failed` + (s ? `, ${s} skipped` : ""));
' "$TMP"/vitest-*.json 2>/dev/null)
{
  echo
  echo "== summary (wall time)"
  printf '%s\n' "${SUMMARY[@]}"
  printf '  %-14s %-28s %8s s\n' total "" "$(since "$T0")"
  echo "tests: ${COUNTS:-0 passed, 0 failed}"
  echo
  node scripts/fault-ledger.mjs "$Z3_FAULT_LEDGER" || true
}
# .ci/run reprints it as its last line
[ -z "${Z3_TEST_SUMMARY_FILE:-}" ] || echo "tests: ${COUNTS:-0 passed, 0 failed}" >"$Z3_TEST_SUMMARY_FILE"
if [ $FAILED -ne 0 ]; then log "FAILED"; exit 1; fi
log "all tiers passed"
