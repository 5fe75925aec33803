// Proves the e2e harness: the zfs/zpool shims behave like local commands (argv, stdio, exit
// status), a send stream piped through the host arrives intact, and the guest helpers work.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checksumTree,
  createPool,
  destroyPool,
  hostEnv,
  listSnapshots,
  requireVm,
  snapshot,
  vm,
  writeRandomFiles,
  zfs,
  zpool,
} from './harness.js';

const POOL = 'z3smoke';

interface Exit {
  code: number | null;
  stderr: string;
}

function exitOf(child: ChildProcess): Promise<Exit> {
  const err: Buffer[] = [];
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr: Buffer.concat(err).toString('utf8') }));
  });
}

describe('ZFS VM harness', () => {
  let hasPool = false;
  beforeAll(async () => {
    await requireVm();
    await createPool(POOL, 256);
    hasPool = true;
  });
  afterAll(async () => {
    if (hasPool) await destroyPool(POOL);
  });

  it('runs zfs and zpool through the shims on PATH', async () => {
    const version = await zfs(['version']);
    expect(version.stderr).toBe('');
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^zfs-\d+\.\d+\.\d+/m);
    const pools = await zpool(['list', '-H', '-o', 'name,health', POOL]);
    expect(pools.stdout).toBe(`${POOL}\tONLINE\n`);
  });

  it("keeps zfs's exit status and stderr", async () => {
    const r = await zfs(['list', `${POOL}/absent`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/dataset does not exist/);
    expect(r.stdout).toBe('');
  });

  it('passes argv with spaces, quotes and shell syntax unchanged', async () => {
    const dataset = `${POOL}/my ds`;
    const note = `it's a "test" $HOME \`id\` ; | & \\ *`;
    const created = await zfs(['create', '-o', `org.z3:note=${note}`, dataset]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const got = await zfs(['get', '-H', '-o', 'name,value', 'org.z3:note', dataset]);
    expect(got.stdout).toBe(`${dataset}\t${note}\n`);
  });

  it('pipes zfs send into zfs receive through the host with the data intact', async () => {
    await vm().shOk(`zfs create ${POOL}/src`);
    const files = await writeRandomFiles(`${POOL}/src`, 6, 512, { dir: 'sub dir' });
    const odd = `we ird 'q" \nname.bin`;
    await vm().shOk(`printf 'odd' > "/${POOL}/src/$(printf '%b' ${JSON.stringify(odd)})"`);
    await snapshot(`${POOL}/src@s1`);
    expect(await listSnapshots(`${POOL}/src`)).toEqual([`${POOL}/src@s1`]);

    const env = hostEnv();
    const send = spawn('zfs', ['send', `${POOL}/src@s1`], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // the kernel pipe goes straight from one child to the other; the parent drops its end so
    // that a dying receiver gives the sender EPIPE instead of a stall
    const recv = spawn('zfs', ['receive', `${POOL}/dst`], {
      env,
      stdio: [send.stdout, 'pipe', 'pipe'],
    });
    send.stdout?.destroy();
    const [sent, received] = await Promise.all([exitOf(send), exitOf(recv)]);
    expect(sent).toEqual({ code: 0, stderr: '' });
    expect(received).toEqual({ code: 0, stderr: '' });

    const src = await checksumTree(`/${POOL}/src`);
    expect([...src.keys()]).toEqual([...files, odd].sort());
    expect(await checksumTree(`/${POOL}/dst`)).toEqual(src);
    expect(await listSnapshots(`${POOL}/dst`)).toEqual([`${POOL}/dst@s1`]);
  });
});
