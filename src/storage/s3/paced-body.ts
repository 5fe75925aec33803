/**
 * A part's body as a stream that pays for each slice before the SDK may send it (the bandwidth
 * limit, src/storage/token-bucket.ts). With ContentLength and Content-MD5 given, the SDK streams
 * it as it comes, so the part goes out at the limit instead of at line rate after a wait.
 */
import { Readable } from 'node:stream';
import type { WriteChunkInput } from '../backend.js';
import { PACE_SLICE } from '../token-bucket.js';

/** The bytes of a part or a whole-object put, and how they are paced. */
type PacedInput = Pick<WriteChunkInput, 'body' | 'pace' | 'signal'>;

/** `input.body` as a Readable, each slice of at most PACE_SLICE bytes let out by `input.pace`. */
export function pacedBody(input: PacedInput): Readable {
  return Readable.from(paced(input), { objectMode: false });
}

async function* paced(input: PacedInput): AsyncGenerator<Uint8Array> {
  const { body, pace, signal } = input;
  for (let offset = 0; offset < body.byteLength; offset += PACE_SLICE) {
    const slice = body.subarray(offset, Math.min(offset + PACE_SLICE, body.byteLength));
    await pace?.(slice.byteLength, signal);
    yield slice;
  }
}
