/**
 * Reading the fields of one 312-byte record header (pure; no state). The payload sizes follow
 * the macros of include/sys/zfs_ioctl.h and the walk of cmd/zstream/zstream_dump.c: only BEGIN,
 * OBJECT, WRITE, SPILL and WRITE_EMBEDDED records carry a payload; drr_payloadlen is meaningful
 * only for BEGIN.
 */
import {
  BACKUP_MAGIC,
  BACKUP_MAGIC_SWAPPED,
  DRR_BEGIN,
  DRR_OBJECT,
  DRR_SPILL,
  DRR_WRITE,
  DRR_WRITE_EMBEDDED,
  FEATURE_NAMES,
  FIELD,
  TONAME_LENGTH,
} from './format.js';

/** What a BEGIN record says about its stream. */
export interface BeginRecord {
  /** DMU_GET_STREAM_HDRTYPE: 1 substream, 2 compound (anything else is invalid). */
  headerType: number;
  /** DMU_GET_FEATUREFLAGS, as a number (the flags use bits 0–29). */
  featureFlags: number;
  /** Names of the set feature flags; unknown bits as `bit N`. */
  features: string[];
  /** The snapshot's guid, decimal as `zfs get -Hp guid` prints it; "0" in a compound header. */
  toguid: string;
  /** The incremental source's guid, decimal; "0" for a full stream. */
  fromguid: string;
  /** drr_toname, e.g. `pool/fs@snap`. */
  toname: string;
  /** drr_creation_time, seconds since the epoch. */
  creationTime: number;
}

/**
 * The byte order of a stream, from its first record's magic: true little-endian, false
 * big-endian, undefined when the magic is neither (not a ZFS send stream).
 */
export function detectByteOrder(header: DataView): boolean | undefined {
  const magic = header.getBigUint64(FIELD.beginMagic, true);
  if (magic === BACKUP_MAGIC) return true;
  if (magic === BACKUP_MAGIC_SWAPPED) return false;
  return undefined;
}

/** The record's drr_type. */
export function recordType(header: DataView, le: boolean): number {
  return header.getUint32(0, le);
}

/** Decode a BEGIN record's body. */
export function readBegin(header: DataView, le: boolean): BeginRecord {
  const versionInfo = header.getBigUint64(FIELD.beginVersionInfo, le);
  const featureFlags = Number((versionInfo >> 2n) & 0xffffffffffffffn);
  const nameBytes = new Uint8Array(header.buffer, header.byteOffset + FIELD.beginToName);
  const nameEnd = nameBytes.subarray(0, TONAME_LENGTH).indexOf(0);
  return {
    headerType: Number(versionInfo & 3n),
    featureFlags,
    features: featureNames(featureFlags),
    toguid: header.getBigUint64(FIELD.beginToGuid, le).toString(),
    fromguid: header.getBigUint64(FIELD.beginFromGuid, le).toString(),
    toname: Buffer.from(nameBytes.subarray(0, nameEnd < 0 ? TONAME_LENGTH : nameEnd)).toString(),
    creationTime: Number(header.getBigUint64(FIELD.beginCreationTime, le)),
  };
}

/** drr_end.drr_toguid, decimal ("0" in the END of a compound header and the final END). */
export function endToGuid(header: DataView, le: boolean): string {
  return header.getBigUint64(FIELD.endToGuid, le).toString();
}

/**
 * The number of payload bytes after this record. Sizes that are 64-bit on the wire come back as
 * a Number that may exceed MAX_PAYLOAD (the caller rejects those) but is never negative.
 */
export function payloadSize(header: DataView, type: number, le: boolean): number {
  switch (type) {
    case DRR_BEGIN:
      return header.getUint32(FIELD.payloadLen, le);
    case DRR_OBJECT: {
      // DRR_OBJECT_PAYLOAD_SIZE: the raw (encrypted) bonus length, else the bonus rounded to 8
      const raw = header.getUint32(FIELD.objectRawBonusLen, le);
      return raw !== 0 ? raw : roundUp8(header.getUint32(FIELD.objectBonusLen, le));
    }
    case DRR_WRITE:
      // DRR_WRITE_PAYLOAD_SIZE: compressed (-c, -w) blocks travel at their compressed size
      return header.getUint8(FIELD.writeCompressionType) !== 0
        ? u64(header, FIELD.writeCompressedSize, le)
        : u64(header, FIELD.writeLogicalSize, le);
    case DRR_SPILL: {
      // DRR_SPILL_PAYLOAD_SIZE
      const compressed = u64(header, FIELD.spillCompressedSize, le);
      return compressed !== 0 ? compressed : u64(header, FIELD.spillLength, le);
    }
    case DRR_WRITE_EMBEDDED:
      return roundUp8(header.getUint32(FIELD.embeddedPsize, le));
    default:
      return 0;
  }
}

/** Whether the 32-byte checksum at `offset` is all zero (a writer that did not fill it in). */
export function isZeroChecksum(header: DataView, offset: number): boolean {
  return isZero(header, offset, offset + 32);
}

/**
 * Whether an END record that carries no drr_checksum of its own is blank where it should be:
 * every writer zeroes a record before filling it (dmu_send.c; send_conclusion_record in
 * libzfs_sendrecv.c), and nothing else checks these bytes, since the running checksum restarts
 * after an END.
 */
export function isBlankEnd(header: DataView): boolean {
  return isZero(header, FIELD.payloadLen, FIELD.endChecksum) && isZero(header, 48, 280);
}

function isZero(header: DataView, start: number, end: number): boolean {
  for (let k = start; k < end; k += 4) if (header.getUint32(k) !== 0) return false;
  return true;
}

/** A u64 field as a Number (exact below 2^53; larger values are far past any valid size). */
function u64(header: DataView, offset: number, le: boolean): number {
  return Number(header.getBigUint64(offset, le));
}

function roundUp8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function featureNames(flags: number): string[] {
  const names: string[] = [];
  for (let bit = 0; bit < 53 && 2 ** bit <= flags; bit++) {
    if (Math.floor(flags / 2 ** bit) % 2 === 1) names.push(FEATURE_NAMES.get(bit) ?? `bit ${bit}`);
  }
  return names;
}
