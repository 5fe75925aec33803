/** `z3 status` on the memory backend with a scripted `zfs list`. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../errors.js';
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
    expect(rows.map((r) => [r['name'], r['health']])).toEqual([
      ['snap-1', 'ok'],
      ['snap-2', 'ok'],
      ['snap-3', 'missing parent'],
      ['snap-4', null],
    ]);
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
});
