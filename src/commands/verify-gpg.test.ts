/**
 * `z3 verify --read-data` of gpg objects with the real `gpg`: with the secret key the stream is
 * parsed; without it the bytes are checked against the ETag only, and the row says so.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../errors.js';
import { buildBackupMetadata } from '../plan/remote.js';
import { md5, multipartEtag } from '../storage/etag.js';
import { MemBackend } from '../storage/mem/backend.js';
import { injected } from '../testing/faults.js';
import { eventsNamed, jsonLines } from './testing/json-lines.js';
import { testPorts } from './testing/ports.js';
import { fixtureStream } from './testing/verify-objects.js';
import { runVerify } from './verify.js';

const KEY = 'z3-backup/tank/data@snap1';

describe('z3 verify of gpg objects', () => {
  const homes: string[] = [];
  let withKey = '';
  let withoutKey = '';
  let encrypted: Buffer;

  beforeAll(() => {
    withKey = mkdtempSync(join(tmpdir(), 'z3-verify-gpg-'));
    withoutKey = mkdtempSync(join(tmpdir(), 'z3-verify-gpg-'));
    homes.push(withKey, withoutKey);
    const gpg = (home: string, args: string[], input?: Buffer): Buffer =>
      execFileSync('gpg', ['--homedir', home, '--batch', ...args], { input, stdio: 'pipe' });
    gpg(withKey, ['--passphrase', '', '--quick-gen-key', 'z3 <z3@test>', 'future-default']);
    encrypted = gpg(
      withKey,
      ['--trust-model', 'always', '-e', '-r', 'z3@test'],
      fixtureStream('full'),
    );
  });
  afterAll(() => {
    delete process.env['GNUPGHOME'];
    for (const home of homes) {
      execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore' });
      rmSync(home, { recursive: true, force: true });
    }
  });

  function bucket(data: Buffer): MemBackend {
    const mem = new MemBackend();
    const stream = fixtureStream('full');
    mem.seed(KEY, data, buildBackupMetadata({ size: stream.length, compressor: 'gpg' }));
    return mem;
  }

  async function verify(mem: MemBackend, home: string) {
    process.env['GNUPGHOME'] = home; // the decompressor stage inherits the environment
    const ports = testPorts({ backend: mem, zfs: '/bin/false' });
    const code = await runVerify(
      {
        config: undefined,
        s3Prefix: undefined,
        filesystem: undefined,
        snapshotPrefix: undefined,
        readData: true,
        readDataSubset: undefined,
        json: true,
        concurrency: undefined,
        chunkSize: undefined,
      },
      ports,
    );
    return { code, row: eventsNamed(jsonLines(ports.out()), 'verified')[0] };
  }

  it('parses the stream when the secret key is here', async () => {
    const { code, row } = await verify(bucket(encrypted), withKey);
    expect(row).toMatchObject({ checked: 'data', ok: true, note: null });
    expect(code).toBe(EXIT.OK);
  });

  it('checks the bytes against the ETag (plain or multipart) when the key is not here', async () => {
    const mem = bucket(encrypted);
    const plain = await verify(mem, withoutKey);
    const note = 'gpg key not available: bytes checked against the ETag only';
    expect(plain.row).toMatchObject({ checked: 'object', ok: true, note });
    expect(plain.code).toBe(EXIT.OK);
    mem.objects.get(KEY)!.etag = multipartEtag([md5(encrypted)]);
    expect((await verify(mem, withoutKey)).row).toMatchObject({ checked: 'object', ok: true });
  });

  it(
    'reports bytes that do not match the ETag when the key is not here, exit 3',
    { tags: ['faults'] },
    async () => {
      const mem = bucket(encrypted);
      const stored = mem.objects.get(KEY)!;
      stored.data[stored.data.length >> 1] = stored.data[stored.data.length >> 1]! ^ 0x04;
      injected('corrupt data');
      const { code, row } = await verify(mem, withoutKey);
      expect(row).toMatchObject({ checked: 'object', reason: 'bytes do not match the ETag' });
      expect(code).toBe(EXIT.INTEGRITY);
    },
  );
});
