/**
 * Ready-made test streams: the shapes `zfs send` produces, built with StreamWriter.
 */
import { ZStreamParser, type ZStreamReport } from '../parse.js';
import { StreamWriter, type WriterOptions } from './stream-writer.js';

/** Parse `bytes` fed in chunks of `size` bytes. */
export function parseInChunks(bytes: Uint8Array, size: number): ZStreamReport {
  const parser = new ZStreamParser();
  for (let i = 0; i < bytes.length; i += size) parser.push(bytes.subarray(i, i + size));
  return parser.finish();
}

export const GUID_A = 0x1111222233334444n;
export const GUID_B = 0xf714ad001e22e69an; // above 2^63: guids are unsigned
export const GUID_CHILD = 0xbfa19abf94b0d05an;

/** The records of one dataset's substream, every record type with a payload among them. */
export function substream(
  w: StreamWriter,
  s: { toname: string; toguid: bigint; fromguid?: bigint },
): StreamWriter {
  return w
    .begin({ ...s, featureFlags: 4 })
    .bare('FREEOBJECTS')
    .object({ bonusLen: 168 })
    .object({ bonusLen: 13 })
    .write({ logicalSize: 4096 })
    .write({ logicalSize: 131072, compressedSize: 2048 })
    .writeEmbedded(45)
    .spill({ length: 512 })
    .spill({ length: 4096, compressedSize: 1024 })
    .bare('FREE')
    .bare('WRITE_BYREF')
    .bare('REDACT')
    .end(s.toguid);
}

/** A plain full (or, with `fromguid`, incremental) stream. */
export function plainStream(options: WriterOptions & { fromguid?: bigint } = {}): StreamWriter {
  const s = { toname: 'tank/data@snap2', toguid: GUID_B };
  return substream(
    new StreamWriter(options),
    options.fromguid ? { ...s, fromguid: options.fromguid } : s,
  );
}

/** What `zfs send -w` writes: crypt keydata in BEGIN, raw bonus buffers and sizes of any length. */
export function rawStream(options: WriterOptions = {}): StreamWriter {
  return new StreamWriter(options)
    .begin({
      toname: 'tank/enc@s1',
      toguid: GUID_A,
      featureFlags: 1 << 24,
      payload: new Uint8Array(1028).fill(7),
    })
    .bare('OBJECT_RANGE')
    .object({ bonusLen: 168, rawBonusLen: 333 })
    .write({ logicalSize: 131072, compressedSize: 1001 })
    .write({ logicalSize: 512, compressedSize: 6 })
    .end(GUID_A);
}

/** What `zfs send -R` writes for a dataset with one child. */
export function replicationStream(options: WriterOptions = {}): StreamWriter {
  const w = new StreamWriter(options).begin({
    toname: 'tank/parent@r1',
    toguid: 0n,
    headerType: 2,
    payload: new Uint8Array(804).fill(3),
  });
  w.headerEnd();
  substream(w, { toname: 'tank/parent@r1', toguid: GUID_B });
  substream(w, { toname: 'tank/parent/child@r1', toguid: GUID_CHILD });
  return w.finalEnd();
}
