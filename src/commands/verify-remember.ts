/**
 * Remember the objects a `z3 verify` found ok (src/storage/verify-record.ts), so that `z3 status`
 * can show when each backup was last proven readable; and read them back for status.
 */
import type { Settings } from '../config/types.js';
import type { ObjectInfo } from '../storage/backend.js';
import { cacheDirProblem } from '../storage/cache-trust.js';
import type { Storage } from '../storage/open.js';
import {
  currentVerification,
  readVerifications,
  recordVerifications,
  verificationPath,
  type Verification,
} from '../storage/verify-record.js';
import { listingPrefix } from '../plan/remote.js';
import type { RemoteSnapshot } from '../plan/types.js';
import type { LastVerified } from '../ui/status-table.js';
import type { VerifyRow } from '../ui/verify-report.js';
import type { CommandPorts } from './ports.js';

/** Record the ok rows of this run; a CACHE_DIR that is off, untrusted or unwritable only warns. */
export async function rememberVerified(input: {
  checked: readonly { info: ObjectInfo; row: VerifyRow }[];
  storage: Storage;
  settings: Settings;
  filesystem: string;
  ports: Pick<CommandPorts, 'stderr'>;
  now: number;
}): Promise<void> {
  const dir = input.settings.metadataCacheDir;
  if (dir === undefined) return;
  const warn = (m: string): boolean => input.ports.stderr.write(`z3: warning: ${m}\n`);
  const problem = await cacheDirProblem(dir);
  if (problem !== undefined) {
    warn(problem.replace('the metadata cache', 'remembering this verification'));
    return;
  }
  const at = new Date(input.now).toISOString();
  const updates = new Map<string, Verification>();
  for (const { info, row } of input.checked) {
    if (row.reason === undefined)
      updates.set(info.key, { etag: info.etag, at, level: row.checked });
  }
  const path = verificationPath(dir, input.storage.identity);
  const { s3Prefix, snapshotPrefix } = input.settings;
  const prefix = listingPrefix(s3Prefix, input.filesystem, snapshotPrefix);
  const keys = new Set(input.checked.map((c) => c.info.key));
  try {
    await recordVerifications(path, updates, { prefix, keys });
  } catch (err) {
    warn(`cannot remember this verification in ${path}: ${(err as Error).message}`);
  }
}

/** The recorded verifications of the target (empty when CACHE_DIR is off or untrusted). */
export async function readVerified(
  settings: Settings,
  storage: Storage,
): Promise<Map<string, Verification>> {
  const dir = settings.metadataCacheDir;
  if (dir === undefined || (await cacheDirProblem(dir)) !== undefined) return new Map();
  return readVerifications(verificationPath(dir, storage.identity));
}

/**
 * The last successful verification of each remote snapshot, by snapshot name, for `status
 * --json`; only entries for the object as it is now (same ETag) count.
 */
export async function lastVerified(
  settings: Settings,
  storage: Storage,
  remote: readonly RemoteSnapshot[],
): Promise<Map<string, LastVerified>> {
  const entries = await readVerified(settings, storage);
  const out = new Map<string, LastVerified>();
  for (const snapshot of remote) {
    const entry = currentVerification(entries, snapshot.key, snapshot.etag);
    if (entry !== undefined) out.set(snapshot.name, { at: entry.at, level: entry.level });
  }
  return out;
}
