/**
 * Shared by the pput integration tests: run the built `pput` with bytes on its stdin, read an
 * object back through the SDK, and check that nothing (object or pending upload) is left.
 * The built CLI is used as is: run `npm run build` first (checked, never done here).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import type { Backend } from '../../src/storage/backend.js';
import type { TestS3 } from '../s3-env.js';

export const MiB = 1024 * 1024;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const PPUT = join(ROOT, 'dist/bin/pput.js');
export const Z3_GET = join(ROOT, 'dist/bin/z3-get.js');

/**
 * Extra environment for the CLI. Why STANDARD: pput's default S3_STORAGE_CLASS is STANDARD_IA,
 * which Ceph RGW without extra placement rules refuses (400 InvalidArgument).
 */
export const PPUT_ENV = { S3_STORAGE_CLASS: 'STANDARD' };

/** The sources of pput's own code path; others' work in progress does not fail these tests. */
const PPUT_SOURCES = [
  'bin/pput.ts',
  'commands/pput.ts',
  'transfer/uploader.ts',
  'transfer/part-reader.ts',
  'transfer/fd-reader.ts',
  'transfer/pipe-reader.ts',
  'transfer/part-pool.ts',
  'transfer/digest-pool.ts',
  'transfer/single-put.ts',
  'transfer/upload-reading.ts',
  'transfer/part-size.ts',
  'storage/etag.ts',
  'storage/retry.ts',
  'storage/s3/backend.ts',
  'storage/s3/errors.ts',
  'storage/s3/client.ts',
  'storage/s3/writer.ts',
  'storage/s3/lean-put.ts',
  'storage/s3/lean-request.ts',
  'storage/s3/signed-endpoint.ts',
  'storage/s3/part-digest.ts',
  'storage/s3/paced-body.ts',
];

/**
 * Fail clearly when dist/ is missing or older than the sources pput is built from: each module,
 * and the commands, which are bundled from all of them (scripts/bundle-bins.mjs).
 */
export function assertBuilt(): void {
  for (const file of PPUT_SOURCES) {
    const source = statSync(join(ROOT, 'src', file)).mtimeMs;
    for (const built of [join(ROOT, 'dist', file.replace(/\.ts$/, '.js')), PPUT, Z3_GET]) {
      if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build`);
      if (source > statSync(built).mtimeMs) {
        throw new Error(`${built} is older than src/${file}: run npm run build`);
      }
    }
  }
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `size` random bytes in 1 MiB chunks, hashed as they are produced. */
export function randomInput(size: number): { source: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  async function* generate(): AsyncGenerator<Buffer> {
    for (let left = size; left > 0;) {
      const chunk = randomBytes(Math.min(MiB, left));
      hash.update(chunk);
      left -= chunk.length;
      yield chunk;
      await Promise.resolve();
    }
  }
  return { source: Readable.from(generate()), sha256: () => hash.digest('hex') };
}

/** Spec 8: six 1 MiB blocks, block k = 2048 × the 512 bytes `k,0,k,1,…,k,255`. */
export function referenceData(): Buffer {
  const out = Buffer.alloc(6 * MiB);
  for (let i = 0; i < out.length; i += 2) {
    out[i] = Math.floor(i / MiB);
    out[i + 1] = (i / 2) % 256;
  }
  return out;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Start `node dist/bin/pput.js ARGS` against the test server, stdin piped. */
export function spawnPput(
  s3: TestS3,
  args: string[],
  env: Record<string, string> = {},
): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [PPUT, ...args], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...s3.cliEnv, ...PPUT_ENV, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Collect a child's output and wait for it to exit. */
export function finished(child: ChildProcessWithoutNullStreams): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Run pput with `input` on stdin (an EPIPE from an early exit is not the test's failure). */
export async function runPput(
  s3: TestS3,
  args: string[],
  input: Readable | Uint8Array,
  env: Record<string, string> = {},
): Promise<CliResult> {
  const child = spawnPput(s3, args, env);
  const done = finished(child);
  const source = input instanceof Readable ? input : Readable.from([Buffer.from(input)]);
  await pipeline(source, child.stdin).catch(() => undefined);
  return done;
}

/** Run a built CLI with no stdin, hashing its stdout as it streams. */
export function runCli(
  s3: TestS3,
  script: string,
  args: string[],
): Promise<{ code: number | null; sha256: string; bytes: number; stderr: string }> {
  const child = spawn(process.execPath, [script, ...args], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...s3.cliEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const hash = createHash('sha256');
  let bytes = 0;
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    hash.update(c);
    bytes += c.length;
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, sha256: hash.digest('hex'), bytes, stderr }));
  });
}

/** The object as stored: sha256 of its bytes, size and user metadata. */
export async function readBack(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<{ sha256: string; size: number; metadata: Record<string, string> }> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of out.Body as Readable) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size, metadata: out.Metadata ?? {} };
}

/** Neither the object nor a pending write (multipart upload) for `key` exists. */
export async function expectNothingLeft(backend: Backend, key: string): Promise<void> {
  expect(await backend.listPending(key)).toEqual([]);
  expect(await backend.stat(key)).toBeUndefined();
}

/** The stderr lines that are ours (the SDK prints a Node-version warning we never assert on). */
export function ourLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /^(pput:|hint:|starting upload)/.test(l));
}
