/**
 * The bandwidth limit of a run (LIMIT_UPLOAD, LIMIT_DOWNLOAD): one token bucket shared by every
 * part in flight, so 32 concurrent parts together stay under the rate. Bytes are paid for in
 * slices of at most PACE_SLICE as they move (the backends call the pacer per slice, see
 * `Pacer` in ./backend.ts), so a part goes out at the limit, not at line rate after a wait.
 *
 * Why a virtual clock (GCRA, the "theoretical arrival time") instead of a counter refilled by a
 * timer: each slice reserves its time slot synchronously, so concurrent callers are served in
 * the order they asked, nothing polls, and a fake clock makes the tests exact.
 */
import { setMaxListeners } from 'node:events';
import { abortableSleep } from './retry.js';

/** Bytes paid for at a time: small enough to be smooth, large enough to cost nothing. */
export const PACE_SLICE = 64 * 1024;

export interface TokenBucketOptions {
  /** Bytes per second, > 0. */
  rate: number;
  /** Bytes that may go at line rate after an idle spell; default one slice. */
  burst?: number | undefined;
  /** Milliseconds (tests pass a fake clock); default `performance.now`. */
  now?: (() => number) | undefined;
  /** Abortable sleep (tests pass the fake clock's); default timers. */
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
}

export class TokenBucket {
  readonly rate: number;
  private readonly toleranceMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** When the bytes reserved so far will have gone out at the rate (ms on `now`'s clock). */
  private tat = -Infinity;
  /** Per caller's signal, the one signal all its sleepers listen to (see `sleepSignal`). */
  private readonly sleepSignals = new WeakMap<AbortSignal, AbortSignal>();

  constructor(options: TokenBucketOptions) {
    if (!(options.rate > 0)) throw new RangeError(`rate must be > 0, got ${options.rate}`);
    this.rate = options.rate;
    this.toleranceMs = ((options.burst ?? PACE_SLICE) / options.rate) * 1000;
    this.now = options.now ?? (() => performance.now());
    this.sleep = options.sleep ?? abortableSleep;
  }

  /**
   * Resolve when `bytes` may go: slice by slice, each slice waiting for its slot. Rejects with
   * the signal's reason when aborted (the slots already reserved stay spent).
   */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    for (let left = bytes; left > 0; left -= PACE_SLICE) {
      const waitMs = this.reserve(Math.min(left, PACE_SLICE));
      if (waitMs > 0) await this.sleep(waitMs, signal && this.sleepSignal(signal));
    }
  }

  /**
   * A signal that aborts with `signal`, for any number of sleepers. Why: every part in flight
   * sleeps here at once on the run's one signal, and more than 10 listeners on it make Node
   * print a MaxListenersExceededWarning, noise in every cron mail. This one listens once.
   */
  private sleepSignal(signal: AbortSignal): AbortSignal {
    let inner = this.sleepSignals.get(signal);
    if (inner === undefined) {
      const controller = new AbortController();
      setMaxListeners(0, controller.signal);
      if (signal.aborted) controller.abort(signal.reason);
      else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
      inner = controller.signal;
      this.sleepSignals.set(signal, inner);
    }
    return inner;
  }

  /** Reserve the next slot for `bytes`; how long to wait for it (ms, ≤ 0: go now). */
  private reserve(bytes: number): number {
    const now = this.now();
    this.tat = Math.max(this.tat, now) + (bytes / this.rate) * 1000;
    return this.tat - now - this.toleranceMs;
  }
}
