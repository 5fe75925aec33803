import { describe, expect, it } from 'vitest';
import { InterruptedError, StorageError, UsageError } from '../errors.js';
import { withRetry } from './retry.js';
import { injected } from '../testing/faults.js';

const retryable = (): StorageError => new StorageError('503', { isRetryable: true });

function recorder(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return {
    delays,
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
  };
}

describe('withRetry', () => {
  it('retries retryable errors up to `attempts` in total', { tags: ['faults'] }, async () => {
    const { delays, sleep } = recorder();
    let calls = 0;
    const result = await withRetry(
      (attempt) => {
        calls += 1;
        if (attempt < 3) throw retryable();
        return Promise.resolve('ok');
      },
      { attempts: 3, sleep, random: () => 0.999 },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(delays).toEqual([499, 999]); // full jitter below 500 ms, then 1 s
    injected('S3 error', calls - 1);
  });

  it('gives up after `attempts` and rethrows the last error', { tags: ['faults'] }, async () => {
    const { sleep } = recorder();
    let calls = 0;
    const err = retryable();
    await expect(
      withRetry(
        () => {
          calls += 1;
          throw err;
        },
        { attempts: 3, sleep },
      ),
    ).rejects.toBe(err);
    expect(calls).toBe(3);
    injected('S3 error', calls);
  });

  it('never retries permanent errors or non-storage errors', { tags: ['faults'] }, async () => {
    for (const err of [new StorageError('403'), new UsageError('x'), new Error('bug')]) {
      let calls = 0;
      await expect(
        withRetry(
          () => {
            calls += 1;
            throw err;
          },
          { attempts: 5, sleep: () => Promise.resolve() },
        ),
      ).rejects.toBe(err);
      expect(calls).toBe(1);
    }
    injected('S3 error'); // the 403; the other two are not storage errors
  });

  it('caps delays at maxDelayMs', async () => {
    const { delays, sleep } = recorder();
    await expect(
      withRetry(() => Promise.reject(retryable()), {
        attempts: 6,
        sleep,
        random: () => 0.999,
        baseDelayMs: 100,
        maxDelayMs: 300,
      }),
    ).rejects.toThrow('503');
    expect(Math.max(...delays)).toBeLessThanOrEqual(300);
  });

  it('stops waiting when the signal aborts, with its reason', { tags: ['faults'] }, async () => {
    const controller = new AbortController();
    const reason = new InterruptedError('interrupted by SIGTERM');
    const pending = withRetry(() => Promise.reject(retryable()), {
      attempts: 5,
      signal: controller.signal,
      baseDelayMs: 60_000,
      random: () => 1,
    });
    setTimeout(() => controller.abort(reason), 10);
    await expect(pending).rejects.toBe(reason);
    injected('signal');
  });
});
