/**
 * `syncSnapshots` against real tiny processes: a toy `zfs` that keeps each dataset's snapshot
 * list in a file, per host, and an `ssh` that runs its command string with a real `sh` as the
 * "remote" host. Proves the wiring (listing both sides, choosing, quoting through the remote
 * shell, failure reporting) without ZFS; the VM end-to-end test proves it with OpenZFS.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, type Z3Error } from '../errors.js';
import { syncSnapshots, type SyncOptions } from './sync.js';
import { injected } from '../testing/faults.js';

const FAKE_ZFS = `#!/bin/sh
# toy zfs: $FAKEZFS_ROOT/<host>/<dataset with / as %> lists the snapshot names, oldest first
dir="$FAKEZFS_ROOT/\${FAKEZFS_HOST:-local}"
file() { printf '%s/%s' "$dir" "$(printf '%s' "$1" | tr '/' '%')"; }
for last; do :; done
case $1 in
list)
  f=$(file "$last")
  [ -f "$f" ] || { echo "cannot open '$last': dataset does not exist" >&2; exit 1; }
  n=0; while IFS= read -r s; do n=$((n + 1)); printf '%s@%s\\t%d\\t0\\t0\\n' "$last" "$s" $n; done < "$f" ;;
send)
  [ -z "$FAKEZFS_FAIL_SEND" ] || { echo "warning: cannot send '$last': I/O error" >&2; exit 1; }
  ds=\${last%%@*}; to=\${last#*@}; f=$(file "$ds")
  if [ "$2" = -I ]; then
    from=\${3#*@}; echo "INCR $from"; on=
    while IFS= read -r s; do [ -n "$on" ] && echo "$s"; [ "$s" = "$from" ] && on=1; [ "$s" = "$to" ] && break; done < "$f"
  else
    echo FULL; echo "$to"
  fi ;;
receive)
  f=$(file "$last"); IFS= read -r head
  case $head in
  FULL) [ ! -f "$f" ] || { echo "cannot receive new filesystem stream: destination '$last' exists" >&2; exit 1; } ;;
  INCR*) cur=$(tail -n 1 "$f" 2>/dev/null); [ "$cur" = "\${head#INCR }" ] || { echo "cannot receive incremental stream: most recent snapshot of '$last' does not match incremental source" >&2; exit 1; } ;;
  esac
  while IFS= read -r s; do
    if [ "$2" = -n ]; then echo "would receive $last@$s"; else echo "$s" >> "$f"; fi
  done ;;
esac
`;

const FAKE_SSH = `#!/bin/sh
# toy ssh: log argv, run the last word (the command string) with sh on the "remote" host
printf '%s\\0' "$@" >> "$FAKEZFS_ROOT/ssh.argv"
for last; do :; done
FAKEZFS_HOST=remote exec sh -c "$last"
`;

let root: string;
let savedPath: string | undefined;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'z3-sync-test-'));
  writeScripts(join(root, 'bin'), {
    zfs: FAKE_ZFS,
    ssh: FAKE_SSH,
    sudo: '#!/bin/sh\nexec "$@"\n',
    pv: '#!/bin/sh\nexec cat\n',
    mbuffer: '#!/bin/sh\nexec cat\n',
  });
  savedPath = process.env['PATH'];
  process.env['PATH'] = `${join(root, 'bin')}:${savedPath ?? ''}`;
  process.env['FAKEZFS_ROOT'] = root;
});

afterAll(() => {
  process.env['PATH'] = savedPath;
  delete process.env['FAKEZFS_ROOT'];
  rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  for (const host of ['local', 'remote']) {
    rmSync(join(root, host), { recursive: true, force: true });
    mkdirSync(join(root, host));
  }
  rmSync(join(root, 'ssh.argv'), { force: true });
  delete process.env['FAKEZFS_FAIL_SEND'];
});

function writeScripts(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), 0o755);
  }
}

/** Give `dataset` on `host` these snapshots (oldest first). */
function given(host: 'local' | 'remote', dataset: string, snapshots: string[]): void {
  const text = snapshots.map((s) => `${s}\n`).join('');
  writeFileSync(join(root, host, dataset.replaceAll('/', '%')), text);
}

/** The snapshots of `dataset` on `host`; undefined when the dataset does not exist. */
function snapshotsOf(host: 'local' | 'remote', dataset: string): string[] | undefined {
  try {
    const text = readFileSync(join(root, host, dataset.replaceAll('/', '%')), 'utf8');
    return text.split('\n').filter((l) => l !== '');
  } catch {
    return undefined;
  }
}

function sshCalls(): string[][] {
  let text: string;
  try {
    text = readFileSync(join(root, 'ssh.argv'), 'utf8');
  } catch {
    return [];
  }
  // one call per record group: each call ends with its command string, which starts with sudo/zfs
  const words = text.split('\0').slice(0, -1);
  const calls: string[][] = [];
  let current: string[] = [];
  for (const w of words) {
    current.push(w);
    if (/^(sudo )?zfs /.test(w)) {
      calls.push(current);
      current = [];
    }
  }
  return calls;
}

function options(over: Partial<SyncOptions> = {}): SyncOptions & { output: () => string } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (b: Buffer) => chunks.push(b));
  return {
    direction: 'push',
    target: { remote: 'user@nas', sshOptions: ['-p', '2222'], useSudo: true },
    localDataset: 'tank/data',
    remoteDataset: 'backup/data',
    snapshotPrefix: 'daily-',
    dryRun: false,
    quiet: true,
    signal: new AbortController().signal,
    out,
    isInstalled: () => true,
    ...over,
    output: () => Buffer.concat(chunks).toString('utf8'),
  };
}

async function failure(o: SyncOptions): Promise<Z3Error> {
  try {
    await syncSnapshots(o);
  } catch (err) {
    return err as Z3Error;
  }
  throw new Error('expected the sync to fail');
}

const DAILY = ['daily-0', 'daily-1', 'daily-2', 'daily-3', 'daily-4'];

describe('syncSnapshots, push', () => {
  it('full send when the remote dataset does not exist, then incremental, then nothing to do', async () => {
    given('local', 'tank/data', ['daily-0', 'manual', 'daily-1']);
    await expect(syncSnapshots(options())).resolves.toEqual({ kind: 'full', to: 'daily-1' });
    expect(snapshotsOf('remote', 'backup/data')).toEqual(['daily-1']);

    given('local', 'tank/data', ['daily-0', 'manual', 'daily-1', 'x', 'daily-2', 'daily-3']);
    await expect(syncSnapshots(options())).resolves.toEqual({
      kind: 'incremental',
      from: 'daily-1',
      to: 'daily-3',
    });
    // -I carries every intermediate snapshot, selected or not, as zfs does
    expect(snapshotsOf('remote', 'backup/data')).toEqual(['daily-1', 'x', 'daily-2', 'daily-3']);

    const o = options({ quiet: false });
    await expect(syncSnapshots(o)).resolves.toEqual({ kind: 'up-to-date', latest: 'daily-3' });
    expect(o.output()).toBe('Nothing to do here.\n');
  });

  it('passes ssh options and sudo, and quotes hostile names through the remote shell', async () => {
    const local = "tank/my data's";
    const remote = 'backup/$HOME;`id` "x"';
    given('local', local, ['daily-0', 'daily-1']);
    await syncSnapshots(options({ localDataset: local, remoteDataset: remote }));
    expect(snapshotsOf('remote', remote)).toEqual(['daily-1']);
    const calls = sshCalls();
    expect(calls).toHaveLength(2);
    for (const call of calls) expect(call.slice(0, 4)).toEqual(['-C', '-p', '2222', 'user@nas']);
    expect(calls.map((c) => c.at(-1)?.split(' ').slice(0, 3).join(' '))).toEqual(
      expect.arrayContaining(['sudo zfs list', 'sudo zfs receive']),
    );
  });

  it('--no-sudo runs zfs directly on the remote', async () => {
    given('local', 'tank/data', DAILY);
    await syncSnapshots(options({ target: { remote: 'nas', sshOptions: [], useSudo: false } }));
    expect(sshCalls().map((c) => c.at(-1))).toEqual([
      'zfs list -H -p -t snapshot -o name,createtxg,used,referenced -s createtxg -d 1 backup/data',
      'zfs receive backup/data',
    ]);
  });

  it('dry run prints the pipeline, runs receive -n -v, and changes nothing', async () => {
    given('local', 'tank/data', DAILY);
    given('remote', 'backup/data', ['daily-1']);
    const o = options({ dryRun: true, quiet: false });
    await syncSnapshots(o);
    expect(o.output()).toBe(
      'zfs send -I tank/data@daily-1 tank/data@daily-4 | pv | mbuffer -s 128k -m 200m -q | ' +
        "ssh -C -p 2222 user@nas 'sudo zfs receive -n -v backup/data'\n",
    );
    expect(snapshotsOf('remote', 'backup/data')).toEqual(['daily-1']);
  });

  it(
    'no local snapshots with the prefix → exit 2 "No snapshots exist locally!"',
    { tags: ['faults'] },
    async () => {
      given('local', 'tank/data', ['manual']);
      const err = await failure(options());
      expect(err.message).toBe('No snapshots exist locally!');
      expect(err.exitCode).toBe(EXIT.USAGE);
      expect(err.hint).toContain('daily-');
      injected('bad input');
    },
  );

  it('a local dataset that does not exist → exit 2', { tags: ['faults'] }, async () => {
    const err = await failure(options());
    expect(err.message).toBe('tank/data: dataset does not exist');
    expect(err.exitCode).toBe(EXIT.USAGE);
    injected('bad input');
  });

  it(
    'destination latest not on the source → exit 3, nothing sent',
    { tags: ['faults'] },
    async () => {
      given('local', 'tank/data', ['daily-0', 'daily-1']);
      given('remote', 'backup/data', ['daily-0', 'daily-9']);
      const err = await failure(options());
      expect(err.message).toBe("Latest snapshot on destination doesn't exist on source!");
      expect(err.exitCode).toBe(EXIT.INTEGRITY);
      expect(sshCalls()).toHaveLength(1);
      injected('corrupt data'); // the destination diverged from the source
    },
  );

  it(
    'a failing remote receive → exit 4 naming ssh with the remote stderr tail',
    { tags: ['faults'] },
    async () => {
      given('local', 'tank/data', DAILY);
      given('remote', 'backup/data', []); // exists, no snapshots: a full receive refuses it
      const err = await failure(options());
      expect(err.exitCode).toBe(EXIT.COMMAND_FAILED);
      expect(err.message).toContain("ssh -C -p 2222 user@nas 'sudo zfs receive backup/data'");
      expect(err.message).toContain("destination 'backup/data' exists");
      injected('stage death');
    },
  );

  it('a failing local send → exit 4 naming zfs send', { tags: ['faults'] }, async () => {
    given('local', 'tank/data', DAILY);
    process.env['FAKEZFS_FAIL_SEND'] = '1';
    const err = await failure(options());
    expect(err.exitCode).toBe(EXIT.COMMAND_FAILED);
    expect(err.message).toMatch(/^zfs send tank\/data@daily-4 exited with code 1: .*I\/O error/);
    expect(snapshotsOf('remote', 'backup/data')).toBeUndefined();
    injected('stage death');
  });
});

describe('syncSnapshots, pull', () => {
  it('full, then incremental, into the local dataset', async () => {
    given('remote', 'backup/data', ['daily-0', 'daily-1']);
    const pull = { direction: 'pull' as const };
    await expect(syncSnapshots(options(pull))).resolves.toEqual({ kind: 'full', to: 'daily-1' });
    given('remote', 'backup/data', DAILY);
    await expect(syncSnapshots(options(pull))).resolves.toEqual({
      kind: 'incremental',
      from: 'daily-1',
      to: 'daily-4',
    });
    expect(snapshotsOf('local', 'tank/data')).toEqual(['daily-1', 'daily-2', 'daily-3', 'daily-4']);
  });

  it(
    'a remote dataset that does not exist is an error, not an empty source',
    { tags: ['faults'] },
    async () => {
      const err = await failure(options({ direction: 'pull' }));
      expect(err.message).toBe('user@nas:backup/data: dataset does not exist');
      expect(err.exitCode).toBe(EXIT.USAGE);
      injected('bad input');
    },
  );

  it('no remote snapshots → exit 2', { tags: ['faults'] }, async () => {
    given('remote', 'backup/data', []);
    const err = await failure(options({ direction: 'pull' }));
    expect(err.message).toBe('No snapshots exist on the remote!');
    expect(err.exitCode).toBe(EXIT.USAGE);
    injected('bad input');
  });

  it('a remote without sudo gets a hint to use --no-sudo', { tags: ['faults'] }, async () => {
    writeScripts(join(root, 'bin'), {
      sudo: '#!/bin/sh\necho "sh: sudo: not found" >&2\nexit 127\n',
    });
    try {
      const err = await failure(options({ direction: 'pull' }));
      expect(err.exitCode).toBe(EXIT.COMMAND_FAILED);
      expect(err.message).toContain('sudo: not found');
      expect(err.hint).toContain('--no-sudo');
    } finally {
      writeScripts(join(root, 'bin'), { sudo: '#!/bin/sh\nexec "$@"\n' });
    }
    injected('stage death');
  });

  it(
    'ssh itself failing (exit 255) is exit 4, never "does not exist"',
    { tags: ['faults'] },
    async () => {
      writeScripts(join(root, 'bin'), {
        ssh: '#!/bin/sh\necho "ssh: connect to host nas port 22: Connection refused; dataset does not exist" >&2\nexit 255\n',
      });
      try {
        const err = await failure(options());
        expect(err.exitCode).toBe(EXIT.COMMAND_FAILED);
        expect(err.message).toContain('Connection refused');
        expect(err.hint).toContain('ssh could not connect');
      } finally {
        writeScripts(join(root, 'bin'), { ssh: FAKE_SSH });
      }
      injected('stage death');
    },
  );
});
