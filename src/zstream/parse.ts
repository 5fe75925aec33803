/**
 * A streaming parser and verifier of ZFS send streams, with no ZFS on the machine: it walks every
 * record, checks the running Fletcher-4 checksum the way `zfs receive` does, and reports each
 * substream's guids, so that a backup can be proven readable without restoring it.
 *
 * The checksum rule (module/zfs/dmu_send.c dump_record, module/zfs/dmu_recv.c
 * receive_read_payload_and_next_header): the running checksum covers every byte of a substream
 * in write order — each record's first 280 bytes, its 32-byte drr_checksum field, its payload —
 * each of the three folded as whole 32-bit words (a raw payload's last 1–3 bytes are not
 * covered, as in fletcher_4_incremental_native). A record's drr_checksum must equal the running
 * checksum before that field, except in BEGIN (whose drr_toname overlaps it) and where the writer
 * left it zero (userland END records, streams older than per-record checksums). An END's
 * drr_end.drr_checksum must equal the running checksum before the END. The checksum restarts at
 * each BEGIN and after each END.
 *
 * Chunks may split records anywhere; memory stays constant (a header, a 4-byte carry and a 64 KiB
 * scratch area), payloads are never buffered.
 */
import { Fletcher4 } from './fletcher4.js';
import { CHECKSUM_OFFSET, DRR_BEGIN, DRR_END, FIELD, MAX_PAYLOAD, RECORD_SIZE } from './format.js';
import * as record from './record.js';
import { StreamStructure, type RecordEvent } from './structure.js';
import type { RecordCounts, SubstreamSummary } from './structure.js';

export type { RecordCounts, SubstreamSummary } from './structure.js';

/** What a parse found: the stream's shape, and ok or the first reason it is not. */
export interface ZStreamReport {
  /** True when every record parsed, every checksum matched and the stream ended properly. */
  ok: boolean;
  /** Why not, e.g. `truncated at byte 1234`, `checksum mismatch in record 7 at byte 2184`. */
  reason?: string;
  /** `substream` for a plain send, `compound` for -R/-p/-I; undefined when no header parsed. */
  kind?: 'substream' | 'compound';
  /** The stream was written on a machine of the other byte order. */
  byteswapped: boolean;
  /** The snapshot the stream carries, `pool/fs@snap`. */
  toname?: string;
  /** Its guid (decimal); for a compound stream, the top dataset's. */
  toguid?: string;
  /** The incremental source's guid, "0" for a full. */
  fromguid?: string;
  /** Records by type over the whole stream. */
  records: RecordCounts;
  /** Bytes read. */
  bytes: number;
  /** The BEGIN … END substreams (one for a plain stream). */
  substreams: SubstreamSummary[];
}

const SCRATCH_BYTES = 64 * 1024;
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Feed chunks with `push`, then call `finish` once. */
export class ZStreamParser {
  private readonly header = new Uint8Array(RECORD_SIZE);
  private readonly view = new DataView(this.header.buffer);
  private readonly carry = new Uint8Array(4);
  private readonly scratch = new Uint8Array(SCRATCH_BYTES);
  private readonly sum = new Fletcher4();
  private readonly structure = new StreamStructure();
  private headerFill = 0;
  private carryFill = 0;
  private payloadLeft = 0;
  private littleEndian: boolean | undefined;
  private offset = 0;
  private recordIndex = 0;
  private pending: RecordEvent | undefined;
  private failure: string | undefined;

  /** True once the stream is known bad; further input is ignored, a caller may stop reading. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Consume the next bytes of the stream. The chunk is not kept. */
  push(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.length && this.failure === undefined) {
      pos = this.payloadLeft > 0 ? this.takePayload(chunk, pos) : this.takeHeader(chunk, pos);
    }
  }

  /** The verdict, once the input has ended. */
  finish(): ZStreamReport {
    if (this.failure === undefined && this.structure.phase !== 'done')
      this.failure = this.cutShort();
    const endpoints = this.structure.endpoints();
    return {
      ok: this.failure === undefined,
      ...(this.failure !== undefined && { reason: this.failure }),
      ...(this.structure.phase !== 'start' && {
        kind: this.structure.compound === undefined ? 'substream' : 'compound',
      }),
      byteswapped: this.littleEndian === false,
      ...endpoints,
      records: this.structure.records,
      bytes: this.offset,
      substreams: this.structure.substreams,
    };
  }

  /** Why a stream that ended early is bad: not a stream at all, or where it was cut. */
  private cutShort(): string {
    const magicEnd = FIELD.beginMagic + 8;
    if (this.recordIndex === 0 && this.headerFill >= magicEnd) {
      if (record.detectByteOrder(this.view) === undefined)
        return 'bad magic: not a ZFS send stream';
    }
    const inside = this.headerFill > 0 || this.payloadLeft > 0;
    const where = inside
      ? `inside record ${this.recordIndex + (this.headerFill > 0 ? 1 : 0)}`
      : 'no final END';
    return `truncated at byte ${this.offset} (${this.offset === 0 ? 'empty stream' : where})`;
  }

  private takeHeader(chunk: Uint8Array, pos: number): number {
    if (this.structure.phase === 'done') {
      this.failure = `trailing data after the end of the stream at byte ${this.offset}`;
      return chunk.length;
    }
    const n = Math.min(RECORD_SIZE - this.headerFill, chunk.length - pos);
    this.header.set(chunk.subarray(pos, pos + n), this.headerFill);
    this.headerFill += n;
    this.offset += n;
    if (this.headerFill === RECORD_SIZE) {
      this.headerFill = 0;
      this.failure = this.readRecord();
    }
    return pos + n;
  }

  /** Verify a complete header and set up its payload; an error reason, or undefined. */
  private readRecord(): string | undefined {
    const index = ++this.recordIndex;
    const at = (): string => `record ${index} at byte ${this.offset - RECORD_SIZE}`;
    const le = (this.littleEndian ??= record.detectByteOrder(this.view));
    if (le === undefined) return 'bad magic: not a ZFS send stream';
    const type = record.recordType(this.view, le);
    if (type === DRR_BEGIN) {
      if (record.detectByteOrder(this.view) !== le) return `bad magic in ${at()}`;
      this.sum.reset();
    }
    if (type === DRR_END && !this.sum.matches(this.view, FIELD.endChecksum, le)) {
      return `checksum mismatch in ${at()} (END)`;
    }
    this.fold(this.header, 0, CHECKSUM_OFFSET);
    const hasChecksum = type !== DRR_BEGIN && !record.isZeroChecksum(this.view, CHECKSUM_OFFSET);
    if (hasChecksum && !this.sum.matches(this.view, CHECKSUM_OFFSET, le)) {
      return `checksum mismatch in ${at()}`;
    }
    if (type === DRR_END && !hasChecksum && !record.isBlankEnd(this.view)) {
      return `corrupt END in ${at()}: stray bytes where it carries no checksum`;
    }
    this.fold(this.header, CHECKSUM_OFFSET, RECORD_SIZE);
    const size = record.payloadSize(this.view, type, le);
    if (size > MAX_PAYLOAD) return `${at()} claims a payload of ${size} bytes (over 16 MiB)`;
    this.pending = {
      type,
      index,
      offset: this.offset - RECORD_SIZE,
      length: RECORD_SIZE + size,
      ...(type === DRR_BEGIN && { begin: record.readBegin(this.view, le) }),
      ...(type === DRR_END && { endToGuid: record.endToGuid(this.view, le) }),
    };
    if (type === DRR_END) this.sum.reset();
    this.payloadLeft = size;
    return size === 0 ? this.completeRecord() : undefined;
  }

  private takePayload(chunk: Uint8Array, pos: number): number {
    const end = pos + Math.min(this.payloadLeft, chunk.length - pos);
    let p = pos;
    if (this.carryFill > 0) {
      while (this.carryFill < 4 && p < end) this.carry[this.carryFill++] = chunk[p++] as number;
      if (this.carryFill === 4) {
        this.fold(this.carry, 0, 4);
        this.carryFill = 0;
      }
    }
    const whole = end - p - ((end - p) % 4);
    this.fold(chunk, p, p + whole);
    for (p += whole; p < end;) this.carry[this.carryFill++] = chunk[p++] as number;
    this.payloadLeft -= end - pos;
    this.offset += end - pos;
    if (this.payloadLeft === 0) {
      this.carryFill = 0; // the payload's last partial word is not checksummed
      this.failure = this.completeRecord();
    }
    return end;
  }

  private completeRecord(): string | undefined {
    const event = this.pending as RecordEvent;
    this.pending = undefined;
    return this.structure.onRecord(event);
  }

  /** Fold `bytes[start..end)` (a multiple of 4 long) into the checksum as 32-bit words. */
  private fold(bytes: Uint8Array, start: number, end: number): void {
    const swap = this.littleEndian !== HOST_LITTLE_ENDIAN;
    const at = bytes.byteOffset + start;
    if (!swap && at % 4 === 0) {
      const words = new Uint32Array(bytes.buffer, at, (end - start) / 4);
      this.sum.updateWords(words, 0, words.length);
      return;
    }
    for (let s = start; s < end; s += SCRATCH_BYTES) {
      const e = Math.min(s + SCRATCH_BYTES, end);
      const piece = Buffer.from(this.scratch.buffer, 0, e - s);
      piece.set(bytes.subarray(s, e));
      if (swap) piece.swap32();
      this.sum.updateWords(new Uint32Array(this.scratch.buffer, 0, (e - s) / 4), 0, (e - s) / 4);
    }
  }
}

/** Parse a whole stream from an async source; stops reading at the first error. */
export async function parseZStream(source: AsyncIterable<Uint8Array>): Promise<ZStreamReport> {
  const parser = new ZStreamParser();
  for await (const chunk of source) {
    parser.push(chunk);
    if (parser.failed) break;
  }
  return parser.finish();
}
