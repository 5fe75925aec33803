import { describe, expect, it } from 'vitest';
import { renderDatasetSummary, worstExitCode, type DatasetOutcome } from './dataset-summary.js';

const outcome = (dataset: string, exitCode: number, hasRun = true): DatasetOutcome => ({
  dataset,
  exitCode,
  hasRun,
  durationMs: 1250,
  bytes: 1536,
});

describe('worstExitCode', () => {
  it.each([
    [[0, 0, 0], 0],
    [[0, 1, 0], 1],
    [[1, 2], 2],
    [[2, 3, 0], 3],
    [[4, 3, 2], 4],
    [[5, 4, 1], 5],
    [[5, 130, 4], 130],
    [[], 0],
  ])('%j → %i', (codes, worst) => {
    expect(worstExitCode(codes.map((code, i) => outcome(`tank/${i}`, code)))).toBe(worst);
  });
});

describe('renderDatasetSummary', () => {
  it('one aligned row per dataset; a dataset never started is "not run"', () => {
    expect(
      renderDatasetSummary([
        outcome('tank/a', 0),
        outcome('tank/longer', 4),
        outcome('tank/c', 130, false),
      ]),
    ).toBe(
      'DATASET      RESULT          EXIT  TIME  BYTES\n' +
        'tank/a       ok              0     1.3s  1.50 KiB\n' +
        'tank/longer  command failed  4     1.3s  1.50 KiB\n' +
        'tank/c       not run         130   -     -\n',
    );
  });
});
