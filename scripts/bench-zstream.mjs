#!/usr/bin/env node
// Parser throughput: builds a synthetic send stream of SIZE_MIB (default 256) in memory (BEGIN,
// 128 KiB WRITE records with per-record checksums, END), then times the built parser
// (dist/, after `npm run build`) over it in chunks of several sizes, at an aligned and at an odd
// memory offset, and over a stream of FREE records only (no payloads: the most work per byte).
// Prints the median MB/s over wall time and per CPU-second of this process (the fair figure when
// other work shares the cores); the stream must parse ok.
//
//   npm run bench:zstream                                   # build, then SIZE_MIB=256 ROUNDS=3
//   node scripts/bench-zstream.mjs write FILE               # the synthetic stream to FILE
//   z3_get KEY | node scripts/bench-zstream.mjs stdin       # parse stdin, print MB/s
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Fletcher4 } from '../dist/zstream/fletcher4.js';
import { parseZStream, ZStreamParser } from '../dist/zstream/parse.js';

const SIZE_MIB = Number(process.env.SIZE_MIB ?? 256);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const BLOCK = 128 * 1024;
const RECORD = 312;
const CHECKSUM_AT = 280;

/** Fold bytes (aligned, length a multiple of 4) into the running checksum. */
function fold(sum, bytes) {
  sum.updateWords(
    new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4),
    0,
    bytes.length / 4,
  );
}

function header(sum, type, fill) {
  const h = new Uint8Array(RECORD);
  const v = new DataView(h.buffer);
  v.setUint32(0, type, true);
  fill(v);
  fold(sum, h.subarray(0, CHECKSUM_AT));
  if (type !== 0) sum.words().forEach((w, k) => v.setBigUint64(CHECKSUM_AT + 8 * k, w, true));
  fold(sum, h.subarray(CHECKSUM_AT));
  return h;
}

/** `writes`: 128 KiB WRITE records; `headers`: FREE records only, the worst case per byte. */
function buildStream(kind = 'writes') {
  const sum = new Fletcher4();
  const payloads = Array.from({ length: 16 }, () => new Uint8Array(randomBytes(BLOCK)));
  const out = new Uint8Array(SIZE_MIB * 1024 * 1024 + 2 * RECORD);
  let at = 0;
  const put = (b) => {
    out.set(b, at);
    at += b.length;
  };
  put(
    header(sum, 0, (v) => {
      v.setBigUint64(8, 0x2f5bacbacn, true);
      v.setBigUint64(16, 1n, true);
      v.setBigUint64(40, 12345n, true);
    }),
  );
  for (let i = 0; kind === 'headers' && at + 2 * RECORD <= out.length; i++) {
    put(header(sum, 4, (v) => v.setBigUint64(8, BigInt(i), true)));
  }
  for (let i = 0; kind === 'writes' && at + RECORD + BLOCK <= out.length - RECORD; i++) {
    put(header(sum, 3, (v) => v.setBigUint64(32, BigInt(BLOCK), true)));
    const p = payloads[i % payloads.length];
    fold(sum, p);
    put(p);
  }
  const before = sum.words();
  put(
    header(sum, 5, (v) => {
      before.forEach((w, k) => v.setBigUint64(8 + 8 * k, w, true));
      v.setBigUint64(40, 12345n, true);
    }),
  );
  return out.subarray(0, at);
}

/** MB/s over wall time and over this process's CPU time (the fair figure on a shared machine). */
function timeParse(bytes, chunk) {
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const parser = new ZStreamParser();
  for (let i = 0; i < bytes.length; i += chunk) parser.push(bytes.subarray(i, i + chunk));
  const report = parser.finish();
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - started) / 1000;
  if (!report.ok) throw new Error(`bench stream did not parse: ${report.reason}`);
  return {
    wall: bytes.length / seconds / 1e6,
    cpu: bytes.length / ((cpu.user + cpu.system) / 1e6) / 1e6,
  };
}

function median(values) {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/** Parse the stream on stdin (e.g. `z3_get KEY | node … stdin`); prints its report and MB/s. */
async function parseStdin() {
  const started = performance.now();
  const report = await parseZStream(process.stdin);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${report.ok ? 'ok' : report.reason}: ${report.bytes} bytes in ${seconds.toFixed(2)} s, ${(report.bytes / seconds / 1e6).toFixed(0)} MB/s`,
  );
  if (!report.ok) process.exitCode = 3;
}

function inMemory() {
  const stream = buildStream();
  const odd = new Uint8Array(stream.length + 1).subarray(1);
  odd.set(stream);
  console.log(`stream: ${(stream.length / 2 ** 20).toFixed(1)} MiB, node ${process.version}`);
  for (const [label, bytes] of [
    ['aligned', stream],
    ['odd offset', odd],
    ['headers', buildStream('headers')],
  ]) {
    for (const chunk of [16 * 1024, 64 * 1024, 1024 * 1024]) {
      const runs = Array.from({ length: ROUNDS }, () => timeParse(bytes, chunk));
      const wall = median(runs.map((r) => r.wall)).toFixed(0);
      const cpu = median(runs.map((r) => r.cpu)).toFixed(0);
      const size = String(chunk / 1024).padStart(5);
      console.log(
        `${label.padEnd(10)} chunks ${size} KiB: median ${wall} MB/s wall, ${cpu} MB/s per CPU-second`,
      );
    }
  }
}

const [mode, file] = process.argv.slice(2);
if (mode === 'write') writeFileSync(file, buildStream());
else if (mode === 'stdin') await parseStdin();
else inMemory();
