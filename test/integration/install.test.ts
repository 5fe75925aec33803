// `npm install -g` from the checkout gives the four working commands the README promises.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { assertBuilt } from './pput-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

it('npm install -g . installs z3, pput, z3_get and z3_ssh_sync', () => {
  assertBuilt();
  const prefix = mkdtempSync(join(tmpdir(), 'z3-global-'));
  const install = spawnSync(
    'npm',
    ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', ROOT],
    {
      encoding: 'utf8',
    },
  );
  expect(install.status, install.stderr).toBe(0);
  for (const [bin, usage] of [
    ['z3', 'Usage: z3 '],
    ['pput', 'Usage: pput '],
    ['z3_get', 'Usage: z3_get '],
    ['z3_ssh_sync', 'Usage: z3_ssh_sync '],
  ] as const) {
    const r = spawnSync(join(prefix, 'bin', bin), ['--help'], { encoding: 'utf8' });
    expect(r.status, `${bin}: ${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(usage);
  }
}, 120_000);
