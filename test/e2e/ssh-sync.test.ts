// z3_ssh_sync end to end: the built CLI on the host, "local" zfs through the shims, the "remote"
// reached by a real ssh to the VM's sshd (root, --no-sudo: the guest has no sudo). Both sides are
// the same VM with different pools, so every byte still crosses a real `zfs send | … | ssh |
// zfs receive` and back.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checksumTree,
  createPool,
  destroyPool,
  guestSsh,
  listSnapshots,
  requireVm,
  runCli,
  shq,
  snapshot,
  vm,
  writeRandomFiles,
  type ProcessResult,
} from './harness.js';
import { injected } from '../../src/testing/faults.js';

const SRC = 'z3syncsrc';
const DST = 'z3syncdst';
/** atime off: reading files to checksum them must not count as modifying a receive target. */
const POOL_PROPS = { atime: 'off' };

let configDir: string;

/** Run z3_ssh_sync against the VM's sshd with an empty config file (no /etc defaults). */
function sync(args: readonly string[]): Promise<ProcessResult> {
  const ssh = guestSsh();
  return runCli(
    'z3_ssh_sync',
    [
      '--config',
      join(configDir, 'z3.conf'),
      '--snapshot-prefix',
      'daily-',
      '--ssh-option',
      ssh.args.join(' '),
      '--no-sudo',
      ...args,
      ssh.destination,
    ],
    { withS3: false },
  );
}

function snapNames(full: string[]): string[] {
  return full.map((n) => n.slice(n.indexOf('@') + 1));
}

/** Exit 0; on failure the assertion shows the CLI's stderr. */
function expectOk(r: ProcessResult): void {
  expect(r.code, r.stderr).toBe(0);
}

describe('z3_ssh_sync', () => {
  let pools = false;
  beforeAll(async () => {
    await requireVm();
    configDir = mkdtempSync(join(tmpdir(), 'z3-ssh-sync-e2e-'));
    writeFileSync(join(configDir, 'z3.conf'), '[main]\n');
    await createPool(SRC, 256, { fsProps: POOL_PROPS });
    await createPool(DST, 256, { fsProps: POOL_PROPS });
    pools = true;
    await vm().shOk(`zfs create ${SRC}/data`);
  });
  afterAll(async () => {
    if (pools) await Promise.all([destroyPool(SRC), destroyPool(DST)]);
    if (configDir !== undefined) rmSync(configDir, { recursive: true, force: true });
  });

  it('--help lists the exit codes', async () => {
    const r = await runCli('z3_ssh_sync', ['--help'], { withS3: false });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Exit codes:[\s\S]*\n {2}3 {4}[\s\S]*\n {2}4 {4}[\s\S]*\n {2}130 /);
    expect(r.stdout).toContain('--no-sudo');
  });

  it('pushes a full stream, then an incremental with intermediates, then has nothing to do', async () => {
    await writeRandomFiles(`${SRC}/data`, 3, 256);
    await snapshot(`${SRC}/data@daily-1`);
    const full = await sync(['--dataset', `${SRC}/data`, '--remote-dataset', `${DST}/data`]);
    expectOk(full);
    expect(snapNames(await listSnapshots(`${DST}/data`))).toEqual(['daily-1']);
    expect(await checksumTree(`/${DST}/data`)).toEqual(await checksumTree(`/${SRC}/data`));

    await writeRandomFiles(`${SRC}/data`, 2, 128, { prefix: 'more-' });
    await snapshot(`${SRC}/data@daily-2`);
    await snapshot(`${SRC}/data@manual-x`);
    await writeRandomFiles(`${SRC}/data`, 1, 512, { prefix: 'big-' });
    await snapshot(`${SRC}/data@daily-3`);
    await vm().shOk(`rm /${SRC}/data/file-1.bin`);
    await snapshot(`${SRC}/data@daily-4`);
    const incremental = await sync([
      '--filesystem',
      `${SRC}/data`,
      '--remote-filesystem',
      `${DST}/data`,
    ]);
    expectOk(incremental);
    // -I: every intermediate snapshot arrives, the one without the prefix too
    expect(snapNames(await listSnapshots(`${DST}/data`))).toEqual([
      'daily-1',
      'daily-2',
      'manual-x',
      'daily-3',
      'daily-4',
    ]);
    expect(await checksumTree(`/${DST}/data`)).toEqual(await checksumTree(`/${SRC}/data`));

    const again = await sync([
      '--dataset',
      `${SRC}/data`,
      '--remote-dataset',
      `${DST}/data`,
      '--quiet',
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('');
    const loud = await sync(['--dataset', `${SRC}/data`, '--remote-dataset', `${DST}/data`]);
    expect(loud.code).toBe(0);
    expect(loud.stdout).toBe('Nothing to do here.\n');
  });

  it('--dry-run prints the pipeline and runs receive -n -v without changing the destination', async () => {
    await writeRandomFiles(`${SRC}/data`, 1, 64, { prefix: 'dry-' });
    await snapshot(`${SRC}/data@daily-5`);
    const r = await sync(['--dataset', `${SRC}/data`, '--remote-dataset', `${DST}/data`, '--dry']);
    expectOk(r);
    const [line = '', ...rest] = r.stdout.split('\n');
    expect(line).toMatch(
      new RegExp(
        `^zfs send -I ${SRC}/data@daily-4 ${SRC}/data@daily-5 \\| .*ssh -C .* root@127\\.0\\.0\\.1 'zfs receive -n -v ${DST}/data'$`,
      ),
    );
    expect(rest.join('\n')).toMatch(/would receive incremental stream/);
    expect(snapNames(await listSnapshots(`${DST}/data`)).at(-1)).toBe('daily-4');
  });

  it('pulls back the other way, full then incremental, into another dataset', async () => {
    const pull = ['--pull', '--dataset', `${SRC}/back`, '--remote-dataset', `${DST}/data`];
    expectOk(await sync(pull));
    expect(snapNames(await listSnapshots(`${SRC}/back`))).toEqual(['daily-4']);
    expect(await checksumTree(`/${SRC}/back`)).toEqual(await checksumTree(`/${DST}/data`));

    expectOk(await sync(['--dataset', `${SRC}/data`, '--remote-dataset', `${DST}/data`]));
    expectOk(await sync(pull));
    expect(snapNames(await listSnapshots(`${SRC}/back`))).toEqual(['daily-4', 'daily-5']);
    const source = await checksumTree(`/${SRC}/data`);
    expect(await checksumTree(`/${DST}/data`)).toEqual(source);
    expect(await checksumTree(`/${SRC}/back`)).toEqual(source);
  });

  // ZFS names allow letters, digits, space and `_ - : .` only: spaces are what needs quoting.
  it('handles dataset and snapshot names with spaces on both sides', async () => {
    const local = `${SRC}/my  data`;
    const remote = `${DST}/their data v1.2:x`;
    await vm().shOk(`zfs create ${shq(local)}`);
    await writeRandomFiles(local, 1, 64);
    await snapshot(`${local}@daily-1 first`);
    expectOk(await sync(['--dataset', local, '--remote-dataset', remote]));
    await writeRandomFiles(local, 1, 64, { prefix: 'second ' });
    await snapshot(`${local}@daily-2 second`);
    expectOk(await sync(['--dataset', local, '--remote-dataset', remote]));
    expect(await listSnapshots(remote)).toEqual([
      `${remote}@daily-1 first`,
      `${remote}@daily-2 second`,
    ]);
    expect(await checksumTree(`/${remote}`)).toEqual(await checksumTree(`/${local}`));
  });

  it(
    'a remote zfs receive failure (parent missing) is exit 4 with the remote stderr',
    { tags: ['faults'] },
    async () => {
      const r = await sync(['--dataset', `${SRC}/data`, '--remote-dataset', `${DST}/missing/data`]);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(
        /^z3_ssh_sync: ssh .*'zfs receive z3syncdst\/missing\/data' exited with code 1: .*does not exist/m,
      );
      expect((await vm().sh(`zfs list ${DST}/missing`)).code).toBe(1);
      injected('stage death');
    },
  );

  it(
    'a modified destination (receive refuses the incremental) is exit 4',
    { tags: ['faults'] },
    async () => {
      await vm().shOk(`touch /${DST}/data/local-change`);
      await snapshot(`${SRC}/data@daily-6`);
      const r = await sync(['--dataset', `${SRC}/data`, '--remote-dataset', `${DST}/data`]);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/zfs receive z3syncdst\/data' exited with code 1: .*modified/);
      expect(snapNames(await listSnapshots(`${DST}/data`)).at(-1)).toBe('daily-5');
      await vm().shOk(`zfs rollback ${DST}/data@daily-5`);
      injected('corrupt data'); // the destination was modified
    },
  );

  it(
    'a destination whose latest snapshot is not on the source is exit 3; nothing is sent',
    { tags: ['faults'] },
    async () => {
      await snapshot(`${DST}/data@daily-99`);
      const r = await sync(['--dataset', `${SRC}/data`, '--remote-dataset', `${DST}/data`]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(
        "z3_ssh_sync: Latest snapshot on destination doesn't exist on source!",
      );
      expect(snapNames(await listSnapshots(`${DST}/data`)).at(-1)).toBe('daily-99');
      injected('corrupt data'); // the destination diverged
    },
  );

  it('no snapshot with the prefix is exit 2', { tags: ['faults'] }, async () => {
    const r = await sync([
      '--dataset',
      `${SRC}/data`,
      '--remote-dataset',
      `${DST}/data`,
      '--snapshot-prefix',
      'nope-',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('z3_ssh_sync: No snapshots exist locally!');
    injected('bad input');
  });
});
