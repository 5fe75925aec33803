#!/usr/bin/env bash
# Download benchmark of the paths users run, with their defaults, against aws-cli in the same
# run (tools alternate round by round; medians of ROUNDS):
#   restore  `z3 restore` (COMPRESSOR=none backup) into a `zfs receive` stand-in that hashes and
#            discards stdin, vs `aws s3 cp s3://… - | zfs receive` (the same stand-in)
#   get      `z3_get KEY > /dev/null` vs `aws s3 cp s3://KEY - > /dev/null`
#   memory   `cat data | pput --chunk-size 64M --memory 256M` vs the same with a budget that does
#            not bound it (--memory 4G): peak RSS and throughput (MEMORY_LIMIT, issue 14 item 3)
# Prints per tool median MB/s, CPU s/GiB (user+sys of the whole process tree) and peak RSS,
# the ratios and PASS/FAIL for the targets: restore and get throughput >= 1.2x aws-cli; the
# bounded upload's peak RSS <= 256 MiB + 80 MiB and its throughput >= 0.9x the unbounded one's.
#
#   npm run bench:download                       # restore and get, 1 GiB, 3 rounds
#   npm run bench:memory                         # the memory budget
#   SIZE=64M ROUNDS=1 npm run bench:download     # smoke run
#
# Environment (all optional): SIZE (1G), ROUNDS (3), BENCH ("restore get"; add or use "memory"),
# BENCH_DIR (/tmp/z3-bench), BENCH_BUCKET (default $Z3_TEST_BUCKET or z3-test), SKIP_BUILD=1,
# Z3_TEST_S3_ENDPOINT / _KEY_ID / _SECRET / _REGION (else scripts/s3-server.sh starts one).
. "$(dirname "$0")/bench-common.sh" bench-download # set -euo pipefail, cd to the repo, the helpers

SIZE=${SIZE:-1G}
ROUNDS=${ROUNDS:-3}
BENCH=${BENCH:-restore get}
BENCH_DIR=${BENCH_DIR:-/tmp/z3-bench}
# issue 14: restores clearly ahead of aws-cli; the memory budget holds with this much headroom
# over the part buffers for Node itself, the SDK and sockets, at no more than 10 % throughput.
TARGET_RATIO=1.2
MEMORY_PART=64M
MEMORY_BUDGET=256M
MEMORY_HEADROOM_MIB=80
MEMORY_MIN_RATIO=0.9

require_time
require_tools node openssl numfmt sha256sum aws
start_s3_server_unless_set
s3_target
build_dist die

BYTES=$(numfmt --from=iec "$SIZE")
mkdir -p "$BENCH_DIR"
DATA=$BENCH_DIR/data-$SIZE.bin
RESULTS=$BENCH_DIR/download-$(date +%Y%m%d-%H%M%S).tsv
PREFIX=bench-download-$(date +%s)-$$
WORK=$(mktemp -d "$BENCH_DIR/download.XXXXXX")

# --- the data: deterministic and incompressible ----------------------------------------------
make_data "$SIZE" "$DATA"
DATA_SHA=$(sha256sum <"$DATA" | cut -d' ' -f1)

# --- the tools ---------------------------------------------------------------------------------
aws_cli
FILESYSTEM=bench/data
SNAPSHOT=bench-1
KEY=$PREFIX/$FILESYSTEM@$SNAPSHOT
z3_env
Z3_ENV+=(S3_PREFIX="$PREFIX/" FILESYSTEM="$FILESYSTEM" SNAPSHOT_PREFIX=bench- "PATH=$WORK/bin:$PATH")

# The `zfs` stand-in: no dataset exists (a restore from scratch); `receive` hashes its stdin
# into $WORK/received (openssl: the SHA extensions where the CPU has them, so the stand-in costs
# both tools little).
mkdir -p "$WORK/bin"
cat >"$WORK/bin/zfs" <<EOF
#!/bin/sh
case "\$1" in
  list) for last; do :; done; echo "cannot open '\$last': dataset does not exist" >&2; exit 1 ;;
  receive) exec openssl dgst -sha256 -r >"$WORK/received" ;;
  *) echo "zfs stand-in: unexpected: \$*" >&2; exit 1 ;;
esac
EOF
chmod +x "$WORK/bin/zfs"

cleanup() {
  remove_prefix
  rm -rf "$WORK"
}
trap cleanup EXIT
make_bucket

# Each sets ARGV to the command to time.
run_argv() { # case tool
  case $1:$2 in
    restore:z3) ARGV=("${Z3_ENV[@]}" node dist/bin/z3.js restore --quiet "$SNAPSHOT") ;;
    restore:aws-cli) ARGV=(env "PATH=$WORK/bin:$PATH" bash -c \
      'set -o pipefail; "$@" | zfs receive bench/data@bench-1' _ "${AWS[@]}" s3 cp --only-show-errors "s3://$BUCKET/$KEY" -) ;;
    get:z3_get) ARGV=("${Z3_ENV[@]}" node dist/bin/z3-get.js "$KEY") ;;
    get:aws-cli) ARGV=("${AWS[@]}" s3 cp --only-show-errors "s3://$BUCKET/$KEY" -) ;;
    memory:bounded) ARGV=("${Z3_ENV[@]}" node dist/bin/pput.js --quiet --chunk-size "$MEMORY_PART"
      --memory "$MEMORY_BUDGET" "$PREFIX/memory-bounded") ;;
    memory:unbounded) ARGV=("${Z3_ENV[@]}" node dist/bin/pput.js --quiet --chunk-size "$MEMORY_PART"
      --memory 4G "$PREFIX/memory-unbounded") ;;
    *) die "unknown case $1:$2" ;;
  esac
}
tools_of() {
  case $1 in
    restore) echo "z3 aws-cli" ;;
    get) echo "z3_get aws-cli" ;;
    memory) echo "bounded unbounded" ;;
    *) die "unknown benchmark $1 (BENCH takes restore, get, memory)" ;;
  esac
}

# Timing: `timed` runs, `record` writes the row (scripts/bench-common.sh).
TIME_FILE=$WORK/time
RECORD_TOOL_WIDTH=9
results_header case
run_once() { # case tool round
  local start
  run_argv "$1" "$2"
  rm -f "$WORK/received"
  start=$(date +%s%N)
  case $1 in
    memory) cat "$DATA" | timed "${ARGV[@]}" >/dev/null ;;
    *) timed "${ARGV[@]}" >/dev/null ;;
  esac || die "$1 with $2 failed (round $3)"
  record "$1" "$2" "$3" "$BYTES" "$start"
  if [[ $1 == restore ]]; then
    [[ "$(cut -d' ' -f1 "$WORK/received")" == "$DATA_SHA" ]] || die "$2 restored different bytes"
  fi
}

note "size $SIZE ($BYTES bytes), rounds $ROUNDS, benchmarks: $BENCH; bucket $BUCKET at $ENDPOINT"
note "z3 with its defaults; aws-cli $("$AWS_BIN" --version 2>&1 | cut -d' ' -f1) with its own"
note "results: $RESULTS"
note_load_at_start
if [[ " $BENCH " == *" restore "* || " $BENCH " == *" get "* ]]; then
  # The backup as z3 stores a full stream with COMPRESSOR=none (spec 4.3 metadata).
  "${AWS[@]}" s3 cp --only-show-errors --metadata "isfull=true,size=$BYTES" "$DATA" "s3://$BUCKET/$KEY"
fi
for bench in $BENCH; do
  for round in $(seq 1 "$ROUNDS"); do
    for tool in $(tools_of "$bench"); do run_once "$bench" "$tool" "$round"; done
  done
  if [[ $bench == get ]]; then
    for tool in $(tools_of get); do # once per tool, untimed: the bytes themselves
      run_argv get "$tool"
      [[ "$("${ARGV[@]}" | sha256sum | cut -d' ' -f1)" == "$DATA_SHA" ]] || die "$tool got different bytes"
    done
  fi
done
note "sha256 of every restore and get matches the data"
note "load average at end: $(load_average)"

echo
awk -F'\t' -v target="$TARGET_RATIO" -v headroom="$MEMORY_HEADROOM_MIB" \
  -v budget="$(($(numfmt --from=iec "$MEMORY_BUDGET") / 1048576))" -v minratio="$MEMORY_MIN_RATIO" \
  -f scripts/bench-stats.awk -f /dev/fd/3 "$RESULTS" 3<<'TARGETS' | tee "${RESULTS%.tsv}.summary"
  END {
    r = "restore" SUBSEP; g = "get" SUBSEP; m = "memory" SUBSEP
    if ((r "z3") in M) {
      ratio("restore throughput, z3 restore vs aws-cli | receive", M[r "z3"], M[r "aws-cli"], target, \
        rounds(r "z3", r "aws-cli"))
      info("restore CPU/GiB z3/aws-cli", C[r "z3"], C[r "aws-cli"])
      info("restore peak RSS z3/aws-cli", R[r "z3"], R[r "aws-cli"])
    }
    if ((g "z3_get") in M) {
      ratio("get throughput, z3_get vs aws-cli", M[g "z3_get"], M[g "aws-cli"], target, \
        rounds(g "z3_get", g "aws-cli"))
      info("get CPU/GiB z3_get/aws-cli", C[g "z3_get"], C[g "aws-cli"])
      info("get peak RSS z3_get/aws-cli", R[g "z3_get"], R[g "aws-cli"])
    }
    if ((m "bounded") in M) {
      verdict(sprintf("memory: bounded pput peak RSS %.0f MiB <= %d + %d MiB", R[m "bounded"], \
        budget, headroom), R[m "bounded"] <= budget + headroom)
      ratio("memory: bounded vs unbounded throughput", M[m "bounded"], M[m "unbounded"], minratio)
      info("memory: unbounded pput peak RSS MiB", R[m "unbounded"], 1)
    }
  }
  function info(what, a, b) { if (a != "" && b != "" && b > 0) printf "info  %s: %.2f\n", what, a / b }
  function ratio(what, a, b, want, spread,   x) {
    if (a == "" || b == "" || b == 0) { print "n/a   " what; return }
    x = a / b
    verdict(sprintf("%s: %.2fx (target >= %.1fx%s)", what, x, want, spread), x >= want)
  }
TARGETS
