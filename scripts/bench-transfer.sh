#!/usr/bin/env bash
# Transfer benchmark: upload the same stream from stdin with pput, `aws s3 cp -` and
# `rclone rcat`, then download it with z3_get and `aws s3 cp … -`; print per tool the median
# throughput, client CPU seconds per GiB (user+sys of the process tree, from /usr/bin/time),
# peak RSS, the ratios to the peers and PASS/FAIL for z3's targets.
#
#   npm run bench:transfer                       # 1 GiB, 3 rounds
#   SIZE=64M ROUNDS=1 npm run bench:transfer     # smoke run
#
# Environment (all optional):
#   SIZE (1G)  ROUNDS (3)                 data size (numfmt IEC: 64M, 1G) and rounds per tool
#   PPUT_PART (16M)  PPUT_CONCURRENCY (4) pput part size and workers
#   GET_CHUNK (16M)  GET_CONCURRENCY (4)  z3_get range size and parallel ranges
#   BENCH_DIR (/tmp/z3-bench)             data file (kept for reuse) and results
#   BENCH_BUCKET                          default $Z3_TEST_BUCKET or z3-test
#   SKIP_BUILD=1                          do not run `npm run build` first
#   Z3_TEST_S3_ENDPOINT / _KEY_ID / _SECRET / _REGION: the S3 server; when unset,
#     `bash scripts/s3-server.sh start` starts one and prints them.
#
# Peers run with their own defaults (aws-cli: 8 MiB parts x 10 threads; rclone: 5 MiB x 4),
# which is what a user of those tools gets. Runs alternate (A B C A B C …) so that drift of the
# shared machine hits every tool alike. Upload objects are deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-1G}
ROUNDS=${ROUNDS:-3}
PPUT_PART=${PPUT_PART:-16M}
PPUT_CONCURRENCY=${PPUT_CONCURRENCY:-4}
GET_CHUNK=${GET_CHUNK:-16M}
GET_CONCURRENCY=${GET_CONCURRENCY:-4}
BENCH_DIR=${BENCH_DIR:-/tmp/z3-bench}
# Headroom over the part buffers for Node itself, the SDK and sockets (the pput memory target).
RSS_HEADROOM_MIB=64

die() { echo "bench-transfer: $*" >&2; exit 1; }
note() { echo "# $*"; }

command -v /usr/bin/time >/dev/null || die "/usr/bin/time is missing: apt-get install time"
for tool in node openssl numfmt sha256sum aws rclone; do
  command -v "$tool" >/dev/null || die "$tool is missing"
done

if [[ -z "${Z3_TEST_S3_KEY_ID:-}" ]]; then
  note "no Z3_TEST_S3_* in the environment: starting the test S3 server"
  eval "$(bash scripts/s3-server.sh start)"
fi
ENDPOINT=${Z3_TEST_S3_ENDPOINT:?Z3_TEST_S3_ENDPOINT is not set}
BUCKET=${BENCH_BUCKET:-${Z3_TEST_BUCKET:-z3-test}}
REGION=${Z3_TEST_S3_REGION:-us-east-1}

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  npm run build >/dev/null 2>&1 || note "warning: npm run build reported errors; using dist/ as built"
fi

BYTES=$(numfmt --from=iec "$SIZE")
PART_BYTES=$(numfmt --from=iec "$PPUT_PART")
mkdir -p "$BENCH_DIR"
DATA=$BENCH_DIR/data-$SIZE.bin
RESULTS=$BENCH_DIR/results-$(date +%Y%m%d-%H%M%S).tsv
PREFIX=bench-$(date +%s)-$$

# --- the data: deterministic (AES-CTR keystream of zeros) and incompressible -------------------
if [[ ! -f "$DATA" || $(stat -c %s "$DATA") != "$BYTES" ]]; then
  note "generating $SIZE of incompressible data in $DATA"
  # head closes the pipe after BYTES: openssl's SIGPIPE is expected, the size check is not.
  (openssl enc -aes-128-ctr -nosalt -K 7a33000000000000000000000000007a -iv 0 -in /dev/zero \
    2>/dev/null || true) | head -c "$BYTES" >"$DATA.tmp"
  [[ $(stat -c %s "$DATA.tmp") == "$BYTES" ]] || die "could not generate $DATA"
  mv "$DATA.tmp" "$DATA"
fi
[[ -f "$DATA.sha256" && "$DATA.sha256" -nt "$DATA" ]] || sha256sum <"$DATA" | cut -d' ' -f1 >"$DATA.sha256"
DATA_SHA=$(cat "$DATA.sha256")
cat "$DATA" >/dev/null # page cache: every tool reads it from memory

# --- the tools -----------------------------------------------------------------------------------
export AWS_ACCESS_KEY_ID=$Z3_TEST_S3_KEY_ID AWS_SECRET_ACCESS_KEY=$Z3_TEST_S3_SECRET
export AWS_DEFAULT_REGION=$REGION
export RCLONE_CONFIG_Z3_TYPE=s3 RCLONE_CONFIG_Z3_PROVIDER=Ceph RCLONE_CONFIG_Z3_ENDPOINT=$ENDPOINT
export RCLONE_CONFIG_Z3_ACCESS_KEY_ID=$Z3_TEST_S3_KEY_ID
export RCLONE_CONFIG_Z3_SECRET_ACCESS_KEY=$Z3_TEST_S3_SECRET RCLONE_CONFIG_Z3_REGION=$REGION
# The real aws script, not the pyenv shim (whose bash + pyenv CPU would be charged to aws-cli).
AWS_BIN=$( (pyenv which aws 2>/dev/null) || command -v aws)
AWS=("$AWS_BIN" --endpoint-url "$ENDPOINT")
Z3_ENV=(env Z3_CONFIG=/dev/null BUCKET="$BUCKET" HOST="$ENDPOINT" S3_REGION="$REGION"
  S3_KEY_ID="$Z3_TEST_S3_KEY_ID" S3_SECRET="$Z3_TEST_S3_SECRET")

# Each sets ARGV to the command to time (run directly, no shell in between).
upload_argv() { # tool key; the data comes on stdin
  case $1 in
    pput) ARGV=("${Z3_ENV[@]}" node dist/bin/pput.js --chunk-size "$PPUT_PART"
      --concurrency "$PPUT_CONCURRENCY" --storage-class STANDARD --quiet "$2") ;;
    aws-cli) ARGV=("${AWS[@]}" s3 cp --only-show-errors - "s3://$BUCKET/$2") ;;
    rclone) ARGV=(env -u AWS_CA_BUNDLE rclone --quiet rcat "z3:$BUCKET/$2") ;;
    *) die "unknown upload tool $1" ;;
  esac
}
download_argv() { # tool key; the data goes to stdout
  case $1 in
    z3_get) ARGV=("${Z3_ENV[@]}" node dist/bin/z3-get.js --chunk-size "$GET_CHUNK"
      --concurrency "$GET_CONCURRENCY" "$2") ;;
    aws-cli) ARGV=("${AWS[@]}" s3 cp --only-show-errors "s3://$BUCKET/$2" -) ;;
    *) die "unknown download tool $1" ;;
  esac
}

UPLOADERS=(pput aws-cli rclone)
DOWNLOADERS=(z3_get aws-cli)
[[ -f dist/bin/pput.js ]] || { note "dist/bin/pput.js is missing: pput is skipped"; UPLOADERS=(aws-cli rclone); }
[[ -f dist/bin/z3-get.js ]] || { note "dist/bin/z3-get.js is missing: z3_get is skipped"; DOWNLOADERS=(aws-cli); }

cleanup() {
  "${AWS[@]}" s3 rm --recursive "s3://$BUCKET/$PREFIX/" >/dev/null 2>&1 || true
  rm -f "$BENCH_DIR"/time.$$
}
trap cleanup EXIT
"${AWS[@]}" s3api head-bucket --bucket "$BUCKET" >/dev/null 2>&1 ||
  "${AWS[@]}" s3 mb "s3://$BUCKET" >/dev/null

# --- timing ------------------------------------------------------------------------------------
# record direction tool round bytes start_ns: one TSV row from the wall clock and /usr/bin/time
# (user and system seconds of the whole process tree, peak RSS in KiB of its largest process).
TIME_FILE=$BENCH_DIR/time.$$
printf 'direction\ttool\tround\tbytes\twall_s\tuser_s\tsys_s\tmaxrss_kib\n' >"$RESULTS"
record() {
  local end wall user sys rss
  end=$(date +%s%N)
  wall=$(awk -v a="$5" -v b="$end" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  read -r user sys rss <"$TIME_FILE"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$wall" "$user" "$sys" "$rss" >>"$RESULTS"
  printf '  %-8s %-7s round %s: %6.1f MB/s  cpu %5.2f s  rss %4d MiB\n' "$1" "$2" "$3" \
    "$(awk -v n="$4" -v w="$wall" 'BEGIN { print n / 1e6 / w }')" \
    "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" $((rss / 1024))
}

note "size $SIZE ($BYTES bytes), rounds $ROUNDS, bucket $BUCKET at $ENDPOINT"
note "pput: part $PPUT_PART x concurrency $PPUT_CONCURRENCY; z3_get: chunk $GET_CHUNK x concurrency $GET_CONCURRENCY"
note "aws-cli $("$AWS_BIN" --version 2>&1 | cut -d' ' -f1) and $(rclone version 2>/dev/null | head -1) with their defaults"
note "results: $RESULTS"
note "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other load skews results)"

echo "uploads:"
for round in $(seq 1 "$ROUNDS"); do
  for tool in "${UPLOADERS[@]}"; do
    upload_argv "$tool" "$PREFIX/$tool-r$round"
    start=$(date +%s%N)
    /usr/bin/time -f '%U %S %M' -o "$TIME_FILE" "${ARGV[@]}" <"$DATA" >/dev/null ||
      die "$tool upload failed (round $round)"
    record upload "$tool" "$round" "$BYTES" "$start"
  done
done
for tool in "${UPLOADERS[@]}"; do
  size=$("${AWS[@]}" s3api head-object --bucket "$BUCKET" --key "$PREFIX/$tool-r$ROUNDS" \
    --query ContentLength --output text)
  [[ "$size" == "$BYTES" ]] || die "$tool uploaded $size bytes, expected $BYTES"
done

SOURCE=$PREFIX/${UPLOADERS[0]}-r1
echo "downloads (of $SOURCE):"
for round in $(seq 1 "$ROUNDS"); do
  for tool in "${DOWNLOADERS[@]}"; do
    download_argv "$tool" "$SOURCE"
    start=$(date +%s%N)
    got=$(/usr/bin/time -f '%U %S %M' -o "$TIME_FILE" "${ARGV[@]}" | wc -c) ||
      die "$tool download failed (round $round)"
    [[ "$got" == "$BYTES" ]] || die "$tool downloaded $got bytes, expected $BYTES"
    record download "$tool" "$round" "$got" "$start"
  done
done
# Once per tool, untimed: the bytes themselves (this also checks the uploader of SOURCE).
for tool in "${DOWNLOADERS[@]}"; do
  download_argv "$tool" "$SOURCE"
  sha=$("${ARGV[@]}" | sha256sum | cut -d' ' -f1)
  [[ "$sha" == "$DATA_SHA" ]] || die "$tool downloaded different bytes (sha256 $sha)"
done
note "sha256 of every download tool's output matches the data"
note "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- summary -----------------------------------------------------------------------------------
# Per direction and tool: median MB/s, median CPU s/GiB, max peak RSS; then ratios and targets.
echo
awk -F'\t' -v part="$PART_BYTES" -v conc="$PPUT_CONCURRENCY" -v headroom="$RSS_HEADROOM_MIB" '
  function median(list,   n, v, i, j, t) {
    n = split(list, v, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
      t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
    }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  NR == 1 { next }
  {
    k = $1 SUBSEP $2
    if (!(k in seen)) { seen[k] = 1; order[++n] = k }
    mbs[k] = mbs[k] " " $4 / 1e6 / $5
    cpu[k] = cpu[k] " " ($6 + $7) / ($4 / 1073741824)
    if ($8 + 0 > rss[k] + 0) rss[k] = $8
  }
  END {
    printf "%-9s %-8s %10s %14s %14s\n", "direction", "tool", "MB/s", "CPU s/GiB", "peak RSS MiB"
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, p, SUBSEP)
      M[k] = median(mbs[k]); C[k] = median(cpu[k]); R[k] = rss[k] / 1024
      printf "%-9s %-8s %10.1f %14.2f %14.0f\n", p[1], p[2], M[k], C[k], R[k]
    }
    print ""
    up = "upload" SUBSEP; down = "download" SUBSEP
    ratio("pput throughput vs aws-cli", M[up "pput"], M[up "aws-cli"], 1.2, ">=")
    ratio("pput throughput vs rclone", M[up "pput"], M[up "rclone"], 1.2, ">=")
    ratio("pput CPU/GiB vs aws-cli", C[up "pput"], C[up "aws-cli"], 1.0, "<=")
    limit = part * (conc + 1) / 1048576 + headroom
    if ((up "pput") in R)
      verdict(sprintf("pput peak RSS %.0f MiB <= part x (concurrency + 1) + %d MiB = %.0f MiB", \
        R[up "pput"], headroom, limit), R[up "pput"] <= limit)
    else print "n/a   pput peak RSS (pput not run)"
    ratio("z3_get throughput vs aws-cli", M[down "z3_get"], M[down "aws-cli"], 1.0, ">=")
    info("rclone/aws-cli upload throughput", M[up "rclone"], M[up "aws-cli"])
    info("pput/aws-cli upload peak RSS", R[up "pput"], R[up "aws-cli"])
    info("pput/rclone upload CPU/GiB", C[up "pput"], C[up "rclone"])
    info("z3_get/aws-cli download CPU/GiB", C[down "z3_get"], C[down "aws-cli"])
    info("z3_get/aws-cli download peak RSS", R[down "z3_get"], R[down "aws-cli"])
  }
  function info(what, a, b) { if (a != "" && b != "" && b > 0) printf "info  %s: %.2fx\n", what, a / b }
  function ratio(what, a, b, target, op,   r) {
    if (a == "" || b == "" || b == 0) { print "n/a   " what; return }
    r = a / b
    verdict(sprintf("%s: %.2fx (target %s %.1fx)", what, r, op, target), \
      op == ">=" ? r >= target : r <= target)
  }
  function verdict(text, ok) { printf "%s  %s\n", ok ? "PASS" : "FAIL", text }
' "$RESULTS" | tee "${RESULTS%.tsv}.summary"
