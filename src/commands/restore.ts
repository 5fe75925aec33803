import type { Writable } from 'node:stream';
import { checkProgramsAvailable, decompressorStage } from '../pipeline/compressors.js';
import { startPipeline } from '../pipeline/runner.js';
import type { StageSpec } from '../pipeline/types.js';
import { planRestore, type RestoreStep } from '../plan/restore.js';
import { parseRecordedSendFlags } from '../plan/send-flags.js';
import type { Storage } from '../storage/open.js';
import { downloadKeys, snapshotKeys } from '../transfer/segments-read.js';
import { downloadRanges } from '../transfer/memory-budget.js';
import { createProgress } from '../ui/progress.js';
import { quoteCommand, quotePipeline } from '../ui/shell-quote.js';
import { receiveArgv } from '../zfs/zfs.js';
import { loadSettings, requireFilesystem, type GlobalFlags } from './context.js';
import { withProgram, withSafeOutput, type CommandPorts } from './ports.js';
import { openSnapshotState } from './snapshot-state.js';
import { withRunEvents } from './run-events.js';
import { targetLabel } from './target-label.js';
import type { EventSink } from '../ui/events.js';

export interface RestoreOptions extends GlobalFlags {
  snapshot: string;
  dryRun: boolean;
  force: boolean;
  target: string | undefined;
  concurrency: string | undefined;
  chunkSize: string | undefined;
  /** `--memory` (MEMORY_LIMIT), raw. */
  memory?: string | undefined;
  /** `--limit-download` (LIMIT_DOWNLOAD), raw. */
  limitDownload?: string | undefined;
  quiet: boolean;
  /** `--json`: JSON Lines events on stdout (src/ui/events.ts). */
  json?: boolean | undefined;
}

/**
 * `z3 restore SNAPSHOT`: the chain from the nearest local snapshot (or a full one), oldest
 * first, each object streamed in-process (parallel ranged GETs) → decompressor chosen from its
 * metadata → `zfs receive`.
 */
export async function runRestore(opts: RestoreOptions, rawPorts: CommandPorts): Promise<number> {
  const ports = withSafeOutput(rawPorts);
  return withRunEvents(opts.json === true, ports, (events) => restore(opts, ports, events));
}

async function restore(
  opts: RestoreOptions,
  ports: CommandPorts,
  events: EventSink,
): Promise<number> {
  const settings = loadSettings(opts, ports.env, {
    concurrency: opts.concurrency,
    chunkSize: opts.chunkSize,
    memoryLimit: opts.memory,
    limitDownload: opts.limitDownload,
  });
  const filesystem = requireFilesystem(settings);
  const { chunkSize, concurrency } = downloadRanges(settings);
  const target = opts.target ?? filesystem;
  events.emit({
    event: 'start',
    command: 'restore',
    dataset: target,
    target: targetLabel(settings),
  });
  const { storage, local, remote, health } = await openSnapshotState({
    settings,
    ports,
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
    if (!opts.quiet) {
      ports.stderr.write(`z3: ${target}@${opts.snapshot} exists locally; nothing to do\n`);
    }
    return 0;
  }
  // `zfs` as the user would type it (dry run), or as the ports run it
  const stagesOf = (step: RestoreStep, zfs = ports.zfs): StageSpec[] => {
    const decompressor = decompressorStage(step.source.compressor, step.source.key);
    const receiveAs = receiveArgv({ target: step.receiveAs, force: opts.force });
    const receive = { argv: withProgram(receiveAs, zfs) };
    return decompressor === undefined ? [receive] : [decompressor, receive];
  };
  if (opts.dryRun) {
    for (const step of plan.steps) {
      const get = quoteCommand(['z3_get', step.source.key]);
      const argvs = stagesOf(step, 'zfs').map((s) => s.argv);
      ports.stdout.write(`${get} | ${quotePipeline(argvs)}\n`);
    }
    return 0;
  }
  await checkProgramsAvailable(plan.steps.flatMap((step) => stagesOf(step)));
  for (const step of plan.steps) {
    const stages = stagesOf(step);
    const quiet = opts.quiet;
    const ranges = { chunkSize, concurrency };
    await receiveStep({ step, stages, storage, ranges, quiet, ports, events });
  }
  const isRaw = plan.steps.some((step) => parseRecordedSendFlags(step.source.sendFlags).has('raw'));
  if (isRaw) ports.stderr.write(`${rawChainNotice(target)}\n`);
  return 0;
}

/**
 * A raw chain (`sendflags` with `w`) arrives encrypted: zfs receives it without the key, and
 * the dataset cannot be mounted until the user loads it (the key never left the source host).
 */
function rawChainNotice(target: string): string {
  const dataset = quoteCommand([target]);
  return `z3: ${target} was received encrypted (raw send); load its key with 'zfs load-key ${dataset}', then 'zfs mount ${dataset}'`;
}

interface ReceiveStepInput {
  step: RestoreStep;
  stages: StageSpec[];
  storage: Storage;
  /** Range size and ranged GETs in flight, within MEMORY_LIMIT. */
  ranges: { chunkSize: number; concurrency: number };
  quiet: boolean;
  ports: CommandPorts;
  events: EventSink;
}

async function receiveStep(input: ReceiveStepInput): Promise<void> {
  const { step, ports, events } = input;
  const startedAt = ports.now();
  const total = step.source.objectSize;
  let received = 0;
  const progress = createProgress({
    label: step.receiveAs,
    total: step.source.objectSize,
    stream: ports.stderr,
    enabled: !input.quiet,
    now: ports.now,
  });
  // Written straight into zfs receive's stdin (a pipe: done with a range once its write
  // callback ran), so the range buffers are reused instead of one fresh buffer per range.
  const download = {
    backend: input.storage.backend,
    key: step.source.key,
    ...input.ranges,
    signal: ports.signal,
    onProgress: (n: number) => {
      progress.add(n);
      received += n;
      events.emit({ event: 'progress', snapshot: step.receiveAs, bytes: received, total });
    },
  };
  // A segmented backup is its segments in order; one with a segment missing is refused here,
  // before zfs receive starts.
  const keys = snapshotKeys(step.source);
  const feed = (stdin: Writable): Promise<void> =>
    downloadKeys({ ...download, sink: stdin, isSinkDoneAtCallback: true }, keys).then(
      () => undefined,
    );
  try {
    await startPipeline({
      stages: input.stages,
      input: feed,
      output: 'inherit',
      signal: ports.signal,
    }).done;
  } finally {
    progress.finish();
  }
  events.emit({
    event: 'object',
    snapshot: step.receiveAs,
    key: step.source.key,
    bytes: total,
    seconds: (ports.now() - startedAt) / 1000,
    etag: step.source.etag ?? '',
  });
}
