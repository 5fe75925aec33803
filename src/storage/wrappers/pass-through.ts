/**
 * A backend (and a writer) that hands every call to the one it wraps: the base of a wrapper
 * that changes only a call or two (./throttled.ts), so that it states just what it changes.
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

/** `inner`, call for call; kind, location, limits and features are inner's. */
export class PassThroughBackend implements Backend {
  readonly kind: string;
  readonly location: string;
  readonly limits: Backend['limits'];
  readonly features: BackendFeatures;

  constructor(protected readonly inner: Backend) {
    this.kind = inner.kind;
    this.location = inner.location;
    this.limits = inner.limits;
    this.features = inner.features;
  }

  stat(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.stat(key);
  }

  list(prefix: string, options?: ListOptions): AsyncIterable<ListedObject> {
    return this.inner.list(prefix, options);
  }

  readRange(input: ReadRangeInput): Promise<Uint8Array> {
    return this.inner.readRange(input);
  }

  remove(key: string): Promise<void> {
    return this.inner.remove(key);
  }

  put(input: PutInput): Promise<CommittedObject> {
    return this.inner.put(input);
  }

  openWriter(input: OpenWriterInput): Promise<ChunkWriter> {
    return this.inner.openWriter(input);
  }

  listPending(prefix: string): Promise<PendingWrite[]> {
    return this.inner.listPending(prefix);
  }

  abortPending(pending: Pick<PendingWrite, 'key' | 'id'>): Promise<void> {
    return this.inner.abortPending(pending);
  }

  listChunks(pending: Pick<PendingWrite, 'key' | 'id'>): Promise<ListedChunk[]> {
    return this.inner.listChunks(pending);
  }

  resumeWriter(input: ResumeWriterInput): Promise<ChunkWriter> {
    return this.inner.resumeWriter(input);
  }
}

/** `inner`, call for call. */
export class PassThroughWriter implements ChunkWriter {
  readonly key: string;
  readonly id: string;
  readonly digest: ChunkDigestAlgorithm;

  constructor(protected readonly inner: ChunkWriter) {
    this.key = inner.key;
    this.id = inner.id;
    this.digest = inner.digest;
  }

  writeChunk(input: WriteChunkInput): Promise<WrittenChunk> {
    return this.inner.writeChunk(input);
  }

  complete(chunks: readonly WrittenChunk[]): Promise<CommittedObject> {
    return this.inner.complete(chunks);
  }

  abort(): Promise<void> {
    return this.inner.abort();
  }
}
