import { mkdir, readFile, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntegrityError, StorageError } from '../../errors.js';
import { md5, multipartEtag } from '../etag.js';
import { writtenMd5 } from '../rules.js';
import { runBackendSuite } from '../testing/conformance.js';
import { createLocalBackend, type LocalBackend } from './backend.js';
import { collect, makeTempRoot, putObject } from './testing.js';
import { injected } from '../../testing/faults.js';

// pageSize is not a thing here: a listing reads one directory at a time, whatever its size.
runBackendSuite('local', async () => {
  const temp = await makeTempRoot();
  return { backend: createLocalBackend(temp.root), prefix: 'conf/', cleanup: temp.cleanup };
});

const KEY = 'z3-backup/tank/data@zfs-auto-snap:daily-2026-11-26-0000';

let root: string;
let cleanup: () => Promise<void>;
let backend: LocalBackend;

beforeEach(async () => {
  ({ root, cleanup } = await makeTempRoot());
  backend = createLocalBackend(root);
});
afterEach(() => cleanup());

/** Every file and directory under `dir`, as paths relative to it, sorted. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

function bytes(n: number, seed = 1): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) % 251));
}

describe('LocalBackend on disk', () => {
  it('stores the object at <root>/<key> and its metadata and S3 ETag in a JSON sidecar', async () => {
    const data = bytes(10);
    const committed = await putObject(backend, {
      key: KEY,
      data,
      metadata: { 'Is-Full': 'true', parent: 'a=b + c' },
      chunkSize: 4,
    });

    const etag = multipartEtag(
      [data.subarray(0, 4), data.subarray(4, 8), data.subarray(8)].map(md5),
    );
    expect(committed).toEqual({ etag, size: 10 });
    expect(await readFile(path.join(root, KEY))).toEqual(data);
    expect(JSON.parse(await readFile(path.join(root, `${KEY}.z3meta`), 'utf8'))).toEqual({
      version: 1,
      metadata: { 'is-full': 'true', parent: 'a=b + c' },
      etag,
      size: 10,
    });
    expect(await tree(root)).toEqual([
      'z3-backup',
      'z3-backup/tank',
      `z3-backup/tank/data@zfs-auto-snap:daily-2026-11-26-0000`,
      `z3-backup/tank/data@zfs-auto-snap:daily-2026-11-26-0000.z3meta`,
    ]);
    expect(await backend.stat(KEY)).toEqual({
      key: KEY,
      size: 10,
      etag,
      metadata: { 'is-full': 'true', parent: 'a=b + c' },
    });
  });

  it('creates files 0644 and directories 0755 (less the umask)', async () => {
    await putObject(backend, { key: 'p/q/r', data: bytes(3) });
    const umask = process.umask();
    const mode = async (rel: string) => (await stat(path.join(root, rel))).mode & 0o777;
    expect(await mode('p')).toBe(0o755 & ~umask);
    expect(await mode('p/q')).toBe(0o755 & ~umask);
    expect(await mode('p/q/r')).toBe(0o644 & ~umask);
    expect(await mode('p/q/r.z3meta')).toBe(0o644 & ~umask);
  });

  it('renames the data onto the key only at complete, from a temporary in the same directory', async () => {
    const writer = await backend.openWriter({ key: KEY, metadata: {}, chunkSize: 4 });
    const chunk = await writer.writeChunk({ number: 1, body: bytes(4), md5: md5(bytes(4)) });
    const dir = path.dirname(path.join(root, KEY));
    const temp = `.${path.basename(KEY)}.${writer.id}.z3tmp`;
    const log = `.${path.basename(KEY)}.${writer.id}.z3parts.z3tmp`;
    expect(writer.id).toMatch(/^[0-9a-f]{16}$/);
    expect((await readdir(dir)).sort()).toEqual([log, temp]);
    expect(await backend.stat(KEY)).toBeUndefined();

    await writer.complete([chunk]);
    expect(await readdir(dir)).toEqual([path.basename(KEY), `${path.basename(KEY)}.z3meta`]);
  });

  it('replaces an object and its metadata', async () => {
    await putObject(backend, { key: 'k', data: bytes(8), metadata: { a: '1' } });
    const second = await putObject(backend, { key: 'k', data: bytes(8, 2), metadata: { b: '2' } });
    expect(await backend.stat('k')).toEqual({
      key: 'k',
      size: 8,
      etag: second.etag,
      metadata: { b: '2' },
    });
    expect(await readFile(path.join(root, 'k'))).toEqual(bytes(8, 2));
    expect(await tree(root)).toEqual(['k', 'k.z3meta']);
  });
});

describe('LocalBackend sidecars', () => {
  it('ignores a sidecar whose size disagrees with the object', { tags: ['faults'] }, async () => {
    await putObject(backend, { key: 'a/b', data: bytes(5), metadata: { x: 'y' } });
    const sidecar = path.join(root, 'a/b.z3meta');
    const content = JSON.parse(await readFile(sidecar, 'utf8')) as Record<string, unknown>;
    await writeFile(sidecar, JSON.stringify({ ...content, size: 6 }));

    expect(await backend.stat('a/b')).toEqual({ key: 'a/b', size: 5, etag: '', metadata: {} });
    const listed = await collect(backend.list(''));
    expect(listed.map((o) => [o.key, o.etag])).toEqual([['a/b', '']]);
    injected('corrupt data');
  });

  it(
    'ignores a sidecar that is not version-1 JSON, and a missing one',
    { tags: ['faults'] },
    async () => {
      await putObject(backend, { key: 'c', data: bytes(5), metadata: { x: 'y' } });
      await putObject(backend, { key: 'd', data: bytes(5), metadata: { x: 'y' } });
      await writeFile(path.join(root, 'c.z3meta'), '{"version":1,"metadata"');
      await writeFile(path.join(root, 'd.z3meta'), '');
      await putObject(backend, { key: 'e', data: bytes(5) });
      await backend.remove('e');
      await writeFile(path.join(root, 'e'), bytes(5));

      for (const key of ['c', 'd', 'e']) {
        expect(await backend.stat(key)).toEqual({ key, size: 5, etag: '', metadata: {} });
      }
      injected('corrupt data', 3); // cut JSON, empty, missing
    },
  );

  it('lists neither stray sidecars nor stale temporaries', { tags: ['faults'] }, async () => {
    await putObject(backend, { key: 'a/d', data: bytes(2) });
    await writeFile(path.join(root, 'a/c.z3meta'), '{}');
    await writeFile(path.join(root, 'a/.b.0123456789abcdef.z3tmp'), 'partial');
    await writeFile(path.join(root, 'a/.b.0123456789abcdef.z3meta.z3tmp'), '{}');

    const listed = await collect(backend.list(''));
    expect(listed.map((o) => o.key)).toEqual(['a/d']);
    expect(await backend.stat('a/c')).toBeUndefined();
    expect(await backend.stat('a/b')).toBeUndefined();
    injected('corrupt data', 3); // a stray sidecar, two stale temporaries
  });
});

describe('LocalBackend crash safety', () => {
  it(
    'after a crash mid-write leaves only a pending temporary, which abortPending removes',
    { tags: ['faults'] },
    async () => {
      const writer = await backend.openWriter({ key: KEY, metadata: { a: '1' }, chunkSize: 4 });
      await writer.writeChunk({ number: 2, body: bytes(3), md5: md5(bytes(3)) });
      await writer.writeChunk({ number: 1, body: bytes(4), md5: md5(bytes(4)) });

      // The process "dies": a new backend on the same directory sees what is on disk.
      const after = createLocalBackend(root);
      expect(await after.stat(KEY)).toBeUndefined();
      expect(await collect(after.list(''))).toEqual([]);
      const pending = await after.listPending('z3-backup/');
      expect(pending).toEqual([{ key: KEY, id: writer.id, started: expect.any(String) as string }]);
      expect(Date.parse(pending[0]?.started ?? '')).not.toBeNaN();

      await after.abortPending({ key: KEY, id: writer.id });
      expect(await after.listPending('')).toEqual([]);
      expect(await tree(root)).toEqual([]);
      await writer.abort(); // closes the descriptor the "dead" process held
      injected('kill -9'); // simulated: the writer's process is gone, a new backend takes over
    },
  );

  it('abortPending of a write still open in this process closes it', async () => {
    const writer = await backend.openWriter({ key: 'p/k', metadata: {}, chunkSize: 4 });
    await backend.abortPending({ key: 'p/k', id: writer.id });
    await expect(
      writer.writeChunk({ number: 1, body: bytes(4), md5: md5(bytes(4)) }),
    ).rejects.toMatchObject({ isNotFound: true });
    expect(await tree(root)).toEqual([]);
  });

  it(
    'never pairs an object with the metadata of a write that failed before its commit',
    { tags: ['faults'] },
    async () => {
      await putObject(backend, { key: 'k', data: bytes(8), metadata: { old: '1' } });
      const writer = await backend.openWriter({ key: 'k', metadata: { new: '1' }, chunkSize: 8 });
      const chunk = await writer.writeChunk({
        number: 1,
        body: bytes(8, 3),
        md5: md5(bytes(8, 3)),
      });
      // A fault at the rename: the temporary vanished (the descriptor still writes to it).
      await unlink(path.join(root, `.k.${writer.id}.z3tmp`));

      const failure = await writer.complete([chunk]).catch((e: unknown) => e);
      expect(failure).toMatchObject({ message: expect.stringContaining('ENOENT') as string });
      expect(await backend.stat('k')).toEqual({ key: 'k', size: 8, etag: '', metadata: {} });
      expect(await readFile(path.join(root, 'k'))).toEqual(bytes(8));

      await writer.abort();
      expect((await tree(root)).filter((f) => f.endsWith('.z3tmp'))).toEqual([]);
      injected('corrupt data'); // the temporary vanished before the rename
    },
  );
});

describe('LocalBackend chunk writer', () => {
  it('takes chunks out of order and re-sent, and cuts a re-sent shorter last chunk', async () => {
    const writer = await backend.openWriter({ key: 'w', metadata: {}, chunkSize: 4 });
    const data = bytes(10);
    const send = (n: number, body: Uint8Array) =>
      writer.writeChunk({ number: n, body, md5: md5(body) });
    await send(3, bytes(4, 9));
    const [c2, c1] = await Promise.all([
      send(2, data.subarray(4, 8)),
      send(1, data.subarray(0, 4)),
    ]);
    await send(1, data.subarray(0, 4));
    const c3 = await send(3, data.subarray(8));

    expect(await writer.complete([c3, c1, c2])).toEqual({
      etag: multipartEtag([c1, c2, c3].map((c) => writtenMd5(c, 'w'))),
      size: 10,
    });
    expect(await readFile(path.join(root, 'w'))).toEqual(data);
  });

  it(
    'refuses a chunk whose bytes do not match their MD5, as retryable',
    { tags: ['faults'] },
    async () => {
      const writer = await backend.openWriter({ key: 'w', metadata: {}, chunkSize: 4 });
      const failure = await writer
        .writeChunk({ number: 1, body: bytes(4), md5: md5(bytes(3)) })
        .catch((e: unknown) => e);
      expect(failure).toMatchObject({
        isRetryable: true,
        message: expect.stringContaining('BadDigest') as string,
      });
      await writer.abort();
      expect(await tree(root)).toEqual([]);
      injected('corrupt data');
    },
  );

  it(
    'refuses to complete with a short chunk before the last (it would leave a hole)',
    { tags: ['faults'] },
    async () => {
      const writer = await backend.openWriter({ key: 'w', metadata: {}, chunkSize: 4 });
      const c1 = await writer.writeChunk({ number: 1, body: bytes(3), md5: md5(bytes(3)) });
      const c2 = await writer.writeChunk({ number: 2, body: bytes(2), md5: md5(bytes(2)) });
      await expect(writer.complete([c1, c2])).rejects.toThrow(/chunk 1 has 3 bytes/);
      await writer.abort();
      expect(await tree(root)).toEqual([]);
      injected('bad input');
    },
  );

  it(
    'fails complete with an IntegrityError when the list disagrees with what was written, leaving nothing',
    { tags: ['faults'] },
    async () => {
      const writer = await backend.openWriter({ key: 'w', metadata: {}, chunkSize: 4 });
      const c1 = await writer.writeChunk({ number: 1, body: bytes(4), md5: md5(bytes(4)) });
      await expect(writer.complete([{ ...c1, md5: md5(bytes(5)) }])).rejects.toBeInstanceOf(
        IntegrityError,
      );
      expect(await tree(root)).toEqual([]);
      await writer.abort();
      injected('corrupt data');
    },
  );

  it('aborts idempotently, leaving no file or directory; abort after complete keeps the object', async () => {
    const writer = await backend.openWriter({ key: 'x/y/z', metadata: {}, chunkSize: 4 });
    await writer.writeChunk({ number: 1, body: bytes(4), md5: md5(bytes(4)) });
    await writer.abort();
    await writer.abort();
    expect(await tree(root)).toEqual([]);
    await expect(
      writer.writeChunk({ number: 1, body: bytes(4), md5: md5(bytes(4)) }),
    ).rejects.toMatchObject({ isNotFound: true });

    const kept = await backend.openWriter({ key: 'x/y/z', metadata: {}, chunkSize: 4 });
    await kept.complete([await kept.writeChunk({ number: 1, body: bytes(4), md5: md5(bytes(4)) })]);
    await kept.abort();
    expect(await backend.stat('x/y/z')).toMatchObject({ size: 4 });
  });
});

describe('LocalBackend keys and root', () => {
  const REFUSED = [
    '',
    '/a',
    'a//b',
    'a/',
    'a/./b',
    'a/../b',
    '..',
    'a\0b',
    'a.z3meta',
    'x/a.z3tmp',
    'a.z3meta/b',
  ];

  it.each(REFUSED)(
    'refuses the key %j, naming it, not retryable',
    { tags: ['faults'] },
    async (key) => {
      for (const call of [
        () => backend.stat(key),
        () => backend.remove(key),
        () => backend.readRange({ key, start: 0, end: 0 }),
        () => backend.openWriter({ key, metadata: {}, chunkSize: 1 }),
      ]) {
        const failure = await call().catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(StorageError);
        expect(failure).toMatchObject({ isRetryable: false });
        expect((failure as Error).message).toContain(JSON.stringify(key));
      }
      expect(await tree(root)).toEqual([]);
      injected('bad input');
    },
  );

  it(
    'reports a missing root as BACKUP_DIR with a hint, and does not create it',
    { tags: ['faults'] },
    async () => {
      const missing = path.join(root, 'not-mounted');
      const absent = createLocalBackend(missing);
      const expected = {
        message: expect.stringContaining(`BACKUP_DIR ${missing}`) as string,
        hint: expect.any(String) as string,
      };
      await expect(collect(absent.list(''))).rejects.toMatchObject(expected);
      await expect(absent.listPending('')).rejects.toMatchObject(expected);
      await expect(absent.stat('a')).rejects.toMatchObject(expected);
      await expect(
        absent.openWriter({ key: 'a/b', metadata: {}, chunkSize: 1 }),
      ).rejects.toMatchObject(expected);
      expect(await tree(root)).toEqual([]);
      injected('bad input');
    },
  );

  it('refuses a relative root', { tags: ['faults'] }, () => {
    expect(() => createLocalBackend('backup')).toThrow(/absolute/);
    injected('bad input');
  });

  it('describes itself', () => {
    expect(backend).toMatchObject({
      kind: 'local',
      location: root,
      features: { hasStableListing: false },
    });
    expect(backend.features.statBulk).toBeUndefined();
  });
});

describe('LocalBackend remove and readRange', () => {
  it(
    'readRange with ifMatch fails for a file replaced outside z3 (its sidecar no longer fits)',
    { tags: ['faults'] },
    async () => {
      const { etag } = await putObject(backend, { key: 'a', data: bytes(10) });
      await writeFile(path.join(root, 'a'), bytes(12, 2));
      await expect(
        backend.readRange({ key: 'a', start: 0, end: 9, ifMatch: etag }),
      ).rejects.toThrow(`a changed while it was being read (ETag was ${etag})`);
      injected('concurrent writer');
    },
  );

  it(
    'a conflicting conditional commit leaves the object, its sidecar and no temporary',
    { tags: ['faults'] },
    async () => {
      await putObject(backend, { key: 'a', data: bytes(10), metadata: { run: 'first' } });
      const before = await readFile(path.join(root, 'a.z3meta'), 'utf8');
      const writer = await backend.openWriter({
        key: 'a',
        metadata: { run: 'second' },
        chunkSize: 4,
        ifNoneMatch: true,
      });
      const body = bytes(3, 5);
      const chunk = await writer.writeChunk({ number: 1, body, md5: md5(body) });
      await expect(writer.complete([chunk])).rejects.toThrow(
        'another writer committed a first; it was left in place',
      );
      expect(await readFile(path.join(root, 'a.z3meta'), 'utf8')).toBe(before);
      expect(await readFile(path.join(root, 'a'))).toEqual(bytes(10));
      expect(await tree(root)).toEqual(['a', 'a.z3meta']);
      injected('concurrent writer');
    },
  );

  it('removes the object, its sidecar and the directories it leaves empty, never the root', async () => {
    await putObject(backend, { key: 'a/b/c', data: bytes(1) });
    await putObject(backend, { key: 'a/d', data: bytes(1) });
    await backend.remove('a/b/c');
    expect(await tree(root)).toEqual(['a', 'a/d', 'a/d.z3meta']);
    await backend.remove('a/d');
    await backend.remove('a/d');
    expect(await tree(root)).toEqual([]);
    expect((await stat(root)).isDirectory()).toBe(true);
  });

  it('leaves a directory standing at the key alone', async () => {
    await putObject(backend, { key: 'a/b', data: bytes(1) });
    await backend.remove('a');
    expect(await backend.stat('a')).toBeUndefined();
    expect(await backend.stat('a/b')).toMatchObject({ size: 1 });
  });

  it('reads ranges at the edges into a given target, and refuses one past the end', async () => {
    await putObject(backend, { key: 'r', data: bytes(10) });
    expect(await backend.readRange({ key: 'r', start: 0, end: 0 })).toEqual(
      bytes(10).subarray(0, 1),
    );
    const target = new Uint8Array(16);
    const got = await backend.readRange({ key: 'r', start: 7, end: 9, target });
    expect(got.buffer).toBe(target.buffer);
    expect(Buffer.from(got)).toEqual(bytes(10).subarray(7));
    await expect(backend.readRange({ key: 'r', start: 5, end: 10 })).rejects.toMatchObject({
      isRetryable: false,
      isNotFound: false,
    });
    await expect(backend.readRange({ key: 'nope', start: 0, end: 0 })).rejects.toMatchObject({
      isNotFound: true,
    });
  });
});

describe('LocalBackend file-system errors', () => {
  it('names the path and the errno code, and keeps the cause', async () => {
    await mkdir(path.join(root, 'f'));
    await writeFile(path.join(root, 'f/x'), 'x');
    // A file where the writer needs a directory: ENOTDIR or EEXIST from mkdir.
    const failure = await backend
      .openWriter({ key: 'f/x/y', metadata: {}, chunkSize: 1 })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StorageError);
    expect((failure as Error).message).toMatch(new RegExp(`${root}/f/x.*: E[A-Z]+ `));
    expect((failure as Error).cause).toBeDefined();
  });
});
