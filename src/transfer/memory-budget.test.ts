import { describe, expect, it } from 'vitest';
import { ConfigError, EXIT } from '../errors.js';
import { parseMemoryLimit, DEFAULT_MEMORY_LIMIT } from '../config/memory-limit.js';
import { downloadRangeSize, partsInFlight, rangesInFlight } from './memory-budget.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('partsInFlight', () => {
  it.each([
    // concurrency, part size, budget → parts in flight
    [32, 64 * MiB, 256 * MiB, 4], // the benchmark: 4 × 64 MiB = 256 MiB
    [32, 220 * MiB, GiB, 4], // a 2 TiB backup: 4 parts, not 32 (about 7 GiB)
    [4, 16 * MiB, GiB, 4], // CONCURRENCY binds first
    [32, 256 * MiB, GiB, 4], // the defaults
    [1, 100 * MiB, 256 * MiB, 1], // one worker stays one
    [32, 100 * MiB, 299 * MiB, 2], // floor, never rounded up past the budget
  ])(
    'concurrency %d, parts of %d bytes, budget %d: %d',
    (concurrency, partSize, memoryLimit, n) => {
      expect(partsInFlight({ concurrency, partSize, memoryLimit })).toBe(n);
    },
  );

  it('keeps the part buffers within the budget whenever two parts fit', () => {
    for (const partSize of [5 * MiB, 7 * MiB, 64 * MiB, 300 * MiB]) {
      for (const memoryLimit of [2 * partSize, 3 * partSize - 1, GiB, 4 * GiB]) {
        const n = partsInFlight({ concurrency: 1000, partSize, memoryLimit });
        expect(Math.max(n, 2) * partSize).toBeLessThanOrEqual(memoryLimit);
      }
    }
  });

  it('refuses, naming MEMORY_LIMIT and the part size, when two parts do not fit', () => {
    const refuse = (): number =>
      partsInFlight({ concurrency: 32, partSize: 200 * MiB, memoryLimit: 256 * MiB });
    expect(refuse).toThrow(ConfigError);
    expect(refuse).toThrow(
      'MEMORY_LIMIT 256M holds fewer than 2 parts of 200M: set MEMORY_LIMIT (--memory) to at ' +
        'least 400M or use smaller parts (CHUNK_SIZE)',
    );
    try {
      refuse();
    } catch (err) {
      expect((err as ConfigError).exitCode).toBe(EXIT.USAGE);
    }
  });
});

describe('rangesInFlight', () => {
  it('counts the range being written out against the budget', () => {
    // 4 buffers of 256 MiB fit in 1 GiB: 3 ranges in flight and 1 being written
    expect(rangesInFlight({ concurrency: 32, partSize: 256 * MiB, memoryLimit: GiB })).toBe(3);
    expect(rangesInFlight({ concurrency: 2, partSize: 16 * MiB, memoryLimit: GiB })).toBe(2);
    expect(rangesInFlight({ concurrency: 32, partSize: 5 * MiB, memoryLimit: 10 * MiB })).toBe(1);
  });

  it('refuses when two ranges do not fit', () => {
    expect(() =>
      rangesInFlight({ concurrency: 4, partSize: 256 * MiB, memoryLimit: 300 * MiB }),
    ).toThrow('MEMORY_LIMIT 300M holds fewer than 2 parts of 256M');
  });
});

describe('parseMemoryLimit', () => {
  const at = (value: string | undefined) => () =>
    value === undefined ? undefined : { value, where: '--memory' };

  it('reads sizes like CHUNK_SIZE, 1 GiB when unset or empty', () => {
    expect(parseMemoryLimit(at('256M'))).toBe(256 * MiB);
    expect(parseMemoryLimit(at('1G'))).toBe(GiB);
    expect(parseMemoryLimit(at(undefined))).toBe(DEFAULT_MEMORY_LIMIT);
    expect(parseMemoryLimit(at(' '))).toBe(GiB);
  });

  it.each(['0', 'lots', '-1G', '1X'])('refuses %j, naming where it was set', (value) => {
    expect(() => parseMemoryLimit(at(value))).toThrow(
      new ConfigError(
        '--memory MEMORY_LIMIT: expected a size like 1G or 256M (K, M, G, T are powers of 1024)',
      ),
    );
  });
});

describe('downloadRangeSize', () => {
  it('is CHUNK_SIZE when set anywhere, else 16 MiB (not the 256 MiB upload default)', () => {
    expect(downloadRangeSize({ chunkSize: 256 * MiB, chunkSizeIsSet: false })).toBe(16 * MiB);
    expect(downloadRangeSize({ chunkSize: 256 * MiB, chunkSizeIsSet: true })).toBe(256 * MiB);
    expect(downloadRangeSize({ chunkSize: 5 * MiB, chunkSizeIsSet: true })).toBe(5 * MiB);
  });

  it('with the defaults (CONCURRENCY 32, 1 GiB) keeps 32 ranges of 16 MiB in flight', () => {
    const partSize = downloadRangeSize({ chunkSize: 256 * MiB, chunkSizeIsSet: false });
    expect(rangesInFlight({ concurrency: 32, partSize, memoryLimit: GiB })).toBe(32);
  });
});
