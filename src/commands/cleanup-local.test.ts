/**
 * `z3 cleanup` on a local directory (BACKUP_DIR): the temporaries of writes that died are
 * counted and removed; committed objects, their sidecars and files that are not z3's stay.
 */
import { readdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../errors.js';
import { md5 } from '../storage/etag.js';
import { createLocalBackend } from '../storage/local/backend.js';
import { makeTempRoot, putObject } from '../storage/local/testing.js';
import { runCleanup } from './cleanup.js';
import { cleanupOptions } from './testing/cleanup-options.js';
import { testPorts } from './testing/ports.js';
import { orphanedSegments, segmentedBackup } from './testing/segmented.js';

const NOW = Date.parse('2026-11-26T00:00:00Z');
const DAY = 24 * 3600_000;
const DIR = 'z3-backup/tank';
const MiB = 1 << 20;

describe('runCleanup on BACKUP_DIR', () => {
  let root: string;
  let stateDir: string;
  const removals: (() => Promise<void>)[] = [];
  beforeEach(async () => {
    const made = [await makeTempRoot(), await makeTempRoot()];
    [root, stateDir] = made.map((m) => m.root) as [string, string];
    removals.push(...made.map((m) => m.cleanup));
  });
  afterEach(() => Promise.all(removals.splice(0).map((remove) => remove())));

  /** A write of `name` that died after one chunk of `bytes`, its files dated `started`. */
  async function diedWrite(name: string, bytes: number, started: number): Promise<string> {
    const writer = await createLocalBackend(root).openWriter({
      key: `${DIR}/${name}`,
      metadata: {},
      chunkSize: 4 * MiB,
    });
    const body = Buffer.alloc(bytes, 1);
    await writer.writeChunk({ number: 1, body, md5: md5(body) });
    const temp = path.join(root, DIR, `.${name}.${writer.id}.z3tmp`);
    // As a crash during complete leaves it: its sidecar written to a temporary too.
    await writeFile(path.join(root, DIR, `.${name}.${writer.id}.z3meta.z3tmp`), '{}');
    for (const file of [temp, `${temp.slice(0, -'.z3tmp'.length)}.z3meta.z3tmp`]) {
      await utimes(file, started / 1000, started / 1000);
    }
    return writer.id;
  }

  function ports() {
    // A fresh backend, as a later run after a crash sees the directory.
    return testPorts({
      backend: createLocalBackend(root),
      zfs: '/bin/false',
      env: { BUCKET: '', BACKUP_DIR: root, STATE_DIR: stateDir },
    });
  }

  it('removes the temporaries of a stale write, keeps a young one and everything else', async () => {
    await putObject(createLocalBackend(root), {
      key: `${DIR}/data@done`,
      data: Buffer.alloc(100, 2),
      metadata: { isfull: 'true' },
    });
    await writeFile(path.join(root, DIR, '.notes.z3tmp'), 'not a write of z3');
    const stale = await diedWrite('data@old', 3 * MiB, NOW - 10 * DAY);
    const young = await diedWrite('data@new', 10, NOW - 3600_000);
    const before = await readdir(path.join(root, DIR));
    const run = ports();

    expect(await runCleanup(cleanupOptions(), run)).toBe(EXIT.OK);

    expect(run.out().split('\n')).toEqual([
      `abort  10d  3 M  ${DIR}/data@old  (upload ${stale})`,
      `keep   1h   0 M  ${DIR}/data@new  (upload ${young})  younger than 7d`,
      'abort 1 (3 M), keep 1',
      '',
    ]);
    expect((await readdir(path.join(root, DIR))).sort()).toEqual(
      before.filter((f) => !f.includes(stale)).sort(),
    );
    expect((await stat(path.join(root, DIR, 'data@done'))).size).toBe(100);
    expect(await createLocalBackend(root).stat(`${DIR}/data@done`)).toMatchObject({
      metadata: { isfull: 'true' },
    });
  });

  it('--dry-run lists the stale temporaries and removes nothing', async () => {
    await diedWrite('data@old', 3 * MiB, NOW - 10 * DAY);
    const before = await readdir(path.join(root, DIR));
    const run = ports();
    expect(await runCleanup(cleanupOptions({ dryRun: true }), run)).toBe(EXIT.OK);
    expect(run.out()).toMatch(/^would abort 1 \(3 M\), keep 0$/m);
    expect(await readdir(path.join(root, DIR))).toEqual(before);
  });

  /** Date every file under `dir` (a key prefix) `at`. */
  async function dateFiles(dir: string, at: number): Promise<void> {
    for (const name of await readdir(path.join(root, dir))) {
      await utimes(path.join(root, dir, name), at / 1000, at / 1000);
    }
  }

  it('removes an old orphaned segment directory, keeps a young one and an owned one', async () => {
    const local = createLocalBackend(root);
    const on = (snapshotName: string) => ({ prefix: 'z3-backup/', snapshotName });
    const owned = await segmentedBackup(local, on('tank/data@owned'));
    const old = await orphanedSegments(local, on('tank/data@dead'));
    const young = await orphanedSegments(local, on('tank/data@running'));
    await dateFiles(owned, NOW - 30 * DAY);
    await dateFiles(old, NOW - 8 * DAY);
    await dateFiles(young, NOW - 3600_000);
    const [ownedFiles, youngFiles] = [
      await readdir(path.join(root, owned)),
      await readdir(path.join(root, young)),
    ];
    const run = ports();

    expect(await runCleanup(cleanupOptions(), run)).toBe(EXIT.OK);

    const why = 'younger than 7d: a backup uploading now owns its segments only once it commits';
    expect(run.out().split('\n')).toEqual([
      `remove  8d  1.5 M  ${old}  (3 orphaned segment objects of tank/data@dead)`,
      `keep    1h  1.5 M  ${young}  (3 orphaned segment objects of tank/data@running)  ${why}`,
      'abort 0 (0 M), keep 0; remove 1 orphaned segment directory (1.5 M), keep 1',
      '',
    ]);
    // Every file gone, sidecars too, and the emptied directories with them.
    await expect(readdir(path.join(root, old))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(path.join(root, young))).toEqual(youngFiles);
    expect(await readdir(path.join(root, owned))).toEqual(ownedFiles);
    expect(await createLocalBackend(root).stat('z3-backup/tank/data@owned')).toBeDefined();
  });
});
