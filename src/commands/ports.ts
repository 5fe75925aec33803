/**
 * What a command needs of the outside world, passed in rather than reached for, so that the
 * orchestration of status, backup, restore, pput and z3_get has unit tests on the memory
 * backend with a scripted `zfs`, and the real path differs only in the ports (`defaultPorts`).
 */
import type { Writable } from 'node:stream';
import type { MainContext } from '../cli/run-main.js';
import type { Settings } from '../config/types.js';
import { acquireLock, type HeldLock, type LockRequest } from '../lock/acquire.js';
import { runCommand, type CommandRunner } from '../pipeline/run-command.js';
import { openStorage, type Storage } from '../storage/open.js';

/** A stream the command writes text to (process.stdout / stderr, or a buffer in tests). */
export type OutputSink = Writable & { isTTY?: boolean };

export interface CommandPorts {
  /** Builds the storage of a run from its settings (src/storage/open.ts in production). */
  openStorage: (settings: Settings) => Storage;
  /** The program run as `zfs` (for listings, estimates, send and receive). */
  zfs: string;
  /** The environment the settings are resolved from (flags > environment > file > defaults). */
  env: Record<string, string | undefined>;
  /** Where results go (tables, JSON, dry-run lines, z3_get's bytes). */
  stdout: OutputSink;
  /** Where progress, warnings and messages go. */
  stderr: OutputSink;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Aborted on SIGINT/SIGTERM/SIGHUP with an InterruptedError as reason. */
  signal: AbortSignal;
  /**
   * Takes a run lock (src/lock/acquire.ts in production: an OS lock in LOCK_DIR); same
   * contract and errors as `acquireLock`.
   */
  lock: (request: LockRequest) => Promise<HeldLock>;
}

/** The real ports: process streams, the environment, the real clock, `zfs` on PATH. */
export function defaultPorts(ctx: MainContext): CommandPorts {
  const stderr = process.stderr;
  return {
    openStorage: (settings) =>
      openStorage(settings, { warn: (m) => stderr.write(`z3: warning: ${m}\n`) }),
    zfs: 'zfs',
    env: process.env,
    stdout: process.stdout,
    stderr,
    now: Date.now,
    signal: ctx.signal,
    lock: acquireLock,
  };
}

/** `argv` with its program replaced by `program` (the `zfs` of the ports). */
export function withProgram(argv: readonly string[], program: string): string[] {
  return [program, ...argv.slice(1)];
}

/** A command runner that runs `zfs …` argvs as the ports' `zfs`. */
export function zfsRunner(ports: Pick<CommandPorts, 'zfs'>): CommandRunner {
  return (argv, options) => runCommand(withProgram(argv, ports.zfs), options);
}
