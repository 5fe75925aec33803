import type { Readable, Writable } from 'node:stream';

/** One process of a pipeline, spawned with an argument array (never a shell). */
export interface StageSpec {
  /** argv[0] is the program, looked up on PATH. */
  argv: string[];
  /** Extra environment for this stage (merged over process.env). */
  env?: Record<string, string>;
  /**
   * What the stage is for, e.g. `compressor pigz1`; names the stage in "not installed" errors
   * (`compressor pigz1 needs 'pigz', which is not installed`). Optional.
   */
  label?: string;
  /**
   * The stage's stderr: 'capture' (default) keeps the last lines for the error message and prints
   * nothing; 'inherit' hands it our stderr (for a stage that draws on the terminal, like `pv`),
   * so a failure message then carries no stderr tail.
   */
  stderr?: 'capture' | 'inherit';
}

/**
 * Writes the first stage's input straight into its stdin, honouring backpressure, and resolves
 * once the last byte was handed over (the runner ends stdin then); rejects when its source
 * failed. Why besides a Readable: a writer that sees each write's callback knows when the kernel
 * has the bytes, so it can reuse its buffers (the downloader's ranges) instead of allocating a
 * fresh one per chunk, which costs a garbage collection per range. It must not end or destroy
 * stdin; on failure the runner destroys it.
 */
export type StdinFeeder = (stdin: Writable) => Promise<void>;

export interface PipelineSpec {
  stages: StageSpec[];
  /**
   * Where the first stage's stdin comes from: 'ignore' (e.g. `zfs send`) or an in-process
   * stream (e.g. a download feeding `zfs receive`), or a feeder that writes into the stage's
   * stdin itself (see StdinFeeder).
   */
  input: 'ignore' | Readable | StdinFeeder;
  /**
   * Where the last stage's stdout goes: 'pipe' (read it from `RunningPipeline.output`, e.g. into
   * the uploader), 'fd' (a bare pipe: read `RunningPipeline.outputFd` with your own buffers, as
   * the uploader's pipeReader does; 'pipe' where no mkfifo runs, so read `output` when
   * `outputFd` is undefined), 'inherit', or a Writable the runner pipes into.
   */
  output: 'pipe' | 'fd' | 'inherit' | Writable;
  /** Aborting kills every stage (SIGTERM) and makes `done` reject with the signal's reason. */
  signal?: AbortSignal;
}

export interface RunningPipeline {
  /**
   * stdout of the last stage when `output` is 'pipe' (or 'fd' without `outputFd`); otherwise
   * undefined. The caller must read
   * it to the end (or call `kill`): an unread pipe stalls the last stage and `done` never settles.
   */
  output: Readable | undefined;
  /**
   * The non-blocking read end of the last stage's stdout when `output` is 'fd' (and a pipe
   * could be made); otherwise undefined. Owned by the caller (close it, or let a pipeReader close it), with the same duty
   * to read it to the end (or call `kill`) as `output`.
   */
  outputFd?: number | undefined;
  /**
   * Resolves when every stage exited 0 (and the in-process input and output streams, if any,
   * finished without an error of their own). Rejects with a CommandFailedError naming the stage
   * that failed first: its argv (quoted), exit code or signal, and the last lines of its stderr.
   * Stages that die of SIGPIPE/EPIPE, or are killed by the runner after another stage failed, are
   * not reported as the cause. A stage killed by SIGPIPE with no other failure is a failure (a
   * later stage stopped reading early). The in-process input is not a stage: when the first stage
   * exits 0 without reading all of it, the rest is discarded and that is not an error (a
   * `zfs receive` that has the whole stream may exit before EOF). An error of the input stream
   * itself (e.g. a failed download) is reported as is.
   */
  done: Promise<void>;
  /**
   * Kill every stage still running (SIGTERM, SIGKILL 5 s later). Safe to call twice. `done` then
   * rejects with a stage failure that happened before the call, else with `reason` (default: a
   * CommandFailedError saying the pipeline was stopped).
   */
  kill(reason?: unknown): void;
}
