/**
 * The argument vectors of every `zfs` command z3 runs, built in one place so dry-run lines,
 * ssh remote commands and real runs agree. Pure: names are data (spawned without a shell;
 * quoted by `quoteCommand` wherever they are shown as text).
 */
import { UsageError } from '../errors.js';
import { ZFS_LIST_COLUMNS } from './parse.js';

/** The zfs program, looked up on PATH (tests put a shim named `zfs` first on PATH). */
export const ZFS_PROGRAM = 'zfs';

export interface SendArgvOptions {
  /** Full name `<dataset>@<snapshot>` of the snapshot to send. */
  snapshot: string;
  /** Full name of the incremental source (`-i`); absent for a full stream. */
  incrementalFrom?: string | undefined;
  /** Extra `zfs send` flags placed before the names, e.g. `['-w']` or `['-c', '-L']`. */
  flags?: readonly string[];
}

/** `zfs send [flags] [-i <from>] <snapshot>` (spec 6.4: each snapshot is its own stream, no -I). */
export function sendArgv(options: SendArgvOptions): string[] {
  return [ZFS_PROGRAM, 'send', ...sendOperands(options)];
}

/** The dry-run estimate of the same stream: `zfs send -nvP [flags] [-i <from>] <snapshot>`. */
export function sendEstimateArgv(options: SendArgvOptions): string[] {
  return [ZFS_PROGRAM, 'send', '-nvP', ...sendOperands(options)];
}

export interface ReceiveArgvOptions {
  /** Full name `<dataset>@<snapshot>` to receive as. */
  target: string;
  /** `-F`: roll the target back to its latest snapshot first (restore --force). */
  force: boolean;
  /** `-n -v`: parse the stream and say what would be received, change nothing. */
  dryRun?: boolean;
}

/** `zfs receive [-F] [-n -v] <target>` (spec 7). */
export function receiveArgv(options: ReceiveArgvOptions): string[] {
  const { target, force, dryRun = false } = options;
  assertName(target);
  return [
    ZFS_PROGRAM,
    'receive',
    ...(force ? ['-F'] : []),
    ...(dryRun ? ['-n', '-v'] : []),
    target,
  ];
}

/** `zfs send -I <from> <to>`: every snapshot between the two in one stream (z3_ssh_sync, spec 10). */
export function sendIncrementalRangeArgv(from: string, to: string): string[] {
  assertName(from);
  assertName(to);
  return [ZFS_PROGRAM, 'send', '-I', from, to];
}

/** `zfs receive [-n -v] -d <filesystem>`: receive under `filesystem`, keeping the sent names (spec 10). */
export function receiveIntoArgv(filesystem: string, options: { dryRun: boolean }): string[] {
  assertName(filesystem);
  return [ZFS_PROGRAM, 'receive', ...(options.dryRun ? ['-n', '-v'] : []), '-d', filesystem];
}

/** `zfs list` of the snapshots of exactly `dataset`, oldest first, exact numbers, no header. */
export function listSnapshotsArgv(dataset: string): string[] {
  assertName(dataset);
  return [
    ZFS_PROGRAM,
    'list',
    '-H',
    '-p',
    '-t',
    'snapshot',
    '-o',
    ZFS_LIST_COLUMNS,
    '-s',
    'createtxg',
    '-d',
    '1',
    dataset,
  ];
}

/** `zfs list -H -o name <dataset>`: exits 0 iff the dataset exists. */
export function datasetExistsArgv(dataset: string): string[] {
  assertName(dataset);
  return [ZFS_PROGRAM, 'list', '-H', '-o', 'name', dataset];
}

/** `zfs list -H -o name -r -t filesystem,volume <dataset>`: it and every child, parents first. */
export function listDatasetTreeArgv(dataset: string): string[] {
  assertName(dataset);
  return [ZFS_PROGRAM, 'list', '-H', '-o', 'name', '-r', '-t', 'filesystem,volume', dataset];
}

function sendOperands({ snapshot, incrementalFrom, flags = [] }: SendArgvOptions): string[] {
  assertName(snapshot);
  if (incrementalFrom === undefined) return [...flags, snapshot];
  assertName(incrementalFrom);
  return [...flags, '-i', incrementalFrom, snapshot];
}

/**
 * ZFS names start with a letter or digit, so one starting with `-` (or empty) is a mistake that
 * zfs would read as an option: refuse it rather than run a different command.
 */
function assertName(name: string): void {
  if (name === '' || name.startsWith('-')) {
    throw new UsageError(`invalid dataset or snapshot name '${name}'`);
  }
}
