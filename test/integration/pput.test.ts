/**
 * The built `pput` against a real S3 server: random inputs of the sizes around the part
 * boundaries come back byte for byte (read with the SDK), metadata survives, the printed ETag is
 * the server's, and zero bytes leave nothing behind. Needs `npm run build` and the test S3
 * server (test/s3-env.ts).
 */
import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestBucket } from '../s3-env.js';
import {
  MiB,
  PPUT,
  Z3_GET,
  finished,
  runCli,
  assertBuilt,
  expectNothingLeft,
  ourLines,
  randomInput,
  readBack,
  referenceData,
  runPput,
  sha256,
} from './pput-helpers.js';
import { injected } from '../../src/testing/faults.js';

describe('pput (built CLI, real S3)', () => {
  const { s3, prefix, client, backend } = useTestBucket('pput');

  beforeAll(() => {
    assertBuilt();
  });

  it.each([
    ['1 B', 1],
    ['5 MiB - 1', 5 * MiB - 1],
    ['5 MiB', 5 * MiB],
    ['5 MiB + 1', 5 * MiB + 1],
  ])('round-trips %s', async (_label, size) => {
    const key = `${prefix}/size-${size}`;
    const input = randomInput(size);
    const result = await runPput(s3, ['-s', '5M', '--concurrency', '4', key], input.source);
    expect(result.code, result.stderr).toBe(0);
    // a stream smaller than one part goes up in one PUT: a plain MD5 ETag
    const parts = Math.ceil(size / (5 * MiB));
    const suffix = size < 5 * MiB ? '' : `-${parts}`;
    expect(result.stdout).toMatch(
      new RegExp(`^\\{"status": "success", "etag": "\\\\"[0-9a-f]{32}${suffix}\\\\""\\}\\n$`),
    );
    expect(ourLines(result.stderr)).toEqual([
      `starting upload to ${s3.bucket}/${key} with chunksize 5.0M using 4 workers`,
    ]);
    const back = await readBack(client, s3.bucket, key);
    expect(back.size).toBe(size);
    expect(back.sha256).toBe(input.sha256());
    const etag = (JSON.parse(result.stdout) as { etag: string }).etag;
    expect((await backend.stat(key))?.etag).toBe(etag);
  });

  it('round-trips 200 MiB in 5 MiB parts with 4 workers', async () => {
    const key = `${prefix}/big`;
    const input = randomInput(200 * MiB);
    const result = await runPput(
      s3,
      ['--chunk-size', '5M', '--concurrency', '4', '--quiet', key],
      input.source,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    expect(ourLines(result.stderr)).toEqual([]);
    const back = await readBack(client, s3.bucket, key);
    expect(back.size).toBe(200 * MiB);
    expect(back.sha256).toBe(input.sha256());
    expect((await backend.stat(key))?.etag).toMatch(/-40"$/);
    expect(await backend.listPending(key)).toEqual([]);
  });

  it('stores metadata split at the first =, with --meta as a prefix of --metadata', async () => {
    const key = `${prefix}/meta`;
    const result = await runPput(
      s3,
      ['--meta', 'ana=are+mere', '--metadata=dana=are=pere', '--quiet', key],
      Buffer.from('hello'),
    );
    expect(result.code, result.stderr).toBe(0);
    const back = await readBack(client, s3.bucket, key);
    expect(back.metadata).toEqual({ ana: 'are+mere', dana: 'are=pere' });
    expect(back.sha256).toBe(sha256(Buffer.from('hello')));
  });

  it('gives the spec reference ETag for 6 MiB in 5 MiB parts on the real server', async () => {
    const key = `${prefix}/reference`;
    const result = await runPput(s3, ['-s', '5M', key], referenceData());
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      '{"status": "success", "etag": "\\"d229c1fc0e509475afe56426c89d2724-2\\""}\n',
    );
    expect((await backend.stat(key))?.etag).toBe('"d229c1fc0e509475afe56426c89d2724-2"');
  });

  it('picks the part size from --estimated', async () => {
    const key = `${prefix}/estimated`;
    const result = await runPput(
      s3,
      ['--estimated', '500G', '--concurrency', '2', key],
      Buffer.from('x'),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(ourLines(result.stderr)).toEqual([
      `starting upload to ${s3.bucket}/${key} with chunksize ${56_377_083 / MiB}M using 2 workers`,
    ]);
  });

  it('round-trips through pput | z3_get', async () => {
    const key = `${prefix}/via-z3-get`;
    const input = randomInput(11 * MiB + 3);
    const put = await runPput(s3, ['-s', '5M', '--quiet', key], input.source);
    expect(put.code, put.stderr).toBe(0);
    const got = await runCli(s3, Z3_GET, ['--chunk-size', '5M', key]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.bytes).toBe(11 * MiB + 3);
    expect(got.sha256).toBe(input.sha256());
  });

  it('round-trips with no S3_STORAGE_CLASS: the server default with HOST (Ceph RGW refuses STANDARD_IA)', async () => {
    const key = `${prefix}/no-storage-class`;
    const env = { ...s3.cliEnv };
    delete env['S3_STORAGE_CLASS'];
    const child = spawn(process.execPath, [PPUT, '-s', '5M', '--quiet', key], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const done = finished(child);
    const data = referenceData();
    child.stdin.end(data);
    const put = await done;
    expect(put.code, put.stderr).toBe(0);
    const got = await runCli(s3, Z3_GET, [key]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.sha256).toBe(sha256(data));
  });

  it('refuses zero bytes: exit 1, no object, no pending upload', { tags: ['faults'] }, async () => {
    const key = `${prefix}/empty`;
    const result = await runPput(s3, ['-s', '5M', key], Buffer.alloc(0));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(ourLines(result.stderr)).toContain("pput: Error: Can't upload zero bytes!");
    await expectNothingLeft(backend, key);
    injected('bad input');
  });

  it.each([
    [['--metadata', 'novalue', 'k'], "pput: malformed metadata 'novalue'; should be key=value"],
    [['--estimated', '6T', 'k'], 'pput: --estimated 6597069766656: above the S3 object size limit'],
    [['-s', '5M', '--estimated', '1G', 'k'], 'pput: option'],
    [['--progress', '--quiet', 'k'], 'pput: option'],
    [['-s', '1M', 'k'], 'pput: --chunk-size CHUNK_SIZE'],
  ])(
    'refuses %j with exit 2 before reading anything',
    { tags: ['faults'] },
    async (args, message) => {
      const result = await runPput(s3, args, Buffer.from('x'));
      expect(result.code).toBe(2);
      expect(ourLines(result.stderr).join('\n')).toContain(message);
      expect(await backend.listPending(`${prefix}/`)).toEqual([]);
      injected('bad input');
    },
  );
});
