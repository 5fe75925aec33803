/**
 * Helpers for the end-to-end tier: the built CLI (`dist/bin/*.js`) runs on the host, OpenZFS runs
 * in the test VM (test/zfs-vm) and is reached through the `zfs`/`zpool` shims, S3 is a real server
 * (test/s3-env.ts).
 *
 * Contract, which `scripts/test-all.sh` sets up (see test/zfs-vm/README.md):
 * - `npm run build` has run;
 * - the VM is up: `bash test/zfs-vm/zfsvm.sh prepare && bash test/zfs-vm/zfsvm.sh start`; with a
 *   non-default ZFSVM_CACHE / ZFSVM_RUN / ZFSVM_PORT, the exports of `zfsvm.sh env` (ZFSVM_KEY,
 *   ZFSVM_PORT, ZFSVM_DIR) are in the environment;
 * - Z3_TEST_S3_ENDPOINT / Z3_TEST_S3_KEY_ID / Z3_TEST_S3_SECRET name the S3 server.
 *
 * The guest shell (`vm().sh`) is for setting up and checking only: the tool under test never sees
 * it, it sees a `zfs` on PATH. A missing VM or server fails the test; nothing here skips.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quoteArg } from '../../src/ui/shell-quote.js';
import { testS3 } from '../s3-env.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Holds the `zfs` and `zpool` shims: put first on PATH, they run the real ones in the guest. */
export const ZFS_SHIM_DIR = join(REPO_ROOT, 'test/zfs-vm/bin');
const SSH_VM = join(REPO_ROOT, 'test/zfs-vm/ssh-vm');
const DEFAULT_TIMEOUT_MS = 300_000;
/** Smallest vdev `zpool create` accepts (SPA_MINDEVSIZE). */
const MIN_POOL_MIB = 64;

export interface ProcessResult {
  /** Exit code, or null when the process was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout decoded as UTF-8; `stdoutBytes` holds the exact bytes. */
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

export interface RunOptions {
  /** Added to (and overriding) the inherited environment. */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string | Buffer;
  /** The process gets SIGTERM (then SIGKILL 5 s later) and the promise rejects. Default 300 s. */
  timeoutMs?: number;
  /** Told the process id once it is started (a test that must name the process, e.g. a lock holder). */
  onSpawn?: (pid: number) => void;
  /** Told each piece of stderr as it arrives (a test that waits for what a running process says). */
  onStderr?: (text: string) => void;
}

/** Quote one word for the guest's POSIX shell (the tool's own quoting, src/ui/shell-quote.ts). */
export const shq = quoteArg;

/** The host environment with the shims first on PATH, plus `extra`. */
export function hostEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${ZFS_SHIM_DIR}:${process.env['PATH'] ?? ''}`, ...extra };
}

/**
 * Spawn `command` with `args` (no shell), collect its output, resolve when it has exited and its
 * pipes are closed. Rejects only when it cannot be started or runs past the timeout; a non-zero
 * exit resolves, so tests can assert on failures.
 */
export function runProcess(
  command: string,
  args: readonly string[],
  options: RunOptions & { baseEnv?: NodeJS.ProcessEnv } = {},
): Promise<ProcessResult> {
  const { input, timeoutMs = DEFAULT_TIMEOUT_MS } = options;
  const env = { ...(options.baseEnv ?? process.env), ...options.env };
  const stdio: StdioOptions = [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => {
      err.push(b);
      options.onStderr?.(b.toString('utf8'));
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      const stderr = Buffer.concat(err).toString('utf8');
      if (timedOut) {
        reject(
          new Error(
            `${command} ${args.join(' ')}: timed out after ${timeoutMs} ms\n${tail(stderr)}`,
          ),
        );
        return;
      }
      resolve({ code, signal, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr });
    });
    if (input !== undefined && child.stdin !== null) {
      // a child that exits without reading its stdin must not turn into an EPIPE error here
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export interface Vm {
  /** Run `script` with the guest's /bin/sh (busybox) as root. Never rejects on a non-zero exit. */
  sh(script: string, options?: RunOptions): Promise<ProcessResult>;
  /** Like `sh`, but rejects unless the exit code is 0; resolves to stdout. */
  shOk(script: string, options?: RunOptions): Promise<string>;
}

const theVm: Vm = {
  // ssh hands its one command argument to the guest's login shell, which parses it: the script
  // arrives as written.
  sh: (script, options = {}) => runProcess(SSH_VM, [script], options),
  async shOk(script, options = {}) {
    const r = await theVm.sh(script, options);
    if (r.code !== 0) {
      const why =
        r.code === 255 ? ' (255: ssh could not reach the VM, or the command said 255)' : '';
      throw new Error(
        `guest script failed with ${r.code ?? r.signal}${why}:\n${script}\n${tail(r.stderr)}`,
      );
    }
    return r.stdout;
  },
};

/** The test VM. */
export function vm(): Vm {
  return theVm;
}

/**
 * Throw, with what to do, unless the VM answers and OpenZFS is loaded. Call it in `beforeAll` of
 * every e2e file: a missing VM is a failure, never a skip. Resolves to `zfs version` output.
 */
export async function requireVm(): Promise<string> {
  let r: ProcessResult | undefined;
  let why = '';
  try {
    r = await vm().sh('zfs version', { timeoutMs: 60_000 });
  } catch (e) {
    why = e instanceof Error ? e.message : String(e);
  }
  if (r?.code === 0) return r.stdout.trim();
  const port = process.env['ZFSVM_PORT'] ?? '2222';
  throw new Error(
    `the ZFS test VM is not reachable over ssh on 127.0.0.1:${port}: ` +
      `${why || (r === undefined ? '' : `exit ${r.code ?? r.signal}: ${tail(r.stderr, 5)}`)}\n` +
      'hint: bash test/zfs-vm/zfsvm.sh prepare && bash test/zfs-vm/zfsvm.sh start ' +
      '(scripts/test-all.sh does this), and with a non-default ZFSVM_CACHE/RUN/PORT ' +
      'eval "$(bash test/zfs-vm/zfsvm.sh env)"',
  );
}

/** Run `zfs ARGS` on the host through the shim (argv preserved), as the tool under test would. */
export function zfs(args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  return runProcess('zfs', args, { ...options, baseEnv: hostEnv() });
}

/** Run `zpool ARGS` on the host through the shim. */
export function zpool(args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  return runProcess('zpool', args, { ...options, baseEnv: hostEnv() });
}

export interface TestPool {
  name: string;
  /** The file vdev, in the guest's tmpfs. */
  vdev: string;
  mountpoint: string;
}

function poolVdev(name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_.:-]*$/.test(name)) throw new Error(`bad test pool name: ${name}`);
  return `/tmp/zpool-${name}.img`;
}

/**
 * Create pool `name` on a sparse file vdev of `sizeMiB` in the guest's /tmp (a tmpfs of half the
 * VM memory: two 512 MiB pools fit), destroying a previous pool of that name first.
 * `fsProps` become `-O key=value` of the root dataset.
 */
export async function createPool(
  name: string,
  sizeMiB: number,
  options: { fsProps?: Record<string, string> } = {},
): Promise<TestPool> {
  if (!Number.isInteger(sizeMiB) || sizeMiB < MIN_POOL_MIB) {
    throw new Error(`createPool: sizeMiB must be an integer >= ${MIN_POOL_MIB}, got ${sizeMiB}`);
  }
  const vdev = poolVdev(name);
  const props = Object.entries(options.fsProps ?? {})
    .map(([k, v]) => `-O ${shq(`${k}=${v}`)}`)
    .join(' ');
  await vm().shOk(
    `if zpool list ${name} >/dev/null 2>&1; then zpool destroy -f ${name} || exit 1; fi
     rm -f ${vdev} && truncate -s ${sizeMiB}M ${vdev} &&
     zpool create -f -o ashift=12 ${props} ${name} ${vdev}`,
  );
  return { name, vdev, mountpoint: `/${name}` };
}

/** Destroy pool `name` and its vdev. Idempotent: a pool that does not exist is fine. */
export async function destroyPool(name: string): Promise<void> {
  const vdev = poolVdev(name);
  await vm().shOk(
    `if zpool list ${name} >/dev/null 2>&1; then zpool destroy -f ${name} || exit 1; fi; rm -f ${vdev}`,
  );
}

/**
 * Write `count` files of `sizeKiB` random bytes into the mounted `dataset` (under `dir`, created
 * if needed), named `<prefix><n>.bin` from 1. Existing files of those names are replaced.
 * Resolves to the paths relative to the mountpoint, as `checksumTree` reports them.
 */
export async function writeRandomFiles(
  dataset: string,
  count: number,
  sizeKiB: number,
  options: { dir?: string; prefix?: string } = {},
): Promise<string[]> {
  const dir = options.dir ?? '.';
  const prefix = options.prefix ?? 'file-';
  await vm().shOk(
    `mp=$(zfs get -H -o value mountpoint ${shq(dataset)}) || exit 1
     case $mp in /*) ;; *) echo ${shq(`${dataset} is not mounted`)} "($mp)" >&2; exit 1 ;; esac
     d="$mp"/${shq(dir)}; mkdir -p "$d" || exit 1
     i=1; while [ $i -le ${count} ]; do
       head -c ${sizeKiB * 1024} /dev/urandom > "$d"/${shq(prefix)}$i.bin || exit 1; i=$((i + 1))
     done`,
  );
  const rel = dir === '.' ? '' : `${dir.replace(/\/+$/, '')}/`;
  return Array.from({ length: count }, (_, i) => `${rel}${prefix}${i + 1}.bin`);
}

/**
 * SHA-256 of every regular file under `mountpoint` in the guest, keyed by path relative to it
 * (sorted). Any file name works (spaces, quotes, newlines): records travel NUL-terminated and
 * each file is hashed from stdin, so no name is ever parsed out of sha256sum's output.
 */
export async function checksumTree(mountpoint: string): Promise<Map<string, string>> {
  const out = await vm().shOk(
    `cd ${shq(mountpoint)} || exit 1
     find . -type f -exec sh -c 'for f; do
       h=$(sha256sum < "$f") || exit 1; printf "%s %s\\0" "\${h%% *}" "$f"; done' sh {} +`,
  );
  const entries = out
    .split('\0')
    .filter((rec) => rec !== '')
    .map((rec): [string, string] => [rec.slice(65).replace(/^\.\//, ''), rec.slice(0, 64)]);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new Map(entries);
}

/** `zfs snapshot [-r] name` in the guest. */
export async function snapshot(name: string, options: { recursive?: boolean } = {}): Promise<void> {
  await vm().shOk(`zfs snapshot ${options.recursive === true ? '-r ' : ''}${shq(name)}`);
}

/** Full names (`ds@snap`) of the snapshots of `dataset` itself, oldest first (by createtxg). */
export async function listSnapshots(dataset: string): Promise<string[]> {
  const out = await vm().shOk(
    `zfs list -H -p -t snapshot -o name -s createtxg -d 1 ${shq(dataset)}`,
  );
  return out.split('\n').filter((line) => line !== '');
}

/** The built entry points, as package.json `bin` names them. */
const CLI_FILES = {
  z3: 'z3.js',
  pput: 'pput.js',
  z3_get: 'z3-get.js',
  z3_ssh_sync: 'z3-ssh-sync.js',
} as const;

export type CliName = keyof typeof CLI_FILES;

export interface CliOptions extends RunOptions {
  /** Add the test S3 server's variables (`testS3().cliEnv`); default true. */
  withS3?: boolean;
}

/**
 * Run the built CLI `node dist/bin/<file>.js ARGS` with the shims first on PATH (its `zfs` is the
 * guest's) and the test S3 server in its environment; `options.env` overrides both.
 */
export function runCli(
  bin: CliName,
  args: readonly string[],
  options: CliOptions = {},
): Promise<ProcessResult> {
  const script = join(REPO_ROOT, 'dist/bin', CLI_FILES[bin]);
  if (!existsSync(script)) {
    return Promise.reject(new Error(`${script} does not exist: run npm run build first`));
  }
  const s3Env = options.withS3 === false ? {} : testS3().cliEnv;
  return runProcess(process.execPath, [script, ...args], {
    ...options,
    baseEnv: hostEnv(s3Env),
  });
}

export interface GuestSsh {
  /** `root@127.0.0.1`; the port is not part of it. */
  destination: string;
  port: number;
  identityFile: string;
  /** ssh options reaching the guest without prompts: `['-i', key, '-p', port, '-o', …]`. */
  args: string[];
}

/** How to reach the guest's sshd from the host, for tests of the ssh transport (z3_ssh_sync). */
export function guestSsh(): GuestSsh {
  const port = Number(process.env['ZFSVM_PORT'] ?? '2222');
  const identityFile =
    process.env['ZFSVM_KEY'] ?? join(process.env['HOME'] ?? '/root', '.cache/zfsvm/id_ed25519');
  const args = [
    '-i',
    identityFile,
    '-p',
    String(port),
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'BatchMode=yes',
  ];
  return { destination: 'root@127.0.0.1', port, identityFile, args };
}
