#!/usr/bin/env bash
# Transfer benchmark, one section after the other, every tool of a section on the same data:
#   file      `pput < file` (tuned: PPUT_PART x PPUT_CONCURRENCY) vs `aws s3 cp -` vs `rclone rcat`
#   pipe      `cat file | pput` with pput's defaults vs `cat file | aws s3 cp -` vs `… | rclone rcat`
#             (issue 14, 1a: what z3 really reads is a pipe)
#   backup    `z3 backup --full` (COMPRESSOR=none, defaults otherwise) vs the shell pipeline
#             `zfs send … | aws s3 cp -`, both over a `zfs` stand-in (scripts/bench-zfs.sh) whose
#             send writes the file (issue 14, 1b); the whole process tree of each is timed.
#             Two more, for the `info` lines only, at each other's part size and concurrency: the
#             same pipeline with aws-cli at z3's (`zfs+aws:z3-parts`: 5 MiB parts at 1 GiB, from
#             the part-size formula of the compatibility contract, and CONCURRENCY's 32) and
#             `z3 backup` at aws-cli's (`z3:aws-parts`: CHUNK_SIZE=8M CONCURRENCY=10). Why: on
#             one machine the server's CPU per GiB grows with the parts and the connections, so
#             these show how much of the ratio z3's defaults account for
#   download  z3_get (tuned: GET_CHUNK x GET_CONCURRENCY) vs `aws s3 cp … -`
# Per section and tool: the median throughput, client CPU seconds per GiB (user+sys of the
# process tree, from /usr/bin/time), peak RSS, the ratios to the peers and PASS/FAIL for z3's
# targets (pipe and backup: throughput >= 1.2x aws-cli, CPU/GiB <= 0.8x aws-cli's). When the S3
# server runs on this machine (radosgw, ceph-osd), also its CPU seconds per GiB during each
# tool's runs: it shares the client's cores, so an upload's throughput follows client plus
# server CPU, which the `info` lines compare.
#
#   npm run bench:transfer                       # 1 GiB, 3 rounds, every section
#   SIZE=64M ROUNDS=1 npm run bench:transfer     # smoke run
#   SECTIONS="pipe backup" npm run bench:transfer
#
# Environment (all optional):
#   SIZE (1G)  ROUNDS (3)                 data size (numfmt IEC: 64M, 1G) and rounds per tool
#   SECTIONS ("file pipe backup download") which sections to run, in this order
#   PPUT_PART (16M)  PPUT_CONCURRENCY (4) pput part size and workers of the file section
#   GET_CHUNK (16M)  GET_CONCURRENCY (4)  z3_get range size and parallel ranges
#   BENCH_DIR (/tmp/z3-bench)             data file (kept for reuse) and results
#   BENCH_BUCKET                          default $Z3_TEST_BUCKET or z3-test
#   SKIP_BUILD=1                          do not run `npm run build` first
#   Z3_TEST_S3_ENDPOINT / _KEY_ID / _SECRET / _REGION: the S3 server; when unset,
#     `bash scripts/s3-server.sh start` starts one and prints them.
#
# Peers run with their own defaults (aws-cli: 8 MiB parts x 10 threads; rclone: 5 MiB x 4),
# which is what a user of those tools gets. Runs alternate (A B C A B C …) so that drift of the
# shared machine hits every tool alike. Upload objects are deleted at the end, but Ceph RGW
# frees deleted data only at its garbage collection (2 h by default): a full run writes
# SIZE x ROUNDS x 10 uploads (30 GiB at the defaults) to the test server's 64 GiB device, whose OSD
# stops every write at 95 %; `radosgw-admin gc process --include-all` reclaims it at once. In the pipe
# section only the tool is timed (`cat` is not); in the backup section the whole tree is (z3 and
# its zfs stand-in; bash, the stand-in and aws-cli), since that is the path a user runs.
. "$(dirname "$0")/bench-common.sh" bench-transfer # set -euo pipefail, cd to the repo, the helpers

SIZE=${SIZE:-1G}
ROUNDS=${ROUNDS:-3}
PPUT_PART=${PPUT_PART:-16M}
PPUT_CONCURRENCY=${PPUT_CONCURRENCY:-4}
GET_CHUNK=${GET_CHUNK:-16M}
GET_CONCURRENCY=${GET_CONCURRENCY:-4}
BENCH_DIR=${BENCH_DIR:-/tmp/z3-bench}
SECTIONS=${SECTIONS:-file pipe backup download}
# Headroom over the part buffers for Node itself, the SDK and sockets (the pput memory target).
RSS_HEADROOM_MIB=64

require_time
require_tools node openssl numfmt sha256sum aws rclone cat
start_s3_server_unless_set
s3_target
build_dist warn

BYTES=$(numfmt --from=iec "$SIZE")
PART_BYTES=$(numfmt --from=iec "$PPUT_PART")
mkdir -p "$BENCH_DIR"
DATA=$BENCH_DIR/data-$SIZE.bin
RESULTS=$BENCH_DIR/results-$(date +%Y%m%d-%H%M%S).tsv
PREFIX=bench-$(date +%s)-$$

# --- the data: deterministic and incompressible ----------------------------------------------
make_data "$SIZE" "$DATA"
[[ -f "$DATA.sha256" && "$DATA.sha256" -nt "$DATA" ]] || sha256sum <"$DATA" | cut -d' ' -f1 >"$DATA.sha256"
DATA_SHA=$(cat "$DATA.sha256")
cat "$DATA" >/dev/null # page cache: every tool reads it from memory

# --- the tools -----------------------------------------------------------------------------------
aws_cli
export RCLONE_CONFIG_Z3_TYPE=s3 RCLONE_CONFIG_Z3_PROVIDER=Ceph RCLONE_CONFIG_Z3_ENDPOINT=$ENDPOINT
export RCLONE_CONFIG_Z3_ACCESS_KEY_ID=$Z3_TEST_S3_KEY_ID
export RCLONE_CONFIG_Z3_SECRET_ACCESS_KEY=$Z3_TEST_S3_SECRET RCLONE_CONFIG_Z3_REGION=$REGION
z3_env

# The backup section's `zfs`: scripts/bench-zfs.sh as `zfs`, first on PATH, sending the data.
ZFS_BIN=$BENCH_DIR/zfs-bin
mkdir -p "$ZFS_BIN" "$BENCH_DIR/z3-cache" "$BENCH_DIR/z3-lock"
chmod 700 "$BENCH_DIR/z3-lock"
ln -sf "$PWD/scripts/bench-zfs.sh" "$ZFS_BIN/zfs"
SNAPSHOT=bench/ds@zfs-auto-snap:daily-bench
export BENCH_ZFS_DATA=$DATA BENCH_ZFS_SNAPSHOT=$SNAPSHOT
# z3's part size for this stream (its estimate is the data's size) and its default CONCURRENCY,
# read from z3 itself, and an aws-cli config with both, for `zfs+aws:z3-parts`.
read -r Z3_BACKUP_PART Z3_CONCURRENCY < <(node --input-type=module -e "
  import { partSizeFor } from './dist/transfer/part-size.js';
  import { DEFAULTS } from './dist/config/settings.js';
  console.log(partSizeFor($BYTES), DEFAULTS.CONCURRENCY)")
[[ -n "$Z3_CONCURRENCY" ]] || die "cannot read z3's part size and CONCURRENCY from dist/"
AWS_Z3_PARTS_CONFIG=$BENCH_DIR/aws-z3-parts.cfg
printf '[default]\ns3 =\n  multipart_chunksize = %s\n  max_concurrent_requests = %s\n' \
  "$Z3_BACKUP_PART" "$Z3_CONCURRENCY" >"$AWS_Z3_PARTS_CONFIG"

# Each sets ARGV to the command to time (run directly, no shell in between) and INPUT to what
# it reads: `file` (stdin is the data file), `pipe` (`cat data |`, cat not timed) or `none`.
upload_argv() { # section tool key
  INPUT=$1
  case $1/$2 in
    file/pput) ARGV=("${Z3_ENV[@]}" node dist/bin/pput.js --chunk-size "$PPUT_PART"
      --concurrency "$PPUT_CONCURRENCY" --storage-class STANDARD --quiet "$3") ;;
    pipe/pput) ARGV=("${Z3_ENV[@]}" node dist/bin/pput.js --storage-class STANDARD --quiet "$3") ;;
    */aws-cli) ARGV=("${AWS[@]}" s3 cp --only-show-errors - "s3://$BUCKET/$3") ;;
    */rclone) ARGV=(env -u AWS_CA_BUNDLE rclone --quiet rcat "z3:$BUCKET/$3") ;;
    backup/z3 | backup/z3:aws-parts) INPUT=none
      ARGV=("${Z3_ENV[@]}" PATH="$ZFS_BIN:$PATH" S3_PREFIX="$3" FILESYSTEM=${SNAPSHOT%@*}
        COMPRESSOR=none CACHE_DIR="$BENCH_DIR/z3-cache" LOCK_DIR="$BENCH_DIR/z3-lock")
      [[ $2 == z3 ]] || ARGV+=(CHUNK_SIZE=8M CONCURRENCY=10)
      ARGV+=(node dist/bin/z3.js backup --full --quiet) ;;
    backup/zfs+aws | backup/zfs+aws:z3-parts) INPUT=none
      ARGV=(env PATH="$ZFS_BIN:$PATH")
      [[ $2 == zfs+aws ]] || ARGV+=(AWS_CONFIG_FILE="$AWS_Z3_PARTS_CONFIG")
      ARGV+=(bash -c 'set -o pipefail; zfs send "$1" | "${@:2}"' _
        "$SNAPSHOT" "${AWS[@]}" s3 cp --only-show-errors - "s3://$BUCKET/$3/$SNAPSHOT") ;;
    *) die "unknown upload tool $2 in section $1" ;;
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
# The key each upload tool of a section leaves for round $2 (checked for its size at the end).
uploaded_key() { # section tool round
  case $1/$2 in
    backup/*) echo "$PREFIX/$1-$2-r$3/$SNAPSHOT" ;;
    *) echo "$PREFIX/$1-$2-r$3" ;;
  esac
}

section_tools() { # section: its tools, z3's first
  case $1 in
    file | pipe) echo pput aws-cli rclone ;;
    backup) echo z3 zfs+aws zfs+aws:z3-parts z3:aws-parts ;;
    download) echo z3_get aws-cli ;;
  esac
}
[[ -f dist/bin/pput.js && -f dist/bin/z3.js && -f dist/bin/z3-get.js ]] || die "dist/ is not built"

cleanup() {
  remove_prefix
  rm -f "$BENCH_DIR"/time.$$ "$BENCH_DIR"/time.$$.server
}
trap cleanup EXIT
make_bucket

# --- timing: `timed` runs, `record` writes the row (scripts/bench-common.sh) --------------------
TIME_FILE=$BENCH_DIR/time.$$
RECORD_TOOL_WIDTH=16 # zfs+aws:z3-parts
results_header section

note "size $SIZE ($BYTES bytes), rounds $ROUNDS, sections: $SECTIONS; bucket $BUCKET at $ENDPOINT"
note "file: pput part $PPUT_PART x concurrency $PPUT_CONCURRENCY; pipe, backup: z3's defaults; z3_get: chunk $GET_CHUNK x concurrency $GET_CONCURRENCY"
note "backup: z3's parts for this stream $Z3_BACKUP_PART bytes x $Z3_CONCURRENCY, aws-cli's 8 MiB x 10"
note "aws-cli $("$AWS_BIN" --version 2>&1 | cut -d' ' -f1) and $(rclone version 2>/dev/null | head -1) with their defaults"
note "results: $RESULTS"
note_load_at_start

run_uploads() { # section
  local section=$1 round tool start size
  echo "$section uploads:"
  for round in $(seq 1 "$ROUNDS"); do
    for tool in $(section_tools "$section"); do
      upload_argv "$section" "$tool" "$PREFIX/$section-$tool-r$round"
      start=$(date +%s%N)
      case $INPUT in
        file) timed "${ARGV[@]}" <"$DATA" >/dev/null ;;
        pipe) cat "$DATA" | timed "${ARGV[@]}" >/dev/null ;;
        none) timed "${ARGV[@]}" </dev/null >/dev/null ;;
      esac || die "$section: $tool upload failed (round $round)"
      record "$section" "$tool" "$round" "$BYTES" "$start"
    done
  done
  for tool in $(section_tools "$section"); do
    size=$("${AWS[@]}" s3api head-object --bucket "$BUCKET" --output text \
      --key "$(uploaded_key "$section" "$tool" "$ROUNDS")" --query ContentLength)
    [[ "$size" == "$BYTES" ]] || die "$section: $tool uploaded $size bytes, expected $BYTES"
  done
}

run_downloads() {
  local source=$PREFIX/download-source round tool start got sha
  "${AWS[@]}" s3 cp --only-show-errors "$DATA" "s3://$BUCKET/$source"
  echo "downloads (of $source):"
  for round in $(seq 1 "$ROUNDS"); do
    for tool in $(section_tools download); do
      download_argv "$tool" "$source"
      start=$(date +%s%N)
      got=$(timed "${ARGV[@]}" | wc -c) || die "$tool download failed (round $round)"
      [[ "$got" == "$BYTES" ]] || die "$tool downloaded $got bytes, expected $BYTES"
      record download "$tool" "$round" "$got" "$start"
    done
  done
  # Once per tool, untimed: the bytes themselves.
  for tool in $(section_tools download); do
    download_argv "$tool" "$source"
    sha=$("${ARGV[@]}" | sha256sum | cut -d' ' -f1)
    [[ "$sha" == "$DATA_SHA" ]] || die "$tool downloaded different bytes (sha256 $sha)"
  done
  note "sha256 of every download tool's output matches the data"
}

for section in $SECTIONS; do
  case $section in
    file | pipe | backup) run_uploads "$section" ;;
    download) run_downloads ;;
    *) die "unknown section $section (file, pipe, backup, download)" ;;
  esac
  note "load average after $section: $(load_average)"
done

# --- summary -----------------------------------------------------------------------------------
# Per section and tool: median MB/s, median CPU s/GiB, max peak RSS (scripts/bench-stats.awk);
# then ratios and targets.
echo
awk -F'\t' -v label=section -v w1=9 -v w2=16 -v part="$PART_BYTES" -v conc="$PPUT_CONCURRENCY" \
  -v headroom="$RSS_HEADROOM_MIB" -f scripts/bench-stats.awk -f /dev/fd/3 "$RESULTS" \
  3<<'TARGETS' | tee "${RESULTS%.tsv}.summary"
  END {
    f = "file" SUBSEP; p = "pipe" SUBSEP; b = "backup" SUBSEP; d = "download" SUBSEP
    ratio("file: pput throughput vs aws-cli", M[f "pput"], M[f "aws-cli"], 1.2, ">=", rounds(f "pput", f "aws-cli"))
    ratio("file: pput throughput vs rclone", M[f "pput"], M[f "rclone"], 1.2, ">=", rounds(f "pput", f "rclone"))
    ratio("file: pput CPU/GiB vs aws-cli", C[f "pput"], C[f "aws-cli"], 1.0, "<=")
    limit = part * (conc + 1) / 1048576 + headroom
    if ((f "pput") in R)
      verdict(sprintf("file: pput peak RSS %.0f MiB <= part x (concurrency + 1) + %d MiB = %.0f MiB", \
        R[f "pput"], headroom, limit), R[f "pput"] <= limit)
    ratio("pipe: pput throughput vs aws-cli", M[p "pput"], M[p "aws-cli"], 1.2, ">=", rounds(p "pput", p "aws-cli"))
    ratio("pipe: pput CPU/GiB vs aws-cli", C[p "pput"], C[p "aws-cli"], 0.8, "<=")
    ratio("backup: z3 backup throughput vs zfs send | aws-cli", M[b "z3"], M[b "zfs+aws"], 1.2, ">=", \
      rounds(b "z3", b "zfs+aws"))
    ratio("backup: z3 backup CPU/GiB vs zfs send | aws-cli", C[b "z3"], C[b "zfs+aws"], 0.8, "<=")
    ratio("download: z3_get throughput vs aws-cli", M[d "z3_get"], M[d "aws-cli"], 1.0, ">=", \
      rounds(d "z3_get", d "aws-cli"))
    # On one machine the server shares the cores: throughput follows client + server CPU/GiB.
    total("pipe", "pput", "aws-cli")
    total("backup", "z3", "zfs+aws")
    # Both tools at z3's defaults, then both at aws-cli's (the server's CPU grows with the parts
    # and the connections).
    info("backup: z3 vs zfs send | aws-cli, both at z3's part size x concurrency, throughput", \
      M[b "z3"], M[b "zfs+aws:z3-parts"], rounds(b "z3", b "zfs+aws:z3-parts"))
    total("backup", "z3", "zfs+aws:z3-parts")
    info("backup: z3 vs zfs send | aws-cli, both at aws-cli's 8 MiB x 10, throughput", \
      M[b "z3:aws-parts"], M[b "zfs+aws"], rounds(b "z3:aws-parts", b "zfs+aws"))
    total("backup", "z3:aws-parts", "zfs+aws")
    info("pipe: pput/rclone throughput", M[p "pput"], M[p "rclone"])
    info("pipe: pput/rclone CPU/GiB", C[p "pput"], C[p "rclone"])
    info("pipe: pput/aws-cli peak RSS", R[p "pput"], R[p "aws-cli"])
    info("backup: z3/aws-cli peak RSS", R[b "z3"], R[b "zfs+aws"])
    info("file: rclone/aws-cli throughput", M[f "rclone"], M[f "aws-cli"])
    info("file: pput/aws-cli peak RSS", R[f "pput"], R[f "aws-cli"])
    info("download: z3_get/aws-cli CPU/GiB", C[d "z3_get"], C[d "aws-cli"])
    info("download: z3_get/aws-cli peak RSS", R[d "z3_get"], R[d "aws-cli"])
  }
  function total(section, a, b,   ka, kb) {
    ka = section SUBSEP a; kb = section SUBSEP b
    if (!(ka in S) || !(kb in S)) return
    info(section ": server CPU/GiB during " a " vs during " b, S[ka], S[kb])
    info(section ": client + server CPU/GiB, " a " vs " b, C[ka] + S[ka], C[kb] + S[kb])
  }
  function info(what, a, b, spread) {
    if (a != "" && b != "" && b > 0) printf "info  %s: %.2fx%s\n", what, a / b, spread
  }
  function ratio(what, a, b, target, op, spread,   r) {
    if (a == "" || b == "" || b == 0) return # section not run
    r = a / b
    verdict(sprintf("%s: %.2fx (target %s %.1fx%s)", what, r, op, target, spread), \
      op == ">=" ? r >= target : r <= target)
  }
TARGETS
