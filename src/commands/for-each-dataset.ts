/**
 * `--all` / `--recursive` / `--jobs N`: one command (backup, status, prune, verify) run on many
 * datasets, each exactly as `--dataset <it>` would run it alone (its own `[fs:…]` settings, its
 * own lock, its own chain under the same key prefix), `N` at a time. A failed dataset does not
 * stop the others; the summary table goes to stderr (stdout stays each command's own output)
 * and the run exits with the worst code (src/ui/dataset-summary.ts).
 */
import { redact } from '../cli/secrets.js';
import { EXIT, UsageError, Z3Error } from '../errors.js';
import type { Backend, ChunkWriter } from '../storage/backend.js';
import { mapBounded } from '../storage/listing.js';
import type { Storage } from '../storage/open.js';
import { heldSink, prefixedLineSink } from '../ui/dataset-sinks.js';
import { renderDatasetSummary, worstExitCode, type DatasetOutcome } from '../ui/dataset-summary.js';
import type { GlobalFlags } from './context.js';
import { selectDatasets, type DatasetJob, type EachDatasetFlags } from './dataset-selection.js';
import { withSafeOutput, type CommandPorts } from './ports.js';
import { indexKey } from '../plan/index-key.js';

export type { EachDatasetFlags } from './dataset-selection.js';

/** Most datasets at once: each runs its own zfs send and upload workers. */
const MAX_JOBS = 64;

export interface ForEachDatasetInput {
  /** The subcommand, for the per-dataset header line (`z3: backup tank/a`). */
  command: string;
  flags: GlobalFlags;
  each: EachDatasetFlags;
  /** The command on one dataset: `flags.filesystem` names it. Its exit code, or it throws. */
  run: (flags: GlobalFlags, ports: CommandPorts) => Promise<number>;
}

/** Run `input.run` once, or once per dataset with `--all` / `--recursive`; the exit code. */
export async function runForEachDataset(
  input: ForEachDatasetInput,
  rawPorts: CommandPorts,
): Promise<number> {
  const { each } = input;
  if (!each.all && !each.recursive) {
    if (each.jobs !== undefined) throw new UsageError('--jobs needs --all or --recursive');
    return input.run(input.flags, rawPorts);
  }
  const jobs = parseJobs(each.jobs);
  const ports = withSafeOutput(rawPorts);
  const datasets = await selectDatasets({ flags: input.flags, each }, ports);
  const outcomes = await mapBounded(datasets, jobs, (job) =>
    runOne({ input, job, ports, isParallel: jobs > 1 }),
  );
  ports.stderr.write(`\n${renderDatasetSummary(outcomes)}`);
  return worstExitCode(outcomes);
}

function parseJobs(raw: string | undefined): number {
  if (raw === undefined) return 1;
  const jobs = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!(jobs >= 1 && jobs <= MAX_JOBS)) {
    throw new UsageError(`--jobs: expected a whole number from 1 to ${MAX_JOBS}`);
  }
  return jobs;
}

/**
 * One dataset's run, never throwing: its error is printed as the entry point would print it
 * alone (`z3: <dataset>: <message>`, `hint:`) and becomes its exit code. Once the run is
 * interrupted, datasets not yet started are not run (exit 130).
 */
async function runOne(input: {
  input: ForEachDatasetInput;
  job: DatasetJob;
  ports: CommandPorts;
  isParallel: boolean;
}): Promise<DatasetOutcome> {
  const { job, ports } = input;
  const dataset = job.dataset;
  if (ports.signal.aborted) {
    return { dataset, exitCode: EXIT.INTERRUPTED, hasRun: false, durationMs: 0, bytes: 0 };
  }
  ports.stderr.write(`z3: ${input.input.command} ${dataset}\n`);
  const started = ports.now();
  const counter = { bytes: 0 };
  const stdout = heldSink();
  const stderr = prefixedLineSink(ports.stderr, `${dataset}: `);
  const datasetPorts: CommandPorts = {
    ...ports,
    openStorage: (settings) =>
      countingStorage(ports.openStorage(settings), {
        counter,
        // the dataset's index is bookkeeping, not backed-up bytes
        isCounted: (key) => key !== indexKey(settings.s3Prefix, dataset),
      }),
    ...(input.isParallel ? { stdout, stderr } : {}),
  };
  const exitCode =
    job.listingError === undefined
      ? await runCaught(
          { ...input.input, flags: { ...input.input.flags, filesystem: dataset } },
          { ports: datasetPorts, reportTo: ports },
        )
      : reportFailure({ err: job.listingError, dataset, ports });
  stderr.endLine();
  stdout.flushTo(ports.stdout);
  return {
    dataset,
    exitCode,
    hasRun: true,
    durationMs: ports.now() - started,
    bytes: counter.bytes,
  };
}

/**
 * `input.run` on one dataset with `ports.ports`; a failure is reported on `ports.reportTo`
 * (not tagged again with the dataset: the message names it) and becomes its exit code.
 */
async function runCaught(
  input: ForEachDatasetInput,
  ports: { ports: CommandPorts; reportTo: CommandPorts },
): Promise<number> {
  try {
    return await input.run(input.flags, ports.ports);
  } catch (err) {
    return reportFailure({ err, dataset: input.flags.filesystem ?? '', ports: ports.reportTo });
  }
}

/** Print a dataset's failure as src/cli/run-main.ts prints a run's, and return its exit code. */
function reportFailure(input: { err: unknown; dataset: string; ports: CommandPorts }): number {
  const { err, ports } = input;
  const known: unknown =
    ports.signal.aborted && !(err instanceof Z3Error) ? ports.signal.reason : err;
  if (known instanceof Z3Error) {
    ports.stderr.write(redact(`z3: ${input.dataset}: ${known.message}\n`));
    if (known.hint !== undefined) ports.stderr.write(redact(`hint: ${known.hint}\n`));
    return known.exitCode;
  }
  const message = (err instanceof Error ? err.message : String(err)).split('\n', 1)[0] ?? '';
  ports.stderr.write(redact(`z3: ${input.dataset}: internal error: ${message}\n`));
  ports.stderr.write(`hint: run it alone with --dataset ${input.dataset} --debug for details\n`);
  return EXIT.INTERNAL;
}

/** `storage` whose backend adds the size of every object it commits to `counter.bytes`. */
function countingStorage(
  storage: Storage,
  counting: { counter: { bytes: number }; isCounted: (key: string) => boolean },
): Storage {
  const { counter } = counting;
  const backend = storage.backend;
  const openWriter: Backend['openWriter'] = async (request) =>
    countingWriter(await backend.openWriter(request), counter);
  // a stream smaller than one part is committed by put (src/transfer/single-put.ts)
  const put: Backend['put'] = async (input) => {
    const committed = await backend.put(input);
    if (counting.isCounted(input.key)) counter.bytes += committed.size;
    return committed;
  };
  const counted = new Proxy(backend, {
    get: (target, property) => {
      if (property === 'openWriter') return openWriter;
      if (property === 'put') return put;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return { ...storage, backend: counted };
}

function countingWriter(writer: ChunkWriter, counter: { bytes: number }): ChunkWriter {
  return {
    key: writer.key,
    id: writer.id,
    digest: writer.digest,
    writeChunk: (chunk) => writer.writeChunk(chunk),
    complete: async (chunks) => {
      const committed = await writer.complete(chunks);
      counter.bytes += committed.size;
      return committed;
    },
    abort: () => writer.abort(),
  };
}
