import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  currentVerification,
  readVerifications,
  recordVerifications,
  verificationPath,
  type Verification,
} from './verify-record.js';

const at = '2026-11-26T00:00:00.000Z';
const entry = (etag: string, level: Verification['level'] = 'data'): Verification => ({
  etag,
  at,
  level,
});

describe('verification record', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'z3-verify-record-'));
    path = verificationPath(join(dir, 'cache'), 's3 http://127.0.0.1:7480/ bucket');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps other datasets, drops deleted objects of the listed one', async () => {
    await recordVerifications(
      path,
      new Map([
        ['p/a@1', entry('"1"')],
        ['p/b@1', entry('"2"')],
      ]),
      { prefix: 'p/', keys: new Set(['p/a@1', 'p/b@1']) },
    );
    await recordVerifications(path, new Map([['p/a@2', entry('"3"')]]), {
      prefix: 'p/a@',
      keys: new Set(['p/a@2']),
    });
    const read = await readVerifications(path);
    expect([...read.keys()].sort()).toEqual(['p/a@2', 'p/b@1']);
    expect(currentVerification(read, 'p/b@1', '"2"')).toEqual(entry('"2"'));
    expect(currentVerification(read, 'p/b@1', '"other"')).toBeUndefined();
  });

  it('reads as empty when someone else could have written it', async () => {
    await recordVerifications(path, new Map([['p/a@1', entry('"1"')]]), {
      prefix: 'p/',
      keys: new Set(['p/a@1']),
    });
    expect((await readVerifications(path)).size).toBe(1);
    chmodSync(path, 0o666);
    expect((await readVerifications(path)).size).toBe(0);
  });
});
