/**
 * The systemd units in contrib/systemd/ pass `systemd-analyze verify` (the real tool, from the
 * Debian `systemd` package: scripts/install-deps.sh) without a single complaint. verify refuses
 * an ExecStart binary that does not exist, and /usr/local/bin/z3 is not installed here, so the
 * units are verified as copies whose only change is that path, pointed at a real executable.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const UNITS_DIR = join(import.meta.dirname, '../../contrib/systemd');
const INSTALLED_Z3 = '/usr/local/bin/z3';
const run = promisify(execFile);

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'z3-units-'));
  const fakeZ3 = join(dir, 'z3');
  await writeFile(fakeZ3, '#!/bin/sh\nexit 0\n');
  await chmod(fakeZ3, 0o755);
  for (const name of await unitFiles()) {
    const text = await readFile(join(UNITS_DIR, name), 'utf8');
    await writeFile(join(dir, name), text.replaceAll(INSTALLED_Z3, fakeZ3));
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function unitFiles(): Promise<string[]> {
  return (await readdir(UNITS_DIR)).filter((name) => /\.(service|timer)$/.test(name));
}

/** What `systemd-analyze verify` says about the units (stdout + stderr), and its exit code. */
async function verify(...units: string[]): Promise<{ code: number; output: string }> {
  const args = ['verify', '--man=no', ...units.map((unit) => join(dir, unit))];
  try {
    const { stdout, stderr } = await run('systemd-analyze', args);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe('contrib/systemd units', () => {
  it('the services run the installed z3: --all for the plain unit, the unescaped instance for the template', async () => {
    const plain = await readFile(join(UNITS_DIR, 'z3-backup.service'), 'utf8');
    const template = await readFile(join(UNITS_DIR, 'z3-backup@.service'), 'utf8');
    expect(plain).toMatch(/^ExecStart=\/usr\/local\/bin\/z3 backup --all$/m);
    expect(template).toMatch(/^ExecStart=\/usr\/local\/bin\/z3 --dataset %I backup$/m);
  });

  it('z3-backup.service and z3-backup.timer verify cleanly (OnFailure unit included)', async () => {
    expect(await verify('z3-backup.service', 'z3-backup.timer')).toEqual({ code: 0, output: '' });
  });

  it('an instance of the template (tank/data) and its timer verify cleanly', async () => {
    const { stdout } = await run('systemd-escape', ['tank/data']);
    const instance = stdout.trim();
    expect(instance).toBe('tank-data');
    const result = await verify(`z3-backup@${instance}.service`, `z3-backup@${instance}.timer`);
    expect(result).toEqual({ code: 0, output: '' });
  });

  it('the check can fail: a misspelt key in a copy is reported', async () => {
    const broken = (await readFile(join(dir, 'z3-backup.service'), 'utf8')).replace(
      'Nice=',
      'Nicee=',
    );
    await writeFile(join(dir, 'z3-broken.service'), broken);
    const result = await verify('z3-broken.service');
    expect(result.output).toContain("Unknown key 'Nicee'");
  });
});
