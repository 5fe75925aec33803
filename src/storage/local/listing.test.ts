import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareKeys } from '../rules.js';
import { createLocalBackend, type LocalBackend } from './backend.js';
import { collect, makeTempRoot, putObject } from './testing.js';
import { mayHoldKeys } from './walk.js';
import { injected } from '../../testing/faults.js';

let root: string;
let cleanup: () => Promise<void>;
let backend: LocalBackend;

beforeEach(async () => {
  ({ root, cleanup } = await makeTempRoot());
  backend = createLocalBackend(root);
});
afterEach(() => cleanup());

async function keysOf(prefix: string, startAfter?: string): Promise<string[]> {
  return (await collect(backend.list(prefix, { startAfter }))).map((o) => o.key);
}

describe('LocalBackend.list', () => {
  it('yields keys in UTF-8 byte order across directories', async () => {
    // Where a walk with plainly sorted names goes wrong: `-` and `.` sort before `/`, `0` after;
    // and where UTF-16 order differs from UTF-8's (U+FF01 is before U+1F600 only in UTF-8).
    const inOrder = ['a-c', 'a.d', 'a/b', 'a/c/d', 'a0', 'x/\u00e9', 'x/\uff01', 'x/\u{1f600}'];
    for (const key of [...inOrder].reverse()) {
      await putObject(backend, { key, data: Buffer.from(key) });
    }
    expect(await keysOf('')).toEqual(inOrder);
    expect([...inOrder].sort(compareKeys)).toEqual(inOrder);
  });

  it('orders a file before or after a sibling directory by the directory name plus /', async () => {
    for (const key of ['d/x', 'd-1', 'd0', 'd.z'])
      await putObject(backend, { key, data: Buffer.from('1') });
    expect(await keysOf('')).toEqual(['d-1', 'd.z', 'd/x', 'd0']);
  });

  it('matches prefixes by string, not by directory (fs vs fs2)', async () => {
    for (const key of ['p/fs/a', 'p/fs2/b', 'p/fs.x', 'p/fsx', 'q/fs/c']) {
      await putObject(backend, { key, data: Buffer.from('1') });
    }
    expect(await keysOf('p/fs')).toEqual(['p/fs.x', 'p/fs/a', 'p/fs2/b', 'p/fsx']);
    expect(await keysOf('p/fs/')).toEqual(['p/fs/a']);
    expect(await keysOf('p/fs2')).toEqual(['p/fs2/b']);
    expect(await keysOf('nothing')).toEqual([]);
  });

  it('resumes after startAfter, inside a directory or between them', async () => {
    for (const key of ['a/1', 'a/2', 'b/1', 'b/2', 'c'])
      await putObject(backend, { key, data: Buffer.from('1') });
    expect(await keysOf('', 'a/1')).toEqual(['a/2', 'b/1', 'b/2', 'c']);
    expect(await keysOf('', 'a/')).toEqual(['a/1', 'a/2', 'b/1', 'b/2', 'c']);
    expect(await keysOf('', 'a/9')).toEqual(['b/1', 'b/2', 'c']);
    expect(await keysOf('b/', 'b/1')).toEqual(['b/2']);
    expect(await keysOf('', 'c')).toEqual([]);
  });

  it('skips symlinks and what is not a regular file, and gives size and mtime', async () => {
    await putObject(backend, { key: 'real', data: Buffer.from('12345') });
    await symlink(path.join(root, 'real'), path.join(root, 'link'));
    await mkdir(path.join(root, 'dir'));
    await symlink(root, path.join(root, 'dir/loop'));

    const listed = await collect(backend.list(''));
    expect(listed).toEqual([
      {
        key: 'real',
        size: 5,
        etag: expect.stringMatching(/^"[0-9a-f]{32}-1"$/) as string,
        lastModified: expect.any(String) as string,
      },
    ]);
    expect(Date.parse(listed[0]?.lastModified ?? '')).not.toBeNaN();
    expect(await backend.stat('link')).toBeUndefined();
  });
});

describe('LocalBackend.listPending', () => {
  it('reports writes in progress under the prefix, not their sidecar temporaries', async () => {
    const a = await backend.openWriter({ key: 'p/a', metadata: {}, chunkSize: 4 });
    const b = await backend.openWriter({ key: 'q/b', metadata: {}, chunkSize: 4 });
    await writeFile(path.join(root, 'p', `.a.${a.id}.z3meta.z3tmp`), '{}');

    expect((await backend.listPending('p/')).map((p) => [p.key, p.id])).toEqual([['p/a', a.id]]);
    expect((await backend.listPending('')).map((p) => p.key)).toEqual(['p/a', 'q/b']);

    await backend.abortPending({ key: 'p/a', id: a.id });
    expect(await readdir(root)).toEqual(['q']);
    await a.abort();
    await b.abort();
  });

  it('ignores an id that is not one of ours (never a path)', { tags: ['faults'] }, async () => {
    await putObject(backend, { key: 'k', data: Buffer.from('1') });
    await backend.abortPending({ key: 'k', id: '../../k' });
    expect(await backend.stat('k')).toMatchObject({ size: 1 });
    injected('bad input'); // a pending id that walks out of the directory
  });
});

describe('mayHoldKeys', () => {
  // Which directories a listing reads: the others cannot hold a key it yields.
  it.each([
    ['keep/', { prefix: 'keep/' }, true],
    ['keep/', { prefix: 'ke' }, true],
    ['keep/', { prefix: 'keep/deep/x' }, true],
    ['other/', { prefix: 'keep/' }, false],
    ['fs2/', { prefix: 'fs/' }, false],
    ['fs/', { prefix: 'fs2' }, false],
    ['a/', { prefix: '', startAfter: 'a/5' }, true],
    ['a/', { prefix: '', startAfter: 'a/' }, true],
    ['a/', { prefix: '', startAfter: 'a0' }, false],
    ['a/', { prefix: '', startAfter: 'a-' }, true],
    ['b/', { prefix: '', startAfter: 'a/9' }, true],
  ] as const)('%s with %j: %s', (dirKey, options, expected) => {
    expect(mayHoldKeys(dirKey, options)).toBe(expected);
  });
});
