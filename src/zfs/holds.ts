/**
 * The argv of the `zfs` commands that keep an incremental base alive (holds and bookmarks),
 * and the parsers of their listings. Pure: names are data, spawned without a shell.
 */
import { CommandFailedError, UsageError } from '../errors.js';
import { listChildrenArgv, ZFS_PROGRAM } from './argv.js';

/** `zfs hold <tag> <snapshot>`: `zfs destroy` of the snapshot fails while the hold exists. */
export function holdArgv(tag: string, snapshot: string): string[] {
  assertOperand(tag);
  assertOperand(snapshot);
  return [ZFS_PROGRAM, 'hold', tag, snapshot];
}

/** `zfs release <tag> <snapshot>`: fails when the snapshot has no hold with that tag. */
export function releaseArgv(tag: string, snapshot: string): string[] {
  assertOperand(tag);
  assertOperand(snapshot);
  return [ZFS_PROGRAM, 'release', tag, snapshot];
}

/** `zfs bookmark <snapshot> <bookmark>`: fails when the bookmark exists. */
export function bookmarkArgv(snapshot: string, bookmark: string): string[] {
  assertOperand(snapshot);
  assertOperand(bookmark);
  return [ZFS_PROGRAM, 'bookmark', snapshot, bookmark];
}

/** `zfs holds -H <snapshot>…`: one `name<TAB>tag<TAB>timestamp` line per hold. */
export function holdsArgv(snapshots: readonly string[]): string[] {
  for (const s of snapshots) assertOperand(s);
  return [ZFS_PROGRAM, 'holds', '-H', ...snapshots];
}

/** The columns of a bookmark listing that `parseBookmarkList` reads, in order. */
export const BOOKMARK_COLUMNS = 'name,createtxg,guid';

/** `zfs list` of the bookmarks of exactly `dataset`, oldest first, exact numbers, no header. */
export function listBookmarksArgv(dataset: string): string[] {
  return listChildrenArgv({ type: 'bookmark', columns: BOOKMARK_COLUMNS, dataset });
}

/** One hold as `zfs holds -H` prints it. */
export interface ZfsHold {
  /** Full name `<dataset>@<snapshot>` of the held snapshot. */
  snapshot: string;
  tag: string;
}

/** One bookmark as `listBookmarksArgv` lists it. */
export interface ZfsBookmark {
  /** Full name `<dataset>#<bookmark>`. */
  name: string;
  /** The createtxg and guid of the snapshot it was made from. */
  createtxg: number;
  guid: string;
}

/** Parse `zfs holds -H`: tags hold no tab, so the line is name, tag, then the time. */
export function parseHolds(text: string): ZfsHold[] {
  return lines(text).map((line, index) => {
    const [snapshot, tag] = line.split('\t');
    if (snapshot === undefined || tag === undefined || !snapshot.includes('@')) {
      throw unexpected('zfs holds', index, line);
    }
    return { snapshot, tag };
  });
}

/** Parse a bookmark listing (`name<TAB>createtxg<TAB>guid`; the name taken from the left). */
export function parseBookmarkList(text: string): ZfsBookmark[] {
  return lines(text).map((line, index) => {
    const fields = line.split('\t');
    const name = fields.slice(0, -2).join('\t');
    const [createtxg, guid] = fields.slice(-2);
    if (!name.includes('#') || !/^\d+$/.test(createtxg ?? '') || !/^\d+$/.test(guid ?? '')) {
      throw unexpected('zfs list -t bookmark', index, line);
    }
    return { name, createtxg: Number(createtxg), guid: guid as string };
  });
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l !== '');
}

function unexpected(command: string, index: number, line: string): CommandFailedError {
  return new CommandFailedError(
    `unexpected output from ${command}, line ${index + 1}: ${JSON.stringify(line)}`,
  );
}

/** A name or tag starting with `-` would be read as an option: refuse it (see argv.ts). */
function assertOperand(name: string): void {
  if (name === '' || name.startsWith('-')) {
    throw new UsageError(`invalid dataset, snapshot, bookmark or tag name '${name}'`);
  }
}
