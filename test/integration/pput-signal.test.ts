/**
 * Interrupting the built `pput` mid-upload: after the first part reached the server, SIGTERM
 * (or SIGINT, or SIGHUP) makes it abort the multipart upload and exit 130, leaving no object and no pending
 * upload. Needs `npm run build` and the test S3 server (test/s3-env.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ListPartsCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { injected } from '../../src/testing/faults.js';
import { useTestBucket } from '../s3-env.js';
import {
  MiB,
  assertBuilt,
  expectNothingLeft,
  finished,
  ourLines,
  spawnPput,
} from './pput-helpers.js';

describe('pput interrupted (built CLI, real S3)', () => {
  const { s3, prefix, client, backend } = useTestBucket('pput-signal');

  beforeAll(() => {
    assertBuilt();
  });

  /** Wait until the upload of `key` has at least one part on the server. */
  async function firstPartUploaded(key: string): Promise<void> {
    for (let i = 0; i < 300; i++) {
      const [upload] = await backend.listPending(key);
      if (upload !== undefined) {
        const parts = await client.send(
          new ListPartsCommand({ Bucket: s3.bucket, Key: key, UploadId: upload.id }),
        );
        if ((parts.Parts ?? []).length > 0) return;
      }
      await sleep(100);
    }
    throw new Error(`no part of ${key} reached the server in 30 s`);
  }

  it.each([
    ['SIGTERM', true],
    ['SIGINT', false],
    ['SIGHUP', true],
  ] as const)(
    '%s after the first part → exit 130, nothing left (input trickling: %s)',
    { tags: ['faults'] },
    async (signal, trickle) => {
      const key = `${prefix}/${signal}`;
      const child = spawnPput(s3, ['-s', '5M', '--concurrency', '2', key]);
      const done = finished(child);
      child.stdin.on('error', () => undefined); // EPIPE once pput is gone
      child.stdin.write(Buffer.alloc(5 * MiB + 1, 7));
      let writing = trickle;
      const writer = (async () => {
        while (writing) {
          child.stdin.write(Buffer.alloc(64 * 1024, 1));
          await sleep(100);
        }
      })();

      await firstPartUploaded(key);
      child.kill(signal);
      const result = await done;
      writing = false;
      await writer;

      expect(result.code, result.stderr).toBe(130);
      expect(result.stdout).toBe('');
      expect(ourLines(result.stderr)).toContain(`pput: interrupted by ${signal}`);
      await expectNothingLeft(backend, key);
      injected('signal');
    },
  );
});
