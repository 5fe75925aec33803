/**
 * The summary of a run over many datasets (`--all`, `--recursive`): one row per dataset with
 * its outcome, and the exit code of the whole run. Pure.
 */
import { EXIT } from '../errors.js';
import { formatBytes } from './progress.js';

/** How one dataset's run ended. */
export interface DatasetOutcome {
  dataset: string;
  /** The exit code the command would have had run on this dataset alone. */
  exitCode: number;
  /** False when the run was interrupted before this dataset started. */
  hasRun: boolean;
  /** Wall time of this dataset's run, in milliseconds. */
  durationMs: number;
  /** Bytes of the objects this dataset's run committed to the target (0 for status, verify). */
  bytes: number;
}

/** The RESULT word of each documented exit code (README "Exit codes"). */
const RESULT_WORDS: Record<number, string> = {
  [EXIT.OK]: 'ok',
  [EXIT.INTERNAL]: 'internal error',
  [EXIT.USAGE]: 'usage/config',
  [EXIT.INTEGRITY]: 'integrity',
  [EXIT.COMMAND_FAILED]: 'command failed',
  [EXIT.STORAGE]: 'storage error',
  [EXIT.INTERRUPTED]: 'interrupted',
};

/**
 * The exit code of the whole run: the highest of the datasets' codes. Why the highest: the
 * codes are ordered by how much attention they need, 130 (interrupted: datasets were not run)
 * over 5 (storage) over 4 (a command failed) over 3 (a broken chain) over 2 (usage or config)
 * over 1 (internal), and any failure makes the run fail; 0 only when every dataset ran and
 * exited 0.
 */
export function worstExitCode(outcomes: readonly DatasetOutcome[]): number {
  return outcomes.reduce((worst, o) => Math.max(worst, o.exitCode), EXIT.OK as number);
}

/** The table, header first, columns aligned: DATASET RESULT EXIT TIME BYTES. */
export function renderDatasetSummary(outcomes: readonly DatasetOutcome[]): string {
  const rows = [
    ['DATASET', 'RESULT', 'EXIT', 'TIME', 'BYTES'],
    ...outcomes.map((o) => [
      o.dataset,
      o.hasRun ? (RESULT_WORDS[o.exitCode] ?? 'failed') : 'not run',
      String(o.exitCode),
      o.hasRun ? `${(o.durationMs / 1000).toFixed(1)}s` : '-',
      o.hasRun ? formatBytes(o.bytes) : '-',
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) => `${r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd() + '\n')
    .join('');
}
