/**
 * `z3 verify`: prove a dataset's backups restorable without restoring them (issue 10). By
 * default every object is HEADed from the server (never from the metadata cache: a verify must
 * ask the server) and checked for well-formed metadata, chain health, a plausible size and an
 * ETag that fits its size (src/plan/verify.ts). `--read-data` also downloads each object (or a
 * deterministic subset), decompresses it and parses the ZFS send stream in-process, then checks
 * the chain's continuity from the streams' own guids. No `zfs` is needed. Exit 0 when every
 * object is ok, 3 when any is not.
 */
import { EXIT } from '../errors.js';
import { checkContinuity, type StreamGuids } from '../plan/continuity.js';
import { computeHealth, healthOf } from '../plan/health.js';
import { listingPrefix, parseRemoteSnapshots } from '../plan/remote.js';
import type { RemoteSnapshot } from '../plan/types.js';
import { headProblem } from '../plan/verify.js';
import { isInSubset, parseDataSubset, type DataSubset } from '../plan/verify-subset.js';
import type { ObjectInfo } from '../storage/backend.js';
import { listWithMetadata } from '../storage/listing.js';
import type { Storage } from '../storage/open.js';
import { downloadRanges } from '../transfer/memory-budget.js';
import { partSizeFor } from '../transfer/part-size.js';
import { resolveSegments } from '../transfer/segments-read.js';
import type { EventSink } from '../ui/events.js';
import { renderVerifyTable, verifiedEvent, type VerifyRow } from '../ui/verify-report.js';
import type { Settings } from '../config/types.js';
import { loadSettings, requireFilesystem, type GlobalFlags } from './context.js';
import { withSafeOutput, type CommandPorts } from './ports.js';
import { withRunEvents } from './run-events.js';
import { targetLabel } from './target-label.js';
import { readObjectData, type DataVerdict } from './verify-read.js';
import { rememberVerified } from './verify-remember.js';

export interface VerifyOptions extends GlobalFlags {
  /** Download and parse every object (or the subset). */
  readData: boolean;
  /** `--read-data-subset`, raw (`1/10`, `10%`); implies readData. */
  readDataSubset: string | undefined;
  json: boolean;
  concurrency: string | undefined;
  chunkSize: string | undefined;
  /** `--memory` (MEMORY_LIMIT), raw. */
  memory?: string | undefined;
}

/** One object of the run: its snapshot, its HEAD and what was found so far. */
interface Checked {
  snapshot: RemoteSnapshot;
  info: ObjectInfo;
  row: VerifyRow;
}

/** Exit 0 when every object checked is ok, 3 when any is not. */
export async function runVerify(opts: VerifyOptions, rawPorts: CommandPorts): Promise<number> {
  // a closed stdout or stderr (a log reader gone) never stops the checks half-way
  const ports = withSafeOutput(rawPorts);
  return withRunEvents(opts.json, ports, (events) => verify(opts, ports, events));
}

async function verify(
  opts: VerifyOptions,
  ports: CommandPorts,
  events: EventSink,
): Promise<number> {
  const subset =
    opts.readDataSubset === undefined ? undefined : parseDataSubset(opts.readDataSubset);
  const settings = loadSettings(opts, ports.env, {
    concurrency: opts.concurrency,
    chunkSize: opts.chunkSize,
    memoryLimit: opts.memory,
  });
  const filesystem = requireFilesystem(settings);
  events.emit({
    event: 'start',
    command: 'verify',
    dataset: filesystem,
    target: targetLabel(settings),
  });
  const storage = ports.openStorage(settings);
  const checked = await headEverything(storage, settings, filesystem);
  if (opts.readData || subset !== undefined) {
    await readData({ checked, storage, settings, subset, ports });
  }
  const rows = checked.map((c) => c.row);
  if (opts.json) checked.forEach((c) => events.emit(verifiedEvent(c.row, c.info.size)));
  else ports.stdout.write(renderVerifyTable(rows));
  await rememberVerified({ checked, storage, settings, filesystem, ports, now: ports.now() });
  return rows.every((row) => row.reason === undefined) ? EXIT.OK : EXIT.INTEGRITY;
}

/**
 * HEAD every object of the dataset, whatever its snapshot prefix (chains may cross prefixes, and
 * health judged on a narrower listing would call a backup broken whose parent is merely outside
 * it), and check those under SNAPSHOT_PREFIX.
 */
async function headEverything(
  storage: Storage,
  settings: Settings,
  filesystem: string,
): Promise<Checked[]> {
  const prefix = listingPrefix(settings.s3Prefix, filesystem, '');
  const infos = await listWithMetadata(storage.backend, prefix);
  const infoByKey = new Map(infos.map((info) => [info.key, info]));
  const snapshots = await resolveSegments(
    storage.backend,
    parseRemoteSnapshots(settings.s3Prefix, infos),
  );
  const health = computeHealth(snapshots);
  const selected = snapshots.filter((s) =>
    s.name.slice(s.name.indexOf('@') + 1).startsWith(settings.snapshotPrefix),
  );
  return selected.map((snapshot) => {
    const info = infoByKey.get(snapshot.key) as ObjectInfo;
    const reason = headProblem(
      { snapshot, metadata: info.metadata, etag: info.etag },
      healthOf(snapshot, health),
      storage.backend.limits,
    );
    const row: VerifyRow = { name: snapshot.name, key: snapshot.key, checked: 'head' };
    if (reason !== undefined) row.reason = reason;
    return { snapshot, info, row };
  });
}

interface ReadDataInput {
  checked: Checked[];
  storage: Storage;
  settings: Settings;
  subset: DataSubset | undefined;
  ports: CommandPorts;
}

/**
 * Read the objects one after the other (each download is itself parallel), then check the
 * chain's continuity among the streams that parsed. Objects whose HEAD already failed on their
 * metadata are not read: without it the decompressor is unknown.
 */
async function readData(input: ReadDataInput): Promise<void> {
  const { settings, subset } = input;
  // The ranges of restore and z3_get, within MEMORY_LIMIT (exit 2 before any read if two do not fit).
  const { chunkSize, concurrency } = downloadRanges(settings);
  const streams = new Map<string, StreamGuids>();
  for (const c of input.checked) {
    if (subset !== undefined && !isInSubset(c.snapshot.key, subset)) continue;
    if (c.row.reason !== undefined && !isHealthReason(c.row.reason)) continue;
    const verdict = await readObjectData({
      backend: input.storage.backend,
      snapshot: c.snapshot,
      etag: c.info.etag,
      chunkSize,
      concurrency,
      signal: input.ports.signal,
      partSizeHints: [settings.chunkSize, partSizeFor(c.snapshot.size ?? 0)],
    });
    applyVerdict(c.row, verdict);
    if (verdict.guids !== undefined) streams.set(c.snapshot.name, verdict.guids);
  }
  const problems = checkContinuity(
    input.checked.map((c) => c.snapshot),
    streams,
  );
  for (const c of input.checked) {
    const problem = problems.get(c.snapshot.name);
    if (problem !== undefined && c.row.reason === undefined) c.row.reason = problem;
  }
}

/** A broken chain says nothing about the object's own bytes: it is still worth reading. */
function isHealthReason(reason: string): boolean {
  return reason === 'missing parent' || reason === 'parent broken' || reason === 'cycle detected';
}

function applyVerdict(row: VerifyRow, verdict: DataVerdict): void {
  row.checked = verdict.note === undefined ? 'data' : 'object';
  if (verdict.note !== undefined) row.note = verdict.note;
  if (verdict.reason !== undefined) row.reason = verdict.reason;
}
