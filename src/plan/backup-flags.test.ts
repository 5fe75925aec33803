import { describe, expect, it } from 'vitest';
import { EXIT, IntegrityError, UsageError } from '../errors.js';
import { injected } from '../testing/faults.js';
import { planBackup, type BackupInput, type BackupPlan } from './backup.js';
import { computeHealth } from './health.js';
import { parseSendFlags, type SendFlagName } from './send-flags.js';
import { fullBackup, incrementalBackup } from './testing.js';
import type { LocalSnapshot, RemoteSnapshot } from './types.js';

const LOCAL: LocalSnapshot[] = [
  { name: 'pool/fs@s1', guid: '11' },
  { name: 'pool/fs@s2', guid: '22' },
];

function plan(remote: RemoteSnapshot[], options: Partial<BackupInput> = {}): BackupPlan {
  return planBackup({
    local: LOCAL,
    remote,
    health: computeHealth(remote),
    filesystem: 'pool/fs',
    snapshotPrefix: 's',
    mode: 'incremental',
    ...options,
  });
}

/** The run's flags, listed so that the test titles name them. */
const flags = (...names: SendFlagName[]): SendFlagName[] => names;

describe('planBackup: an incremental keeps its parent raw-ness and compression', () => {
  it.each([
    // parent's recorded sendflags, this run's flags
    [undefined, flags()],
    ['', flags()],
    [undefined, flags('large-blocks', 'embed', 'props')],
    ['w', flags('raw')],
    ['wp', flags('raw', 'embed')],
    ['c', flags('compressed', 'large-blocks')],
    ['wc', flags('raw', 'compressed')],
    ['ep', flags()],
    [undefined, flags('large-blocks')],
    ['L', flags('large-blocks')],
    ['wL', flags('raw', 'large-blocks', 'props')],
  ])('parent %j, run %j: appended', (recorded, run) => {
    const remote = [fullBackup('pool/fs@s1', { guid: '11', sendFlags: recorded })];
    expect(plan(remote, { sendFlags: new Set(run) })).toEqual({
      kind: 'steps',
      steps: [{ snapshot: 'pool/fs@s2', parent: 'pool/fs@s1', guid: '22' }],
    });
  });

  it.each([
    [undefined, flags('raw'), 'a raw incremental to pool/fs@s1, a plain send'],
    ['w', flags(), 'a plain incremental to pool/fs@s1, a raw send'],
    [undefined, flags('compressed'), 'a compressed incremental to pool/fs@s1, a plain send'],
    ['c', flags('raw'), 'a raw incremental to pool/fs@s1, a compressed send'],
    ['wc', flags('raw'), 'a raw incremental to pool/fs@s1, a raw+compressed send'],
  ])(
    'parent %j, run %j: refused (exit 2, start a new chain)',
    { tags: ['faults'] },
    (recorded, run, message) => {
      const remote = [fullBackup('pool/fs@s1', { guid: '11', sendFlags: recorded })];
      const attempt = (): BackupPlan => plan(remote, { sendFlags: new Set(run) });
      expect(attempt).toThrow(UsageError);
      expect(attempt).toThrow(`cannot append ${message}`);
      expect(attempt).toThrow("run 'z3 backup --full' to start a new chain");
      expect(attempt).toThrow(expect.objectContaining({ exitCode: EXIT.USAGE }));
      injected('bad input');
    },
  );

  it('checks the base only: later steps extend the chain this run sends', () => {
    const local = [...LOCAL, { name: 'pool/fs@s3', guid: '33' }];
    const remote = [fullBackup('pool/fs@s1', { sendFlags: 'w' })];
    const result = plan(remote, { local, sendFlags: new Set(flags('raw')) });
    expect(result.kind === 'steps' && result.steps.map((s) => s.parent)).toEqual([
      'pool/fs@s1',
      'pool/fs@s2',
    ]);
  });

  it('a step that a chain limit turns into a full may change the mode', () => {
    const remote = [fullBackup('pool/fs@s1')];
    const result = plan(remote, { sendFlags: new Set(flags('raw')), chainLimits: { maxChain: 1 } });
    expect(result).toMatchObject({ kind: 'steps', steps: [{ parent: undefined }] });
  });

  it('--full may change the mode', () => {
    const remote = [fullBackup('pool/fs@s1')];
    const result = plan(remote, { mode: 'full', sendFlags: new Set(flags('raw')) });
    expect(result).toMatchObject({ kind: 'steps', steps: [{ snapshot: 'pool/fs@s2' }] });
  });
});

describe('planBackup: an incremental keeps -L once its chain has it', () => {
  it.each([
    ['L', flags()],
    ['wL', flags('raw')],
    ['cLe', flags('compressed', 'embed')],
  ])('parent %j, run %j: refused (exit 2)', { tags: ['faults'] }, (recorded, run) => {
    const remote = [fullBackup('pool/fs@s1', { sendFlags: recorded })];
    const attempt = (): BackupPlan => plan(remote, { sendFlags: new Set(run) });
    expect(attempt).toThrow(
      "cannot append an incremental without --large-blocks to pool/fs@s1, sent with it: zfs receive refuses that; pass --large-blocks, or run 'z3 backup --full' to start a new chain without it",
    );
    expect(attempt).toThrow(expect.objectContaining({ exitCode: EXIT.USAGE }));
    injected('bad input');
  });
});

describe('planBackup: the base must be the local snapshot that was backed up (GUID)', () => {
  it.each([
    ['recorded and equal', '11', '11'],
    ['not recorded (older z3, Python z3)', undefined, '11'],
    ['not listed locally', '11', undefined],
  ])('guid %s: appended', (_, recorded, localGuid) => {
    const local = [{ name: 'pool/fs@s1', guid: localGuid }, LOCAL[1] as LocalSnapshot];
    const remote = [fullBackup('pool/fs@s1', { guid: recorded })];
    expect(plan(remote, { local })).toMatchObject({
      kind: 'steps',
      steps: [{ snapshot: 'pool/fs@s2', parent: 'pool/fs@s1' }],
    });
  });

  it.each([
    ['a full', [fullBackup('pool/fs@s1', { guid: '99' })]],
    [
      'an incremental',
      [fullBackup('pool/fs@s0'), incrementalBackup('pool/fs@s1', 'pool/fs@s0', { guid: '99' })],
    ],
  ])(
    'the base (%s) has another guid: IntegrityError (exit 3) with the fix',
    { tags: ['faults'] },
    (_, remote) => {
      const attempt = (): BackupPlan => plan(remote);
      expect(attempt).toThrow(IntegrityError);
      expect(attempt).toThrow(
        "pool/fs@s1 is not the snapshot backed up under that name (guid 11, backup's guid 99)",
      );
      expect(attempt).toThrow(
        expect.objectContaining({
          exitCode: EXIT.INTEGRITY,
          hint: "run 'z3 backup --full' to start a new chain",
        }),
      );
      injected('corrupt data');
    },
  );
});

describe('parseSendFlags', () => {
  it.each([
    ['', []],
    ['raw', ['raw']],
    ['-w -c', ['raw', 'compressed']],
    ['compressed,large-blocks, embed props', ['compressed', 'large-blocks', 'embed', 'props']],
    ['-L -e -p', ['large-blocks', 'embed', 'props']],
  ])('%j', (raw, names) => {
    expect([...parseSendFlags(raw, 'environment')].sort()).toEqual([...names].sort());
  });

  it.each(['-R', 'replicate', '-W', 'raww'])(
    'refuses %j (exit 2, naming SEND_FLAGS)',
    { tags: ['faults'] },
    (raw) => {
      const attempt = (): unknown => parseSendFlags(raw, 'environment');
      expect(attempt).toThrow(`environment SEND_FLAGS: unknown flag '${raw}'`);
      expect(attempt).toThrow(expect.objectContaining({ exitCode: EXIT.USAGE }));
      injected('bad input');
    },
  );
});
