/**
 * A ranged GET read straight into the caller's buffer. Why not `Body.transformToByteArray()`:
 * it collects the chunks and concatenates them, two copies of the range at the peak and a fresh
 * buffer per range, where the downloader reuses one buffer per worker.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { StorageError } from '../../errors.js';
import type { Pacer, ReadRangeInput } from '../backend.js';
import { changedWhileReading } from '../rules.js';
import { callError, isPreconditionFailed } from './errors.js';

/** Where the range is read from. */
export interface RangeSource {
  client: S3Client;
  bucket: string;
}

/**
 * Bytes [start, end] of `input.key`, exactly; see Backend.readRange. A body shorter or longer
 * than the range is a retryable error (a connection cut mid-body, a confused proxy); a range
 * past the end of the object is a permanent one. `ifMatch` goes out as `If-Match`, which the
 * server checks (Ceph RGW 16 too: 412 PreconditionFailed for another ETag).
 */
export async function readRange(source: RangeSource, input: ReadRangeInput): Promise<Uint8Array> {
  const { key, start, end, signal, ifMatch, pace } = input;
  const what = `reading bytes ${start}-${end} of ${source.bucket}/${key}`;
  const target = rangeTarget(input, what);
  try {
    const out = await source.client.send(
      new GetObjectCommand({
        Bucket: source.bucket,
        Key: key,
        Range: `bytes=${start}-${end}`,
        ...(ifMatch !== undefined ? { IfMatch: ifMatch } : {}),
      }),
      signal !== undefined ? { abortSignal: signal } : {},
    );
    const body = out.Body as RangeBody | undefined;
    if (body === undefined)
      throw new StorageError(`${what}: empty response`, { isRetryable: true });
    const outside = outsideObject(out.ContentRange, end, what);
    if (outside !== undefined) {
      body.destroy?.();
      throw outside;
    }
    const into = { target, what, pace, signal };
    // Paced reads must wait per socket read; unpaced ones copy each read as it arrives.
    return await (pace === undefined && isReadable(body)
      ? copyBody(body, into)
      : readBody(body, into));
  } catch (err) {
    if (ifMatch !== undefined && signal?.aborted !== true && isPreconditionFailed(err)) {
      throw changedWhileReading(key, ifMatch);
    }
    throw callError(err, what, signal);
  }
}

/**
 * Where the bytes [start, end] of `input` go: exactly that long, a view of `input.target` or a
 * new buffer. Throws for a range that is not one or a target too short for it.
 */
export function rangeTarget(input: ReadRangeInput, what: string): Uint8Array {
  const { start, end } = input;
  const length = end - start + 1;
  if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(end) || length < 1) {
    throw new StorageError(`${what}: not a byte range`);
  }
  const target = input.target ?? Buffer.allocUnsafeSlow(length);
  if (target.byteLength < length) {
    throw new StorageError(`${what}: the target holds only ${target.byteLength} bytes`);
  }
  return target.subarray(0, length);
}

/**
 * The permanent error of a range that ends past the object, whose size the answer's
 * Content-Range names; undefined when it does not (or the size is not given).
 */
export function outsideObject(
  contentRange: string | undefined,
  end: number,
  what: string,
): StorageError | undefined {
  const total = objectSize(contentRange);
  return total !== undefined && end >= total
    ? new StorageError(`${what}: outside the object (${total} bytes)`)
    : undefined;
}

/** The object's size from a `Content-Range: bytes 0-9/100` header; undefined if not given. */
export function objectSize(contentRange: string | undefined): number | undefined {
  const match = /\/(\d+)\s*$/.exec(contentRange ?? '');
  return match?.[1] !== undefined ? Number(match[1]) : undefined;
}

/** A response body: a Node Readable in practice, an async iterable as the SDK types it. */
type RangeBody = AsyncIterable<Uint8Array> & { destroy?: () => void };

function isReadable(body: RangeBody): body is RangeBody & Readable {
  return body instanceof Readable;
}

/**
 * As `readBody` without a pacer, copying each socket read in its 'data' event. Why not `for
 * await`: the async iterator costs a promise and two ticks per read (at most 64 KiB), about a
 * tenth of z3_get's CPU per GiB in `node --cpu-prof`; `finished` still reports a cut
 * connection or an abort.
 */
async function copyBody(
  body: Readable,
  into: { target: Uint8Array; what: string },
): Promise<Uint8Array> {
  const { target, what } = into;
  let filled = 0;
  let overflow: StorageError | undefined;
  body.on('data', (chunk: Uint8Array) => {
    if (overflow !== undefined) return;
    if (filled + chunk.byteLength > target.byteLength) {
      overflow = new StorageError(`${what}: the server sent more than ${target.byteLength} bytes`, {
        isRetryable: true,
      });
      body.destroy();
      return;
    }
    target.set(chunk, filled);
    filled += chunk.byteLength;
  });
  try {
    await finished(body);
  } catch (err) {
    throw overflow ?? err;
  }
  if (overflow !== undefined) throw overflow;
  return checkFilled(filled, into);
}

function checkFilled(filled: number, into: { target: Uint8Array; what: string }): Uint8Array {
  if (filled < into.target.byteLength) {
    throw new StorageError(
      `${into.what}: the server sent ${filled} of ${into.target.byteLength} bytes`,
      { isRetryable: true },
    );
  }
  return into.target;
}

/** The whole body into `target`, which it must fill exactly; resolves `target`. */
async function readBody(
  body: AsyncIterable<Uint8Array>,
  into: {
    target: Uint8Array;
    what: string;
    pace: Pacer | undefined;
    signal: AbortSignal | undefined;
  },
): Promise<Uint8Array> {
  const { target, what } = into;
  let filled = 0;
  for await (const chunk of body) {
    // Paying as each socket read arrives (at most 64 KiB) holds the next read back, and TCP's
    // window then slows the server: the download is paced, not burst and then waited for.
    await into.pace?.(chunk.byteLength, into.signal);
    if (filled + chunk.byteLength > target.byteLength) {
      throw new StorageError(`${what}: the server sent more than ${target.byteLength} bytes`, {
        isRetryable: true,
      });
    }
    target.set(chunk, filled);
    filled += chunk.byteLength;
  }
  return checkFilled(filled, into);
}
