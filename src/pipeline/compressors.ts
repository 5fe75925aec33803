/**
 * The compressor table (spec 6.5): what each COMPRESSOR name runs to compress a backup and what
 * restore runs to decompress an object whose `compressor` metadata names it. `pigz1`, `pigz4`,
 * `gpg` and `none` are a data-compatibility contract with the original z3; the others are new
 * names (an older z3 would not know them, which is why they are new names and not new meanings).
 */
import { COMPRESSOR_NAMES, type CompressorName } from '../config/types.js';
import { IntegrityError, UsageError } from '../errors.js';
import type { StageSpec } from './types.js';

interface CompressorEntry {
  compress: (options: CompressorOptions) => string[];
  decompress: string[];
}

export interface CompressorOptions {
  /** GPG_RECIPIENT: the key `gpg` encrypts to (only the `gpg` compressor uses it). */
  gpgRecipient: string;
}

/**
 * `none` is absent: it means no stage at all, and no `compressor` metadata.
 *
 * gpg: the original ran plain `gpg -e -r <recipient>` / `gpg -d`. Backups run from cron, with no
 * terminal: `--batch` makes gpg fail instead of waiting for an answer nobody can give, and
 * `--trust-model always` encrypts to the configured recipient even when its key was imported
 * without being signed (otherwise batch mode refuses with "There is no assurance this key
 * belongs to the named user"). The bytes are the same OpenPGP message either way, so objects
 * written by the original decrypt here and vice versa. Decryption with a passphrase-protected
 * key still asks through gpg-agent's pinentry.
 */
const TABLE: Readonly<Record<Exclude<CompressorName, 'none'>, CompressorEntry>> = {
  pigz1: { compress: () => ['pigz', '-1', '--blocksize', '4096'], decompress: ['pigz', '-d'] },
  pigz4: { compress: () => ['pigz', '-4', '--blocksize', '4096'], decompress: ['pigz', '-d'] },
  gpg: {
    compress: ({ gpgRecipient }) => [
      'gpg',
      '--batch',
      '--trust-model',
      'always',
      '-e',
      '-r',
      gpgRecipient,
    ],
    decompress: ['gpg', '--batch', '-d'],
  },
  zstd: {
    compress: () => ['zstd', '-3', '-T0', '-q', '-c'],
    decompress: ['zstd', '-d', '-q', '-c'],
  },
  lz4: { compress: () => ['lz4', '-q', '-c'], decompress: ['lz4', '-d', '-q', '-c'] },
  xz: { compress: () => ['xz', '-T0', '-3', '-c'], decompress: ['xz', '-d', '-T0', '-c'] },
};

/** True for the names of spec 6.5 plus the new ones (`zstd`, `lz4`, `xz`). */
export function isCompressorName(name: string): name is CompressorName {
  return (COMPRESSOR_NAMES as readonly string[]).includes(name);
}

/**
 * The stage that compresses a backup with `name` (COMPRESSOR), or undefined for `none`.
 * Throws a UsageError for an unknown name: the original silently skipped compression.
 */
export function compressorStage(name: string, options: CompressorOptions): StageSpec | undefined {
  if (!isCompressorName(name)) {
    throw new UsageError(`COMPRESSOR: unknown compressor '${name}'`, {
      hint: `use one of ${COMPRESSOR_NAMES.join(', ')}`,
    });
  }
  if (name === 'none') return undefined;
  return { argv: TABLE[name].compress(options), label: `compressor ${name}` };
}

/**
 * The stage that decompresses an object whose `compressor` metadata is `name`; undefined for
 * absent metadata or `none`. An unknown name is an IntegrityError naming the object: the object
 * was written by something this version does not understand, and receiving it raw would fail
 * (or worse) in `zfs receive`.
 */
export function decompressorStage(
  name: string | undefined,
  objectKey: string,
): StageSpec | undefined {
  if (name === undefined) return undefined;
  if (!isCompressorName(name)) {
    throw new IntegrityError(`object ${objectKey} has unknown compressor '${name}'`, {
      hint: `this z3 knows ${COMPRESSOR_NAMES.join(', ')}; a newer z3 may know '${name}'`,
    });
  }
  if (name === 'none') return undefined;
  return { argv: [...TABLE[name].decompress], label: `decompressor for ${name}` };
}

// Kept here for the commands that import it with the compressor table; it lives in programs.ts.
export { checkProgramsAvailable } from './programs.js';
