/**
 * The one retry policy of z3, as a wrapper around any backend: every call the backend makes is
 * one attempt (the S3 client's own retries are off), and this wrapper retries the ones that
 * failed with a retryable StorageError, with backoff and jitter (src/storage/retry.ts). So an
 * attempt is an attempt: MAX_RETRIES = 3 means at most 3 requests for one part, never 3 × 3.
 *
 * What is retried, and why it is safe:
 * - stat, readRange, remove, listPending, abortPending, listChunks, resumeWriter, writeChunk,
 *   abort: idempotent.
 * - list: resumed after the last key it yielded (`startAfter`), so no key is yielded twice.
 * - complete: a retry after a lost response finds the upload gone; the backend then checks the
 *   committed object instead of failing (see ChunkWriter.complete in the S3 backend).
 * - openWriter: a retry after a lost response may leave an unused pending write behind; `z3
 *   cleanup` and lifecycle rules remove those, and failing the whole backup instead is worse.
 */
import type {
  Backend,
  ChunkDigestAlgorithm,
  BackendFeatures,
  ChunkWriter,
  CommittedObject,
  ListOptions,
  ListedChunk,
  ListedObject,
  ObjectInfo,
  OpenWriterInput,
  PendingWrite,
  PutInput,
  ReadRangeInput,
  ResumeWriterInput,
  WriteChunkInput,
  WrittenChunk,
} from '../backend.js';
import type { StorageError } from '../../errors.js';
import {
  abortableSleep,
  backoffDelay,
  isRetryAllowed,
  withRetry,
  type RetryOptions,
} from '../retry.js';

/** The policy: total attempts per call, and (for tests) the backoff's timing. */
export type RetryPolicy = Omit<RetryOptions, 'signal'>;

/** `inner` with every call retried per `policy`; limits and kind are inner's. */
export function withRetries(inner: Backend, policy: RetryPolicy): Backend {
  return new RetryingBackend(inner, policy);
}

class RetryingBackend implements Backend {
  readonly kind: string;
  readonly location: string;
  readonly limits: Backend['limits'];
  readonly features: BackendFeatures;

  constructor(
    private readonly inner: Backend,
    private readonly policy: RetryPolicy,
  ) {
    this.kind = inner.kind;
    this.location = inner.location;
    this.limits = inner.limits;
    const statBulk = inner.features.statBulk;
    this.features = {
      ...inner.features,
      statBulk:
        statBulk === undefined ? undefined : (key: string) => this.retry(() => statBulk(key)),
    };
  }

  retry<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(fn, { ...this.policy, signal });
  }

  stat(key: string): Promise<ObjectInfo | undefined> {
    return this.retry(() => this.inner.stat(key));
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListedObject> {
    let after = options.startAfter;
    let failures = 0;
    for (;;) {
      try {
        for await (const listed of this.inner.list(prefix, { startAfter: after })) {
          failures = 0;
          after = listed.key;
          yield listed;
        }
        return;
      } catch (err) {
        failures += 1;
        if (!isRetryAllowed(err, failures, this.policy)) throw err;
        const delayMs = backoffDelay(failures, this.policy);
        this.policy.onRetry?.(err as StorageError, failures, delayMs);
        await (this.policy.sleep ?? abortableSleep)(delayMs);
      }
    }
  }

  readRange(input: ReadRangeInput): Promise<Uint8Array> {
    return this.retry(() => this.inner.readRange(input), input.signal);
  }

  remove(key: string): Promise<void> {
    return this.retry(() => this.inner.remove(key));
  }

  put(input: PutInput): Promise<CommittedObject> {
    return this.retry(() => this.inner.put(input), input.signal);
  }

  async openWriter(input: OpenWriterInput): Promise<ChunkWriter> {
    const writer = await this.retry(() => this.inner.openWriter(input));
    return new RetryingWriter(writer, this);
  }

  listPending(prefix: string): Promise<PendingWrite[]> {
    return this.retry(() => this.inner.listPending(prefix));
  }

  abortPending(pending: Pick<PendingWrite, 'key' | 'id'>): Promise<void> {
    return this.retry(() => this.inner.abortPending(pending));
  }

  listChunks(pending: Pick<PendingWrite, 'key' | 'id'>): Promise<ListedChunk[]> {
    return this.retry(() => this.inner.listChunks(pending));
  }

  async resumeWriter(input: ResumeWriterInput): Promise<ChunkWriter> {
    const writer = await this.retry(() => this.inner.resumeWriter(input));
    return new RetryingWriter(writer, this);
  }
}

class RetryingWriter implements ChunkWriter {
  readonly key: string;
  readonly id: string;
  readonly digest: ChunkDigestAlgorithm;

  constructor(
    private readonly inner: ChunkWriter,
    private readonly backend: RetryingBackend,
  ) {
    this.key = inner.key;
    this.id = inner.id;
    this.digest = inner.digest;
  }

  writeChunk(input: WriteChunkInput): Promise<WrittenChunk> {
    return this.backend.retry(() => this.inner.writeChunk(input), input.signal);
  }

  complete(chunks: readonly WrittenChunk[]): Promise<CommittedObject> {
    return this.backend.retry(() => this.inner.complete(chunks));
  }

  abort(): Promise<void> {
    return this.backend.retry(() => this.inner.abort());
  }
}
