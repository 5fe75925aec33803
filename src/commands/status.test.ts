/** `z3 status` on the memory backend with a scripted `zfs list`. */
import {
  chmodSync,
  chownSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../errors.js';
import { injected } from '../testing/faults.js';
import { storageOf } from '../storage/open.js';
import { MemBackend } from '../storage/mem/backend.js';
import { runStatus } from './status.js';
import { createScriptedZfs, type ScriptedZfs } from './testing/scripted-zfs.js';
import { testPorts } from './testing/ports.js';

const flags = {
  config: undefined,
  s3Prefix: undefined,
  filesystem: undefined,
  snapshotPrefix: undefined,
};

describe('runStatus', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  function setup(): { mem: MemBackend; ports: ReturnType<typeof testPorts> } {
    zfs = createScriptedZfs({
      datasets: { 'tank/data': ['tank/data@snap-1', 'tank/data@snap-2', 'tank/data@snap-4'] },
    });
    const mem = new MemBackend();
    mem.put('z3-backup/tank/data@snap-1', Buffer.alloc(10), { isfull: 'true', size: '2048' });
    mem.put('z3-backup/tank/data@snap-2', Buffer.alloc(10), {
      parent: 'tank/data@snap-1',
      size: '1024',
    });
    mem.put('z3-backup/tank/data@snap-3', Buffer.alloc(10), {
      parent: 'tank/data@gone',
      size: '1',
    });
    return { mem, ports: testPorts({ backend: mem, zfs: zfs.program }) };
  }

  it('prints the title and one row per snapshot, remote and local, with health', async () => {
    const { ports } = setup();
    expect(await runStatus({ ...flags, json: false }, ports)).toBe(EXIT.OK);
    const lines = ports.out().split('\n');
    expect(lines[0]).toBe('backup status for tank/data@snap* on test-bucket/z3-backup/');
    const rows = lines.slice(1).filter((l) => /snap-\d/.test(l));
    expect(
      rows.map((r) =>
        r
          .split('|')
          .map((c) => c.trim())
          .slice(0, 5),
      ),
    ).toEqual([
      ['snap-1', '', 'full', 'ok', 'ok'],
      ['snap-2', 'snap-1', 'incremental', 'ok', 'ok'],
      ['snap-3', 'gone', 'incremental', 'missing parent', 'missing'],
      ['snap-4', '-', 'missing', '-', 'ok'],
    ]);
  });

  it('prints one JSON object per row with --json', async () => {
    const { ports } = setup();
    expect(await runStatus({ ...flags, json: true }, ports)).toBe(EXIT.OK);
    const rows = ports
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => [r['name'], r['health'], r['chainLength']])).toEqual([
      ['snap-1', 'ok', 1],
      ['snap-2', 'ok', 2],
      ['snap-3', 'missing parent', null],
      ['snap-4', null, null],
    ]);
  });

  it('adds the CHAIN column with --chain-length', async () => {
    const { ports } = setup();
    expect(await runStatus({ ...flags, json: false, chainLength: true }, ports)).toBe(EXIT.OK);
    const [header, ...rows] = ports.out().split('\n').slice(1, -1);
    expect(header?.split('|').map((c) => c.trim())).toEqual([
      'NAME',
      'PARENT',
      'TYPE',
      'HEALTH',
      'LOCAL STATE',
      'SIZE',
      'CHAIN',
    ]);
    expect(
      rows.map((r) =>
        r
          .split('|')
          .map((c) => c.trim())
          .at(-1),
      ),
    ).toEqual(['1', '2', '', '']);
  });

  it('warns about [fs:] sections of the config file that name no dataset', async () => {
    const { mem } = setup();
    const config = join(mkdtempSync(join(tmpdir(), 'z3-status-conf-')), 'z3.conf');
    writeFileSync(
      config,
      '[main]\n[fs:tank/data]\nCOMPRESSOR = none\n[fs:tank/dta]\nCOMPRESSOR = gpg\n',
    );
    const ports = testPorts({ backend: mem, zfs: zfs.program, env: { Z3_CONFIG: config } });
    expect(await runStatus({ ...flags, json: false }, ports)).toBe(EXIT.OK);
    expect(ports.err()).toBe(`z3: warning: ${config} [fs:tank/dta]: no such dataset\n`);
  });

  describe('with a metadata cache someone else can write', () => {
    /** Status over `mem` with CACHE_DIR = `dir`, warnings to the captured stderr. */
    function cachedPorts(mem: MemBackend, dir: string): ReturnType<typeof testPorts> {
      const ports = testPorts({ backend: mem, zfs: zfs.program });
      const warn = (m: string): void => void ports.stderr.write(`z3: warning: ${m}\n`);
      const cache = { dir, endpoint: undefined, bucket: 'test-bucket', warn };
      return { ...ports, openStorage: () => storageOf(mem, 'test-bucket', cache) };
    }

    /** Run status once to fill the cache, then claim in it that snap-3 is a full backup. */
    async function poisonedCache(mem: MemBackend): Promise<{ dir: string; file: string }> {
      const dir = mkdtempSync(join(tmpdir(), 'z3-status-cache-'));
      expect(await runStatus({ ...flags, json: true }, cachedPorts(mem, dir))).toBe(EXIT.OK);
      const file = join(dir, readdirSync(dir)[0]!);
      const cache = JSON.parse(readFileSync(file, 'utf8')) as {
        entries: Record<string, { metadata: Record<string, string> }>;
      };
      cache.entries['z3-backup/tank/data@snap-3']!.metadata = { isfull: 'true', size: '1' };
      writeFileSync(file, JSON.stringify(cache));
      return { dir, file };
    }

    const healthOf = (out: string, name: string): unknown =>
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((r) => r['name'] === name)?.['health'];

    it(
      'a world-writable CACHE_DIR is refused, so its entries cannot heal a broken chain',
      { tags: ['faults'] },
      async () => {
        const { mem } = setup();
        const { dir } = await poisonedCache(mem);
        chmodSync(dir, 0o777);
        injected('corrupt data');
        const ports = cachedPorts(mem, dir);
        expect(await runStatus({ ...flags, json: true }, ports)).toBe(EXIT.OK);
        expect(healthOf(ports.out(), 'snap-3')).toBe('missing parent');
        expect(ports.err()).toMatch(
          new RegExp(`^z3: warning: CACHE_DIR ${dir} is world-writable .*chmod 700 ${dir}.*\\n$`),
        );
      },
    );

    it(
      'a cache file owned by another user is ignored even in a 0700 CACHE_DIR',
      { tags: ['faults'] },
      async () => {
        const { mem } = setup();
        const { dir, file } = await poisonedCache(mem);
        chmodSync(dir, 0o700);
        chownSync(file, 4242, 4242);
        injected('corrupt data');
        const ports = cachedPorts(mem, dir);
        expect(await runStatus({ ...flags, json: true }, ports)).toBe(EXIT.OK);
        expect(healthOf(ports.out(), 'snap-3')).toBe('missing parent');
      },
    );
  });
});
