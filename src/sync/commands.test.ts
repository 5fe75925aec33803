import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import type { StageSpec } from '../pipeline/types.js';
import { quotePipeline } from '../ui/shell-quote.js';
import { listSnapshotsArgv } from '../zfs/argv.js';
import {
  buildSyncPipeline,
  checkRemote,
  sshArgv,
  type SshTarget,
  type SyncPipelineOptions,
} from './commands.js';

/** The words a POSIX shell makes of `command`, as the remote login shell would split it. */
function shellWords(command: string): string[] {
  const out = execFileSync('sh', ['-c', `printf '%s\\0' ${command}`]);
  return out.toString().split('\0').slice(0, -1);
}

const TARGET: SshTarget = { remote: 'backup@example.com', sshOptions: [], useSudo: true };

function pipeline(over: Partial<SyncPipelineOptions>): string[][] {
  return stagesOf(over).map((stage) => stage.argv);
}

function stagesOf(over: Partial<SyncPipelineOptions>): StageSpec[] {
  return buildSyncPipeline({
    direction: 'push',
    target: TARGET,
    localDataset: 'local/fs',
    remoteDataset: 'remote/fs',
    from: 'S_0',
    to: 'S_4',
    dryRun: false,
    withPv: true,
    withMbuffer: true,
    ...over,
  });
}

describe('sshArgv', () => {
  it('puts ssh options before the remote and sends one quoted command string', () => {
    const target = { ...TARGET, sshOptions: ['-p', '2222', '-i', '/k/id'] };
    expect(sshArgv(target, ['zfs', 'receive', 'pool/my fs'])).toEqual([
      'ssh',
      '-C',
      '-p',
      '2222',
      '-i',
      '/k/id',
      'backup@example.com',
      "sudo zfs receive 'pool/my fs'",
    ]);
  });

  it('leaves sudo out with --no-sudo', () => {
    expect(sshArgv({ ...TARGET, useSudo: false }, ['zfs', 'send', 'p/f@s']).at(-1)).toBe(
      'zfs send p/f@s',
    );
  });

  it.each([
    'tank/my data',
    "tank/it's",
    'tank/$HOME',
    'tank/a;rm -rf /',
    'tank/`id`',
    'tank/$(touch /tmp/pwned)',
    'tank/"dq"',
    'tank/a\\b',
    'tank/*',
  ])('a remote shell splits the command back into the same words: %s', (dataset) => {
    for (const useSudo of [true, false]) {
      const argv = sshArgv({ ...TARGET, useSudo }, listSnapshotsArgv(dataset));
      const words = shellWords(argv.at(-1) ?? '');
      expect(words).toEqual([...(useSudo ? ['sudo'] : []), ...listSnapshotsArgv(dataset)]);
      expect(words.at(-1)).toBe(dataset);
    }
  });
});

describe('checkRemote', () => {
  it.each(['-oProxyCommand=touch /tmp/x', '', 'a b'])('refuses %j', (remote) => {
    expect(() => checkRemote(remote)).toThrow(UsageError);
  });
  it('accepts host and user@host', () => {
    expect(checkRemote('user@host.example')).toBe('user@host.example');
    expect(checkRemote('10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('buildSyncPipeline', () => {
  it('push incremental (spec 10 example, mbuffer on the sending side)', () => {
    expect(quotePipeline(pipeline({}))).toBe(
      'zfs send -I local/fs@S_0 local/fs@S_4 | pv | mbuffer -s 128k -m 200m -q | ' +
        "ssh -C backup@example.com 'sudo zfs receive remote/fs'",
    );
  });

  it('pull incremental (spec 10 example)', () => {
    expect(quotePipeline(pipeline({ direction: 'pull' }))).toBe(
      "ssh -C backup@example.com 'sudo zfs send -I remote/fs@S_0 remote/fs@S_4' | " +
        'mbuffer -s 128k -m 200m -q | pv | zfs receive local/fs',
    );
  });

  it('full send, no pv (--quiet), no mbuffer (not installed), no sudo', () => {
    const target = { ...TARGET, useSudo: false, sshOptions: ['-p', '2222'] };
    expect(pipeline({ from: undefined, withPv: false, withMbuffer: false, target })).toEqual([
      ['zfs', 'send', 'local/fs@S_4'],
      ['ssh', '-C', '-p', '2222', 'backup@example.com', 'zfs receive remote/fs'],
    ]);
    expect(
      pipeline({ direction: 'pull', from: undefined, withPv: false, withMbuffer: false, target }),
    ).toEqual([
      ['ssh', '-C', '-p', '2222', 'backup@example.com', 'zfs send remote/fs@S_4'],
      ['zfs', 'receive', 'local/fs'],
    ]);
  });

  it('pv draws on our stderr; every other stage’s stderr is captured for errors', () => {
    const stages = stagesOf({});
    expect(stages.map((s) => s.stderr ?? 'capture')).toEqual([
      'capture',
      'inherit',
      'capture',
      'capture',
    ]);
  });

  it('dry run receives with -n -v on whichever side receives', () => {
    expect(pipeline({ dryRun: true }).at(-1)?.at(-1)).toBe('sudo zfs receive -n -v remote/fs');
    expect(pipeline({ dryRun: true, direction: 'pull' }).at(-1)).toEqual([
      'zfs',
      'receive',
      '-n',
      '-v',
      'local/fs',
    ]);
  });

  it('hostile names stay data: local argv words as is, remote words quoted', () => {
    const local = "my pool/it's $x";
    const remote = 'other pool/a;b `c` "d"';
    const push = pipeline({ localDataset: local, remoteDataset: remote, from: 'a b', to: '$(c)' });
    expect(push[0]).toEqual(['zfs', 'send', '-I', `${local}@a b`, `${local}@$(c)`]);
    expect(shellWords(push.at(-1)?.at(-1) ?? '')).toEqual(['sudo', 'zfs', 'receive', remote]);

    const pull = pipeline({
      direction: 'pull',
      localDataset: local,
      remoteDataset: remote,
      from: 'a b',
      to: '$(c)',
    });
    expect(shellWords(pull[0]?.at(-1) ?? '')).toEqual([
      'sudo',
      'zfs',
      'send',
      '-I',
      `${remote}@a b`,
      `${remote}@$(c)`,
    ]);
    expect(pull.at(-1)).toEqual(['zfs', 'receive', local]);
  });

  it('the dry-run line is shell-pasteable: a local sh sees the same stages and words', () => {
    const stages = pipeline({ localDataset: 'p/a b', remoteDataset: "q/it's" });
    const line = quotePipeline(stages);
    // Each stage of the printed line, split by a real sh, gives back the argv we spawn.
    const parts = line.split(' | ');
    expect(parts.map(shellWords)).toEqual(stages);
  });
});
