/**
 * The one error hierarchy of z3. Every failure that reaches the entry point is a Z3Error (or is
 * wrapped into one as InternalError) and maps to a documented exit code; the entry point
 * (`src/cli/run-main.ts`) is the only place that prints it and calls `process.exit`.
 */

/** Exit codes, documented in `--help` and the README. */
export const EXIT = {
  OK: 0,
  /** A bug or an unexpected condition; `--debug` shows the stack. */
  INTERNAL: 1,
  /** Bad arguments or configuration: fix the command line or the config file. */
  USAGE: 2,
  /** A backup chain is broken (missing parent, cycle): nothing was run. */
  INTEGRITY: 3,
  /**
   * An external command (zfs, compressor, ssh) failed; the upload was aborted. Also: standard
   * output could not be written (not EPIPE), so the run's output is lost.
   */
  COMMAND_FAILED: 4,
  /** The object store refused or failed a request (auth, missing bucket/key, network). */
  STORAGE: 5,
  /** Interrupted by SIGINT/SIGTERM; pending uploads were aborted. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The error the entry point reports for `err` (src/cli/run-main.ts): after an abort, a failure
 * that is no Z3Error is the interruption itself (`signal.reason`).
 */
export function reportedError(err: unknown, signal: AbortSignal): unknown {
  return signal.aborted && !(err instanceof Z3Error) ? signal.reason : err;
}

/** The exit code the entry point gives `err` (see `reportedError`). */
export function exitCodeOf(err: unknown, signal: AbortSignal): number {
  const known = reportedError(err, signal);
  return known instanceof Z3Error ? known.exitCode : EXIT.INTERNAL;
}

export interface Z3ErrorOptions {
  /** A second line, printed as `hint: …`, telling the user what to do. */
  hint?: string;
  cause?: unknown;
}

/** Base class: `message` is one line saying what failed and why. Never put a secret in it. */
export class Z3Error extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  constructor(message: string, exitCode: ExitCode, options: Z3ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}

/** Bad command-line arguments or input that the user must fix (exit 2). */
export class UsageError extends Z3Error {
  constructor(message: string, options?: Z3ErrorOptions) {
    super(message, EXIT.USAGE, options);
  }
}

/** A config file or environment value is wrong; the message names file, section and key (exit 2). */
export class ConfigError extends Z3Error {
  constructor(message: string, options?: Z3ErrorOptions) {
    super(message, EXIT.USAGE, options);
  }
}

/** A backup chain is unhealthy or a snapshot relation does not hold (exit 3). */
export class IntegrityError extends Z3Error {
  constructor(message: string, options?: Z3ErrorOptions) {
    super(message, EXIT.INTEGRITY, options);
  }
}

/** A spawned command failed (exit 4). The message names the stage, its exit status and stderr tail. */
export class CommandFailedError extends Z3Error {
  constructor(message: string, options?: Z3ErrorOptions) {
    super(message, EXIT.COMMAND_FAILED, options);
  }
}

/** The object store failed a request (exit 5). `isRetryable` is decided where the error arises. */
export class StorageError extends Z3Error {
  readonly isRetryable: boolean;
  readonly isNotFound: boolean;
  constructor(
    message: string,
    options: Z3ErrorOptions & { isRetryable?: boolean; isNotFound?: boolean } = {},
  ) {
    super(message, EXIT.STORAGE, options);
    this.isRetryable = options.isRetryable ?? false;
    this.isNotFound = options.isNotFound ?? false;
  }
}

/**
 * Standard output could not be written (EIO, a full disk) and what was to be written there is
 * lost (exit 4). Not for EPIPE: a reader that stopped reading (`| head`) is no failure.
 */
export class OutputError extends Z3Error {
  constructor(message: string, options?: Z3ErrorOptions) {
    super(message, EXIT.COMMAND_FAILED, options);
  }
}

/** SIGINT/SIGTERM arrived; work in flight was cleaned up (exit 130). */
export class InterruptedError extends Z3Error {
  constructor(message = 'interrupted', options?: Z3ErrorOptions) {
    super(message, EXIT.INTERRUPTED, options);
  }
}

/** A failure with a fixed exit code chosen by the caller, e.g. pput's zero-byte input (exit 1). */
export class InternalError extends Z3Error {
  constructor(message: string, options?: Z3ErrorOptions) {
    super(message, EXIT.INTERNAL, options);
  }
}

/**
 * A conditional commit (`ifNoneMatch`, src/storage/backend.ts) found an object at the key that
 * another writer committed first; that object was left in place (exit 3, an IntegrityError).
 */
export class CommitConflictError extends IntegrityError {
  constructor(key: string, options?: Z3ErrorOptions) {
    super(`another writer committed ${key} first; it was left in place`, options);
  }
}
