/**
 * The one retry policy of z3, used by the uploader (parts, abort) and the downloader (ranges):
 * exponential backoff with full jitter, retrying only errors classified retryable where they
 * arose (`StorageError.isRetryable`). Everything else fails at once.
 *
 * Why full jitter: N workers failing together (a throttled bucket, a reset connection pool) must
 * not retry together; a uniformly random delay in [0, cap] spreads them best (AWS architecture
 * blog, "Exponential Backoff And Jitter").
 */
import { StorageError } from '../errors.js';

export interface RetryOptions {
  /** Total attempts, not extra ones (MAX_RETRIES semantics): 1 = no retry. */
  attempts: number;
  /** Aborting stops waiting and makes withRetry reject with `signal.reason`. */
  signal?: AbortSignal | undefined;
  /** Cap of the first delay; doubles per attempt. Default 500 ms. */
  baseDelayMs?: number | undefined;
  /** Upper bound of any delay. Default 20 s. */
  maxDelayMs?: number | undefined;
  /** Waits `ms` or rejects with `signal.reason` on abort. Injectable for tests. */
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** Uniform [0, 1); injectable for tests. */
  random?: (() => number) | undefined;
  /** Told before each wait, e.g. to log the retry. */
  onRetry?: ((error: StorageError, attempt: number, delayMs: number) => void) | undefined;
}

export const DEFAULT_BASE_DELAY_MS = 500;
export const DEFAULT_MAX_DELAY_MS = 20_000;

/**
 * Call `fn(attempt)` (attempt is 1-based) until it resolves, it throws an error that is not a
 * retryable StorageError, or `attempts` are used up; the last error is rethrown unchanged.
 * `fn` must be safe to call again (idempotent), e.g. uploading the same part number.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const attempts = Math.max(1, Math.floor(options.attempts));
  const sleep = options.sleep ?? abortableSleep;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(options.signal);
    try {
      return await fn(attempt);
    } catch (err) {
      if (options.signal?.aborted === true) throw abortReason(options.signal);
      if (!(err instanceof StorageError) || !err.isRetryable || attempt >= attempts) throw err;
      const delayMs = backoffDelay(attempt, options);
      options.onRetry?.(err, attempt, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}

/** True when `err` may be retried after `attempt` attempts (1-based) of `options.attempts`. */
export function isRetryAllowed(err: unknown, attempt: number, options: RetryOptions): boolean {
  return err instanceof StorageError && err.isRetryable && attempt < Math.floor(options.attempts);
}

/** The wait before attempt `attempt + 1`: uniform in [0, min(max, base × 2^(attempt-1))). */
export function backoffDelay(attempt: number, options: Omit<RetryOptions, 'attempts'>): number {
  const base = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  const max = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const random = options.random ?? Math.random;
  return Math.floor(random() * Math.min(max, base * 2 ** (attempt - 1)));
}

/** `setTimeout` as a promise that rejects with `signal.reason` when the signal aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      if (signal !== undefined) reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw abortReason(signal);
}

/** Why `signal` was aborted, as an Error (the reason given to `abort()`, normally one already). */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error
    ? reason
    : new Error(typeof reason === 'string' ? reason : 'aborted');
}
