import type { Settings } from '../config/types.js';
import { checkProgramsAvailable, compressorStage } from '../pipeline/compressors.js';
import { startPipeline } from '../pipeline/runner.js';
import type { StageSpec } from '../pipeline/types.js';
import { planBackup, type BackupStep } from '../plan/backup.js';
import {
  formatSendFlags,
  sendFlagArgs,
  type SendFlagName,
  type SendFlags,
} from '../plan/send-flags.js';
import { isImplausiblyShort } from '../plan/stored-size.js';
import { buildBackupMetadata, snapshotKey } from '../plan/remote.js';
import { recordedLayout } from '../plan/segments.js';
import type { Storage } from '../storage/open.js';
import { backupPartSize } from '../transfer/part-size.js';
import { uploadSegmented } from '../transfer/segments.js';
import {
  prepareResumable,
  resumeReport,
  uploadResumable,
  type ResumableTarget,
} from '../resume/resumable-upload.js';
import { partsInFlight } from '../transfer/memory-budget.js';
import { pipeReader } from '../transfer/pipe-reader.js';
import { humanizeSize } from '../ui/humanize.js';
import { createProgress, formatBytes } from '../ui/progress.js';
import { quoteCommand, quotePipeline } from '../ui/shell-quote.js';
import { estimateSendSize, sendArgv, sendEstimateArgv, type SendArgvOptions } from '../zfs/zfs.js';
import { loadSettings, requireFilesystem, type GlobalFlags } from './context.js';
import { exitCodeOf, UsageError } from '../errors.js';
import { withProgram, withSafeOutput, zfsRunner, type CommandPorts } from './ports.js';
import { saveDatasetIndex } from './dataset-index.js';
import { openSnapshotState, type OpenedSnapshotState } from './snapshot-state.js';
import { backupLockRequest } from './backup-lock.js';
import { startRunMetrics, type RunMetrics } from './backup-metrics.js';
import { targetLabel } from './target-label.js';
import { withRunEvents, type RunEvents } from './run-events.js';
import type { EventSink } from '../ui/events.js';
import { keepIncrementalBase, readBookmarks } from './backup-holds.js';

export interface BackupOptions extends GlobalFlags {
  snapshot: string | undefined;
  dryRun: boolean;
  compressor: string | undefined;
  gpgRecipient: string | undefined;
  parseable: boolean;
  mode: 'full' | 'incremental';
  concurrency: string | undefined;
  chunkSize: string | undefined;
  /** `--segment-size` (SEGMENT_SIZE), raw. */
  segmentSize?: string | undefined;
  /** `--memory` (MEMORY_LIMIT), raw. */
  memory?: string | undefined;
  storageClass: string | undefined;
  /** `--full-if-older-than` and `--max-chain`, raw (FULL_EVERY, MAX_CHAIN). */
  fullEvery?: string | undefined;
  maxChain?: string | undefined;
  /** `--limit-upload` (LIMIT_UPLOAD), raw. */
  limitUpload?: string | undefined;
  quiet: boolean;
  /** Wait for a running backup of the same dataset and target instead of exiting 2. */
  wait: boolean;
  /** `--raw`, `--compressed` …: when any is given, these replace SEND_FLAGS. */
  sendFlags?: readonly SendFlagName[] | undefined;
  /** `--metrics-file` (METRICS_FILE), raw. */
  metricsFile?: string | undefined;
  /** `--json`: JSON Lines events on stdout (src/ui/events.ts) instead of the result lines. */
  json?: boolean | undefined;
  /** false for `--no-hold`: no hold or bookmark this run, whatever HOLD says. */
  hold?: boolean | undefined;
}

/**
 * `z3 backup`: read (local snapshots, S3 listing) → pure plan → act, one object per snapshot.
 * Each step's object is committed only after `zfs send` and the compressor exited 0
 * (the uploader's commit gate awaits the pipeline), so a dying stage never leaves a
 * truncated object that looks healthy. The run holds the backup lock (backup-lock.ts) from
 * before the reads to the end, so two runs never plan from the same listing. Output never
 * decides a transfer (`withSafeOutput`): with stderr or stdout gone, every snapshot is still
 * backed up and the exit code is the run's own.
 */
export async function runBackup(opts: BackupOptions, rawPorts: CommandPorts): Promise<number> {
  const ports = withSafeOutput(rawPorts);
  return withRunEvents(opts.json === true, ports, (events) =>
    resolveAndBackUp({ opts, ports, events }),
  );
}

/** Resolve the settings, then back up under the lock, with the run's metrics. */
async function resolveAndBackUp(input: {
  opts: BackupOptions;
  ports: CommandPorts;
  events: RunEvents;
}): Promise<number> {
  const { opts, ports, events } = input;
  const settings = loadSettings(opts, ports.env, {
    compressor: opts.compressor,
    gpgRecipient: opts.gpgRecipient,
    concurrency: opts.concurrency,
    chunkSize: opts.chunkSize,
    segmentSize: opts.segmentSize,
    memoryLimit: opts.memory,
    storageClass: opts.storageClass,
    fullEvery: opts.fullEvery,
    maxChain: opts.maxChain,
    limitUpload: opts.limitUpload,
    metricsFile: opts.metricsFile,
  });
  const filesystem = requireFilesystem(settings);
  events.emit({
    event: 'start',
    command: 'backup',
    dataset: filesystem,
    target: targetLabel(settings),
  });
  // A dry run changes nothing, so it leaves the metrics of the last real run in place.
  const metrics = opts.dryRun ? undefined : startRunMetrics({ settings, filesystem, ports });
  try {
    return await lockAndBackUp({ settings, filesystem, opts, ports, metrics, events });
  } catch (err) {
    await metrics?.finish(exitCodeOf(err, ports.signal)); // a failure before the lock was held
    throw err;
  }
}

/** One run of `z3 backup`, once its settings are resolved. */
interface BackupRun {
  settings: Settings;
  filesystem: string;
  opts: BackupOptions;
  ports: CommandPorts;
  metrics: RunMetrics | undefined;
  events: EventSink;
}

/** Take the lock (not for a dry run), read both sides, back up, release. */
async function lockAndBackUp(input: BackupRun): Promise<number> {
  const { settings, filesystem, opts, ports } = input;
  // A dry run writes nothing, so it neither needs the lock nor waits for a running backup.
  const lock = opts.dryRun
    ? undefined
    : (storage: Storage) =>
        ports.lock(
          backupLockRequest({
            settings,
            storage,
            filesystem,
            wait: opts.wait,
            quiet: opts.quiet,
            ports,
          }),
        );
  const state = await openSnapshotState({
    settings,
    ports,
    filesystem,
    localDataset: filesystem,
    selectLocal: true,
    lock,
  });
  // The metrics are written under the lock: no other run of this dataset and target rewrites
  // the same file meanwhile.
  try {
    const code = await backUp({ ...input, state });
    // After the result lines and before the metrics, which then list through the new index.
    if (!opts.dryRun) await saveDatasetIndex(state.storage, state.index, ports);
    await input.metrics?.finish(code);
    return code;
  } catch (err) {
    await input.metrics?.finish(exitCodeOf(err, ports.signal));
    throw err;
  } finally {
    state.lock?.release();
  }
}

/** Plan from the state read under the lock, then send each step. */
async function backUp(input: BackupRun & { state: OpenedSnapshotState }): Promise<number> {
  const { settings, filesystem, opts, ports } = input;
  const { storage, local, remote, health } = input.state;
  if (!local.exists) throw missingDatasetError(filesystem);
  const sendFlags: SendFlags =
    opts.sendFlags !== undefined && opts.sendFlags.length > 0
      ? new Set(opts.sendFlags)
      : settings.sendFlags;
  const plan = planBackup({
    local: local.snapshots,
    remote,
    health,
    filesystem,
    snapshotPrefix: settings.snapshotPrefix,
    snapshot: opts.snapshot,
    mode: opts.mode,
    chainLimits: settings.chainLimits,
    now: ports.now(),
    sendFlags,
    bookmarks: opts.mode === 'incremental' ? await readBookmarks(filesystem, ports) : [],
  });
  const keepBase = async (committed: string[]): Promise<void> => {
    if (opts.dryRun || !(opts.hold ?? settings.hold)) return;
    await keepIncrementalBase({
      settings,
      local: local.snapshots,
      remote,
      health,
      committed,
      ports,
    });
  };
  if (plan.kind === 'nothing-to-backup') {
    ports.stderr.write(`${plan.message}\n`);
    return 0;
  }
  if (plan.kind === 'nothing-to-do') {
    if (!opts.quiet) ports.stderr.write(`z3: ${plan.target} is already backed up; nothing to do\n`);
    await keepBase([]);
    return 0;
  }
  const compressor = compressorStage(settings.compressor, { gpgRecipient: settings.gpgRecipient });
  if (!opts.dryRun) await checkProgramsAvailable(compressor === undefined ? [] : [compressor]);

  const done: { snapshot: string; size: number }[] = [];
  for (const step of plan.steps) {
    const estimate = await estimateSendSize(sendEstimateArgv(sendInput(step, sendFlags)), {
      run: zfsRunner(ports),
      signal: ports.signal,
    });
    const key = snapshotKey(settings.s3Prefix, step.snapshot);
    const metadata = buildBackupMetadata({
      size: estimate,
      parent: step.parent,
      compressor: settings.compressor,
      creation: step.creation,
      guid: step.guid,
      sendFlags: formatSendFlags(sendFlags),
    });
    const send = sendArgv(sendInput(step, sendFlags));
    const stages: StageSpec[] = [{ argv: withProgram(send, ports.zfs) }];
    if (compressor !== undefined) stages.push(compressor);
    if (opts.dryRun) {
      const shown = [send, ...stages.slice(1).map((s) => s.argv)];
      ports.stdout.write(`${dryRunLine(shown, estimate, metadata, key)}\n`);
      continue;
    }
    const startedAt = ports.now();
    const sent = await sendStep({
      ...input,
      stages,
      storage,
      key,
      metadata,
      estimate,
      label: step.snapshot,
    });
    const stored = sent.size;
    const seconds = (ports.now() - startedAt) / 1000;
    const { events } = input;
    events.emit({
      event: 'object',
      snapshot: step.snapshot,
      key,
      bytes: stored,
      seconds,
      etag: sent.etag,
    });
    warnIfShort({ snapshot: step.snapshot, stored, estimate, settings, ports, events });
    done.push({ snapshot: step.snapshot, size: stored });
    input.metrics?.addUploaded(stored);
  }
  await keepBase(done.map((d) => d.snapshot));
  // With --json, stdout carries the events only.
  for (const d of opts.json === true ? [] : done) {
    ports.stdout.write(
      opts.parseable
        ? `${d.snapshot}\0${d.size}\n`
        : `Successfuly backed up ${d.snapshot}: ${humanizeSize(d.size)}.\n`,
    );
  }
  return 0;
}

/** A typo or a pool not imported must not look like a backup with nothing to do. */
function missingDatasetError(filesystem: string): UsageError {
  return new UsageError(`dataset '${filesystem}' does not exist`, {
    hint: 'check --dataset / FILESYSTEM; `zfs list` shows the datasets of this host (is the pool imported?)',
  });
}

/** The commit gate cannot see a zfs that exits 0 after a short stream: say so, loudly. */
function warnIfShort(input: {
  snapshot: string;
  stored: number;
  estimate: number;
  settings: Settings;
  ports: CommandPorts;
  events: EventSink;
}): void {
  const { stored, estimate } = input;
  if (!isImplausiblyShort({ stored, estimate, isCompressed: input.settings.compressor !== 'none' }))
    return;
  const message =
    `${input.snapshot}: stored ${formatBytes(stored)}, far below the send ` +
    `estimate of ${formatBytes(estimate)}; check the dataset and this backup ('z3 status')`;
  input.ports.stderr.write(`z3: warning: ${message}\n`);
  input.events.emit({ event: 'warning', message });
}

function sendInput(step: BackupStep, flags: SendFlags): SendArgvOptions {
  const incrementalFrom = step.sendFrom ?? step.parent;
  return { snapshot: step.snapshot, incrementalFrom, flags: sendFlagArgs(flags) };
}

/** The step as the original would have run it, pasteable into a shell (every name quoted). */
function dryRunLine(
  argvs: string[][],
  estimate: number,
  metadata: Record<string, string>,
  key: string,
): string {
  const pput = ['pput', '--quiet', '--estimated', String(estimate)];
  for (const [k, v] of Object.entries(metadata)) pput.push('--meta', `${k}=${v}`);
  pput.push(key);
  return `${quotePipeline(argvs)} | ${quoteCommand(pput)}`;
}

interface SendStepInput {
  stages: StageSpec[];
  storage: Storage;
  key: string;
  metadata: Record<string, string>;
  estimate: number;
  settings: Settings;
  opts: BackupOptions;
  ports: CommandPorts;
  events: EventSink;
  label: string;
}

/**
 * Run one step: pipeline → in-process multipart upload, committed only if every stage exited 0.
 * Resolves with the bytes stored (after the compressor) and the ETag.
 *
 * Resumable (src/resume/): a pending upload of the same key, pipeline and part size that an
 * earlier run left (killed, interrupted, an outage) is taken up, its parts verified against
 * the regenerated stream; a signal leaves the upload and its journal for the next run.
 */
async function sendStep(input: SendStepInput): Promise<{ size: number; etag: string }> {
  const { settings, ports } = input;
  // Before the pipeline: a part size no object could hold is refused before `zfs send` runs.
  const partSize = backupPartSize({
    estimate: input.estimate,
    chunkSize: settings.chunkSize,
    isChunkSizeSet: settings.chunkSizeIsSet,
  });
  const { concurrency, memoryLimit } = settings;
  const workers = partsInFlight({ concurrency, partSize, memoryLimit });
  const target: ResumableTarget = {
    backend: input.storage.backend,
    key: input.key,
    metadata: input.metadata,
    storageClass: settings.storageClass,
    partSize,
    // a snapshot's key is written once: another host (or run) that committed it first wins
    ifNoneMatch: input.storage.backend.features.conditionalCommit,
  };
  const warn = (message: string): void => {
    ports.stderr.write(`z3: warning: ${message}\n`);
    input.events.emit({ event: 'warning', message });
  };
  const journal = {
    stateDir: settings.stateDir,
    pipeline: input.stages.map((s) => [...s.argv]),
    warn,
    say: (line: string) => ports.stderr.write(`z3: ${line}\n`),
  };
  const prepared = await prepareResumable({ ...journal, upload: target });
  const pipeline = startPipeline({
    stages: input.stages,
    input: 'ignore',
    // a bare pipe read straight into the part buffers (src/transfer/pipe-reader.ts says why)
    output: 'fd',
    signal: ports.signal,
  });
  // Observed here so that an early failure is not an unhandled rejection; awaited by the gate.
  pipeline.done.catch(() => undefined);
  let sent = 0;
  const progress = createProgress({
    label: input.label,
    total: input.estimate,
    stream: ports.stderr,
    enabled: !input.opts.quiet,
    now: ports.now,
  });
  const say = (line: string): void => {
    progress.finish(); // ends a live progress line first
    journal.say(line);
  };
  try {
    // a stream longer than one object holds rolls over to segments (src/plan/segments.ts);
    // the first segment, the backup's own object, is the resumable upload
    const result = await uploadSegmented({
      ...target,
      prefix: settings.s3Prefix,
      snapshotName: input.label,
      segmentSize: settings.segmentSize,
      layout: prepared.journal && recordedLayout(prepared.journal.metadata),
      uploadFirst: (upload) =>
        uploadResumable(prepared, { ...journal, say, upload, now: ports.now }),
      source: pipeline.outputFd !== undefined ? pipeReader(pipeline.outputFd) : pipeline.output!,
      concurrency: workers,
      signal: ports.signal,
      onProgress: (n: number) => {
        progress.add(n);
        sent += n;
        input.events.emit({
          event: 'progress',
          snapshot: input.label,
          bytes: sent,
          total: input.estimate,
        });
      },
      beforeComplete: () => pipeline.done,
    });
    if (result.resumed !== undefined) say(resumeReport(input.key, result, result.resumed));
    return { size: result.size, etag: result.etag };
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
