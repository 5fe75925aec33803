/**
 * Whose object is at the key after a commit whose check failed (pure): may this write delete
 * it, or must it be left in place?
 *
 * Why this is a question at all: between this write's CompleteMultipartUpload and the HEAD that
 * checks it, another writer may commit the key (two `pput`s of one key, overlapping runs), so
 * the object the HEAD describes is not necessarily this write's. Deleting it then destroys an
 * object that another writer has already reported as stored. The only proof of ownership S3
 * gives is the ETag the Complete answer carries: the object is this write's when the HEAD
 * reports that same ETag, and the delete is made conditional on it (`If-Match`), so an object
 * committed between the HEAD and the delete is not hit either.
 *
 * Where the proof is missing the object stays. Ceph RGW 16 answers the first Complete of an
 * upload with an empty ETag, so on RGW a mismatching object is never deleted. RGW 16 also
 * ignores `If-Match` on DELETE (tested: it deletes whatever is there), which is why the ETag
 * comparison happens here and the conditional delete is only the second guard (on AWS it closes
 * the window between the HEAD and the delete).
 */
import { IntegrityError } from '../../errors.js';
import { normalizeEtag } from '../etag.js';
import { isSameEtag } from '../rules.js';

export interface MismatchFacts {
  key: string;
  /** How the object differs from what was sent (describeCommitMismatch). */
  mismatch: string;
  /** The ETag this write's CompleteMultipartUpload answered (`""` or empty when none). */
  committedEtag: string;
  /** The ETag the HEAD after the commit reported. */
  storedEtag: string;
}

/** Delete the object, conditional on `etag`; or leave it and fail with `error`. */
export type MismatchVerdict =
  { action: 'delete'; etag: string } | { action: 'leave'; error: IntegrityError };

/** The verdict for a committed object that failed its check; see the module comment. */
export function judgeMismatch(facts: MismatchFacts): MismatchVerdict {
  const { committedEtag, storedEtag } = facts;
  if (isSameEtag(committedEtag, storedEtag)) return { action: 'delete', etag: storedEtag };
  const why =
    normalizeEtag(committedEtag) !== ''
      ? `its ETag is not the ${committedEtag} this write's commit returned, so it is another writer's`
      : "the server's answer to this write's commit carried no ETag, so it may be another writer's";
  return { action: 'leave', error: leftInPlace(facts, why) };
}

/** The IntegrityError for a mismatching object that was not deleted, and why. */
export function leftInPlace(
  facts: Pick<MismatchFacts, 'key' | 'mismatch'>,
  why: string,
): IntegrityError {
  return new IntegrityError(
    `${facts.key}: the object at the key is not what this write sent (${facts.mismatch}); ` +
      `it was left in place: ${why}`,
  );
}
