/**
 * Which datasets a run over many datasets covers: `--all` (DATASETS, then every `[fs:…]`
 * section of the config file) and `--recursive` (each of those, or the one dataset of the run,
 * with every filesystem and volume below it).
 */
import { ConfigError, UsageError } from '../errors.js';
import { listDatasetTree } from '../zfs/zfs.js';
import { loadSettings, requireFilesystem, type GlobalFlags } from './context.js';
import { zfsRunner, type CommandPorts } from './ports.js';

/** `--all`, `--recursive` and `--jobs` as typed (raw, no defaults). */
export interface EachDatasetFlags {
  all: boolean;
  recursive: boolean;
  jobs: string | undefined;
}

/** One dataset to run, or the reason its children could not be listed (its run fails with it). */
export interface DatasetJob {
  dataset: string;
  listingError?: unknown;
}

/** The datasets of this run, each once, in the order they run. */
export async function selectDatasets(
  input: { flags: GlobalFlags; each: EachDatasetFlags },
  ports: CommandPorts,
): Promise<DatasetJob[]> {
  const roots = input.each.all
    ? configuredDatasets(input.flags, ports)
    : [requireFilesystem(loadSettings(input.flags, ports.env))];
  if (!input.each.recursive) return roots.map((dataset) => ({ dataset }));
  const jobs = new Map<string, DatasetJob>();
  for (const root of roots) {
    for (const job of await datasetTree(root, ports)) {
      if (!jobs.has(job.dataset)) jobs.set(job.dataset, job);
    }
  }
  return [...jobs.values()];
}

/**
 * `root` and its children. Why a failed listing becomes the root's job rather than the run's
 * error: one dataset that is gone must not keep the others from their backup.
 */
async function datasetTree(root: string, ports: CommandPorts): Promise<DatasetJob[]> {
  try {
    const names = await listDatasetTree(root, { run: zfsRunner(ports), signal: ports.signal });
    return names.map((dataset) => ({ dataset }));
  } catch (err) {
    return [{ dataset: root, listingError: err }];
  }
}

/**
 * DATASETS, then the `[fs:…]` sections in file order. FILESYSTEM must not be set anywhere:
 * a run that names one dataset and asks for all of them is ambiguous.
 */
function configuredDatasets(flags: GlobalFlags, ports: CommandPorts): string[] {
  if (flags.filesystem !== undefined) {
    throw new UsageError('--all runs every configured dataset: leave out --dataset/--filesystem');
  }
  const settings = loadSettings(flags, ports.env);
  if (settings.filesystem !== undefined) {
    throw new UsageError(`--all cannot be used with FILESYSTEM set (${settings.filesystem})`, {
      hint: 'unset FILESYSTEM in the environment and [main] of the config file; list the datasets in DATASETS',
    });
  }
  const names = [...new Set([...settings.datasets, ...(settings.configFile?.fsDatasets ?? [])])];
  if (names.length === 0) {
    throw new ConfigError('--all: no datasets are configured', {
      hint: `set DATASETS = pool/a pool/b in [main], or add [fs:<dataset>] sections, in ${settings.configFile?.path ?? 'the config file'}`,
    });
  }
  return names;
}
