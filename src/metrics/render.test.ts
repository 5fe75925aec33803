import { describe, expect, it } from 'vitest';
import { mergeRunValues, parseMetricValues, renderMetrics } from './render.js';

const LABELS = { dataset: 'tank/data', target: 's3://bucket/z3-backup/' };

describe('renderMetrics', () => {
  it('writes HELP, TYPE gauge and one labelled sample per known value, in METRICS order', () => {
    const text = renderMetrics(LABELS, {
      z3_uploaded_bytes: 3000,
      z3_last_run_exit_code: 0,
      z3_last_run_duration_seconds: 1.23456,
    });
    expect(text).toBe(
      '# HELP z3_last_run_exit_code Exit code of the last run (0 = success; README "Exit codes").\n' +
        '# TYPE z3_last_run_exit_code gauge\n' +
        'z3_last_run_exit_code{dataset="tank/data",target="s3://bucket/z3-backup/"} 0\n' +
        '# HELP z3_last_run_duration_seconds Duration of the last run.\n' +
        '# TYPE z3_last_run_duration_seconds gauge\n' +
        'z3_last_run_duration_seconds{dataset="tank/data",target="s3://bucket/z3-backup/"} 1.235\n' +
        '# HELP z3_uploaded_bytes Bytes of the objects the last run committed.\n' +
        '# TYPE z3_uploaded_bytes gauge\n' +
        'z3_uploaded_bytes{dataset="tank/data",target="s3://bucket/z3-backup/"} 3000\n',
    );
  });

  it('escapes backslash, double quote and line feed in label values', () => {
    const text = renderMetrics(
      { dataset: 'tank/a"b', target: 'C:\\x\ny' },
      { z3_last_run_exit_code: 2 },
    );
    expect(text).toContain('{dataset="tank/a\\"b",target="C:\\\\x\\ny"} 2\n');
  });

  it('reads back what it wrote, and skips lines it did not write', () => {
    const values = { z3_last_run_exit_code: 5, z3_stored_bytes: 123456789012, z3_chain_length: 3 };
    const text = `${renderMetrics(LABELS, values)}other_metric{a="b"} 7\nz3_stored_objects{} x\n`;
    expect(parseMetricValues(text)).toEqual(values);
    expect(parseMetricValues('')).toEqual({});
  });
});

describe('mergeRunValues', () => {
  const previous = {
    z3_last_run_exit_code: 0,
    z3_last_success_timestamp_seconds: 100,
    z3_stored_objects: 4,
    z3_newest_backup_timestamp_seconds: 90,
  };

  it('a failed run keeps the last success time and the stored state, with its own exit code', () => {
    const failed = {
      z3_last_run_exit_code: 5,
      z3_last_run_duration_seconds: 2,
      z3_uploaded_bytes: 0,
    };
    expect(mergeRunValues(previous, failed)).toEqual({
      ...failed,
      z3_last_success_timestamp_seconds: 100,
      z3_stored_objects: 4,
      z3_newest_backup_timestamp_seconds: 90,
    });
  });

  it('a successful run that listed the target replaces everything', () => {
    const ok = {
      z3_last_run_exit_code: 0,
      z3_last_success_timestamp_seconds: 200,
      z3_stored_objects: 5,
    };
    expect(mergeRunValues(previous, ok)).toEqual(ok);
  });

  it('a first run that failed has no last success time', () => {
    expect(mergeRunValues({}, { z3_last_run_exit_code: 4 })).toEqual({ z3_last_run_exit_code: 4 });
  });
});
