/**
 * The object-level check of `z3 verify --read-data`, for an object whose stream cannot be read
 * here (gpg without its key): the MD5 of its bytes against its ETag. A multipart ETag is the MD5
 * of the parts' MD5s, so the part size must be guessed: the sizes z3 would have used, and a few
 * common ones, among those that give the ETag's part count. All candidates are hashed in the
 * same pass over the download.
 */
import { createHash, type Hash } from 'node:crypto';
import { partSizesFor } from '../plan/verify.js';
import { multipartEtag, normalizeEtag } from '../storage/etag.js';
import { openDownload } from '../transfer/downloader.js';
import type { ReadObjectInput } from './verify-read.js';

const MIB = 1024 * 1024;
/** Part sizes other tools commonly use (aws cli 8 MiB, rclone 5 MiB, s3cmd 15 MiB, …). */
const COMMON_PART_SIZES = [5, 8, 15, 16, 32, 64, 100, 128].map((n) => n * MIB);

/**
 * Why the bytes do not match the ETag, or undefined when they do (or it cannot be told). A
 * segmented backup: each segment against its own ETag.
 */
export async function checkEtagOfBytes(input: ReadObjectInput): Promise<string | undefined> {
  const segments = input.snapshot.segments ?? [];
  if (segments.length < 2) return checkObject(input);
  for (const [i, s] of segments.entries()) {
    const snapshot = { ...input.snapshot, key: s.key, objectSize: s.size, segments: undefined };
    const etag = i === 0 ? input.etag : s.etag;
    const problem = await checkObject({ ...input, snapshot, etag });
    if (problem !== undefined) return `segment ${i + 1}: ${problem}`;
  }
  return undefined;
}

async function checkObject(input: ReadObjectInput): Promise<string | undefined> {
  const etag = normalizeEtag(input.etag);
  const match = /^([0-9a-f]{32})(?:-(\d+))?$/.exec(etag);
  if (match === null) return undefined;
  const size = input.snapshot.objectSize;
  const parts = match[2] === undefined ? undefined : Number(match[2]);
  const candidates = parts === undefined ? [Infinity] : partSizeCandidates(size, parts, input);
  if (candidates.length === 0) return `ETag names ${parts} parts, impossible for ${size} bytes`;
  const hashers = candidates.map((partSize) => new PartHasher(partSize));
  const opened = await openDownload({
    backend: input.backend,
    key: input.snapshot.key,
    chunkSize: input.chunkSize,
    concurrency: input.concurrency,
    signal: input.signal,
  });
  for await (const chunk of opened.chunks) hashers.forEach((h) => h.update(chunk));
  const computed = hashers.map((h) => h.etag(parts !== undefined));
  if (computed.includes(etag)) return undefined;
  return parts === undefined
    ? 'bytes do not match the ETag'
    : `bytes do not match the ETag for part sizes ${candidates.join(', ')}`;
}

function partSizeCandidates(size: number, parts: number, input: ReadObjectInput): number[] {
  const [low, high] = partSizesFor(size, parts, input.backend.limits);
  if (low === undefined) return [];
  const top = high ?? low;
  const guesses = [...input.partSizeHints, ...COMMON_PART_SIZES, low];
  return [...new Set(guesses.filter((p) => p >= low && p <= top))];
}

/** MD5s of consecutive `partSize`-byte parts of what it is fed. */
class PartHasher {
  private readonly digests: Buffer[] = [];
  private current: Hash = createHash('md5');
  private filled = 0;
  constructor(private readonly partSize: number) {}

  update(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.byteLength) {
      const take = Math.min(this.partSize - this.filled, chunk.byteLength - pos);
      this.current.update(chunk.subarray(pos, pos + take));
      pos += take;
      this.filled += take;
      if (this.filled === this.partSize) this.cut();
    }
  }

  /** The ETag (normalised): the MD5 of the bytes, or of the part MD5s with `-N`. */
  etag(isMultipart: boolean): string {
    if (this.filled > 0 || this.digests.length === 0) this.cut();
    if (!isMultipart) return this.digests[0]?.toString('hex') ?? '';
    return normalizeEtag(multipartEtag(this.digests));
  }

  private cut(): void {
    this.digests.push(this.current.digest());
    this.current = createHash('md5');
    this.filled = 0;
  }
}
