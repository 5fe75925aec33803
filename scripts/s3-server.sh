#!/usr/bin/env bash
# s3-server.sh — the S3 server of the integration and e2e tiers, on 127.0.0.1.
#
#   s3-server.sh start    start it unless it already runs, wait until the test user's signed
#                         requests answer; installs the Debian packages it lacks
#   s3-server.sh stop     stop it and delete its data (idempotent)
#   s3-server.sh status   "running …" (exit 0), "stopped" (exit 3) or "broken …" (exit 1)
#   s3-server.sh env      print the exports without starting anything
#
# stdout carries only the `export Z3_TEST_S3_…` line, so that
#   eval "$(bash scripts/s3-server.sh start)"
# works; every log line goes to stderr.
#
# env: S3_SERVER=ceph  Ceph RGW (Debian's ceph 16): a real server, what CI runs (default)
#      S3_SERVER=moto  moto_server (pip's moto[server], not in Debian) on 127.0.0.1:$MOTO_PORT:
#                      starts in 1 s, for a fast inner loop only. NOT sufficient for CI: moto
#                      accepts requests a real server refuses (checksums, part sizes, signatures).
#      CEPH_DIR=/tmp/z3-s3test/ceph  RGW_PORT=7480  MON_PORT=3300  MON_V1_PORT=6789
#      MOTO_PORT=5000  MOTO_DIR=/tmp/z3-s3test/moto
#      S3_ACCESS_KEY=test  S3_SECRET_KEY=testsecret
set -euo pipefail
HERE=$(dirname "$(realpath "$0")")
SERVER=${S3_SERVER:-ceph}
export CEPH_DIR=${CEPH_DIR:-/tmp/z3-s3test/ceph}
export RGW_PORT=${RGW_PORT:-7480}
export S3_ACCESS_KEY=${S3_ACCESS_KEY:-test}
export S3_SECRET_KEY=${S3_SECRET_KEY:-testsecret}
MOTO_PORT=${MOTO_PORT:-5000}
MOTO_DIR=${MOTO_DIR:-/tmp/z3-s3test/moto}
log() { printf '[s3-server %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

case $SERVER in
  ceph) PORT=$RGW_PORT ;;
  moto) PORT=$MOTO_PORT ;;
  *) die "unknown S3_SERVER=$SERVER (ceph | moto)" ;;
esac
ENDPOINT=http://127.0.0.1:$PORT

print_env() {
  echo "export Z3_TEST_S3_ENDPOINT=$ENDPOINT Z3_TEST_S3_KEY_ID=$S3_ACCESS_KEY Z3_TEST_S3_SECRET=$S3_SECRET_KEY"
}

# 0 when a request signed with the test user's keys is answered with 200 (ListBuckets).
# curl signs but does not send x-amz-content-sha256, which RGW requires.
signed_ok() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$ENDPOINT/") || true
  [ "$code" = 200 ]
}
answers() { curl -s -o /dev/null --max-time 5 "$ENDPOINT/"; }
alive() { local p; p=$(cat "$1" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# ---- Ceph
CEPH_DAEMONS=(mon.a osd.0 client.rgw.a)   # mgr.x is optional (WITH_MGR=0)

ceph_packages() {
  local need=()
  command -v ceph-mon >/dev/null || need+=(ceph-mon)
  command -v ceph-mgr >/dev/null || need+=(ceph-mgr)
  command -v ceph-osd >/dev/null || need+=(ceph-osd)
  command -v radosgw >/dev/null || need+=(radosgw)
  command -v ceph >/dev/null || need+=(ceph-common)
  command -v curl >/dev/null || need+=(curl)
  command -v bc >/dev/null || need+=(bc)
  command -v python3 >/dev/null || need+=(python3)
  [ ${#need[@]} -gt 0 ] || return 0
  local t0=$SECONDS apt=(apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends)
  log "apt-get install ${need[*]}"
  # update the lists only when they are empty or the install fails (they may be stale)
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' 2>/dev/null | head -1)" ] \
     || ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" "${need[@]}" >&2; then
    log "apt-get update"
    apt-get -qq update >&2
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" "${need[@]}" >&2
  fi
  log "packages installed in $((SECONDS - t0)) s"
}

# running | stopped | broken (some daemons alive, or RGW not answering)
ceph_state() {
  local n up=0
  for n in "${CEPH_DAEMONS[@]}"; do alive "$CEPH_DIR/run/$n.pid" && up=$((up + 1)); done
  if [ $up -eq ${#CEPH_DAEMONS[@]} ] && answers; then echo running
  elif [ $up -eq 0 ] && ! alive "$CEPH_DIR/run/mgr.x.pid"; then echo stopped
  else echo broken; fi
}

ceph_user() {
  export CEPH_CONF=$CEPH_DIR/ceph.conf
  if ! radosgw-admin user info --uid=test >/dev/null 2>&1; then
    log "creating S3 user test"
    radosgw-admin user create --uid=test --display-name="test user" \
      --access-key="$S3_ACCESS_KEY" --secret-key="$S3_SECRET_KEY" >/dev/null
  fi
}

ceph_start() {
  local state; state=$(ceph_state)
  if [ "$state" = running ]; then
    log "Ceph RGW already running on $ENDPOINT"
    signed_ok || ceph_user
  else
    [ "$state" = stopped ] || { log "Ceph is half up: restarting it"; ceph_stop; }
    ceph_packages
    local t0=$SECONDS
    log "starting Ceph (mon, mgr, osd, rgw) in $CEPH_DIR"
    mkdir -p "$(dirname "$CEPH_DIR")"
    # the daemons must not hold our stdout/stderr: the caller may be reading them through a pipe
    if ! bash "$HERE/ceph-start.sh" </dev/null >"$CEPH_DIR.start.log" 2>&1; then
      cat "$CEPH_DIR.start.log" >&2; die "ceph-start.sh failed (logs in $CEPH_DIR/log)"
    fi
    sed 's/^/  /' "$CEPH_DIR.start.log" >&2
    log "Ceph started in $((SECONDS - t0)) s"
  fi
  for _ in $(seq 1 120); do signed_ok && break; sleep 0.5; done
  signed_ok || die "RGW on $ENDPOINT does not accept the test user's signed requests"
  log "S3 ready: $ENDPOINT (key $S3_ACCESS_KEY)"
}

ceph_stop() {
  bash "$HERE/ceph-stop.sh" --purge >&2
  rm -f "$CEPH_DIR.start.log"
}

# ---- moto
moto_start() {
  if alive "$MOTO_DIR/moto.pid" && answers; then log "moto already running on $ENDPOINT"; return 0; fi
  command -v moto_server >/dev/null \
    || die "moto_server not found: pip install 'moto[server]' (or use the default S3_SERVER=ceph)"
  mkdir -p "$MOTO_DIR"
  local t0=$EPOCHREALTIME
  setsid moto_server -H 127.0.0.1 -p "$MOTO_PORT" </dev/null >"$MOTO_DIR/moto.log" 2>&1 &
  echo $! > "$MOTO_DIR/moto.pid"
  for _ in $(seq 1 200); do answers && break; sleep 0.05; done
  answers || { cat "$MOTO_DIR/moto.log" >&2; die "moto_server did not answer on $ENDPOINT"; }
  log "moto up on $ENDPOINT in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}') s (pid $(cat "$MOTO_DIR/moto.pid")); any key works"
}
moto_stop() {
  if alive "$MOTO_DIR/moto.pid"; then
    kill "$(cat "$MOTO_DIR/moto.pid")" && log "stopped moto ($(cat "$MOTO_DIR/moto.pid"))"
  fi
  rm -f "$MOTO_DIR/moto.pid"
}
moto_state() { if alive "$MOTO_DIR/moto.pid" && answers; then echo running; elif alive "$MOTO_DIR/moto.pid"; then echo broken; else echo stopped; fi; }

cmd=${1:-}
case $cmd in
  start) "${SERVER}_start"; print_env ;;
  stop) "${SERVER}_stop" ;;
  env) print_env ;;
  status)
    state=$("${SERVER}_state")
    case $state in
      running) echo "running server=$SERVER endpoint=$ENDPOINT" ;;
      stopped) echo "stopped server=$SERVER"; exit 3 ;;
      *) echo "broken server=$SERVER endpoint=$ENDPOINT (some daemons dead or not answering)"; exit 1 ;;
    esac ;;
  *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;;
esac
