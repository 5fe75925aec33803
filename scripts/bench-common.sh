# Setup shared by the benchmark scripts (scripts/bench-*.sh), sourced first with their name:
#   . "$(dirname "$0")/bench-common.sh" bench-x
# It sets the shell options, changes to the repository (the scripts run from there) and defines
# functions; each script calls the ones it needs, so every script still reads top to bottom as
# what it measures. Nothing here is run on its own.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BENCH_NAME=$1

# die MESSAGE: the error line "<BENCH_NAME>: MESSAGE" on stderr, exit 1. note: a "# " line.
die() { echo "$BENCH_NAME: $*" >&2; exit 1; }
note() { echo "# $*"; }

# require_tools TOOL…: die naming the first one not on PATH.
require_tools() {
  local tool
  for tool; do command -v "$tool" >/dev/null || die "$tool is missing"; done
}
# /usr/bin/time, not the shell keyword: it reports the CPU and peak RSS of the process tree.
require_time() {
  command -v /usr/bin/time >/dev/null || die "/usr/bin/time is missing: apt-get install time"
}

# The test S3 server: the one in Z3_TEST_S3_* (. /tmp/s3env), else scripts/s3-server.sh starts
# one and exports them.
start_s3_server_unless_set() {
  if [[ -z "${Z3_TEST_S3_KEY_ID:-}" ]]; then
    note "no Z3_TEST_S3_* in the environment: starting the test S3 server"
    eval "$(bash scripts/s3-server.sh start)"
  fi
}
# Sets ENDPOINT, BUCKET (BENCH_BUCKET, else $Z3_TEST_BUCKET, else z3-test) and REGION.
s3_target() {
  ENDPOINT=${Z3_TEST_S3_ENDPOINT:?Z3_TEST_S3_ENDPOINT is not set}
  BUCKET=${BENCH_BUCKET:-${Z3_TEST_BUCKET:-z3-test}}
  REGION=${Z3_TEST_S3_REGION:-us-east-1}
}

# build_dist warn|die: `npm run build` unless SKIP_BUILD=1; on errors warn and use dist/ as it
# is, or die.
build_dist() {
  [[ "${SKIP_BUILD:-0}" != 1 ]] || return 0
  npm run build >/dev/null 2>&1 && return 0
  [[ $1 == die ]] && die "npm run build failed"
  note "warning: npm run build reported errors; using dist/ as built"
}

# make_data SIZE FILE: FILE holds numfmt-IEC SIZE bytes of deterministic (AES-CTR keystream of
# zeros) incompressible data; kept for reuse, made again when its size is not SIZE.
make_data() {
  local bytes tmp=$2.tmp.$$
  bytes=$(numfmt --from=iec "$1")
  [[ ! -f "$2" || $(stat -c %s "$2") != "$bytes" ]] || return 0
  note "generating $1 of incompressible data in $2"
  # head closes the pipe after the bytes: openssl's SIGPIPE is expected, the size check is not.
  (openssl enc -aes-128-ctr -nosalt -K 7a33000000000000000000000000007a -iv 0 -in /dev/zero \
    2>/dev/null || true) | head -c "$bytes" >"$tmp"
  [[ $(stat -c %s "$tmp") == "$bytes" ]] || die "could not generate $2"
  mv "$tmp" "$2"
}

# aws-cli on the test server (after s3_target): exports its credentials and sets AWS_BIN and
# AWS (the command with --endpoint-url). AWS_BIN is the real aws script, not the pyenv shim,
# whose bash + pyenv CPU would be charged to aws-cli.
aws_cli() {
  export AWS_ACCESS_KEY_ID=$Z3_TEST_S3_KEY_ID AWS_SECRET_ACCESS_KEY=$Z3_TEST_S3_SECRET
  export AWS_DEFAULT_REGION=$REGION
  AWS_BIN=$( (pyenv which aws 2>/dev/null) || command -v aws)
  AWS=("$AWS_BIN" --endpoint-url "$ENDPOINT")
}
# Sets Z3_ENV, the `env …` prefix that runs z3's binaries on the test bucket and nothing else
# (no config file); callers append their own settings.
z3_env() {
  Z3_ENV=(env Z3_CONFIG=/dev/null BUCKET="$BUCKET" HOST="$ENDPOINT" S3_REGION="$REGION"
    S3_KEY_ID="$Z3_TEST_S3_KEY_ID" S3_SECRET="$Z3_TEST_S3_SECRET")
}
# make_bucket: create BUCKET unless it exists. remove_prefix: delete every object under
# PREFIX/ (at exit; never fails, so that the exit status stays the benchmark's).
make_bucket() {
  "${AWS[@]}" s3api head-bucket --bucket "$BUCKET" >/dev/null 2>&1 ||
    "${AWS[@]}" s3 mb "s3://$BUCKET" >/dev/null
}
remove_prefix() {
  "${AWS[@]}" s3 rm --recursive "s3://$BUCKET/$PREFIX/" >/dev/null 2>&1 || true
}

# The 1-minute, 5-minute and 15-minute load averages: other load on the shared machine skews
# every figure, so the scripts print them at start and end.
load_average() { cut -d' ' -f1-3 /proc/loadavg; }
note_load_at_start() {
  note "load average at start: $(load_average) on $(nproc) cores (other load skews results)"
}

# --- timing: one run per row of RESULTS ------------------------------------------------------
# results_header FIRST_COLUMN: the TSV header ("case" or "section", tool, round, bytes, wall_s,
# user_s, sys_s, maxrss_kib, server_s), the input of scripts/bench-stats.awk.
results_header() {
  printf '%s\ttool\tround\tbytes\twall_s\tuser_s\tsys_s\tmaxrss_kib\tserver_s\n' "$1" >"$RESULTS"
}
# The CPU seconds the S3 server's processes here (radosgw, ceph-osd) have used so far, or nothing
# when none runs on this machine. Why: on one machine the server shares the client's cores, so
# a transfer's throughput follows client plus server CPU per GiB, and the server's share shows
# how much of a ratio the client can move.
server_cpu() {
  local pids
  pids=$(pgrep -x 'radosgw|ceph-osd' | tr '\n' ' ') || return 0
  [[ -n "$pids" ]] || return 0
  # fields 14 and 15 of /proc/PID/stat: user and system time, in clock ticks
  (cd /proc && cat $(printf '%s/stat ' $pids) 2>/dev/null) |
    awk -v hz="$(getconf CLK_TCK)" '{ t += $14 + $15 } END { printf "%.2f", t / hz }'
}
# timed COMMAND…: runs it with /usr/bin/time writing "user sys maxrss_kib" (the whole process
# tree's CPU seconds, its largest process's peak RSS) to TIME_FILE, and the server's CPU
# seconds before it to TIME_FILE.server (a file: `timed` often runs in a pipeline's subshell).
timed() {
  server_cpu >"$TIME_FILE.server"
  /usr/bin/time -f '%U %S %M' -o "$TIME_FILE" "$@"
}
# record case tool round bytes start_ns, right after a timed run: appends its row to RESULTS
# and prints MB/s, CPU seconds, peak RSS and the server's CPU seconds during the run, if known
# (the tool column RECORD_TOOL_WIDTH wide, 8 unless set).
record() {
  local end wall user sys rss before server=''
  end=$(date +%s%N)
  wall=$(awk -v a="$5" -v b="$end" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  read -r user sys rss <"$TIME_FILE"
  before=$(cat "$TIME_FILE.server" 2>/dev/null)
  [[ -z "$before" ]] || server=$(awk -v a="$before" -v b="$(server_cpu)" 'BEGIN { printf "%.2f", b - a }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$wall" "$user" "$sys" "$rss" \
    "$server" >>"$RESULTS"
  printf "  %-8s %-${RECORD_TOOL_WIDTH:-8}s round %s: %6.1f MB/s  cpu %5.2f s  rss %4d MiB%s\n" \
    "$1" "$2" "$3" "$(awk -v n="$4" -v w="$wall" 'BEGIN { print n / 1e6 / w }')" \
    "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" $((rss / 1024)) \
    "${server:+  server cpu $server s}"
}
