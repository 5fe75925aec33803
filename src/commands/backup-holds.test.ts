/**
 * `z3 backup` holds the newest backed-up snapshot and bookmarks it (scripted zfs, memory
 * backend): one hold per dataset and target, the new one placed before the old one is
 * released, none with --no-hold or HOLD=no, a failed hold a warning (exit 0, previous hold
 * kept), and an incremental sent from the bookmark once its base snapshot is gone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../errors.js';
import { holdTag } from '../plan/holds.js';
import { MemBackend } from '../storage/mem/backend.js';
import { injected } from '../testing/faults.js';
import { runBackup, type BackupOptions } from './backup.js';
import { backupOptions } from './testing/backup-options.js';
import { testPorts } from './testing/ports.js';
import {
  createScriptedZfs,
  type ScriptedZfs,
  type ScriptedZfsState,
} from './testing/scripted-zfs.js';

const SNAPS = ['tank/data@snap-1', 'tank/data@snap-2', 'tank/data@snap-3'];
const TAG = holdTag({ bucket: 'test-bucket', backupDir: undefined, s3Prefix: 'z3-backup/' });

function options(over: Partial<BackupOptions> = {}): BackupOptions {
  return backupOptions({ quiet: true, ...over });
}

/** The zfs commands that changed holds or bookmarks, as `hold snap-2` …, in order. */
function changes(zfs: ScriptedZfs): string[] {
  return (zfs.state().calls ?? [])
    .filter(([cmd]) => cmd === 'hold' || cmd === 'release' || cmd === 'bookmark')
    .map(
      ([cmd, a, b]) =>
        `${cmd} ${(cmd === 'bookmark' ? b : a === TAG ? b : `${a} ${b}`)?.replace('tank/data', '')}`,
    );
}

describe('runBackup holds and bookmarks', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  /** Back up `names` (one run, `mode`) into `mem` with the scripted zfs in `state`. */
  async function run(
    state: ScriptedZfsState,
    mem: MemBackend,
    over: Partial<BackupOptions> = {},
    env: Record<string, string> = {},
  ) {
    zfs = createScriptedZfs(state);
    const ports = testPorts({ backend: mem, zfs: zfs.program, env });
    const code = await runBackup(options(over), ports);
    return { code, ports, state: zfs.state() };
  }

  it('after two runs exactly the newest backed-up snapshot is held; hold before release', async () => {
    const mem = new MemBackend();
    const first = await run({ datasets: { 'tank/data': SNAPS.slice(0, 2) } }, mem, {
      mode: 'full',
    });
    expect(first.code).toBe(EXIT.OK);
    expect(first.state.holds).toEqual({ 'tank/data@snap-2': [TAG] });
    expect(changes(zfs)).toEqual(['hold @snap-2', 'bookmark #z3_snap-2']);

    const second = await run(
      {
        datasets: { 'tank/data': SNAPS },
        holds: first.state.holds,
        bookmarks: first.state.bookmarks,
      },
      mem,
    );
    expect(second.code).toBe(EXIT.OK);
    expect(mem.objects.has('z3-backup/tank/data@snap-3')).toBe(true);
    expect(second.state.holds).toEqual({ 'tank/data@snap-2': [], 'tank/data@snap-3': [TAG] });
    expect(changes(zfs)).toEqual(['hold @snap-3', 'bookmark #z3_snap-3', 'release @snap-2']);
    expect(second.ports.err()).toBe('');
  });

  it('a run with nothing to send still places a missing hold', async () => {
    const mem = new MemBackend();
    await run({ datasets: { 'tank/data': SNAPS.slice(0, 1) } }, mem, { mode: 'full', hold: false });
    const again = await run({ datasets: { 'tank/data': SNAPS.slice(0, 1) } }, mem);
    expect(again.code).toBe(EXIT.OK);
    expect(again.state.holds).toEqual({ 'tank/data@snap-1': [TAG] });
  });

  it.each([
    ['--no-hold', { hold: false }, {}],
    ['HOLD=no', {}, { HOLD: 'no' }],
  ])('%s: no hold, no bookmark', async (_case, over, env) => {
    const mem = new MemBackend();
    const result = await run(
      { datasets: { 'tank/data': SNAPS } },
      mem,
      { mode: 'full', ...over },
      env,
    );
    expect(result.code).toBe(EXIT.OK);
    expect(changes(zfs)).toEqual([]);
    expect(result.state.bookmarks).toEqual([]);
  });

  it("two targets keep their own holds: a backup to one never releases the other's", async () => {
    const other = holdTag({ bucket: 'other-bucket', backupDir: undefined, s3Prefix: 'z3-backup/' });
    const mem = new MemBackend();
    const result = await run(
      { datasets: { 'tank/data': SNAPS.slice(0, 2) }, holds: { 'tank/data@snap-1': [other] } },
      mem,
      { mode: 'full' },
    );
    expect(result.state.holds).toEqual({ 'tank/data@snap-1': [other], 'tank/data@snap-2': [TAG] });
  });

  it(
    'a failed hold is a warning: exit 0, the object committed, the previous hold kept',
    { tags: ['faults'] },
    async () => {
      const mem = new MemBackend();
      const first = await run({ datasets: { 'tank/data': SNAPS.slice(0, 2) } }, mem, {
        mode: 'full',
      });
      const failing = await run(
        {
          datasets: { 'tank/data': SNAPS },
          holds: first.state.holds,
          failures: { hold: "cannot hold snapshot 'tank/data@snap-3': permission denied" },
        },
        mem,
      );
      injected('stage death');
      expect(failing.code).toBe(EXIT.OK);
      expect(mem.objects.has('z3-backup/tank/data@snap-3')).toBe(true);
      expect(failing.state.holds).toEqual({ 'tank/data@snap-2': [TAG] });
      // the hold was tried and failed: no bookmark, and no release of the only hold
      expect(changes(zfs)).toEqual(['hold @snap-3']);
      expect(failing.ports.err()).toMatch(
        /^z3: warning: could not hold tank\/data@snap-3 \(z3:[0-9a-f]{12}\); the backup is complete, the previous hold is kept: .*permission denied/,
      );
    },
  );

  it('sends from the bookmark when the base snapshot is destroyed', async () => {
    const mem = new MemBackend();
    await run({ datasets: { 'tank/data': SNAPS.slice(0, 2) } }, mem, { mode: 'full' });
    const left = zfs.state();
    // snap-1 and snap-2 destroyed; snap-3 taken after them (createtxg 3, guid 1002 as before)
    const result = await run(
      {
        datasets: { 'tank/data': ['tank/data@snap-3'] },
        txgs: { 'tank/data@snap-3': 3 },
        guids: { 'tank/data@snap-3': '1002' },
        bookmarks: left.bookmarks,
      },
      mem,
    );
    expect(result.code).toBe(EXIT.OK);
    const sends = (result.state.calls ?? []).filter(
      ([cmd, flag]) => cmd === 'send' && flag !== '-nvP',
    );
    expect(sends).toEqual([['send', '-i', 'tank/data#z3_snap-2', 'tank/data@snap-3']]);
    const object = mem.objects.get('z3-backup/tank/data@snap-3');
    expect(object?.metadata['parent']).toBe('tank/data@snap-2');
    expect(object?.data.subarray(0, 60).toString()).toMatch(
      /^Z3FAKE\ttank\/data@snap-3\ttank\/data@snap-2\n/,
    );
    expect(result.state.holds).toEqual({ 'tank/data@snap-3': [TAG] });
  });
});
