#!/usr/bin/env bash
# Bandwidth-limit benchmark: upload about SECONDS_TARGET seconds of data with
# `pput --limit-upload RATE`, then download it with `z3_get --limit-download RATE`, and print
# the achieved rate of each against the limit (target: within ±10 %). This measures the average
# over a real run against a real server; smoothness (no burst of a whole part) is the unit
# tests' job (src/storage/token-bucket.test.ts, src/storage/wrappers/throttled.test.ts).
#
#   npm run bench:limit                      # 8M for ~30 s each way
#   RATE=20M SECONDS_TARGET=30 npm run bench:limit
#
# Environment (all optional):
#   RATE (8M)  SECONDS_TARGET (30)       the limit (numfmt IEC) and the intended duration
#   PART (8M)  CONCURRENCY (8)           pput part size and workers, z3_get range size and workers
#   BENCH_BUCKET                         default $Z3_TEST_BUCKET or z3-test
#   SKIP_BUILD=1                         do not run `npm run build` first
#   Z3_TEST_S3_ENDPOINT / _KEY_ID / _SECRET: the S3 server; when unset,
#     `bash scripts/s3-server.sh start` starts one and prints them.
# Exit 1 when a direction is off by more than 10 %.
. "$(dirname "$0")/bench-common.sh" bench-limit # set -euo pipefail, cd to the repo, the helpers

RATE=${RATE:-8M}
SECONDS_TARGET=${SECONDS_TARGET:-30}
PART=${PART:-8M}
CONCURRENCY=${CONCURRENCY:-8}

require_tools node numfmt date
start_s3_server_unless_set
export BUCKET=${BENCH_BUCKET:-${Z3_TEST_BUCKET:-z3-test}}
export HOST=${Z3_TEST_S3_ENDPOINT:?Z3_TEST_S3_ENDPOINT is not set}
export S3_KEY_ID=$Z3_TEST_S3_KEY_ID S3_SECRET=$Z3_TEST_S3_SECRET
export S3_STORAGE_CLASS=STANDARD Z3_CONFIG=/dev/null CACHE_DIR=off
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
[[ "${SKIP_BUILD:-0}" == 1 ]] || npm run build >/dev/null

RATE_BYTES=$(numfmt --from=iec "$RATE")
BYTES=$((RATE_BYTES * SECONDS_TARGET))
KEY="bench-limit/$(date +%s)-$$"

now() { date +%s.%N; }

# One direction: seconds taken, achieved rate, error against the limit; sets FAILED on > 10 %.
FAILED=0
report() {
  local what=$1 start=$2 end=$3
  node -e '
    const [what, bytes, rate, start, end] = process.argv.slice(1);
    const secs = Number(end) - Number(start);
    const achieved = Number(bytes) / secs;
    const error = (achieved / Number(rate) - 1) * 100;
    const mib = (n) => (n / 1048576).toFixed(2);
    console.log(`${what}: ${mib(Number(bytes))} MiB in ${secs.toFixed(2)} s = ${mib(achieved)} MiB/s, limit ${mib(Number(rate))} MiB/s, ${error >= 0 ? "+" : ""}${error.toFixed(1)} % ${Math.abs(error) <= 10 ? "PASS" : "FAIL"}`);
    process.exit(Math.abs(error) <= 10 ? 0 : 1);
  ' "$what" "$BYTES" "$RATE_BYTES" "$start" "$end" || FAILED=1
}

echo "# $((BYTES / 1048576)) MiB at --limit $RATE ($PART parts x $CONCURRENCY) to s3://$BUCKET/$KEY"
t0=$(now)
head -c "$BYTES" /dev/urandom | node dist/bin/pput.js --quiet --limit-upload "$RATE" \
  --chunk-size "$PART" --concurrency "$CONCURRENCY" "$KEY"
t1=$(now)
report upload "$t0" "$t1"

t0=$(now)
node dist/bin/z3-get.js --limit-download "$RATE" --chunk-size "$PART" \
  --concurrency "$CONCURRENCY" "$KEY" | wc -c >/dev/null
t1=$(now)
report download "$t0" "$t1"

node -e '
  const { S3Client, DeleteObjectCommand } = require("@aws-sdk/client-s3");
  const c = new S3Client({ endpoint: process.env.HOST, region: "us-east-1", forcePathStyle: true,
    credentials: { accessKeyId: process.env.S3_KEY_ID, secretAccessKey: process.env.S3_SECRET } });
  c.send(new DeleteObjectCommand({ Bucket: process.env.BUCKET, Key: process.argv[1] })).then(() => c.destroy());
' "$KEY"
exit "$FAILED"
