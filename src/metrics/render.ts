/**
 * The Prometheus text format (exposition format 0.0.4) of one dataset and target's backup
 * metrics, for node_exporter's textfile collector; and the reading back of such a file, so a
 * failed run can keep the values only a successful run knows (last success, what is stored).
 * Pure: no clock, no I/O. Every metric is a gauge: each is the state after the last run, not a
 * count since some start (so none ends in `_total`). Names follow Prometheus conventions: base
 * units (seconds, bytes), the unit as suffix, timestamps as `_timestamp_seconds` (an age is
 * `time() - …` in PromQL, so the file never goes stale between runs).
 */

/** The labels of every series; never credentials (the target is bucket or directory + prefix). */
export interface MetricLabels {
  dataset: string;
  target: string;
}

/** A metric of the file: its name, HELP text, and its value (omitted when undefined). */
export interface MetricSpec {
  name: MetricName;
  help: string;
}

/** The metrics z3 writes, in file order. */
export const METRICS = [
  {
    name: 'z3_last_run_exit_code',
    help: 'Exit code of the last run (0 = success; README "Exit codes").',
  },
  { name: 'z3_last_run_duration_seconds', help: 'Duration of the last run.' },
  {
    name: 'z3_last_run_timestamp_seconds',
    help: 'When the last run ended, seconds since the epoch.',
  },
  {
    name: 'z3_last_success_timestamp_seconds',
    help: 'When the last successful run ended, seconds since the epoch.',
  },
  { name: 'z3_uploaded_bytes', help: 'Bytes of the objects the last run committed.' },
  {
    name: 'z3_stored_objects',
    help: 'Backups stored for the dataset (objects under the prefix that match SNAPSHOT_PREFIX).',
  },
  { name: 'z3_stored_bytes', help: 'Bytes stored for the dataset, as stored (compressed).' },
  {
    name: 'z3_broken_backups',
    help: 'Stored backups that cannot be restored (missing parent, cycle).',
  },
  {
    name: 'z3_chain_length',
    help: 'Objects a restore of the newest backup receives (its full and incrementals).',
  },
  {
    name: 'z3_newest_backup_timestamp_seconds',
    help: 'Creation time of the newest backed-up snapshot, seconds since the epoch.',
  },
  {
    name: 'z3_newest_backup_verified',
    help: '1 when z3 verify last found the newest backup (as stored now) sound, else 0.',
  },
  {
    name: 'z3_last_verify_timestamp_seconds',
    help: "When z3 verify last found one of the dataset's backups sound, seconds since the epoch.",
  },
] as const;

/** A metric name z3 writes. */
export type MetricName = (typeof METRICS)[number]['name'];

/** The values of one file; an undefined value leaves the metric out (unknown, e.g. never verified). */
export type MetricValues = Partial<Record<MetricName, number>>;

/** The text of the metrics file: HELP, TYPE and one sample per known value. */
export function renderMetrics(labels: MetricLabels, values: MetricValues): string {
  const labelText = `{dataset="${escapeLabel(labels.dataset)}",target="${escapeLabel(labels.target)}"}`;
  const lines: string[] = [];
  for (const { name, help } of METRICS) {
    const value = values[name];
    if (value === undefined) continue;
    lines.push(
      `# HELP ${name} ${help}`,
      `# TYPE ${name} gauge`,
      `${name}${labelText} ${formatValue(value)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The values of a file `renderMetrics` wrote (one label set per file), by name; lines it did not
 * write (comments, other names, unparsable values) are skipped, so a damaged file reads as
 * fewer values, never as an error.
 */
export function parseMetricValues(text: string): MetricValues {
  const known = new Set<string>(METRICS.map((m) => m.name));
  const values: MetricValues = {};
  for (const line of text.split('\n')) {
    const match = /^([a-z0-9_]+)\{.*\} (\S+)$/.exec(line);
    if (match === null || !known.has(match[1] ?? '')) continue;
    const value = Number(match[2]);
    if (Number.isFinite(value)) values[match[1] as MetricName] = value;
  }
  return values;
}

/** The stored-state names: only a run that listed the target knows them. */
const STORED: readonly MetricName[] = [
  'z3_stored_objects',
  'z3_stored_bytes',
  'z3_broken_backups',
  'z3_chain_length',
  'z3_newest_backup_timestamp_seconds',
  'z3_newest_backup_verified',
  'z3_last_verify_timestamp_seconds',
];

/**
 * The values after a run: `current` (exit code, duration, bytes; the last success and stored
 * state when the run knows them), with the `previous` file's last success when this run failed,
 * and its stored state when this run did not list the target (it failed, or the listing after
 * the backup did). So an alert on the last success time keeps counting from the last good run.
 */
export function mergeRunValues(previous: MetricValues, current: MetricValues): MetricValues {
  const merged: MetricValues = { ...current };
  const kept: MetricName[] = ['z3_last_success_timestamp_seconds'];
  if (current.z3_stored_objects === undefined) kept.push(...STORED);
  for (const name of kept) {
    const value = previous[name];
    if (merged[name] === undefined && value !== undefined) merged[name] = value;
  }
  return merged;
}

/** Label values escape backslash, double quote and line feed (exposition format). */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}
