import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT, UsageError, type Z3Error } from '../errors.js';
import { MemBackend } from '../storage/mem/backend.js';
import { injected } from '../testing/faults.js';
import { parseMetadata, putStream, type PputOptions } from './pput.js';
import { testPorts } from './testing/ports.js';

describe('parseMetadata', () => {
  it('splits at the first = and keeps the rest of the value', () => {
    expect(parseMetadata(['ana=are+mere', 'dana=are=pere', 'Empty='])).toEqual({
      ana: 'are+mere',
      dana: 'are=pere',
      empty: '',
    });
  });

  it.each(['novalue', '=x'])('refuses %j with the original message', (pair) => {
    expect(() => parseMetadata([pair])).toThrow(
      new UsageError(`malformed metadata '${pair}'; should be key=value`),
    );
  });
});

describe('putStream', () => {
  it(
    'refuses an empty key as a usage error (exit 2), writing nothing',
    { tags: ['faults'] },
    async () => {
      injected('bad input');
      const mem = new MemBackend();
      const failure = await putFromFile(mem, (fd) => pputOptions('', fd));
      expect(failure).toBeInstanceOf(UsageError);
      expect((failure as Z3Error).exitCode).toBe(EXIT.USAGE);
      expect((failure as Error).message).toBe('the key must not be empty');
      expect(mem.objects.size + mem.pending.size).toBe(0);
    },
  );

  it(
    'refuses before uploading when MEMORY_LIMIT holds fewer than two parts (exit 2)',
    { tags: ['faults'] },
    async () => {
      injected('bad input');
      const mem = new MemBackend();
      const failure = await putFromFile(mem, (fd) => ({
        ...pputOptions('key', fd),
        chunkSize: '64M',
        memory: '100M',
      }));
      expect((failure as Z3Error).exitCode).toBe(EXIT.USAGE);
      expect((failure as Error).message).toMatch(
        /^MEMORY_LIMIT 100M holds fewer than 2 parts of 64M/,
      );
      expect(mem.objects.size + mem.pending.size).toBe(0);
    },
  );
});

/** Run pput on a small file as its input descriptor; resolves with what it threw. */
async function putFromFile(
  mem: MemBackend,
  optionsFor: (fd: number) => PputOptions,
): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'z3-pput-test-'));
  const file = join(dir, 'input');
  writeFileSync(file, 'some bytes');
  const fd = openSync(file, 'r');
  try {
    const ports = testPorts({ backend: mem, zfs: 'zfs' });
    return await putStream(optionsFor(fd), ports).catch((e: unknown) => e);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

function pputOptions(name: string, fileDescriptor: number): PputOptions {
  return {
    name,
    config: undefined,
    chunkSize: undefined,
    estimated: undefined,
    fileDescriptor,
    concurrency: undefined,
    storageClass: undefined,
    metadata: [],
    progress: false,
    quiet: true,
  };
}
