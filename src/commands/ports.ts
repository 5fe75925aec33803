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
import { safeSink } from '../ui/safe-sink.js';

/** A stream the command writes text to (process.stdout / stderr, or a buffer in tests). */
export type OutputSink = Writable & { isTTY?: boolean };

export interface CommandPorts {
  /** Builds the storage of a run from its settings (src/storage/open.ts in production). */
  openStorage: (settings: Settings) => Storage;
  /** The program run as `zfs` (for listings, estimates, send and receive). */
  zfs: string;
  /** The environment the settings are resolved from (flags > environment > file > defaults). */
  env: Record<string, string | undefined>;
  /**
   * Where results go (tables, JSON, dry-run lines, z3_get's bytes). May fail (EPIPE when the
   * reader left): text goes through `withSafeOutput`; z3_get watches it for its data.
   */
  stdout: OutputSink;
  /** Where progress, warnings and messages go. May fail as stdout; see `withSafeOutput`. */
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

/**
 * The real ports: process streams, the environment, the real clock, `zfs` on PATH. Messages on
 * stderr go through `safeSink`; what a failed stdout means is decided by the entry point
 * (src/cli/run-main.ts).
 */
export function defaultPorts(ctx: MainContext): CommandPorts {
  const stderr = safeSink(process.stderr);
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

/**
 * `ports` whose stdout and stderr never fail the run: a sink that errored (EPIPE: the reader
 * left) drops later writes, so an upload in flight, and the snapshots after it, go on to the
 * run's own outcome. For commands that write text only (status, backup, restore, pput);
 * z3_get's stdout carries the data and is watched by the downloader instead.
 */
export function withSafeOutput(ports: CommandPorts): CommandPorts {
  return { ...ports, stdout: safeSink(ports.stdout), stderr: safeSink(ports.stderr) };
}

/** A one-line warning on the ports' stderr (`z3: warning: <message>`). */
export function warnOn(ports: Pick<CommandPorts, 'stderr'>): (message: string) => void {
  return (message) => void ports.stderr.write(`z3: warning: ${message}\n`);
}

/** `argv` with its program replaced by `program` (the `zfs` of the ports). */
export function withProgram(argv: readonly string[], program: string): string[] {
  return [program, ...argv.slice(1)];
}

/** A command runner that runs `zfs …` argvs as the ports' `zfs`. */
export function zfsRunner(ports: Pick<CommandPorts, 'zfs'>): CommandRunner {
  return (argv, options) => runCommand(withProgram(argv, ports.zfs), options);
}
