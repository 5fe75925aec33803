/**
 * METRICS_FILE for `z3 backup`: at the end of every run that got as far as its settings, the
 * run's metrics (src/metrics/render.ts) are written for node_exporter's textfile collector. A
 * failed run updates its exit code and duration and keeps the last success time; a metrics file
 * that cannot be written is a warning, never a failure of the backup.
 */
import type { Settings } from '../config/types.js';
import { EXIT } from '../errors.js';
import { metricsPath, readPrevious, writeAtomically } from '../metrics/file.js';
import {
  mergeRunValues,
  parseMetricValues,
  renderMetrics,
  type MetricLabels,
  type MetricValues,
} from '../metrics/render.js';
import { storedValues } from '../metrics/stored.js';
import { computeHealth } from '../plan/health.js';
import { warnOn, type CommandPorts } from './ports.js';
import { fetchRemoteSnapshots } from './remote-snapshots.js';
import { readVerified } from './verify-remember.js';
import { targetLabel } from './target-label.js';

/** The metrics of one run, started when the run starts. */
export interface RunMetrics {
  /** Count the bytes of an object this run committed. */
  addUploaded(bytes: number): void;
  /** Write the file for a run that ended with `exitCode`; never throws; later calls do nothing. */
  finish(exitCode: number): Promise<void>;
}

type MetricsPorts = Pick<CommandPorts, 'now' | 'stderr' | 'openStorage'>;

/** The run's metrics, or undefined when METRICS_FILE is not set. */
export function startRunMetrics(input: {
  settings: Settings;
  filesystem: string;
  ports: MetricsPorts;
}): RunMetrics | undefined {
  const { settings, ports } = input;
  const file = settings.metricsFile;
  if (file === undefined) return undefined;
  const labels: MetricLabels = { dataset: input.filesystem, target: targetLabel(settings) };
  const startedAt = ports.now();
  let uploaded = 0;
  let isFinished = false;
  return {
    addUploaded: (bytes) => {
      uploaded += bytes;
    },
    finish: async (exitCode) => {
      if (isFinished) return;
      isFinished = true;
      const endedAt = ports.now();
      const current: MetricValues = {
        z3_last_run_exit_code: exitCode,
        z3_last_run_duration_seconds: (endedAt - startedAt) / 1000,
        z3_last_run_timestamp_seconds: endedAt / 1000,
        z3_uploaded_bytes: uploaded,
      };
      if (exitCode === EXIT.OK) {
        current.z3_last_success_timestamp_seconds = endedAt / 1000;
        Object.assign(current, await listStored({ settings, filesystem: input.filesystem, ports }));
      }
      const path = metricsPath(file, labels);
      try {
        const previous = parseMetricValues(await readPrevious(path));
        await writeAtomically(path, renderMetrics(labels, mergeRunValues(previous, current)));
      } catch (err) {
        ports.stderr.write(
          `z3: warning: cannot write METRICS_FILE ${path}: ${(err as Error).message}\n`,
        );
      }
    },
  };
}

/**
 * The stored state after the run (one more listing of the dataset's prefix); {} with a warning
 * when it cannot be read, which keeps the previous file's values.
 */
async function listStored(input: {
  settings: Settings;
  filesystem: string;
  ports: MetricsPorts;
}): Promise<MetricValues> {
  const { settings } = input;
  try {
    const storage = input.ports.openStorage(settings);
    const remote = await fetchRemoteSnapshots(storage, {
      prefix: settings.s3Prefix,
      filesystem: input.filesystem,
      snapshotPrefix: settings.snapshotPrefix,
      warn: warnOn(input.ports),
    });
    const verifications = await readVerified(settings, storage);
    return storedValues({ remote, health: computeHealth(remote), verifications });
  } catch (err) {
    input.ports.stderr.write(
      `z3: warning: METRICS_FILE: cannot list the stored backups: ${(err as Error).message}\n`,
    );
    return {};
  }
}
