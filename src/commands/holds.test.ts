/**
 * `z3 holds` and `z3 holds --release-stale` (scripted zfs, memory backend): only this target's
 * tag is listed and released, the newest backed-up snapshot's hold is kept, and a release zfs
 * refuses is exit 4.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CommandFailedError, EXIT } from '../errors.js';
import { holdTag } from '../plan/holds.js';
import { MemBackend } from '../storage/mem/backend.js';
import { injected } from '../testing/faults.js';
import { runHolds, type HoldsOptions } from './holds.js';
import { testPorts } from './testing/ports.js';
import { createScriptedZfs, type ScriptedZfs } from './testing/scripted-zfs.js';

const TAG = holdTag({ bucket: 'test-bucket', backupDir: undefined, s3Prefix: 'z3-backup/' });
const OTHER = holdTag({ bucket: 'other', backupDir: undefined, s3Prefix: 'z3-backup/' });
const SNAPS = ['tank/data@snap-1', 'tank/data@snap-2', 'tank/data@snap-3'];

function options(over: Partial<HoldsOptions> = {}): HoldsOptions {
  return {
    config: undefined,
    s3Prefix: undefined,
    filesystem: undefined,
    snapshotPrefix: undefined,
    releaseStale: false,
    wait: false,
    ...over,
  };
}

/** snap-1 (full) ← snap-2 on the target, guids as the scripted zfs lists them. */
function backedUpToSnap2(): MemBackend {
  const mem = new MemBackend();
  mem.seed('z3-backup/tank/data@snap-1', Buffer.from('x'), { isfull: 'true', guid: '1000' });
  mem.seed('z3-backup/tank/data@snap-2', Buffer.from('x'), {
    parent: 'tank/data@snap-1',
    guid: '1001',
  });
  return mem;
}

/** snap-1 and snap-2 held by this target (a leak), snap-1 also by another target and the user. */
const HELD = {
  'tank/data@snap-1': [TAG, OTHER, 'keep'],
  'tank/data@snap-2': [TAG],
};

describe('runHolds', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  it("lists this target's holds, the newest backup's and the stale ones", async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS }, holds: HELD });
    const ports = testPorts({ backend: backedUpToSnap2(), zfs: zfs.program });
    expect(await runHolds(options(), ports)).toBe(EXIT.OK);
    expect(ports.out()).toBe(
      `${TAG}  stale          tank/data@snap-1\n${TAG}  newest backup  tank/data@snap-2\n`,
    );
    expect(zfs.state().calls?.some(([cmd]) => cmd === 'release')).toBe(false);
    expect(ports.locks).toEqual([]);
  });

  it("--release-stale releases only this target's stale holds, under the backup lock", async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS }, holds: HELD });
    const ports = testPorts({ backend: backedUpToSnap2(), zfs: zfs.program });
    expect(await runHolds(options({ releaseStale: true }), ports)).toBe(EXIT.OK);
    expect(zfs.state().holds).toEqual({
      'tank/data@snap-1': [OTHER, 'keep'],
      'tank/data@snap-2': [TAG],
    });
    expect(ports.out()).toContain(`${TAG}  released       tank/data@snap-1\n`);
    expect(ports.locks.map((l) => [l.request.description, l.releases])).toEqual([
      [expect.stringMatching(/^z3 holds of tank\/data to /), 1],
    ]);
  });

  it('says so when there is no hold of the target', async () => {
    zfs = createScriptedZfs({
      datasets: { 'tank/data': SNAPS },
      holds: { 'tank/data@snap-1': [OTHER] },
    });
    const ports = testPorts({ backend: backedUpToSnap2(), zfs: zfs.program });
    expect(await runHolds(options(), ports)).toBe(EXIT.OK);
    expect(ports.out()).toBe('');
    expect(ports.err()).toBe(`z3: no holds of ${TAG} on tank/data\n`);
  });

  it('a dataset that does not exist is exit 2', { tags: ['faults'] }, async () => {
    zfs = createScriptedZfs({ datasets: {} });
    injected('bad input');
    const ports = testPorts({ backend: backedUpToSnap2(), zfs: zfs.program });
    await expect(runHolds(options(), ports)).rejects.toMatchObject({
      exitCode: EXIT.USAGE,
      message: "dataset 'tank/data' does not exist",
    });
  });

  it('a release zfs refuses is exit 4, naming the command', { tags: ['faults'] }, async () => {
    zfs = createScriptedZfs({
      datasets: { 'tank/data': SNAPS },
      holds: HELD,
      failures: {
        release: "cannot release hold from snapshot 'tank/data@snap-1': permission denied",
      },
    });
    injected('stage death');
    const ports = testPorts({ backend: backedUpToSnap2(), zfs: zfs.program });
    const run = runHolds(options({ releaseStale: true }), ports);
    await expect(run).rejects.toThrow(CommandFailedError);
    await expect(run).rejects.toMatchObject({ exitCode: EXIT.COMMAND_FAILED });
    expect(zfs.state().holds).toEqual(HELD);
    expect(ports.locks[0]?.releases).toBe(1);
  });
});
