/**
 * Chain continuity, from the streams themselves (issue 10, `verify --read-data`): metadata says
 * which backup an incremental applies to, but only the stream's own guids say which snapshot it
 * really needs. An incremental whose `fromguid` is not its parent's `toguid` cannot be received
 * on top of that parent, however healthy the chain looks in the listing; a full whose `fromguid`
 * is not 0 is really an incremental. Pure: the guids come from src/zstream's reports.
 */
import type { RemoteSnapshot } from './types.js';

/** The guids a stream read carries (ZStreamReport's toguid and fromguid, decimal). */
export interface StreamGuids {
  toguid: string;
  fromguid: string;
}

/**
 * Why each read snapshot's stream does not continue its chain, keyed by snapshot name; a
 * snapshot that is absent from the result is consistent, or could not be checked because it or
 * its parent was not read (`streams` holds only the streams that were read and parsed ok).
 */
export function checkContinuity(
  snapshots: readonly RemoteSnapshot[],
  streams: ReadonlyMap<string, StreamGuids>,
): Map<string, string> {
  const problems = new Map<string, string>();
  for (const snapshot of snapshots) {
    const stream = streams.get(snapshot.name);
    if (stream === undefined) continue;
    if (snapshot.isFull) {
      if (stream.fromguid !== '0') {
        problems.set(
          snapshot.name,
          `full backup's stream is incremental: fromguid ${stream.fromguid}, expected 0`,
        );
      }
      continue;
    }
    const parent = snapshot.parent === undefined ? undefined : streams.get(snapshot.parent);
    if (parent !== undefined && parent.toguid !== stream.fromguid) {
      problems.set(
        snapshot.name,
        `parent guid mismatch: expected ${parent.toguid}, stream says ${stream.fromguid}`,
      );
    }
  }
  return problems;
}
