/**
 * The backend conformance suite (issue 8, restic's `backend/test`): the same tests of the
 * `Backend` contract run on every backend — mem and local in the unit tier, S3 (Ceph RGW or any
 * endpoint) in the integration tier. A backend is correct when it passes them; code above
 * storage may rely on nothing else.
 *
 * Only the contract is assumed: sizes come from `limits`, optional calls from `features`, and
 * every key lies under the prefix the factory gives, so runs on a shared bucket never meet.
 * After each test everything under the prefix is removed and pending writes are aborted.
 *
 * Not part of the build (tsconfig.build.json excludes `testing/`): it imports vitest.
 */
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import type { Backend } from '../backend.js';
import { describeConditional } from './conformance-conditional.js';
import { describeListing } from './conformance-listing.js';
import { describeObjects } from './conformance-objects.js';
import { describePut } from './conformance-put.js';
import { describeChunkPaging, describeResume } from './conformance-resume.js';
import { describeWriter } from './conformance-writer.js';
import { sweepPrefix, type SuiteFixture } from './conformance-helpers.js';

export { sweepPrefix } from './conformance-helpers.js';

/** One backend to test, fresh from a factory. */
export interface BackendUnderTest {
  backend: Backend;
  /** A unique key prefix for this test run, e.g. `conf-abc123/`; the suite writes only under it. */
  prefix: string;
  /** Called once after the tests that used this backend (after the suite's own cleanup). */
  cleanup?: () => Promise<void>;
}

/**
 * Builds the backend under test. `pageSize`, when given, is the most objects one listing page
 * may hold (the suite asks for 2 to test paging); undefined = the backend's default.
 */
export type BackendFactory = (options: { pageSize?: number }) => Promise<BackendUnderTest>;

/** Register the conformance tests of the backend `factory` builds, under `describe(name)`. */
export function runBackendSuite(name: string, factory: BackendFactory): void {
  describe(`backend conformance: ${name}`, () => {
    const fixture = useBackendUnderTest(factory, {});
    describeObjects(fixture);
    describeWriter(fixture);
    describeConditional(fixture);
    describePut(fixture);
    describeResume(fixture);
    describe('listing, in pages of 2', () => {
      const paged = useBackendUnderTest(factory, { pageSize: 2 });
      describeListing(paged);
      describeChunkPaging(paged);
    });
  });
}

/**
 * A backend from `factory` for the enclosing describe block: built before all its tests, its
 * prefix swept after each, its cleanup run after all. Call inside `describe`.
 */
function useBackendUnderTest(
  factory: BackendFactory,
  options: { pageSize?: number },
): SuiteFixture {
  let current: BackendUnderTest | undefined;
  const get = (): BackendUnderTest => {
    if (current === undefined) throw new Error('the backend under test was not built');
    return current;
  };
  beforeAll(async () => {
    current = await factory(options);
  });
  afterEach(async () => {
    await sweepPrefix(get().backend, get().prefix);
  });
  afterAll(async () => {
    if (current === undefined) return;
    await sweepPrefix(current.backend, current.prefix);
    await current.cleanup?.();
  });
  return {
    get backend() {
      return get().backend;
    },
    get prefix() {
      return get().prefix;
    },
    key: (name) => `${get().prefix}${name}`,
  };
}
