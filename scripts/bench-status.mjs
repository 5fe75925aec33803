#!/usr/bin/env node
// Helper of scripts/bench-status.sh (run it through that script). Plain ESM so that it needs no
// build step of its own; it imports the built client (dist/, after `npm run build`) so that the
// baseline talks to S3 through exactly the client z3 uses (keep-alive agent, same retries).
//
//   node scripts/bench-status.mjs seed   <prefix> <n>  objects of bench/ds, as Python z3 wrote them
//   node scripts/bench-status.mjs serial <prefix>      the original's status listing: one
//                                                      ListObjectsV2 loop, then one HEAD per key,
//                                                      one at a time; prints "<keys> <heads>"
//   node scripts/bench-status.mjs clean  <prefix>      delete every object under <prefix>/
//   node scripts/bench-status.mjs index  <prefix>      describe the dataset index z3 wrote under
//                                                      <prefix>/.z3/index/ (fails when missing)
//   node scripts/bench-status.mjs proxy  <rtt-ms> <port-file>
//                                                      a TCP proxy to the endpoint that delays
//                                                      every chunk by rtt/2 each way, to model a
//                                                      remote S3; writes its port to <port-file>
//
// Connection: Z3_TEST_S3_ENDPOINT, Z3_TEST_S3_KEY_ID, Z3_TEST_S3_SECRET, Z3_TEST_S3_REGION,
// bucket BENCH_BUCKET (default z3-test).
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { createS3Client } from '../dist/storage/s3/client.js';

/** The dataset and snapshot names the benchmark uses (z3's default SNAPSHOT_PREFIX). */
export const DATASET = 'bench/ds';
const SNAPSHOT_PREFIX = 'zfs-auto-snap:daily';
/** PUTs in flight while seeding: enough to hide the per-request latency of a local RGW. */
const SEED_CONCURRENCY = 64;
/** Bumped when the seeded layout changes, so an old seeding is not reused. */
const SEED_VERSION = 'v1';
/** DeleteObjects takes at most 1000 keys (S3 limit). */
const DELETE_BATCH = 1000;

// The SDK's notice that it will need Node 22 in 2027 is noise in a benchmark's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const endpoint = process.env.Z3_TEST_S3_ENDPOINT || undefined;
const bucket = process.env.BENCH_BUCKET || process.env.Z3_TEST_BUCKET || 'z3-test';
const client = createS3Client({
  endpoint,
  s3Region: process.env.Z3_TEST_S3_REGION || undefined,
  s3ForcePathStyle: endpoint !== undefined,
  s3KeyId: required('Z3_TEST_S3_KEY_ID'),
  s3Secret: required('Z3_TEST_S3_SECRET'),
});

function required(name) {
  const v = process.env[name];
  if (v === undefined || v === '') fail(`${name} is not set`);
  return v;
}

function fail(message) {
  process.stderr.write(`bench-status: ${message}\n`);
  process.exit(1);
}

/** Snapshot name i (1-based), zero-padded so that name order is creation order. */
export function snapshotName(i) {
  return `${DATASET}@${SNAPSHOT_PREFIX}-${String(i).padStart(5, '0')}`;
}

async function* listKeys(prefix) {
  let token;
  do {
    const out = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token !== undefined ? { ContinuationToken: token } : {}),
      }),
    );
    for (const o of out.Contents ?? []) if (o.Key !== undefined) yield o.Key;
    token = out.IsTruncated === true ? out.NextContinuationToken : undefined;
  } while (token !== undefined);
}

async function countKeys(prefix) {
  let n = 0;
  for await (const key of listKeys(prefix)) if (key !== '') n += 1;
  return n;
}

async function readMarker(key) {
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await out.Body.transformToString();
  } catch (err) {
    if (err?.$metadata?.httpStatusCode === 404 || err?.name === 'NoSuchKey') return undefined;
    throw err;
  }
}

async function ensureBucket() {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}

/**
 * Seed `n` snapshot objects under `<prefix>/bench/ds@zfs-auto-snap:daily-NNNNN`, with the
 * metadata the Python z3 writes (spec 4.3): `size`, `isfull=true` on the first, `parent=<previous
 * full name>` on the others, `compressor=pigz1`. Reused when the marker `<prefix>/seeded` says
 * the same layout and a listing counts exactly n objects; otherwise (re)written (PUTs are
 * idempotent) and the marker written last.
 */
async function seed(prefix, n) {
  const markerKey = `${prefix}/seeded`;
  const expected = `${SEED_VERSION} n=${n}`;
  const listing = `${prefix}/${DATASET}@${SNAPSHOT_PREFIX}`;
  await ensureBucket();
  if ((await readMarker(markerKey)) === expected && (await countKeys(listing)) === n) {
    console.log(`reusing ${n} objects under ${bucket}/${prefix}/`);
    return;
  }
  const started = performance.now();
  let next = 1;
  const body = Buffer.from('z3 bench object\n'); // 16 bytes: only the metadata matters here
  const worker = async () => {
    while (next <= n) {
      const i = next++;
      const metadata = { size: String(1_048_576 + i * 4096), compressor: 'pigz1' };
      if (i === 1) metadata.isfull = 'true';
      else metadata.parent = snapshotName(i - 1);
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${prefix}/${snapshotName(i)}`,
          Body: body,
          ContentLength: body.byteLength,
          Metadata: metadata,
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(SEED_CONCURRENCY, n) }, worker));
  const count = await countKeys(listing);
  if (count !== n) fail(`seeded ${n} objects under ${prefix}/ but the listing shows ${count}`);
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: markerKey, Body: expected }));
  const s = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`seeded ${n} objects under ${bucket}/${prefix}/ in ${s} s`);
}

/**
 * The original's way (Python z3's S3SnapshotManager): list the prefix, then `bucket.get_key(key)`
 * — one HEAD — per listed key, serially. The results are kept (as the original keeps its dict
 * of snapshots) so that the baseline does the same work as z3 short of rendering.
 */
async function serial(prefix) {
  const keys = [];
  for await (const key of listKeys(`${prefix}/${DATASET}@${SNAPSHOT_PREFIX}`)) keys.push(key);
  const snapshots = new Map();
  for (const key of keys) {
    const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    snapshots.set(key, { size: out.ContentLength, metadata: out.Metadata ?? {} });
  }
  const broken = [...snapshots.values()].filter(
    (s) => s.metadata.isfull !== 'true' && s.metadata.parent === undefined,
  ).length;
  if (broken > 0) fail(`${broken} objects under ${prefix}/ lack isfull/parent metadata`);
  console.log(`${keys.length} ${snapshots.size}`);
}

/** The dataset index z3 keeps for bench/ds (src/plan/index-key.ts), in one line. */
async function describeIndex(prefix) {
  const key = `${prefix}/.z3/index/${DATASET}.json`;
  const text = await readMarker(key);
  if (text === undefined) fail(`no index at ${key}: z3 prune did not write one`);
  const index = JSON.parse(text);
  const count = Object.keys(index.backups ?? {}).length;
  console.log(
    `${key}: format ${index.format} v${index.version}, ${count} backups, ${text.length} bytes`,
  );
}

async function clean(prefix) {
  let batch = [];
  let deleted = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    deleted += batch.length;
    batch = [];
  };
  // Collect first: deleting while paging would shift the continuation under the listing.
  const keys = [];
  for await (const key of listKeys(`${prefix}/`)) keys.push(key);
  for (const key of keys) {
    batch.push(key);
    if (batch.length === DELETE_BATCH) await flush();
  }
  await flush();
  console.log(`deleted ${deleted} objects under ${bucket}/${prefix}/`);
}

/**
 * Forward every connection to the endpoint, delivering each chunk rtt/2 later in each direction
 * (timers of equal delay fire in order, so bytes stay ordered). A request then costs one round
 * trip more, as against a remote server; SigV4 still verifies since the Host header is signed as
 * sent. Runs until killed.
 */
function proxy(rttMs, portFile) {
  const target = new URL(endpoint ?? fail('proxy needs Z3_TEST_S3_ENDPOINT'));
  const half = rttMs / 2;
  const relay = (from, to) => {
    from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), half));
    from.on('end', () => setTimeout(() => to.end(), half));
    from.on('error', () => to.destroy());
    from.on('close', () => setTimeout(() => to.destroy(), half));
  };
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 80), target.hostname);
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    relay(client, upstream);
    relay(upstream, client);
  });
  server.listen(0, '127.0.0.1', () => writeFileSync(portFile, `${server.address().port}\n`));
}

const [command, arg1, arg2] = process.argv.slice(2);
try {
  await run(command, arg1, arg2);
} catch (err) {
  fail(`${command} ${arg1}: ${err?.name ?? 'Error'}: ${err?.message ?? err}`);
}

async function run(cmd, prefix, rest) {
  if (cmd === 'proxy') {
    const rtt = Number(prefix);
    if (!Number.isFinite(rtt) || rtt < 0 || rest === undefined) {
      fail('usage: bench-status.mjs proxy <rtt-ms> <port-file>');
    }
    proxy(rtt, rest);
    return;
  }
  if (prefix === undefined || prefix === '' || prefix.endsWith('/')) {
    fail('usage: bench-status.mjs seed|serial|clean|index <prefix without trailing /> [n]');
  }
  switch (cmd) {
    case 'seed': {
      const n = Number(rest);
      if (!Number.isInteger(n) || n < 1 || n > 99_999) fail(`bad object count ${rest}`);
      return seed(prefix, n);
    }
    case 'serial':
      return serial(prefix);
    case 'clean':
      return clean(prefix);
    case 'index':
      return describeIndex(prefix);
    default:
      fail(`unknown command ${cmd}`);
  }
}
