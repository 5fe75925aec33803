import type { MainContext } from '../cli/run-main.js';
import type { Settings } from '../config/types.js';
import { checkProgramsAvailable, compressorStage } from '../pipeline/compressors.js';
import { requirePrograms } from '../pipeline/programs.js';
import { startPipeline } from '../pipeline/runner.js';
import type { StageSpec } from '../pipeline/types.js';
import { planBackup, type BackupStep } from '../plan/backup.js';
import { buildBackupMetadata, snapshotKey } from '../plan/remote.js';
import type { ObjectStore } from '../storage/types.js';
import { backupPartSize } from '../transfer/part-size.js';
import { uploadStream } from '../transfer/uploader.js';
import { humanizeSize } from '../ui/humanize.js';
import { createProgress } from '../ui/progress.js';
import { quoteCommand, quotePipeline } from '../ui/shell-quote.js';
import { estimateSendSize, sendArgv, sendEstimateArgv } from '../zfs/zfs.js';
import { loadSettings, openStore, requireFilesystem, type GlobalFlags } from './context.js';
import { readSnapshotState } from './snapshot-state.js';

export interface BackupOptions extends GlobalFlags {
  snapshot: string | undefined;
  dryRun: boolean;
  compressor: string | undefined;
  gpgRecipient: string | undefined;
  parseable: boolean;
  mode: 'full' | 'incremental';
  concurrency: string | undefined;
  chunkSize: string | undefined;
  storageClass: string | undefined;
  quiet: boolean;
}

/**
 * `z3 backup`: read (local snapshots, S3 listing) → pure plan → act, one object per snapshot.
 * Each step's object is committed only after `zfs send` and the compressor exited 0
 * (the uploader's commit gate awaits the pipeline), so a dying stage never leaves a
 * truncated object that looks healthy.
 */
export async function runBackup(opts: BackupOptions, ctx: MainContext): Promise<number> {
  const settings = loadSettings(opts, {
    compressor: opts.compressor,
    gpgRecipient: opts.gpgRecipient,
    concurrency: opts.concurrency,
    chunkSize: opts.chunkSize,
    storageClass: opts.storageClass,
  });
  const filesystem = requireFilesystem(settings);
  const { store } = openStore(settings);
  await requirePrograms([['zfs']]);
  const { local, remote, health } = await readSnapshotState(store, settings, {
    filesystem,
    localDataset: filesystem,
    selectLocal: true,
  });
  const plan = planBackup({
    local: local.snapshots,
    remote,
    health,
    filesystem,
    snapshotPrefix: settings.snapshotPrefix,
    snapshot: opts.snapshot,
    mode: opts.mode,
  });
  if (plan.kind === 'nothing-to-backup') {
    process.stderr.write(`${plan.message}\n`);
    return 0;
  }
  if (plan.kind === 'nothing-to-do') {
    if (!opts.quiet)
      process.stderr.write(`z3: ${plan.target} is already backed up; nothing to do\n`);
    return 0;
  }
  const compressor = compressorStage(settings.compressor, { gpgRecipient: settings.gpgRecipient });
  if (!opts.dryRun) await checkProgramsAvailable(compressor === undefined ? [] : [compressor]);

  const done: { snapshot: string; size: number }[] = [];
  for (const step of plan.steps) {
    const estimate = await estimateSendSize(sendEstimateArgv(sendInput(step)));
    const key = snapshotKey(settings.s3Prefix, step.snapshot);
    const metadata = buildBackupMetadata({
      size: estimate,
      parent: step.parent,
      compressor: settings.compressor,
    });
    const stages: StageSpec[] = [{ argv: sendArgv(sendInput(step)) }];
    if (compressor !== undefined) stages.push(compressor);
    if (opts.dryRun) {
      process.stdout.write(`${dryRunLine(stages, estimate, metadata, key)}\n`);
      continue;
    }
    await sendStep({
      stages,
      store,
      key,
      metadata,
      estimate,
      settings,
      opts,
      ctx,
      label: step.snapshot,
    });
    done.push({ snapshot: step.snapshot, size: estimate });
  }
  for (const d of done) {
    process.stdout.write(
      opts.parseable
        ? `${d.snapshot}\0${d.size}\n`
        : `Successfuly backed up ${d.snapshot}: ${humanizeSize(d.size)}.\n`,
    );
  }
  return 0;
}

function sendInput(step: BackupStep): { snapshot: string; incrementalFrom?: string } {
  return step.parent === undefined
    ? { snapshot: step.snapshot }
    : { snapshot: step.snapshot, incrementalFrom: step.parent };
}

/** The step as the original would have run it, pasteable into a shell (every name quoted). */
function dryRunLine(
  stages: StageSpec[],
  estimate: number,
  metadata: Record<string, string>,
  key: string,
): string {
  const pput = ['pput', '--quiet', '--estimated', String(estimate)];
  for (const [k, v] of Object.entries(metadata)) pput.push('--meta', `${k}=${v}`);
  pput.push(key);
  return `${quotePipeline(stages.map((s) => s.argv))} | ${quoteCommand(pput)}`;
}

interface SendStepInput {
  stages: StageSpec[];
  store: ObjectStore;
  key: string;
  metadata: Record<string, string>;
  estimate: number;
  settings: Settings;
  opts: BackupOptions;
  ctx: MainContext;
  label: string;
}

/** Run one step: pipeline → in-process multipart upload, committed only if every stage exited 0. */
async function sendStep(input: SendStepInput): Promise<void> {
  const { settings, ctx } = input;
  const pipeline = startPipeline({
    stages: input.stages,
    input: 'ignore',
    output: 'pipe',
    signal: ctx.signal,
  });
  // Observed here so that an early failure is not an unhandled rejection; awaited by the gate.
  pipeline.done.catch(() => undefined);
  const progress = createProgress({
    label: input.label,
    total: input.estimate,
    stream: process.stderr,
    enabled: !input.opts.quiet,
  });
  try {
    await uploadStream({
      source: pipeline.output!,
      port: input.store,
      key: input.key,
      metadata: input.metadata,
      storageClass: settings.storageClass,
      partSize: backupPartSize({
        estimate: input.estimate,
        chunkSize: settings.chunkSize,
        isChunkSizeSet: settings.chunkSizeIsSet,
      }),
      concurrency: settings.concurrency,
      maxRetries: settings.maxRetries,
      signal: ctx.signal,
      onProgress: (n: number) => progress.add(n),
      beforeComplete: () => pipeline.done,
    });
  } catch (err) {
    // `done` then rejects with a stage failure that came first (the cause the user needs: a
    // dying `zfs send` is why the upload saw a short stream), else with `err` itself.
    pipeline.kill(err);
    await pipeline.done;
    throw err;
  } finally {
    progress.finish();
  }
}
