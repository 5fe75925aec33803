import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { COMPRESSOR_NAMES } from '../config/types.js';
import { EXIT, IntegrityError, UsageError } from '../errors.js';
import {
  checkProgramsAvailable,
  compressorStage,
  decompressorStage,
  isCompressorName,
} from './compressors.js';
import { startPipeline } from './runner.js';
import { injected } from '../testing/faults.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** 3 MiB that compress somewhat: random 1 KiB blocks, each followed by 3 KiB of a pattern. */
function sample(): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < 768; i++) parts.push(randomBytes(1024), Buffer.alloc(3072, i % 251));
  return Buffer.concat(parts);
}

describe('compressor table', () => {
  it('keeps the original commands of pigz1 and pigz4 (spec 6.5)', () => {
    const opts = { gpgRecipient: 'z3_backup' };
    expect(compressorStage('pigz1', opts)?.argv).toEqual(['pigz', '-1', '--blocksize', '4096']);
    expect(compressorStage('pigz4', opts)?.argv).toEqual(['pigz', '-4', '--blocksize', '4096']);
    expect(decompressorStage('pigz1', 'k')?.argv).toEqual(['pigz', '-d']);
    expect(decompressorStage('pigz4', 'k')?.argv).toEqual(['pigz', '-d']);
  });

  it('runs gpg in batch mode, encrypting to the recipient', () => {
    expect(compressorStage('gpg', { gpgRecipient: 'backup key <b@x>' })?.argv).toEqual([
      'gpg',
      '--batch',
      '--trust-model',
      'always',
      '-e',
      '-r',
      'backup key <b@x>',
    ]);
    expect(decompressorStage('gpg', 'k')?.argv).toEqual(['gpg', '--batch', '-d']);
  });

  it('none is no stage; absent metadata is none', () => {
    expect(compressorStage('none', { gpgRecipient: 'x' })).toBeUndefined();
    expect(decompressorStage('none', 'k')).toBeUndefined();
    expect(decompressorStage(undefined, 'k')).toBeUndefined();
  });

  it('labels stages for error messages', () => {
    expect(compressorStage('zstd', { gpgRecipient: 'x' })?.label).toBe('compressor zstd');
    expect(decompressorStage('xz', 'k')?.label).toBe('decompressor for xz');
  });

  it(
    'rejects unknown names: UsageError from config, IntegrityError from metadata',
    { tags: ['faults'] },
    () => {
      expect(isCompressorName('pigz1')).toBe(true);
      expect(isCompressorName('bzip2')).toBe(false);
      expect(() => compressorStage('bzip2', { gpgRecipient: 'x' })).toThrow(UsageError);
      expect(() => compressorStage('bzip2', { gpgRecipient: 'x' })).toThrow(
        "COMPRESSOR: unknown compressor 'bzip2'",
      );
      const err = (() => {
        try {
          decompressorStage('brotli', 'z3-backup/tank/fs@snap');
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(IntegrityError);
      expect((err as IntegrityError).message).toBe(
        "object z3-backup/tank/fs@snap has unknown compressor 'brotli'",
      );
      expect((err as IntegrityError).exitCode).toBe(EXIT.INTEGRITY);
      injected('bad input', 2); // bzip2 in the config, brotli in an object's metadata
    },
  );
});

describe('compressor round trips through the runner', () => {
  const data = sample();
  const names = COMPRESSOR_NAMES.filter((n) => n !== 'gpg' && n !== 'none');

  it.each(names)('%s: compress | decompress gives the same bytes', async (name) => {
    const compress = compressorStage(name, { gpgRecipient: 'unused' });
    const decompress = decompressorStage(name, 'k');
    expect(compress).toBeDefined();
    expect(decompress).toBeDefined();
    await checkProgramsAvailable([compress!, decompress!]);

    const packed = startPipeline({
      stages: [compress!],
      input: Readable.from([data]),
      output: 'pipe',
    });
    const [compressed] = await Promise.all([Readable.from(packed.output!).toArray(), packed.done]);
    const packedBytes = Buffer.concat(compressed as Buffer[]);
    expect(packedBytes.length).toBeLessThan(data.length);

    const unpacked = startPipeline({
      stages: [decompress!],
      input: Readable.from([packedBytes]),
      output: 'pipe',
    });
    const [plain] = await Promise.all([Readable.from(unpacked.output!).toArray(), unpacked.done]);
    expect(sha(Buffer.concat(plain as Buffer[]))).toBe(sha(data));
  });
});
