import type { MainContext } from '../cli/run-main.js';
import { checkProgramsAvailable, decompressorStage } from '../pipeline/compressors.js';
import { requirePrograms } from '../pipeline/programs.js';
import { startPipeline } from '../pipeline/runner.js';
import type { StageSpec } from '../pipeline/types.js';
import { planRestore, type RestoreStep } from '../plan/restore.js';
import type { Settings } from '../config/types.js';
import type { ObjectStore } from '../storage/types.js';
import { downloadStream } from '../transfer/downloader.js';
import { createProgress } from '../ui/progress.js';
import { quoteCommand, quotePipeline } from '../ui/shell-quote.js';
import { receiveArgv } from '../zfs/zfs.js';
import { loadSettings, openStore, requireFilesystem, type GlobalFlags } from './context.js';
import { readSnapshotState } from './snapshot-state.js';

export interface RestoreOptions extends GlobalFlags {
  snapshot: string;
  dryRun: boolean;
  force: boolean;
  target: string | undefined;
  concurrency: string | undefined;
  chunkSize: string | undefined;
  quiet: boolean;
}

/**
 * `z3 restore SNAPSHOT`: the chain from the nearest local snapshot (or a full one), oldest
 * first, each object streamed in-process (parallel ranged GETs) → decompressor chosen from its
 * metadata → `zfs receive`.
 */
export async function runRestore(opts: RestoreOptions, ctx: MainContext): Promise<number> {
  const settings = loadSettings(opts, { concurrency: opts.concurrency, chunkSize: opts.chunkSize });
  const filesystem = requireFilesystem(settings);
  const target = opts.target ?? filesystem;
  const { store } = openStore(settings);
  await requirePrograms([['zfs']]);
  const { local, remote, health } = await readSnapshotState(store, settings, {
    filesystem,
    localDataset: target,
    selectLocal: false,
  });
  const plan = planRestore({
    local: local.snapshots,
    remote,
    health,
    filesystem,
    snapshot: opts.snapshot,
    target,
    targetExists: local.exists,
    force: opts.force,
  });
  if (plan.kind === 'nothing-to-do') {
    if (!opts.quiet)
      process.stderr.write(`z3: ${target}@${opts.snapshot} exists locally; nothing to do\n`);
    return 0;
  }
  const stagesOf = (step: RestoreStep): StageSpec[] => {
    const decompressor = decompressorStage(step.source.compressor, step.source.key);
    const receive = { argv: receiveArgv({ target: step.receiveAs, force: opts.force }) };
    return decompressor === undefined ? [receive] : [decompressor, receive];
  };
  if (opts.dryRun) {
    for (const step of plan.steps) {
      const get = quoteCommand(['z3_get', step.source.key]);
      process.stdout.write(`${get} | ${quotePipeline(stagesOf(step).map((s) => s.argv))}\n`);
    }
    return 0;
  }
  await checkProgramsAvailable(plan.steps.flatMap(stagesOf));
  for (const step of plan.steps) {
    await receiveStep({ step, stages: stagesOf(step), store, settings, quiet: opts.quiet, ctx });
  }
  return 0;
}

interface ReceiveStepInput {
  step: RestoreStep;
  stages: StageSpec[];
  store: ObjectStore;
  settings: Settings;
  quiet: boolean;
  ctx: MainContext;
}

async function receiveStep(input: ReceiveStepInput): Promise<void> {
  const { step, settings, ctx } = input;
  const progress = createProgress({
    label: step.receiveAs,
    total: step.source.objectSize,
    stream: process.stderr,
    enabled: !input.quiet,
  });
  const source = downloadStream({
    reader: input.store,
    key: step.source.key,
    chunkSize: settings.chunkSize,
    concurrency: settings.concurrency,
    maxRetries: settings.maxRetries,
    signal: ctx.signal,
    onProgress: (n: number) => progress.add(n),
  });
  try {
    await startPipeline({
      stages: input.stages,
      input: source,
      output: 'inherit',
      signal: ctx.signal,
    }).done;
  } finally {
    progress.finish();
  }
}
