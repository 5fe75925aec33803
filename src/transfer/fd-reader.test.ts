import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fdReader } from './fd-reader.js';
import type { ByteReader } from './part-reader.js';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Everything `reader` yields, read into buffers of `size`. */
async function readAll(reader: ByteReader, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const buf = Buffer.alloc(size);
    const n = await reader.readInto(buf, 0, size);
    if (n === 0) return Buffer.concat(parts);
    parts.push(buf.subarray(0, n));
  }
}

describe('fdReader', () => {
  it('reads a file straight into the buffer, from the current position', async () => {
    dir = mkdtempSync(join(tmpdir(), 'z3-fd-'));
    const data = randomBytes(100_000);
    writeFileSync(join(dir, 'f'), data);
    const fd = openSync(join(dir, 'f'), 'r');
    try {
      expect((await readAll(fdReader(fd), 7_000)).equals(data)).toBe(true);
    } finally {
      closeSync(fd);
    }
  });
});
