/**
 * The trust rule of the metadata cache on real directories and modes. Tests run as root, which
 * bypasses permission checks, so they check the owner and mode logic itself: a directory made
 * 0777 or 0770, or chowned to another uid, is refused with one warning naming it and the fix.
 */
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { injected } from '../testing/faults.js';
import { cacheDirProblem, untrustedBecause } from './cache-trust.js';
import { MemBackend } from './mem/backend.js';
import { storageOf } from './open.js';

const OTHER_UID = 4242;

describe('metadata cache trust', () => {
  let root: string;
  let dir: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'z3-cache-trust-'));
    dir = join(root, 'cache');
    mkdirSync(dir, { mode: 0o700 });
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('trusts a 0700 directory of this user, and one that does not exist yet', async () => {
    expect(await cacheDirProblem(dir)).toBeUndefined();
    chmodSync(dir, 0o755);
    expect(await cacheDirProblem(dir)).toBeUndefined();
    expect(await cacheDirProblem(join(root, 'absent'))).toBeUndefined();
  });

  it.each([
    [0o777, 'world-writable (mode 0777)'],
    [0o1777, 'world-writable (mode 1777)'],
    [0o770, 'group-writable (mode 0770)'],
  ])('refuses mode %o: %s, fix chmod 700', { tags: ['faults'] }, async (mode, why) => {
    chmodSync(dir, mode);
    injected('bad input');
    const problem = await cacheDirProblem(dir);
    expect(problem).toContain(`CACHE_DIR ${dir} is ${why}`);
    expect(problem).toContain(`running without the metadata cache (fix: chmod 700 ${dir}`);
    expect(problem).not.toContain('\n');
  });

  it('refuses a directory owned by another user, fix chown', { tags: ['faults'] }, async () => {
    chownSync(dir, OTHER_UID, OTHER_UID);
    injected('bad input');
    const problem = await cacheDirProblem(dir);
    expect(problem).toContain(`is owned by uid ${OTHER_UID}, not by uid ${process.getuid!()}`);
    expect(problem).toContain(`fix: chown $(id -u) ${dir} && chmod 700 ${dir}`);
  });

  it('refuses a CACHE_DIR that is a file', async () => {
    const file = join(root, 'file');
    writeFileSync(file, '');
    expect(await cacheDirProblem(file)).toContain('is not a directory');
  });

  it('judges files by the same rule', () => {
    const file = join(dir, 'f');
    writeFileSync(file, '', { mode: 0o600 });
    expect(untrustedBecause(statSync(file))).toBeUndefined();
    chmodSync(file, 0o620);
    expect(untrustedBecause(statSync(file))).toBe('group-writable (mode 0620)');
    chmodSync(file, 0o600);
    expect(untrustedBecause(statSync(file), OTHER_UID)).toMatch(
      /^owned by uid \d+, not by uid 4242$/,
    );
  });

  it(
    'a storage with a refused CACHE_DIR warns once, lists without it and writes nothing there',
    { tags: ['faults'] },
    async () => {
      chmodSync(dir, 0o777);
      injected('bad input');
      const mem = new MemBackend();
      mem.seed('p/tank@s1', Buffer.from('x'), { isfull: 'true' });
      const warnings: string[] = [];
      const cache = {
        dir,
        endpoint: undefined,
        bucket: 'b',
        warn: (m: string) => warnings.push(m),
      };
      const storage = storageOf(mem, 'b', cache);
      for (const prefix of ['p/', 'p/tank@']) {
        expect((await storage.listWithMetadata(prefix)).map((o) => o.metadata)).toEqual([
          { isfull: 'true' },
        ]);
      }
      expect(warnings).toHaveLength(1);
      expect(readdirSync(dir)).toEqual([]);
    },
  );

  it('creates a missing CACHE_DIR 0700 and uses it', async () => {
    const fresh = join(root, 'new', 'z3');
    const mem = new MemBackend();
    mem.seed('p/tank@s1', Buffer.from('x'), { isfull: 'true' });
    const cache = { dir: fresh, endpoint: undefined, bucket: 'b', warn: () => undefined };
    await storageOf(mem, 'b', cache).listWithMetadata('p/');
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    expect(readdirSync(fresh)).toHaveLength(1);
  });
});
