/**
 * The S3 side of the snapshot model (spec 4.2–4.3): key layout, prefix normalisation, parsing a
 * listing into remote snapshots and the metadata a backup writes. This is the compatibility
 * contract with buckets written by the Python z3: change nothing here without reading spec 0.
 */
import type { ObjectInfo } from '../storage/backend.js';
import { layoutToCheck } from './segments.js';
import type { RemoteSnapshot } from './types.js';

/**
 * Normalise S3_PREFIX: strip every trailing `/`, then append exactly one (`z3-backup` and
 * `z3-backup/` name the same place). Idempotent.
 *
 * Deliberate difference from the original: an empty prefix gives `''`, i.e. keys at the bucket
 * root (`pool/fs@snap`), where the original produced `/` and keys like `/pool/fs@snap` (spec
 * 13.8). Those buckets stay reachable: a prefix of only slashes (`/`) gives `/`, the original's
 * empty prefix (it normalised `/` the same way), so its keys begin with `/` as they did.
 */
export function normalizePrefix(prefix: string): string {
  if (prefix === '') return '';
  return `${prefix.replace(/\/+$/, '')}/`;
}

/** The object key of snapshot `<dataset>@<snapshot>`: `<prefix>/<dataset>@<snapshot>`. `prefix` may be raw or normalised. */
export function snapshotKey(prefix: string, fullName: string): string {
  return `${normalizePrefix(prefix)}${fullName}`;
}

/**
 * The listing prefix selecting one dataset's backups whose snapshot part starts with
 * `snapshotPrefix`: `<prefix>/<dataset>@<snapshotPrefix>`. The `@` keeps `pool/fs2` out of a
 * listing for `pool/fs`. `prefix` may be raw or normalised.
 */
export function listingPrefix(prefix: string, filesystem: string, snapshotPrefix: string): string {
  return `${normalizePrefix(prefix)}${filesystem}@${snapshotPrefix}`;
}

/**
 * Turn listed-and-HEADed objects into remote snapshots, in input order. Name = key minus the
 * prefix; objects outside the prefix, and names without `@` (not a snapshot key), are skipped
 * rather than failing the whole listing. Metadata keys are expected lower-case (as
 * `ObjectInfo.metadata` promises).
 */
export function parseRemoteSnapshots(
  prefix: string,
  objects: readonly ObjectInfo[],
): RemoteSnapshot[] {
  const normalized = normalizePrefix(prefix);
  const snapshots: RemoteSnapshot[] = [];
  for (const object of objects) {
    if (!object.key.startsWith(normalized)) continue;
    const name = object.key.slice(normalized.length);
    if (!name.includes('@')) continue;
    const meta = object.metadata;
    snapshots.push({
      name,
      key: object.key,
      // Legacy `is_full`; Ceph RGW hands it back as `is-full` (it rewrites `_` in header names).
      isFull: meta['isfull'] === 'true' || meta['is_full'] === 'true' || meta['is-full'] === 'true',
      parent: meta['parent'],
      compressor: meta['compressor'],
      size: parseSize(meta['size']),
      objectSize: object.size,
      etag: object.etag,
      creation: meta['creation'],
      guid: meta['guid'],
      sendFlags: meta['sendflags'],
      lastModified: object.lastModified,
      storageClass: object.storageClass,
      segmentLayout: layoutToCheck(meta, object.size),
    });
  }
  return snapshots;
}

/** A non-negative decimal number of bytes; anything else (absent, `abc`, `-1`, `1e3`) is unknown. */
function parseSize(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  return /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : undefined;
}

/** What a backup knows about the object it is about to write. */
export interface BackupMetadataInput {
  /** Estimated uncompressed stream size in bytes (`zfs send -nvP`). */
  size: number;
  /** Full name of the incremental's base; undefined for a full backup. */
  parent?: string | undefined;
  /** Compressor name; `none` records nothing. */
  compressor: string;
  /** The snapshot's `creation`, seconds since the epoch; undefined records nothing. */
  creation?: number | undefined;
  /** The snapshot's guid in decimal; undefined records nothing. */
  guid?: string | undefined;
  /** The `zfs send` flags as letters (`formatSendFlags`); undefined or `''` records nothing. */
  sendFlags?: string | undefined;
}

/**
 * The user metadata of a backup object: spec 4.3 exactly (`size`; `isfull=true` for a full
 * backup or `parent=<dataset@snap>` for an incremental; `compressor` unless it is `none`), plus
 * keys of our own that Python z3 ignores (spec 0 allows new keys): `creation`, the time of the
 * snapshot for retention (src/plan/backup-time.ts); `guid`, which the snapshot's stream names,
 * so a chain can be checked against the local snapshots; and `sendflags` (`wcLep` letters of `zfs
 * send`, only when there are any), which an incremental must match (src/plan/send-flags.ts).
 */
export function buildBackupMetadata(input: BackupMetadataInput): Record<string, string> {
  const metadata: Record<string, string> = { size: String(input.size) };
  if (input.parent === undefined) metadata['isfull'] = 'true';
  else metadata['parent'] = input.parent;
  if (input.compressor !== 'none') metadata['compressor'] = input.compressor;
  if (input.creation !== undefined) metadata['creation'] = String(input.creation);
  if (input.guid !== undefined) metadata['guid'] = input.guid;
  if (input.sendFlags !== undefined && input.sendFlags !== '') {
    metadata['sendflags'] = input.sendFlags;
  }
  return metadata;
}
