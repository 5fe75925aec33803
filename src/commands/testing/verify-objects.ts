/**
 * Backups for `z3 verify`'s tests made from the real OpenZFS 2.1 streams of test/fixtures/zstream
 * (full.zstream.gz is `zverify/plain@s1`; incremental.zstream.gz is `@s1 → @s2` on top of it;
 * compressed-c.zstream.gz another full, of another dataset), stored on the memory backend with
 * the metadata `z3 backup` writes, compressed by the real program the metadata names.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { buildBackupMetadata } from '../../plan/remote.js';
import type { MemBackend } from '../../storage/mem/backend.js';

const DIR = new URL('../../../test/fixtures/zstream/', import.meta.url);

/** The raw (uncompressed) send stream of a fixture, e.g. `full`. */
export function fixtureStream(name: 'full' | 'incremental' | 'compressed-c'): Buffer {
  return gunzipSync(readFileSync(new URL(`${name}.zstream.gz`, DIR)));
}

/** The guids zfs reported for the fixtures (test/fixtures/zstream/expected.json). */
export const FIXTURE_GUIDS = {
  full: '6916873783180119053',
  'compressed-c': '3078420670193476543',
} as const;

/** `bytes` compressed as COMPRESSOR `compressor` would (`none`: as is). */
export function compressAs(compressor: 'none' | 'pigz1', bytes: Buffer): Buffer {
  if (compressor === 'none') return bytes;
  return execFileSync('pigz', ['-1', '--blocksize', '4096'], { input: bytes, maxBuffer: 1 << 28 });
}

/** Put one backup of `tank/data@<snapshot>` under `z3-backup/`, as `z3 backup` would. */
export function putBackup(
  mem: MemBackend,
  input: {
    snapshot: string;
    stream: Buffer;
    compressor: 'none' | 'pigz1';
    parent?: string | undefined;
  },
): string {
  const key = `z3-backup/tank/data@${input.snapshot}`;
  const metadata = buildBackupMetadata({
    size: input.stream.byteLength,
    parent: input.parent === undefined ? undefined : `tank/data@${input.parent}`,
    compressor: input.compressor,
  });
  mem.seed(key, compressAs(input.compressor, input.stream), metadata);
  return key;
}
