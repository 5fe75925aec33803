/**
 * The MD5 pool with real worker threads: digests equal the one-thread MD5 for parts in shared
 * memory of any offset and size, many at once; small or unshared inputs never start a thread;
 * a thread that dies fails exactly the digests it held, with an error, and the pool goes on;
 * close rejects what is pending.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { InternalError } from '../errors.js';
import { injected } from '../testing/faults.js';
import { createDigestPool, defaultDigestWorkers, type DigestPool } from './digest-pool.js';

const MiB = 1024 * 1024;
const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** `size` random bytes in shared memory. */
function shared(size: number): Buffer {
  return randomFillSync(Buffer.from(new SharedArrayBuffer(size)));
}

let pool: DigestPool | undefined;
afterEach(() => {
  pool?.close();
  pool = undefined;
});

describe('createDigestPool', () => {
  it('hashes views of shared memory on threads, equal to MD5 on this thread', async () => {
    pool = createDigestPool({ workers: 2, minBytes: 1 });
    const buf = shared(8 * MiB);
    const views = [
      buf.subarray(0, 3 * MiB),
      buf.subarray(3 * MiB, 3 * MiB + 17),
      buf.subarray(5, 8 * MiB),
      buf.subarray(0, 0),
      ...Array.from({ length: 20 }, (_, i) => buf.subarray(i * 1000, i * 1000 + MiB + i)),
    ];
    const digests = await Promise.all(views.map((v) => pool!.digest(v)));
    expect(digests.map(hex)).toEqual(views.map(md5));
    expect(pool.threads.length).toBe(2);
  });

  it('hashes SHA-256 when asked, on threads and here alike', async () => {
    pool = createDigestPool({ workers: 2, minBytes: MiB });
    const big = shared(3 * MiB);
    const small = shared(1000);
    const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
    const [onThread, here, md5OfBig] = await Promise.all([
      pool.digest(big, 'sha256'),
      pool.digest(small, 'sha256'),
      pool.digest(big),
    ]);
    expect([hex(onThread), hex(here), hex(md5OfBig)]).toEqual([sha(big), sha(small), md5(big)]);
    expect(pool.threads.length).toBeGreaterThanOrEqual(1);
  });

  it('hashes small or unshared inputs here, without starting a thread', async () => {
    pool = createDigestPool({ workers: 2 });
    const small = shared(1000);
    const unshared = randomFillSync(Buffer.alloc(3 * MiB));
    expect(hex(await pool.digest(small))).toBe(md5(small));
    expect(hex(await pool.digest(unshared))).toBe(md5(unshared));
    expect(pool.threads.length).toBe(0);
  });

  it(
    'a thread that dies fails the digests it held with an error; the pool goes on',
    { tags: ['faults'] },
    async () => {
      pool = createDigestPool({ workers: 1, minBytes: 1 });
      const buf = shared(64 * MiB);
      const held = pool.digest(buf);
      await pool.threads[0]!.terminate(); // as a crash of the thread would
      injected('stage death', 1);
      await expect(held).rejects.toBeInstanceOf(InternalError);
      await expect(held).rejects.toThrow(/digest thread exited/);
      const after = shared(2 * MiB);
      expect(hex(await pool.digest(after))).toBe(md5(after));
    },
  );

  it('close rejects the digests still pending, and later ones', async () => {
    pool = createDigestPool({ workers: 1, minBytes: 1 });
    const pending = pool.digest(shared(64 * MiB));
    pool.close();
    await expect(pending).rejects.toThrow(/closed/);
    await expect(pool.digest(shared(10))).rejects.toThrow(/closed/);
  });

  it('defaults to one thread less than the cores, 1 to 4', () => {
    expect([1, 2, 3, 8, 64].map((n) => defaultDigestWorkers(n))).toEqual([1, 1, 2, 4, 4]);
  });
});
