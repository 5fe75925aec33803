/**
 * A fixed set of part buffers, allocated on first use and reused for every later part, so an
 * upload of any length holds at most `capacity × partSize` bytes of part data and never
 * allocates per chunk. The buffers are views of SharedArrayBuffers (see digest-pool.ts).
 */
import { abortReason } from '../storage/retry.js';

export class PartPool {
  readonly partSize: number;
  readonly capacity: number;
  private readonly free: Uint8Array[] = [];
  private readonly waiting: ((buf: Uint8Array) => void)[] = [];
  private allocatedCount = 0;

  constructor(partSize: number, capacity: number) {
    this.partSize = partSize;
    this.capacity = capacity;
  }

  /** How many buffers were allocated so far (never more than `capacity`). */
  get allocated(): number {
    return this.allocatedCount;
  }

  /**
   * A free buffer of `partSize` bytes (contents undefined): a released one, a new one while
   * fewer than `capacity` exist, or else the next one released. Rejects with `signal.reason`
   * when the signal aborts while waiting.
   */
  acquire(signal?: AbortSignal): Promise<Uint8Array> {
    const buf = this.free.pop();
    if (buf !== undefined) return Promise.resolve(buf);
    if (this.allocatedCount < this.capacity) {
      this.allocatedCount += 1;
      // Shared memory, so the digest threads read a part where it is (digest-pool.ts); zero-filled
      // lazily by the kernel, like any large allocation.
      return Promise.resolve(Buffer.from(new SharedArrayBuffer(this.partSize)));
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiting.indexOf(give);
        if (i >= 0) this.waiting.splice(i, 1);
        if (signal !== undefined) reject(abortReason(signal));
      };
      const give = (b: Uint8Array): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(b);
      };
      if (signal?.aborted === true) {
        reject(abortReason(signal));
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(give);
    });
  }

  /** Give a buffer back: to the oldest waiter, else to the free list. Call once per acquire. */
  release(buf: Uint8Array): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(buf);
    else this.free.push(buf);
  }
}
