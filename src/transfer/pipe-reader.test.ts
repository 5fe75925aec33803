/**
 * pipeReader on a real kernel pipe (a FIFO) fed by a real child process: the bytes arrive whole
 * and in order whatever the request sizes, a request is filled before it resolves, the end is 0,
 * nothing is read while no request is pending (the writer blocks), and close ends a pending read.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ByteReader } from './part-reader.js';
import { pipeReader } from './pipe-reader.js';

let dir: string | undefined;
let writer: ChildProcess | undefined;
afterEach(() => {
  writer?.kill('SIGKILL');
  writer = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/**
 * A FIFO whose read end is open here (non-blocking) and whose write end is the stdout of
 * `sh -c script`: opened here before the spawn, so the reader never sees an end before the
 * writer started.
 */
function fifoFrom(script: string): { fd: number; writer: ChildProcess } {
  dir = mkdtempSync(join(tmpdir(), 'z3-pipe-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(fifo, constants.O_WRONLY);
  writer = spawn('sh', ['-c', script], { stdio: ['ignore', writeFd, 'ignore'] });
  closeSync(writeFd);
  return { fd, writer };
}

/** `size` bytes in a file of the test directory (created by fifoFrom's caller first). */
function dataFile(data: Buffer): string {
  dir = mkdtempSync(join(tmpdir(), 'z3-pipe-data-'));
  const path = join(dir, 'data');
  writeFileSync(path, data);
  return path;
}

/** Everything `reader` yields, read into buffers of `size`; each read but the last is full. */
async function readAll(reader: ByteReader, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const buf = Buffer.alloc(size + 10);
    const n = await reader.readInto(buf, 10, size);
    if (n === 0) return Buffer.concat(parts);
    if (parts.length > 0) expect(parts.at(-1)?.byteLength).toBe(size);
    parts.push(buf.subarray(10, 10 + n));
  }
}

describe('pipeReader', () => {
  it.each([1000, 65_536, 100_003, 1_048_576])(
    'reads 3 MiB from a pipe whole and in order into requests of %i bytes',
    async (size) => {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const path = dataFile(data);
      const dataDir = dir;
      const { fd } = fifoFrom(`cat "${path}"`);
      const got = await readAll(pipeReader(fd), size);
      rmSync(dataDir!, { recursive: true, force: true });
      expect(got.equals(data)).toBe(true);
    },
  );

  it('fills a request from a slow writer before resolving, then reads 0 at the end', async () => {
    const { fd } = fifoFrom(`printf abc; sleep 0.2; printf defgh`);
    const reader = pipeReader(fd);
    const buf = Buffer.alloc(8);
    expect(await reader.readInto(buf, 0, 8)).toBe(8);
    expect(buf.toString()).toBe('abcdefgh');
    expect(await reader.readInto(buf, 0, 8)).toBe(0);
  });

  it('reads nothing while no request is pending: the writer waits on the full pipe', async () => {
    const { fd, writer: child } = fifoFrom('head -c 4194304 /dev/zero');
    const reader = pipeReader(fd);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    expect(await reader.readInto(Buffer.alloc(1000), 0, 1000)).toBe(1000);
    const first = await Promise.race([
      exited,
      new Promise((r) => setTimeout(() => r('waiting'), 300)),
    ]);
    expect(first).toBe('waiting');
    let total = 1000;
    const buf = Buffer.alloc(1 << 20);
    for (let n; (n = await reader.readInto(buf, 0, buf.byteLength)) > 0;) total += n;
    expect(total).toBe(4194304);
    expect(await exited).toBe(0);
  });

  it('close ends the reading: the writer gets SIGPIPE', async () => {
    const { fd, writer: child } = fifoFrom('head -c 4194304 /dev/zero');
    const reader = pipeReader(fd);
    expect(await reader.readInto(Buffer.alloc(1000), 0, 1000)).toBe(1000);
    const exited = new Promise((resolve) =>
      child.once('exit', (code, sig) => resolve(sig ?? code)),
    );
    reader.close();
    // sh reports head's SIGPIPE as exit status 141 (128 + 13)
    expect(await exited).toBe(141);
  });
});
