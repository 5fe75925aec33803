/**
 * Cuts one byte source into segments of at most `capacity` bytes, each read through its own
 * ByteReader view, so that each segment is one ordinary `uploadStream` (the uploader knows
 * nothing of segments). Why a peek: when a segment ends exactly at its capacity, only reading
 * on tells whether another one follows; the byte read is handed to the next view first.
 */
import type { ByteReader } from './part-reader.js';
import { raceAbort } from './part-reader.js';

export class SegmentCutter {
  /** Bytes read ahead by `hasMore`, not yet handed to a view. */
  private peeked: Uint8Array | undefined;
  /** The source returned 0: nothing follows. */
  private isEnded = false;
  /** Segments handed out so far. */
  private cut = 0;
  /** Bytes read through the latest view. */
  private latest = 0;

  constructor(
    private readonly source: ByteReader,
    private readonly capacity: number,
  ) {}

  /** How many views were handed out (the segment count once the source ended). */
  get count(): number {
    return this.cut;
  }

  /** Bytes read through the latest view (the last segment's length once the source ended). */
  get lastLength(): number {
    return this.latest;
  }

  /**
   * A view of the next segment: it reads the source until `capacity` bytes or the source's end,
   * then returns 0. Closing it closes the source (a failed upload stops the whole stream).
   */
  next(): ByteReader {
    this.cut += 1;
    this.latest = 0;
    let remaining = this.capacity;
    return {
      readInto: async (buf, offset, length) => {
        if (remaining === 0 || this.isEnded) return 0;
        const n = await this.read(buf, offset, Math.min(length, remaining));
        if (n === 0) this.isEnded = true;
        remaining -= n;
        this.latest += n;
        return n;
      },
      close: () => this.source.close(),
    };
  }

  /**
   * Whether a byte follows the segments handed out so far: false once the source ended, else
   * one byte is read ahead (and kept for the next view).
   */
  async hasMore(signal?: AbortSignal): Promise<boolean> {
    if (this.isEnded) return false;
    if (this.peeked !== undefined) return true;
    const one = new Uint8Array(1);
    const read = this.source.readInto(one, 0, 1);
    const n = await (signal === undefined ? read : raceAbort(read, signal));
    if (n === 0) {
      this.isEnded = true;
      return false;
    }
    this.peeked = one;
    return true;
  }

  private async read(buf: Uint8Array, offset: number, length: number): Promise<number> {
    if (this.peeked === undefined) return this.source.readInto(buf, offset, length);
    buf.set(this.peeked, offset);
    this.peeked = undefined;
    return 1;
  }
}
