import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMPRESSOR_NAMES } from '../config/types.js';
import { EXIT, UsageError } from '../errors.js';
import { compressorStage, decompressorStage } from './compressors.js';
import { checkProgramsAvailable, requirePrograms } from './programs.js';
import { packageOf } from './which.js';

const EMPTY = mkdtempSync(join(tmpdir(), 'z3-empty-path-'));

async function rejection(run: () => Promise<void>): Promise<UsageError> {
  const err: unknown = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  expect((err as UsageError).exitCode).toBe(EXIT.USAGE);
  return err as UsageError;
}

/** A directory holding an executable stub for each name. */
function binDir(...names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'z3-bin-'));
  for (const name of names) {
    writeFileSync(join(dir, name), '#!/bin/sh\n');
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

describe('requirePrograms', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each([
    ['zfs', 'zfsutils-linux'],
    ['pigz', 'pigz'],
    ['zstd', 'zstd'],
    ['lz4', 'lz4'],
    ['xz', 'xz-utils'],
    ['gpg', 'gnupg'],
    ['ssh', 'openssh-client'],
    ['pv', 'pv'],
    ['mbuffer', 'mbuffer'],
  ])('a missing %s: exit 2, and the hint names the package %s', async (program, pkg) => {
    const err = await rejection(() => requirePrograms([[program]], { path: EMPTY }));
    expect(err.message).toBe(`'${program}' is not installed`);
    expect(err.hint).toBe(`install it, e.g. apt-get install ${pkg}`);
  });

  it('searches the PATH children inherit by default', async () => {
    vi.stubEnv('PATH', EMPTY);
    const err = await rejection(() => requirePrograms([['zfs', 'list']]));
    expect(err.message).toBe("'zfs' is not installed");
    vi.stubEnv('PATH', binDir('zfs'));
    await expect(requirePrograms([['zfs', 'list']])).resolves.toBeUndefined();
  });

  it('names every missing program once, with one install line', async () => {
    const argvs = [['zfs'], ['pigz', '-1'], ['ssh'], ['pigz', '-d'], ['z3-frob'], ['sh']];
    const err = await rejection(() => requirePrograms(argvs, { path: binDir('ssh', 'sh') }));
    expect(err.message).toBe("not installed: 'zfs', 'pigz', 'z3-frob'");
    expect(err.hint).toBe("apt-get install zfsutils-linux pigz; put 'z3-frob' on PATH");
  });

  it('resolves when every program is installed', async () => {
    await expect(
      requirePrograms([['zfs'], ['pigz', '-d']], { path: binDir('zfs', 'pigz') }),
    ).resolves.toBeUndefined();
  });
});

describe('checkProgramsAvailable', () => {
  it('names the stage that needs the program', async () => {
    const stage = compressorStage('pigz1', { gpgRecipient: 'x' });
    const err = await rejection(() => checkProgramsAvailable([stage!], { path: EMPTY }));
    expect(err.message).toBe("compressor pigz1 needs 'pigz', which is not installed");
    expect(err.hint).toBe('install it, e.g. apt-get install pigz');
  });

  it("takes a stage's own PATH over the default", async () => {
    const stage = { argv: ['zstd', '-d'], env: { PATH: binDir('zstd') } };
    await expect(checkProgramsAvailable([stage], { path: EMPTY })).resolves.toBeUndefined();
  });

  it('knows the package of every compressor and decompressor program', () => {
    for (const name of COMPRESSOR_NAMES.filter((n) => n !== 'none')) {
      const stages = [compressorStage(name, { gpgRecipient: 'x' }), decompressorStage(name, 'k')];
      for (const stage of stages) expect(packageOf(stage?.argv[0] ?? ''), name).toBeDefined();
    }
  });
});
