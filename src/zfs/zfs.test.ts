import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CommandFailedError, UsageError } from '../errors.js';
import { runCommand, type CommandRunner } from '../pipeline/run-command.js';
import { StageFailedError } from '../pipeline/stage-error.js';
import { datasetExists, estimateSendSize, listSnapshots, sendEstimateArgv } from './zfs.js';
import { injected } from '../testing/faults.js';

// A fake `zfs` (test/fixtures/zfs-shim/zfs) replays canned output and records its argv.
const SHIM_BIN = fileURLToPath(new URL('../../test/fixtures/zfs-shim', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'z3-zfs-shim-'));
const env = { PATH: `${SHIM_BIN}:${process.env['PATH'] ?? ''}`, ZFS_SHIM_DIR: dir };
const run: CommandRunner = (argv, options) => runCommand(argv, { ...options, env });

function respond(reply: { stdout?: string; stderr?: string; exit?: number }): void {
  for (const name of ['stdout', 'stderr', 'exit'] as const)
    rmSync(join(dir, name), { force: true });
  if (reply.stdout !== undefined) writeFileSync(join(dir, 'stdout'), reply.stdout);
  if (reply.stderr !== undefined) writeFileSync(join(dir, 'stderr'), reply.stderr);
  if (reply.exit !== undefined) writeFileSync(join(dir, 'exit'), String(reply.exit));
}

const lastArgv = (): string[] => readFileSync(join(dir, 'argv'), 'utf8').split('\0').slice(0, -1);

describe('listSnapshots', () => {
  it('lists the snapshots of exactly the dataset, oldest first', async () => {
    respond({ stdout: 'tank/my data@a\t10\t0\t4096\ntank/my data@b b\t20\t512\t8192\n' });
    expect(await listSnapshots('tank/my data', { run })).toEqual([
      { name: 'tank/my data@a', createtxg: 10, used: 0, referenced: 4096 },
      { name: 'tank/my data@b b', createtxg: 20, used: 512, referenced: 8192 },
    ]);
    expect(lastArgv()).toEqual([
      'list',
      '-H',
      '-p',
      '-t',
      'snapshot',
      '-o',
      'name,createtxg,used,referenced',
      '-s',
      'createtxg',
      '-d',
      '1',
      'tank/my data',
    ]);
  });

  it('drops lines of other datasets', async () => {
    respond({ stdout: 'tank/fs@a\t1\t0\t1\ntank/fs/child@a\t2\t0\t1\ntank/fs2@a\t3\t0\t1\n' });
    expect((await listSnapshots('tank/fs', { run })).map((s) => s.name)).toEqual(['tank/fs@a']);
  });

  it('a missing dataset is a UsageError saying so', { tags: ['faults'] }, async () => {
    respond({ stderr: "cannot open 'tank/nope': dataset does not exist\n", exit: 1 });
    const err = await listSnapshots('tank/nope', { run }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toBe("dataset 'tank/nope' does not exist");
    expect((err as UsageError).cause).toBeInstanceOf(StageFailedError);
    injected('bad input');
  });

  it('any other failure is the command failure', { tags: ['faults'] }, async () => {
    respond({
      stderr:
        'The ZFS modules are not loaded.\nTry running /sbin/modprobe zfs as root to load them.\n',
      exit: 1,
    });
    await expect(listSnapshots('tank/fs', { run })).rejects.toThrow(
      /^zfs list .* exited with code 1: The ZFS modules are not loaded\.; Try running/,
    );
    injected('stage death');
  });
});

describe('datasetExists', () => {
  it('true when zfs list finds it, false when it does not exist', async () => {
    respond({ stdout: 'tank/fs\n' });
    expect(await datasetExists('tank/fs', { run })).toBe(true);
    expect(lastArgv()).toEqual(['list', '-H', '-o', 'name', 'tank/fs']);
    respond({ stderr: "cannot open 'tank/x': dataset does not exist\n", exit: 1 });
    expect(await datasetExists('tank/x', { run })).toBe(false);
  });

  it('throws on other failures', { tags: ['faults'] }, async () => {
    respond({ stderr: 'permission denied\n', exit: 2 });
    await expect(datasetExists('tank/fs', { run })).rejects.toThrow(CommandFailedError);
    injected('stage death');
  });
});

describe('estimateSendSize', () => {
  it('reads the estimate from stdout (OpenZFS 2.x dry run)', async () => {
    respond({ stdout: 'incremental\ttank/fs@a\ttank/fs@b\t46736\nsize\t46736\n' });
    const argv = sendEstimateArgv({ snapshot: 'tank/fs@b', incrementalFrom: 'tank/fs@a' });
    expect(await estimateSendSize(argv, { run })).toBe(46736);
    expect(lastArgv()).toEqual(['send', '-nvP', '-i', 'tank/fs@a', 'tank/fs@b']);
  });

  it('or from stderr (older releases)', async () => {
    respond({ stderr: 'full\ttank/fs@a\t3702224\nsize\t3702224\n' });
    expect(await estimateSendSize(sendEstimateArgv({ snapshot: 'tank/fs@a' }), { run })).toBe(
      3702224,
    );
  });

  it('fails clearly without a size line, or when zfs fails', { tags: ['faults'] }, async () => {
    respond({ stdout: 'total estimated size is 3.53M\n' });
    await expect(estimateSendSize(sendEstimateArgv({ snapshot: 't@a' }), { run })).rejects.toThrow(
      'zfs send -nvP t@a printed no size estimate',
    );
    respond({ stderr: "cannot open 't@zz': dataset does not exist\n", exit: 1 });
    await expect(estimateSendSize(sendEstimateArgv({ snapshot: 't@zz' }), { run })).rejects.toThrow(
      StageFailedError,
    );
    injected('corrupt data'); // no size line
    injected('stage death');
  });
});

describe('the zfs program comes from PATH', () => {
  const saved = { PATH: process.env['PATH'], ZFS_SHIM_DIR: process.env['ZFS_SHIM_DIR'] };
  beforeAll(() => {
    process.env['PATH'] = env.PATH;
    process.env['ZFS_SHIM_DIR'] = dir;
  });
  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  afterEach(() => respond({}));

  it('without a custom runner', async () => {
    respond({ stdout: 'tank/fs@a\t1\t0\t1\n' });
    expect(await listSnapshots('tank/fs')).toHaveLength(1);
  });
});
