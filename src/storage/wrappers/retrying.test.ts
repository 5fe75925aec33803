import { describe, expect, it } from 'vitest';
import { StorageError } from '../../errors.js';
import type { Backend, ListOptions, ListedObject } from '../backend.js';
import { md5 } from '../etag.js';
import { MemBackend } from '../mem/backend.js';
import { FaultyBackend, type FaultCall } from './faulty.js';
import { withRetries } from './retrying.js';
import { injected } from '../../testing/faults.js';

const fast = { baseDelayMs: 0, maxDelayMs: 0 };
const transient = (): StorageError =>
  new StorageError('SlowDown (HTTP 503)', { isRetryable: true });

function failFirst(n: number, op: FaultCall['op'], error = transient): (call: FaultCall) => void {
  return (call) => {
    if (call.op === op && call.attempt <= n) throw error();
  };
}

async function keysOf(backend: Backend, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of backend.list(prefix)) keys.push(o.key);
  return keys;
}

describe('withRetries', () => {
  it(
    'retries a chunk that fails twice, making exactly three requests',
    { tags: ['faults'] },
    async () => {
      const mem = new MemBackend({ limits: { ...new MemBackend().limits, minPartSize: 1 } });
      const faulty = new FaultyBackend(mem, failFirst(2, 'writeChunk'));
      const backend = withRetries(faulty, { attempts: 3, ...fast });
      const writer = await backend.openWriter({ key: 'k', metadata: {}, chunkSize: 3 });
      const body = Buffer.from('abc');
      const chunk = await writer.writeChunk({ number: 1, body, md5: md5(body) });
      await writer.complete([chunk]);
      expect(faulty.ops('writeChunk')).toHaveLength(3);
      expect(mem.objects.get('k')?.data.toString()).toBe('abc');
      injected('S3 error', faulty.thrown);
    },
  );

  it(
    'gives up after MAX_RETRIES attempts in total and rethrows the last error',
    { tags: ['faults'] },
    async () => {
      const faulty = new FaultyBackend(new MemBackend(), failFirst(5, 'stat'));
      const backend = withRetries(faulty, { attempts: 3, ...fast });
      await expect(backend.stat('k')).rejects.toThrow(/SlowDown/);
      expect(faulty.ops('stat')).toHaveLength(3);
      injected('S3 error', faulty.thrown);
    },
  );

  it('never retries a permanent error', { tags: ['faults'] }, async () => {
    const denied = (): StorageError => new StorageError('AccessDenied (HTTP 403)');
    const faulty = new FaultyBackend(new MemBackend(), failFirst(1, 'remove', denied));
    await expect(withRetries(faulty, { attempts: 5, ...fast }).remove('k')).rejects.toThrow(
      /AccessDenied/,
    );
    expect(faulty.ops('remove')).toHaveLength(1);
    injected('S3 error', faulty.thrown);
  });

  it('stops waiting when the signal aborts', { tags: ['faults'] }, async () => {
    const faulty = new FaultyBackend(new MemBackend(), failFirst(9, 'readRange'));
    const backend = withRetries(faulty, { attempts: 9, baseDelayMs: 60_000, maxDelayMs: 60_000 });
    const controller = new AbortController();
    const reading = backend.readRange({ key: 'k', start: 0, end: 0, signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(reading).rejects.toThrow('stop');
    injected('signal');
    injected('S3 error', faulty.thrown);
  });

  it(
    'resumes a listing that failed midway after the last key, without duplicates',
    { tags: ['faults'] },
    async () => {
      const mem = new MemBackend({ pageSize: 2 });
      for (const k of ['p/a', 'p/b', 'p/c', 'p/d', 'p/e']) mem.seed(k, Buffer.from(k));
      let failed = false;
      // Fails once, after two keys were yielded.
      const flaky: Backend = Object.assign(Object.create(mem) as MemBackend, {
        async *list(prefix: string, options?: ListOptions): AsyncIterable<ListedObject> {
          let n = 0;
          for await (const o of mem.list(prefix, options)) {
            if (n++ === 2 && !failed) {
              failed = true;
              throw transient();
            }
            yield o;
          }
        },
      });
      const keys = await keysOf(withRetries(flaky, { attempts: 2, ...fast }), 'p/');
      expect(failed).toBe(true);
      expect(keys).toEqual(['p/a', 'p/b', 'p/c', 'p/d', 'p/e']);
      injected('S3 error');
    },
  );

  it('retries the bulk stat feature too, and keeps its absence', { tags: ['faults'] }, async () => {
    const mem = new MemBackend();
    expect(withRetries(mem, { attempts: 2 }).features.statBulk).toBeUndefined();
    let calls = 0;
    const bulky: Backend = Object.assign(Object.create(mem) as MemBackend, {
      features: {
        hasStableListing: true,
        statBulk: (key: string) => (++calls === 1 ? Promise.reject(transient()) : mem.stat(key)),
      },
    });
    mem.seed('k', Buffer.from('x'));
    const info = await withRetries(bulky, { attempts: 2, ...fast }).features.statBulk?.('k');
    expect(info?.size).toBe(1);
    expect(calls).toBe(2);
    injected('S3 error', calls - 1);
  });
});
