import type { Readable, Writable } from 'node:stream';

/** One process of a pipeline, spawned with an argument array (never a shell). */
export interface StageSpec {
  /** argv[0] is the program, looked up on PATH. */
  argv: string[];
  /** Extra environment for this stage (merged over process.env). */
  env?: Record<string, string>;
}

export interface PipelineSpec {
  stages: StageSpec[];
  /**
   * Where the first stage's stdin comes from: 'ignore' (e.g. `zfs send`) or an in-process
   * stream (e.g. a download feeding `zfs receive`).
   */
  input: 'ignore' | Readable;
  /**
   * Where the last stage's stdout goes: 'pipe' (read it from `RunningPipeline.output`, e.g. into
   * the uploader), 'inherit', or a Writable the runner pipes into.
   */
  output: 'pipe' | 'inherit' | Writable;
  /** Aborting kills every stage (SIGTERM) and makes `done` reject with the signal's reason. */
  signal?: AbortSignal;
}

export interface RunningPipeline {
  /** stdout of the last stage when `output` is 'pipe'; otherwise undefined. */
  output: Readable | undefined;
  /**
   * Resolves when every stage exited 0 (and the in-process input, if any, was fully written).
   * Rejects with a CommandFailedError naming the first stage that failed: its argv (quoted), exit
   * code or signal, and the last lines of its stderr. Stages downstream of a failure that die of
   * SIGPIPE/EPIPE are not reported as the cause.
   */
  done: Promise<void>;
  /** Kill every stage still running (SIGTERM). Safe to call twice. */
  kill(): void;
}
