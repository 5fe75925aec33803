/**
 * Builds ZFS send streams byte by byte for tests, the way the writers in OpenZFS do
 * (module/zfs/dmu_send.c dump_record for kernel records; lib/libzfs/libzfs_sendrecv.c
 * send_prelim_records and send_conclusion_record for the compound header and the final END),
 * with checksums from the independent BigInt Fletcher-4, so the parser is checked against
 * arithmetic it did not do itself.
 */
import { CHECKSUM_OFFSET, FIELD, RECORD_SIZE, RECORD_TYPES, type RecordType } from '../format.js';
import { ReferenceFletcher4 } from './reference-fletcher4.js';

export interface WriterOptions {
  /** Byte order of the stream (default true); false writes what a big-endian sender writes. */
  littleEndian?: boolean;
  /** Fill in each record's drr_checksum (default true); false as streams before OpenZFS 0.7. */
  recordChecksums?: boolean;
}

export interface BeginFields {
  toguid: bigint;
  fromguid?: bigint;
  toname: string;
  /** 1 substream (default), 2 compound. */
  headerType?: number;
  featureFlags?: number;
  /** A payload (a compound header's nvlist, a raw send's crypt keydata). */
  payload?: Uint8Array;
}

/** Where each record landed, for tests that cut or flip at boundaries. */
export interface WrittenRecord {
  /** The record type's name, or its number when unknown. */
  type: RecordType | number;
  offset: number;
  /** Header plus payload. */
  length: number;
}

/** Appends records; `toBytes()` gives the stream. Methods chain. */
export class StreamWriter {
  readonly written: WrittenRecord[] = [];
  private readonly chunks: Uint8Array[] = [];
  private readonly sum = new ReferenceFletcher4();
  private readonly le: boolean;
  private readonly recordChecksums: boolean;
  private length = 0;
  private seed = 1;

  constructor(options: WriterOptions = {}) {
    this.le = options.littleEndian ?? true;
    this.recordChecksums = options.recordChecksums ?? true;
  }

  begin(f: BeginFields): this {
    this.sum.reset();
    const versionInfo = (BigInt(f.featureFlags ?? 0) << 2n) | BigInt(f.headerType ?? 1);
    return this.record('BEGIN', f.payload ?? new Uint8Array(0), (v) => {
      v.setUint32(FIELD.payloadLen, f.payload?.length ?? 0, this.le);
      v.setBigUint64(FIELD.beginMagic, 0x2f5bacbacn, this.le);
      v.setBigUint64(FIELD.beginVersionInfo, versionInfo, this.le);
      v.setBigUint64(FIELD.beginCreationTime, 1_700_000_000n, this.le);
      v.setUint32(32, 2, this.le); // drr_type: DMU_OST_ZFS
      v.setBigUint64(FIELD.beginToGuid, f.toguid, this.le);
      v.setBigUint64(FIELD.beginFromGuid, f.fromguid ?? 0n, this.le);
      new Uint8Array(v.buffer).set(Buffer.from(f.toname), FIELD.beginToName);
    });
  }

  /** DRR_OBJECT with a bonus buffer (payload rounded to 8) or a raw bonus (payload as is). */
  object(o: { bonusLen: number; rawBonusLen?: number }): this {
    const size = o.rawBonusLen || Math.ceil(o.bonusLen / 8) * 8;
    return this.record('OBJECT', this.data(size), (v) => {
      v.setBigUint64(8, 7n, this.le);
      v.setUint32(FIELD.objectBonusLen, o.bonusLen, this.le);
      v.setUint32(FIELD.objectRawBonusLen, o.rawBonusLen ?? 0, this.le);
    });
  }

  /** DRR_WRITE; with `compressedSize` the block travels compressed (-c, -w). */
  write(w: { logicalSize: number; compressedSize?: number; payload?: Uint8Array }): this {
    const size = w.compressedSize ?? w.logicalSize;
    return this.record('WRITE', w.payload ?? this.data(size), (v) => {
      v.setBigUint64(FIELD.writeLogicalSize, BigInt(w.logicalSize), this.le);
      if (w.compressedSize === undefined) return;
      v.setUint8(FIELD.writeCompressionType, 15); // ZIO_COMPRESS_LZ4
      v.setBigUint64(FIELD.writeCompressedSize, BigInt(w.compressedSize), this.le);
    });
  }

  /** DRR_WRITE_EMBEDDED: the payload is psize rounded up to 8. */
  writeEmbedded(psize: number): this {
    return this.record('WRITE_EMBEDDED', this.data(Math.ceil(psize / 8) * 8), (v) => {
      v.setUint32(48, 112, this.le);
      v.setUint32(FIELD.embeddedPsize, psize, this.le);
    });
  }

  /** DRR_SPILL: compressed_size when set, else length. */
  spill(s: { length: number; compressedSize?: number }): this {
    return this.record('SPILL', this.data(s.compressedSize ?? s.length), (v) => {
      v.setBigUint64(FIELD.spillLength, BigInt(s.length), this.le);
      v.setBigUint64(FIELD.spillCompressedSize, BigInt(s.compressedSize ?? 0), this.le);
    });
  }

  /** A record without payload: FREE, FREEOBJECTS, WRITE_BYREF, OBJECT_RANGE, REDACT. */
  bare(type: 'FREE' | 'FREEOBJECTS' | 'WRITE_BYREF' | 'OBJECT_RANGE' | 'REDACT'): this {
    return this.record(type, new Uint8Array(0), (v) => v.setBigUint64(8, 42n, this.le));
  }

  /** A record of any drr_type number (e.g. one past the known ones). */
  ofType(type: number): this {
    return this.record(type, new Uint8Array(0), () => undefined);
  }

  /** The kernel's END of a substream: the checksum so far and the substream's guid. */
  end(toguid: bigint): this {
    const before = this.sum.bytes(this.le);
    this.record('END', new Uint8Array(0), (v) => {
      new Uint8Array(v.buffer).set(before, FIELD.endChecksum);
      v.setBigUint64(FIELD.endToGuid, toguid, this.le);
    });
    this.sum.reset();
    return this;
  }

  /** The END closing a compound header (send_conclusion_record with a checksum). */
  headerEnd(): this {
    const before = this.sum.bytes(this.le);
    this.raw(new Uint8Array(RECORD_SIZE), (v) => {
      v.setUint32(0, 5, this.le);
      new Uint8Array(v.buffer).set(before, FIELD.endChecksum);
    });
    this.sum.reset();
    return this;
  }

  /** The all-zero END that closes a compound stream (send_conclusion_record(fd, NULL)). */
  finalEnd(): this {
    return this.raw(new Uint8Array(RECORD_SIZE), (v) => v.setUint32(0, 5, this.le));
  }

  toBytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }

  private record(
    type: RecordType | number,
    payload: Uint8Array,
    fill: (v: DataView) => void,
  ): this {
    const header = new Uint8Array(RECORD_SIZE);
    const view = new DataView(header.buffer);
    const typeNumber = typeof type === 'number' ? type : RECORD_TYPES.indexOf(type);
    view.setUint32(0, typeNumber, this.le);
    fill(view);
    this.sum.update(header.subarray(0, CHECKSUM_OFFSET), this.le);
    if (typeNumber !== 0 && this.recordChecksums)
      header.set(this.sum.bytes(this.le), CHECKSUM_OFFSET);
    this.sum.update(header.subarray(CHECKSUM_OFFSET), this.le);
    this.sum.update(payload, this.le);
    this.push(header, payload, typeNumber);
    return this;
  }

  /** A record written as userland writes it: not folded, no drr_checksum. */
  private raw(header: Uint8Array, fill: (v: DataView) => void): this {
    fill(new DataView(header.buffer));
    this.push(header, new Uint8Array(0), 5);
    return this;
  }

  private push(header: Uint8Array, payload: Uint8Array, type: number): void {
    this.written.push({
      type: RECORD_TYPES[type] ?? type,
      offset: this.length,
      length: header.length + payload.length,
    });
    this.chunks.push(header, payload);
    this.length += header.length + payload.length;
  }

  /** Deterministic bytes that differ from record to record. */
  private data(size: number): Uint8Array {
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      this.seed = (this.seed * 1103515245 + 12345) % 2147483648;
      out[i] = this.seed >>> 16;
    }
    return out;
  }
}
