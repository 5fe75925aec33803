/**
 * An in-memory backend, for unit tests of everything above storage (uploader, downloader,
 * commands). It keeps the whole contract of `Backend` (it passes the conformance suite), with
 * S3's ETag rule, so that code tested on it behaves the same on a real server. Not for users.
 */
import { randomBytes } from 'node:crypto';
import { CommitConflictError, IntegrityError, StorageError } from '../../errors.js';
import type {
  Backend,
  ChunkDigestAlgorithm,
  BackendFeatures,
  BackendLimits,
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
import { md5, multipartEtag } from '../etag.js';
import { S3_LIMITS } from '../limits.js';
import { putViaWriter } from '../put.js';
import {
  changedWhileReading,
  checkChunkNumber,
  checkCompleteChunks,
  compareKeys,
  isSameEtag,
  lowerCaseKeys,
  verifyChunkDigest,
  writtenMd5,
} from '../rules.js';

export interface MemBackendOptions {
  /** Default: S3's limits (tests lower them to exercise the checks). */
  limits?: BackendLimits | undefined;
  /** Listing page size: a listing is built page by page like S3's (default 1000). */
  pageSize?: number | undefined;
  /** The clock for LastModified (default `Date.now`). */
  now?: (() => number) | undefined;
  /**
   * Declare `features.conditionalCommit` (default true); false makes a backend that refuses
   * `ifNoneMatch`, so that the conformance suite's other branch runs too.
   */
  conditionalCommit?: boolean | undefined;
  /**
   * The digest its writers ask for (ChunkWriter.digest; default 'md5'): 'sha256' exercises a
   * caller's SHA-256 path. They verify either.
   */
  chunkDigest?: ChunkDigestAlgorithm | undefined;
}

interface StoredObject {
  data: Buffer;
  etag: string;
  metadata: Record<string, string>;
  lastModified: string;
  /** As the write asked for it (S3 lists `STANDARD` for none; mem lists it undefined). */
  storageClass?: string | undefined;
}

interface PendingUpload {
  key: string;
  metadata: Record<string, string>;
  chunkSize: number;
  started: string;
  storageClass: string | undefined;
  chunks: Map<number, Buffer>;
  ifNoneMatch: boolean;
}

export class MemBackend implements Backend {
  readonly kind = 'mem';
  readonly location = 'mem:';
  readonly limits: BackendLimits;
  readonly features: BackendFeatures;
  /** The objects, by key: tests may read and change them directly (e.g. to corrupt one). */
  readonly objects = new Map<string, StoredObject>();
  /** Pending writes, by id. */
  readonly pending = new Map<string, PendingUpload>();
  /** ChunkWriter.digest of its writers. */
  readonly chunkDigest: ChunkDigestAlgorithm;
  private readonly pageSize: number;
  private readonly now: () => number;

  constructor(options: MemBackendOptions = {}) {
    this.limits = options.limits ?? S3_LIMITS;
    this.pageSize = options.pageSize ?? 1000;
    this.now = options.now ?? Date.now;
    this.chunkDigest = options.chunkDigest ?? 'md5';
    this.features = {
      hasStableListing: true,
      conditionalCommit: options.conditionalCommit ?? true,
    };
  }

  /** Store an object directly (test setup), with S3's single-part ETag. */
  seed(key: string, data: Uint8Array, metadata: Record<string, string> = {}): void {
    this.objects.set(key, {
      data: Buffer.from(data),
      etag: `"${md5(data).toString('hex')}"`,
      metadata: lowerCaseKeys(metadata),
      lastModified: new Date(this.now()).toISOString(),
    });
  }

  stat(key: string): Promise<ObjectInfo | undefined> {
    const o = this.objects.get(key);
    return Promise.resolve(
      o === undefined
        ? undefined
        : { key, size: o.data.byteLength, etag: o.etag, metadata: { ...o.metadata } },
    );
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListedObject> {
    let after = options.startAfter;
    for (;;) {
      // One page at a time, from the map as it is now, like a server's pages.
      const page = [...this.objects.keys()]
        .filter((k) => k.startsWith(prefix) && (after === undefined || compareKeys(k, after) > 0))
        .sort(compareKeys)
        .slice(0, this.pageSize);
      for (const key of page) {
        const o = this.objects.get(key);
        if (o === undefined) continue;
        const { lastModified, storageClass } = o;
        yield { key, size: o.data.byteLength, etag: o.etag, lastModified, storageClass };
      }
      if (page.length < this.pageSize) return;
      after = page[page.length - 1];
      await Promise.resolve();
    }
  }

  async readRange(input: ReadRangeInput): Promise<Uint8Array> {
    await input.pace?.(input.end - input.start + 1, input.signal);
    return this.readRangeNow(input);
  }

  private readRangeNow(input: ReadRangeInput): Promise<Uint8Array> {
    const o = this.objects.get(input.key);
    if (o === undefined) {
      return Promise.reject(
        new StorageError(`reading ${input.key}: no such key`, { isNotFound: true }),
      );
    }
    if (input.start < 0 || input.end < input.start || input.end >= o.data.byteLength) {
      return Promise.reject(
        new StorageError(
          `reading bytes ${input.start}-${input.end} of ${input.key}: outside the object (${o.data.byteLength} bytes)`,
        ),
      );
    }
    if (input.ifMatch !== undefined && !isSameEtag(input.ifMatch, o.etag)) {
      return Promise.reject(changedWhileReading(input.key, input.ifMatch));
    }
    const bytes = o.data.subarray(input.start, input.end + 1);
    if (input.target === undefined) return Promise.resolve(Buffer.from(bytes));
    input.target.set(bytes);
    return Promise.resolve(input.target.subarray(0, bytes.byteLength));
  }

  remove(key: string): Promise<void> {
    this.objects.delete(key);
    return Promise.resolve();
  }

  put(input: PutInput): Promise<CommittedObject> {
    return putViaWriter(this, input);
  }

  openWriter(input: OpenWriterInput): Promise<ChunkWriter> {
    if (input.ifNoneMatch === true && !this.features.conditionalCommit) {
      return Promise.reject(
        new StorageError(`writing ${input.key}: this backend cannot commit conditionally`),
      );
    }
    const id = randomBytes(8).toString('hex');
    this.pending.set(id, {
      key: input.key,
      metadata: lowerCaseKeys(input.metadata),
      chunkSize: input.chunkSize,
      started: new Date(this.now()).toISOString(),
      storageClass: input.storageClass,
      chunks: new Map(),
      ifNoneMatch: input.ifNoneMatch === true,
    });
    return Promise.resolve(new MemChunkWriter(this, input.key, id));
  }

  listPending(prefix: string): Promise<PendingWrite[]> {
    return Promise.resolve(
      [...this.pending.entries()]
        .filter(([, p]) => p.key.startsWith(prefix))
        .map(([id, p]) => ({ key: p.key, id, started: p.started }))
        .sort((a, b) => compareKeys(a.key, b.key)),
    );
  }

  abortPending(pending: Pick<PendingWrite, 'key' | 'id'>): Promise<void> {
    if (this.pending.get(pending.id)?.key === pending.key) this.pending.delete(pending.id);
    return Promise.resolve();
  }

  listChunks(pending: Pick<PendingWrite, 'key' | 'id'>): Promise<ListedChunk[]> {
    const upload = this.pendingUpload(pending);
    if (upload === undefined) return Promise.reject(noSuchWrite(pending));
    const chunks = [...upload.chunks.entries()].map(([number, data]) => ({
      number,
      size: data.byteLength,
      etag: `"${md5(data).toString('hex')}"`,
    }));
    return Promise.resolve(chunks.sort((a, b) => a.number - b.number));
  }

  resumeWriter(input: ResumeWriterInput): Promise<ChunkWriter> {
    if (this.pendingUpload(input) === undefined) return Promise.reject(noSuchWrite(input));
    return Promise.resolve(new MemChunkWriter(this, input.key, input.id));
  }

  /** The pending write with this id, if it is one of `key`. */
  private pendingUpload(pending: Pick<PendingWrite, 'key' | 'id'>): PendingUpload | undefined {
    const upload = this.pending.get(pending.id);
    return upload?.key === pending.key ? upload : undefined;
  }

  /** Commit a pending write; see ChunkWriter.complete. */
  commit(id: string, chunks: readonly WrittenChunk[]): CommittedObject {
    const upload = this.pending.get(id);
    if (upload === undefined) {
      throw new StorageError(`completing ${id}: no such upload`, { isNotFound: true });
    }
    const ordered = checkCompleteChunks(chunks, upload.key);
    // The upload stays pending, as on S3: the caller aborts it.
    if (upload.ifNoneMatch && this.objects.has(upload.key)) {
      throw new CommitConflictError(upload.key);
    }
    const parts = ordered.map((c) => {
      const data = upload.chunks.get(c.number);
      if (data === undefined) {
        throw new StorageError(`completing ${upload.key}: chunk ${c.number} was never written`);
      }
      return data;
    });
    const data = Buffer.concat(parts);
    const etag = multipartEtag(parts.map((p) => md5(p)));
    this.pending.delete(id);
    this.objects.set(upload.key, {
      data,
      etag,
      metadata: upload.metadata,
      lastModified: new Date(this.now()).toISOString(),
      storageClass: upload.storageClass,
    });
    const mismatch = describeMismatch(ordered, { etag, size: data.byteLength }, upload.key);
    if (mismatch !== undefined) {
      this.objects.delete(upload.key);
      throw new IntegrityError(`${upload.key}: ${mismatch}`);
    }
    return { etag, size: data.byteLength };
  }

  /** Store one chunk of a pending write; see ChunkWriter.writeChunk. */
  storeChunk(id: string, input: WriteChunkInput): WrittenChunk {
    const upload = this.pending.get(id);
    if (upload === undefined) {
      throw new StorageError(`writing chunk ${input.number}: no such upload ${id}`, {
        isNotFound: true,
      });
    }
    checkChunkNumber(input.number, this.limits.maxParts, upload.key);
    const digest = verifyChunkDigest(input, `writing chunk ${input.number} of ${upload.key}`);
    upload.chunks.set(input.number, Buffer.from(input.body));
    return {
      number: input.number,
      size: input.body.byteLength,
      md5: digest,
      etag: `"${digest.toString('hex')}"`,
    };
  }
}

function noSuchWrite(pending: Pick<PendingWrite, 'key' | 'id'>): StorageError {
  return new StorageError(`write ${pending.id} of ${pending.key}: no such upload`, {
    isNotFound: true,
  });
}

/**
 * How the stored object differs from what the chunks claim, or undefined: the checks S3's
 * backend makes after a commit, the size and the multipart ETag of the chunks' MD5s.
 */
function describeMismatch(
  chunks: readonly WrittenChunk[],
  stored: CommittedObject,
  key: string,
): string | undefined {
  const size = chunks.reduce((sum, c) => sum + c.size, 0);
  if (stored.size !== size) return `stored ${stored.size} bytes, expected ${size}`;
  const etag = multipartEtag(chunks.map((c) => writtenMd5(c, key)));
  if (stored.etag !== etag) return `stored ETag ${stored.etag}, expected ${etag}`;
  return undefined;
}

class MemChunkWriter implements ChunkWriter {
  readonly digest: ChunkDigestAlgorithm;

  constructor(
    private readonly backend: MemBackend,
    readonly key: string,
    readonly id: string,
  ) {
    this.digest = backend.chunkDigest;
  }

  async writeChunk(input: WriteChunkInput): Promise<WrittenChunk> {
    input.signal?.throwIfAborted();
    await input.pace?.(input.body.byteLength, input.signal);
    return this.backend.storeChunk(this.id, input);
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async complete(chunks: readonly WrittenChunk[]): Promise<CommittedObject> {
    return this.backend.commit(this.id, chunks);
  }

  abort(): Promise<void> {
    return this.backend.abortPending({ key: this.key, id: this.id });
  }
}
