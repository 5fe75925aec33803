#!/usr/bin/env bash
# Resume benchmark (issue 9): the time to finish a 1 GiB `pput --resume` upload that was killed
# (kill -9) once half its parts were on the server, against uploading the same data from
# scratch, in the same run, rounds alternating (scratch, interrupted + resume, scratch, …) so
# that drift of the shared machine hits both alike. Prints per round the times, the ratio
# resume / scratch and the bytes the resume sent again (from its own report), then the median
# ratio with PASS/FAIL against the target (<= 0.6x), and checks the bytes of every object.
#
#   npm run bench:resume                         # 1 GiB, 3 rounds
#   SIZE=256M ROUNDS=1 npm run bench:resume      # smoke run
#
# Environment (all optional):
#   SIZE (1G)  ROUNDS (3)                  data size (numfmt IEC) and rounds
#   PART (16M)  CONCURRENCY (4)            pput part size and workers (as bench:transfer)
#   BENCH_DIR (/tmp/z3-bench)              data file (shared with bench:transfer) and state
#   BENCH_BUCKET                           default $Z3_TEST_BUCKET or z3-test
#   TARGET (s3)                            s3, or dir: a local directory (BACKUP_DIR) under BENCH_DIR
#   SKIP_BUILD=1                           do not run `npm run build` first
#   Z3_TEST_S3_ENDPOINT / _KEY_ID / _SECRET / _REGION: the S3 server; when unset,
#     `bash scripts/s3-server.sh start` starts one and prints them.
. "$(dirname "$0")/bench-common.sh" bench-resume # set -euo pipefail, cd to the repo, the helpers

SIZE=${SIZE:-1G}
ROUNDS=${ROUNDS:-3}
PART=${PART:-16M}
CONCURRENCY=${CONCURRENCY:-4}
BENCH_DIR=${BENCH_DIR:-/tmp/z3-bench}
TARGET_RATIO=0.6
TARGET=${TARGET:-s3}

require_tools node openssl numfmt sha256sum aws
start_s3_server_unless_set
s3_target
build_dist warn

BYTES=$(numfmt --from=iec "$SIZE")
PART_BYTES=$(numfmt --from=iec "$PART")
PARTS=$(((BYTES + PART_BYTES - 1) / PART_BYTES))
HALF=$(((PARTS + 1) / 2))
mkdir -p "$BENCH_DIR"
DATA=$BENCH_DIR/data-$SIZE.bin
PREFIX=bench-resume-$(date +%s)-$$
STATE=$(mktemp -d "$BENCH_DIR/state.XXXXXX")

# The data: deterministic and incompressible (the same file bench:transfer makes).
make_data "$SIZE" "$DATA"
DATA_SHA=$(sha256sum <"$DATA" | cut -d' ' -f1)

aws_cli
case $TARGET in
  s3) z3_env ;;
  dir) DIR=$(mktemp -d "$BENCH_DIR/target.XXXXXX")
    Z3_ENV=(env Z3_CONFIG=/dev/null BUCKET= BACKUP_DIR="$DIR") ;;
  *) die "TARGET must be s3 or dir" ;;
esac
PPUT=("${Z3_ENV[@]}" STATE_DIR="$STATE"
  node dist/bin/pput.js --chunk-size "$PART" --concurrency "$CONCURRENCY"
  --storage-class STANDARD --resume)

cleanup() {
  [[ $TARGET == s3 ]] && remove_prefix
  rm -rf "$STATE" "${DIR:-}"
}
trap cleanup EXIT
[[ $TARGET == dir ]] || make_bucket

now() { date +%s%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }

# Parts of the pending upload of key $1 on the server (0 while there is none).
parts_on_server() {
  [[ $TARGET == dir ]] && { dir_parts "$1"; return; }
  local id
  id=$("${AWS[@]}" s3api list-multipart-uploads --bucket "$BUCKET" --prefix "$1" \
    --query 'Uploads[0].UploadId' --output text 2>/dev/null) || { echo 0; return; }
  [[ -n "$id" && "$id" != None ]] || { echo 0; return; }
  "${AWS[@]}" s3api list-parts --bucket "$BUCKET" --key "$1" --upload-id "$id" \
    --query 'length(Parts)' --output text 2>/dev/null || echo 0
}

# The same for a directory: the chunks its log lists (through the built local backend).
dir_parts() {
  node --input-type=module -e "
    const { createLocalBackend } = await import('./dist/storage/local/backend.js');
    const b = createLocalBackend(process.argv[1]);
    const [p] = await b.listPending(process.argv[2]);
    console.log(p === undefined ? 0 : (await b.listChunks(p)).length);" "$DIR" "$1" 2>/dev/null || echo 0
}

# Start an upload of key $1, kill -9 it once HALF parts are on the server.
interrupt_at_half() {
  "${PPUT[@]}" "$1" <"$DATA" >/dev/null 2>&1 &
  local pid=$! n=0
  while (( $(parts_on_server "$1") < HALF )); do
    kill -0 "$pid" 2>/dev/null || die "the upload of $1 ended before $HALF parts were on the server"
    sleep 0.1
  done
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
}

check_object() { # key
  local sha
  if [[ $TARGET == dir ]]; then sha=$(sha256sum <"$DIR/$1" | cut -d' ' -f1)
  else sha=$("${AWS[@]}" s3 cp --only-show-errors "s3://$BUCKET/$1" - | sha256sum | cut -d' ' -f1); fi
  [[ "$sha" == "$DATA_SHA" ]] || die "$1 holds other bytes than the data (sha256 $sha)"
}

note "size $SIZE ($BYTES bytes, $PARTS parts of $PART), concurrency $CONCURRENCY, rounds $ROUNDS"
if [[ $TARGET == dir ]]; then note "target: the directory $DIR (BACKUP_DIR)"; else note "bucket $BUCKET at $ENDPOINT"; fi
note "interrupted with kill -9 at $HALF parts on the target"
note "load average at start: $(load_average) on $(nproc) cores"
RATIOS=()
RESENT=()
for round in $(seq 1 "$ROUNDS"); do
  scratch_key=$PREFIX/scratch-r$round
  start=$(now)
  "${PPUT[@]}" "$scratch_key" <"$DATA" >/dev/null 2>&1 || die "scratch upload failed (round $round)"
  scratch_s=$(seconds "$start" "$(now)")

  resume_key=$PREFIX/resume-r$round
  interrupt_at_half "$resume_key"
  kept=$(parts_on_server "$resume_key")
  start=$(now)
  report=$("${PPUT[@]}" "$resume_key" <"$DATA" 2>&1 >/dev/null) || die "resume failed (round $round): $report"
  resume_s=$(seconds "$start" "$(now)")
  line=$(grep -o 'resuming .*: [0-9]* of [0-9]* parts (.*) already on the server, verified.*' <<<"$report") ||
    die "no resume report (round $round): $report"
  resumed=$(sed -E 's/.*: ([0-9]+) of [0-9]+ parts.*/\1/' <<<"$line")
  resent=$((BYTES - resumed * PART_BYTES))
  (( resent < 0 )) && resent=0
  ratio=$(awk -v r="$resume_s" -v s="$scratch_s" 'BEGIN { printf "%.3f", r / s }')
  RATIOS+=("$ratio")
  RESENT+=("$resent")
  printf '  round %s: scratch %6.2f s   resume %6.2f s   ratio %.3f   %s parts listed, %s verified, re-sent %s\n' \
    "$round" "$scratch_s" "$resume_s" "$ratio" "$kept" "$resumed" "$(numfmt --to=iec "$resent")B"
  check_object "$scratch_key"
  check_object "$resume_key"
  [[ $TARGET == dir ]] && rm -f "$DIR/$scratch_key"* "$DIR/$resume_key"* # disk space
done
note "sha256 of every object matches the data"
note "load average at end: $(load_average)"

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
RATIO=$(median "${RATIOS[@]}")
RESENT_MED=$(median "${RESENT[@]}")
verdict=$(awk -v r="$RATIO" -v t="$TARGET_RATIO" 'BEGIN { print (r <= t) ? "PASS" : "FAIL" }')
echo
printf 'resume after kill -9 at 50%% vs from scratch: median ratio %.3fx (target <= %sx) %s\n' \
  "$RATIO" "$TARGET_RATIO" "$verdict"
printf 'bytes re-sent by the resume: median %s of %s (%.1f%%)\n' "$(numfmt --to=iec "${RESENT_MED%.*}")B" \
  "$SIZE" "$(awk -v a="$RESENT_MED" -v b="$BYTES" 'BEGIN { print 100 * a / b }')"
