/**
 * The choice of a part's digest, through the real SDK and signer against a scripted S3 server
 * that behaves as a server that verifies the signed SHA-256 (AWS, Ceph RGW), as one that
 * trusts it unchecked, as one under SSE-KMS (opaque part ETags), or as one that fails. What the
 * server receives is asserted: the payload hash each request was signed with, and Content-MD5.
 * test/integration/s3-backend.test.ts covers Ceph RGW for real.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { md5 } from '../etag.js';
import { hasFastSha256 } from './part-digest.js';
import { useScriptedS3 } from './testing.js';

type Behaviour = 'verifies' | 'trusts' | 'kms' | 'fails';

const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('hasFastSha256', () => {
  it('reads the SHA instructions from cpuinfo: sha_ni on x86, sha2 on 64-bit Arm', () => {
    expect(hasFastSha256('processor\t: 0\nflags\t\t: fpu sse2 avx2 sha_ni rdpid\n')).toBe(true);
    expect(hasFastSha256('processor\t: 0\nflags\t\t: fpu sse2 avx2 rdpid\n')).toBe(false);
    expect(hasFastSha256('processor\t: 0\nFeatures\t: fp asimd aes pmull sha1 sha2 crc32\n')).toBe(
      true,
    );
    expect(hasFastSha256('processor\t: 0\nFeatures\t: fp asimd crc32\n')).toBe(false);
    expect(hasFastSha256('')).toBe(false);
  });
});

describe('the digest of parts, chosen by the first upload of a run', () => {
  let behaviour: Behaviour = 'verifies';
  /** What each part upload carried: its size, signed payload hash and Content-MD5. */
  const parts: { size: number; payload: string; md5?: string | undefined; status: number }[] = [];
  const { backend: scripted } = useScriptedS3((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST') {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult>' +
            '<Bucket>b</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>',
        );
        return;
      }
      const body = Buffer.concat(chunks);
      const payload = String(req.headers['x-amz-content-sha256']);
      const isWrong = payload !== 'UNSIGNED-PAYLOAD' && payload !== sha256Hex(body);
      const status = behaviour === 'fails' ? 500 : isWrong && behaviour !== 'trusts' ? 400 : 200;
      const md5Header = req.headers['content-md5'] as string | undefined;
      parts.push({ size: body.length, payload, md5: md5Header, status });
      if (status !== 200) {
        res.writeHead(status, { 'content-type': 'application/xml' });
        const code = status === 400 ? 'XAmzContentSHA256Mismatch' : 'InternalError';
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code></Error>`);
        return;
      }
      const etag = behaviour === 'kms' ? sha256Hex(body).slice(0, 32) : md5(body).toString('hex');
      res.writeHead(200, { etag: `"${etag}"` });
      res.end();
    });
  });

  /** A backend in `mode` on the scripted server, which behaves as `as`. */
  function backendOf(as: Behaviour, mode: 'sha256' | 'md5' = 'sha256') {
    behaviour = as;
    parts.length = 0;
    return scripted({ partDigest: mode });
  }

  const body = Buffer.alloc(5 * 1024 * 1024, 9);
  const probeWrong = { size: 1, md5: undefined, status: 400 };

  it('uses the signed SHA-256 where a wrong one is refused and the right one taken', async () => {
    const backend = backendOf('verifies');
    const writer = await backend.openWriter({ key: 'k', metadata: {}, chunkSize: body.length });
    expect(writer.digest).toBe('sha256');
    const sha = createHash('sha256').update(body).digest();
    const written = await writer.writeChunk({ number: 1, body, sha256: sha });
    expect(parts).toMatchObject([
      probeWrong,
      { size: 1, payload: sha256Hex(Uint8Array.of(0x7a)), md5: undefined, status: 200 },
      { size: body.length, payload: sha.toString('hex'), md5: undefined, status: 200 },
    ]);
    expect(parts[0]?.payload).not.toBe(sha256Hex(Uint8Array.of(0x7a)));
    // the part's ETag is its MD5 here, so the commit can predict the object's ETag
    expect(Buffer.from(written.md5 ?? []).toString('hex')).toBe(md5(body).toString('hex'));
    // the next upload of the run goes by the same answer, without asking again
    parts.length = 0;
    const next = await backend.openWriter({ key: 'k', metadata: {}, chunkSize: body.length });
    expect(next.digest).toBe('sha256');
    expect(parts).toEqual([]);
    backend.client.destroy();
  });

  it('keeps Content-MD5 where the server takes a wrong SHA-256', async () => {
    const backend = backendOf('trusts');
    const writer = await backend.openWriter({ key: 'k', metadata: {}, chunkSize: body.length });
    expect(writer.digest).toBe('md5');
    await writer.writeChunk({ number: 1, body, md5: md5(body) });
    expect(parts).toMatchObject([
      { size: 1, status: 200 },
      { size: body.length, payload: 'UNSIGNED-PAYLOAD', md5: md5(body).toString('base64') },
    ]);
    backend.client.destroy();
  });

  it('keeps Content-MD5 where the probe gets no answer it can read (500)', async () => {
    const backend = backendOf('fails');
    const writer = await backend.openWriter({ key: 'k', metadata: {}, chunkSize: body.length });
    expect(writer.digest).toBe('md5');
    expect(parts).toHaveLength(1);
    backend.client.destroy();
  });

  it('under opaque part ETags (SSE-KMS) gives a SHA-256 part no MD5', async () => {
    const backend = backendOf('kms');
    const writer = await backend.openWriter({ key: 'k', metadata: {}, chunkSize: body.length });
    expect(writer.digest).toBe('sha256');
    const sha256 = createHash('sha256').update(body).digest();
    const written = await writer.writeChunk({ number: 1, body, sha256 });
    expect(written.md5).toBeUndefined();
    // an MD5 given by the caller is kept whatever the ETag
    const withMd5 = await writer.writeChunk({ number: 2, body, md5: md5(body) });
    expect(withMd5.md5).toEqual(md5(body));
    expect(parts.at(-1)).toMatchObject({ payload: 'UNSIGNED-PAYLOAD' });
    backend.client.destroy();
  });

  it('asks nothing when configured for MD5', async () => {
    const backend = backendOf('verifies', 'md5');
    const writer = await backend.openWriter({ key: 'k', metadata: {}, chunkSize: body.length });
    expect(writer.digest).toBe('md5');
    expect(parts).toEqual([]);
    backend.client.destroy();
  });
});
