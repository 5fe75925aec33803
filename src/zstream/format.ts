/**
 * The on-the-wire layout of a ZFS send stream, as OpenZFS 2.1 writes it (and 2.2 to 2.4 still do:
 * the record struct is unchanged, only the feature-flag field grew from 30 to 56 bits).
 *
 * Sources (openzfs/zfs): `include/sys/zfs_ioctl.h` (dmu_replay_record_t, the feature flags,
 * DMU_BACKUP_MAGIC, DRR_*_PAYLOAD_SIZE), `cmd/zstream/zstream_dump.c` (how records are walked),
 * `module/zfs/dmu_send.c` dump_record() and `module/zfs/dmu_recv.c`
 * receive_read_payload_and_next_header() (the running checksum), `lib/libzfs/libzfs_sendrecv.c`
 * (the compound stream of `-R`, `-p`, `-I`: send_prelim_records(), send_conclusion_record(),
 * zfs_receive_package()).
 *
 * Every record is a fixed 312-byte dmu_replay_record_t: drr_type (u32), drr_payloadlen (u32), then
 * a union of per-type bodies; the last 32 bytes of the union are drr_checksum, the running
 * Fletcher-4 of the stream up to (not including) that field. A record may be followed by a
 * payload whose length depends on its type. Fields are in the sender's byte order; a stream whose
 * magic reads byte-swapped came from a machine of the other endianness.
 */

/** sizeof (dmu_replay_record_t): 8 bytes of type and payload length, a 304-byte union. */
export const RECORD_SIZE = 312;
/** offsetof (dmu_replay_record_t, drr_u.drr_checksum.drr_checksum): 8 + 34 × 8. */
export const CHECKSUM_OFFSET = 280;
/** DMU_BACKUP_MAGIC in drr_begin.drr_magic. */
export const BACKUP_MAGIC = 0x2f5bacbacn;
/** The same magic as read from a stream written on a machine of the other endianness. */
export const BACKUP_MAGIC_SWAPPED = 0xaccbbaf502000000n;
/** SPA_MAXBLOCKSIZE (16 MiB): no payload is larger (dmu_recv.c asserts it). */
export const MAX_PAYLOAD = 16 * 1024 * 1024;

/** enum drr_type, in zfs_ioctl.h order. */
export const RECORD_TYPES = [
  'BEGIN',
  'OBJECT',
  'FREEOBJECTS',
  'WRITE',
  'FREE',
  'END',
  'WRITE_BYREF',
  'SPILL',
  'WRITE_EMBEDDED',
  'OBJECT_RANGE',
  'REDACT',
] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

export const DRR_BEGIN = 0;
export const DRR_OBJECT = 1;
export const DRR_WRITE = 3;
export const DRR_END = 5;
export const DRR_SPILL = 7;
export const DRR_WRITE_EMBEDDED = 8;

/** drr_headertype_t in the low two bits of drr_versioninfo (DMU_GET_STREAM_HDRTYPE). */
export const HDRTYPE_SUBSTREAM = 1;
/** A compound stream (`-R`, `-p`, `-I`): a header, substreams, a final END. */
export const HDRTYPE_COMPOUND = 2;

/** Byte offsets of the fields the parser reads, from the start of the record. */
export const FIELD = {
  payloadLen: 4,
  beginMagic: 8,
  beginVersionInfo: 16,
  beginCreationTime: 24,
  beginToGuid: 40,
  beginFromGuid: 48,
  beginToName: 56,
  /** drr_end.drr_checksum: the checksum of the substream before this record. */
  endChecksum: 8,
  endToGuid: 40,
  objectBonusLen: 28,
  objectRawBonusLen: 36,
  writeLogicalSize: 32,
  writeCompressionType: 50,
  writeCompressedSize: 96,
  spillLength: 16,
  spillCompressedSize: 40,
  embeddedPsize: 52,
} as const;
/** MAXNAMELEN: drr_toname is a NUL-padded 256-byte array. */
export const TONAME_LENGTH = 256;

/** The feature flags (DMU_BACKUP_FEATURE_*) a reader may meet, by bit. */
export const FEATURE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'dedup'],
  [1, 'dedupprops'],
  [2, 'sa_spill'],
  [16, 'embed_data'],
  [17, 'lz4'],
  [19, 'large_blocks'],
  [20, 'resuming'],
  [21, 'redacted'],
  [22, 'compressed'],
  [23, 'large_dnode'],
  [24, 'raw'],
  [25, 'zstd'],
  [26, 'holds'],
  [27, 'switch_to_large_blocks'],
  [28, 'longname'],
  [29, 'large_microzap'],
]);
