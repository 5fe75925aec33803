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
    mem.seed('z3-backup/tank/data@snap-1', Buffer.alloc(10), { isfull: 'true', size: '2048' });
    mem.seed('z3-backup/tank/data@snap-2', Buffer.alloc(10), {
      parent: 'tank/data@snap-1',
      size: '1024',
    });
    mem.seed('z3-backup/tank/data@snap-3', Buffer.alloc(10), {
      parent: 'tank/data@gone',
      size: '1',
    });
    return { mem, ports: testPorts({ backend: mem, zfs: zfs.program }) };
  }

  it('prints the title and one row per snapshot, remote and local, with health', async () => {
    const { ports } = setup();
    // exit 3: snap-3 is broken
    expect(await runStatus({ ...flags, json: false }, ports)).toBe(EXIT.INTEGRITY);
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
    expect(await runStatus({ ...flags, json: true }, ports)).toBe(EXIT.INTEGRITY);
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
    // exit 3: snap-3's parent is gone
    const code = await runStatus({ ...flags, json: false, chainLength: true }, ports);
    expect(code).toBe(EXIT.INTEGRITY);
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
    // exit 3: setup()'s snap-3 is broken
    expect(await runStatus({ ...flags, json: false }, ports)).toBe(EXIT.INTEGRITY);
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
      // exit 3: setup()'s snap-3 has a missing parent
      expect(await runStatus({ ...flags, json: true }, cachedPorts(mem, dir))).toBe(EXIT.INTEGRITY);
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
        // still broken (exit 3): the poisoned entry did not heal it
        expect(await runStatus({ ...flags, json: true }, ports)).toBe(EXIT.INTEGRITY);
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
        // still broken (exit 3): the poisoned entry did not heal it
        expect(await runStatus({ ...flags, json: true }, ports)).toBe(EXIT.INTEGRITY);
        expect(healthOf(ports.out(), 'snap-3')).toBe('missing parent');
      },
    );
  });
});

describe('runStatus exit code and a missing dataset', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  function healthyBucket(): MemBackend {
    const mem = new MemBackend();
    mem.seed('z3-backup/tank/data@snap-1', Buffer.alloc(10), { isfull: 'true', size: '2048' });
    mem.seed('z3-backup/tank/data@snap-2', Buffer.alloc(10), { parent: 'tank/data@snap-1' });
    return mem;
  }

  it('exits 0 when every backup is healthy', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': ['tank/data@snap-1'] } });
    const ports = testPorts({ backend: healthyBucket(), zfs: zfs.program });
    expect(await runStatus({ ...flags, json: false }, ports)).toBe(EXIT.OK);
    expect(ports.err()).toBe('');
  });

  const broken: [string, Record<string, Record<string, string>>][] = [
    ['missing parent', { 'snap-3': { parent: 'tank/data@gone' } }],
    [
      'parent broken',
      { 'snap-3': { parent: 'tank/data@gone' }, 'snap-4': { parent: 'tank/data@snap-3' } },
    ],
    [
      'cycle detected',
      { 'snap-3': { parent: 'tank/data@snap-4' }, 'snap-4': { parent: 'tank/data@snap-3' } },
    ],
  ];
  it.each(broken)(
    'exits 3 after printing the table when a backup has %s',
    async (health, extra) => {
      zfs = createScriptedZfs({ datasets: { 'tank/data': ['tank/data@snap-1'] } });
      const mem = healthyBucket();
      for (const [name, meta] of Object.entries(extra)) {
        mem.seed(`z3-backup/tank/data@${name}`, Buffer.alloc(1), meta);
      }
      for (const json of [false, true]) {
        const ports = testPorts({ backend: mem, zfs: zfs.program });
        expect(await runStatus({ ...flags, json }, ports)).toBe(EXIT.INTEGRITY);
        expect(ports.out()).toContain(health);
        expect(ports.out()).toContain('snap-2');
      }
    },
  );

  it('shows the backups of a dataset missing on this host, and says so on stderr', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/other': [] } });
    const ports = testPorts({ backend: healthyBucket(), zfs: zfs.program });
    expect(await runStatus({ ...flags, json: false }, ports)).toBe(EXIT.OK);
    expect(ports.out()).toMatch(/snap-1 .*\| full .*\| ok .*\| missing/);
    expect(ports.err()).toBe(
      "z3: warning: dataset 'tank/data' does not exist on this host; showing its backups only\n",
    );
  });
});
