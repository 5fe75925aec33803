/**
 * The bandwidth limits of a run (LIMIT_UPLOAD, LIMIT_DOWNLOAD) as a wrapper: every chunk
 * written and every range read carries the pacer of its direction (Pacer in ../backend.ts),
 * and the backend pays for the bytes as they move. One bucket per direction for the whole run,
 * shared by every part in flight and by every object of the run. Outermost, around the retry
 * wrapper: a retried part pays again, since its bytes cross the wire again.
 */
import type {
  Backend,
  ChunkWriter,
  CommittedObject,
  OpenWriterInput,
  PutInput,
  ReadRangeInput,
  ResumeWriterInput,
  WriteChunkInput,
  WrittenChunk,
} from '../backend.js';
import type { TokenBucket } from '../token-bucket.js';
import { PassThroughBackend, PassThroughWriter } from './pass-through.js';

export interface Throttles {
  /** Paces chunk writes; undefined: no upload limit. */
  upload?: TokenBucket | undefined;
  /** Paces range reads; undefined: no download limit. */
  download?: TokenBucket | undefined;
}

/** `inner` with its writes and reads paced by `throttles`; inner itself when both are unset. */
export function withThrottle(inner: Backend, throttles: Throttles): Backend {
  if (throttles.upload === undefined && throttles.download === undefined) return inner;
  return new ThrottledBackend(inner, throttles);
}

class ThrottledBackend extends PassThroughBackend {
  constructor(
    inner: Backend,
    private readonly throttles: Throttles,
  ) {
    super(inner);
  }

  override readRange(input: ReadRangeInput): Promise<Uint8Array> {
    const bucket = this.throttles.download;
    if (bucket === undefined) return this.inner.readRange(input);
    return this.inner.readRange({ ...input, pace: (bytes, signal) => bucket.take(bytes, signal) });
  }

  override put(input: PutInput): Promise<CommittedObject> {
    const bucket = this.throttles.upload;
    if (bucket === undefined) return this.inner.put(input);
    return this.inner.put({ ...input, pace: (bytes, signal) => bucket.take(bytes, signal) });
  }

  override async openWriter(input: OpenWriterInput): Promise<ChunkWriter> {
    return this.paced(await this.inner.openWriter(input));
  }

  override async resumeWriter(input: ResumeWriterInput): Promise<ChunkWriter> {
    return this.paced(await this.inner.resumeWriter(input));
  }

  /** `writer` with its chunks paced by the upload bucket, if there is one. */
  private paced(writer: ChunkWriter): ChunkWriter {
    const bucket = this.throttles.upload;
    return bucket === undefined ? writer : new ThrottledWriter(writer, bucket);
  }
}

class ThrottledWriter extends PassThroughWriter {
  constructor(
    inner: ChunkWriter,
    private readonly bucket: TokenBucket,
  ) {
    super(inner);
  }

  override writeChunk(input: WriteChunkInput): Promise<WrittenChunk> {
    const pace = (bytes: number, signal?: AbortSignal): Promise<void> =>
      this.bucket.take(bytes, signal);
    return this.inner.writeChunk({ ...input, pace });
  }
}
