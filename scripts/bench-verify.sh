#!/usr/bin/env bash
# Verify benchmark (issue 10): `z3 verify --read-data` of one object against `z3_get` of the same
# object to /dev/null, in the same run, alternating (get verify get verify …) so that drift of
# the shared machine hits both alike. Prints each run's seconds, the medians and the ratio of
# verify's throughput to z3_get's (target >= 0.8: the stream parser must not be the bottleneck),
# with the CPU seconds of each (user+sys, from /usr/bin/time): on a busy machine the wall times
# drift, the CPU cost does not.
#
#   npm run bench:verify                          # 1 GiB, 3 rounds, COMPRESSOR none
#   SIZE_MIB=128 ROUNDS=1 npm run bench:verify    # smoke run
#
# Environment (all optional):
#   SIZE_MIB (1024)  ROUNDS (3)            stream size and rounds per tool
#   CHUNK_SIZE (16M)  CONCURRENCY (4)      range size and parallel ranges, the same for both
#   BENCH_DIR (/tmp/z3-bench)              the synthetic stream (kept for reuse)
#   BENCH_BUCKET                           default $Z3_TEST_BUCKET or z3-test
#   SKIP_BUILD=1                           do not run `npm run build` first
#   Z3_TEST_S3_ENDPOINT / _KEY_ID / _SECRET / _REGION: the S3 server (as bench-transfer.sh).
#
# The object is a synthetic send stream (scripts/bench-zstream.mjs: BEGIN, 128 KiB WRITE records
# of random bytes with per-record checksums, END), uploaded with pput and z3's metadata of a full
# backup, so verify parses every byte of it. It is deleted at the end.
. "$(dirname "$0")/bench-common.sh" bench-verify # set -euo pipefail, cd to the repo, the helpers

SIZE_MIB=${SIZE_MIB:-1024}
ROUNDS=${ROUNDS:-3}
export CHUNK_SIZE=${CHUNK_SIZE:-16M} CONCURRENCY=${CONCURRENCY:-4}
BENCH_DIR=${BENCH_DIR:-/tmp/z3-bench}

require_time
start_s3_server_unless_set
export Z3_CONFIG=/dev/null BUCKET=${BENCH_BUCKET:-${Z3_TEST_BUCKET:-z3-test}}
export S3_KEY_ID=$Z3_TEST_S3_KEY_ID S3_SECRET=$Z3_TEST_S3_SECRET S3_STORAGE_CLASS=STANDARD
export HOST=${Z3_TEST_S3_ENDPOINT:?Z3_TEST_S3_ENDPOINT is not set}
[[ -n "${Z3_TEST_S3_REGION:-}" ]] && export S3_REGION=$Z3_TEST_S3_REGION
export CACHE_DIR=off

build_dist die

mkdir -p "$BENCH_DIR"
STREAM=$BENCH_DIR/stream-${SIZE_MIB}M.zstream
if [[ ! -f "$STREAM" ]]; then
  note "generating a ${SIZE_MIB} MiB send stream in $STREAM"
  SIZE_MIB=$SIZE_MIB node scripts/bench-zstream.mjs write "$STREAM.tmp"
  mv "$STREAM.tmp" "$STREAM"
fi
BYTES=$(stat -c %s "$STREAM")

export S3_PREFIX=bench-verify-$(date +%s)-$$ FILESYSTEM=bench/verify SNAPSHOT_PREFIX=snap
KEY=$S3_PREFIX/$FILESYSTEM@snap1
node dist/bin/pput.js --quiet --metadata "size=$BYTES" --metadata isfull=true "$KEY" <"$STREAM" \
  || die "upload failed"
remove() {
  AWS_ACCESS_KEY_ID=$S3_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_DEFAULT_REGION=${S3_REGION:-us-east-1} \
    aws --endpoint-url "$HOST" s3 rm --quiet "s3://$BUCKET/$KEY" || note "could not delete s3://$BUCKET/$KEY"
}
trap remove EXIT

TIMES=$(mktemp)
measure() { # command… → "<wall s> <cpu s>" (user+sys of the process tree); output discarded
  /usr/bin/time -f '%e %U %S' -o "$TIMES" "$@" >/dev/null || die "failed: $*"
  awk '{printf "%s %.2f\n", $1, $2 + $3}' "$TIMES"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

GET_TIMES=() VERIFY_TIMES=() GET_CPU=() VERIFY_CPU=()
for ((round = 1; round <= ROUNDS; round++)); do
  read -r g gc < <(measure node dist/bin/z3-get.js "$KEY")
  read -r v vc < <(measure node dist/bin/z3.js verify --read-data)
  GET_TIMES+=("$g") VERIFY_TIMES+=("$v") GET_CPU+=("$gc") VERIFY_CPU+=("$vc")
  printf 'round %d: z3_get %.2f s (cpu %.2f s), z3 verify --read-data %.2f s (cpu %.2f s)\n' \
    "$round" "$g" "$gc" "$v" "$vc"
done
GC=$(printf '%s\n' "${GET_CPU[@]}" | median)
VC=$(printf '%s\n' "${VERIFY_CPU[@]}" | median)
G=$(printf '%s\n' "${GET_TIMES[@]}" | median)
V=$(printf '%s\n' "${VERIFY_TIMES[@]}" | median)
MIB=$(echo "$BYTES / 1048576" | bc -l)
RATIO=$(echo "$G / $V" | bc -l)
printf 'median: z3_get %.2f s (%.0f MiB/s, cpu %.2f s), verify %.2f s (%.0f MiB/s, cpu %.2f s)\n' \
  "$G" "$(echo "$MIB / $G" | bc -l)" "$GC" "$V" "$(echo "$MIB / $V" | bc -l)" "$VC"
VERDICT=$(echo "$RATIO >= 0.8" | bc -l)
printf 'verify / z3_get throughput: %.2fx (target >= 0.80): %s\n' "$RATIO" \
  "$([[ $VERDICT == 1 ]] && echo PASS || echo FAIL)"
