import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../errors.js';
import { judgeMismatch } from './ownership.js';

const facts = { key: 'k', mismatch: 'the server reports …' };

describe('judgeMismatch', () => {
  it('deletes, conditional on the ETag, only when the HEAD reports the ETag the commit returned', () => {
    expect(judgeMismatch({ ...facts, committedEtag: '"ab-2"', storedEtag: 'AB-2' })).toEqual({
      action: 'delete',
      etag: 'AB-2',
    });
  });

  it.each([
    ['the commit returned no ETag (Ceph RGW)', '', '"ab-2"', /carried no ETag/],
    ['the commit returned a quoted empty ETag', '""', '"ab-2"', /carried no ETag/],
    ['both are empty', '', '', /carried no ETag/],
    ['the HEAD reports another ETag', '"ab-2"', '"cd-1"', /not the "ab-2" this write's commit/],
  ])('leaves the object when %s', (_label, committedEtag, storedEtag, why) => {
    const verdict = judgeMismatch({ ...facts, committedEtag, storedEtag });
    expect(verdict.action).toBe('leave');
    const error = verdict.action === 'leave' ? verdict.error : undefined;
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error?.message).toMatch(/^k: the object at the key is not what this write sent \(/);
    expect(error?.message).toMatch(why);
  });
});
