import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { resolveLeanTarget } from './lean-request.js';

/** Only the SDK's endpoint rules run here: no request is sent. */
function client(config: ConstructorParameters<typeof S3Client>[0]): S3Client {
  return new S3Client({ credentials: { accessKeyId: 'k', secretAccessKey: 's' }, ...config });
}

describe('resolveLeanTarget (the SDK endpoint rules, resolved once)', () => {
  it('uses virtual-host style on AWS, with the region in host and signature', async () => {
    const t = await resolveLeanTarget(client({ region: 'eu-west-3' }), 'my-bucket');
    expect(t).toMatchObject({
      isHttps: true,
      hostname: 'my-bucket.s3.eu-west-3.amazonaws.com',
      host: 'my-bucket.s3.eu-west-3.amazonaws.com',
      port: undefined,
      basePath: '',
    });
  });

  it('uses path style when forced, or when the bucket name is no DNS label', async () => {
    const forced = await resolveLeanTarget(
      client({ region: 'us-east-1', forcePathStyle: true }),
      'my-bucket',
    );
    expect(forced).toMatchObject({
      hostname: 's3.us-east-1.amazonaws.com',
      basePath: '/my-bucket',
    });
    const dotted = await resolveLeanTarget(client({ region: 'us-east-1' }), 'my.bucket');
    expect(dotted).toMatchObject({
      hostname: 's3.us-east-1.amazonaws.com',
      basePath: '/my.bucket',
    });
  });

  it('keeps a custom endpoint with its port and path prefix', async () => {
    const t = await resolveLeanTarget(
      client({ region: 'r1', endpoint: 'http://127.0.0.1:7480/s3', forcePathStyle: true }),
      'b',
    );
    expect(t).toMatchObject({
      isHttps: false,
      hostname: '127.0.0.1',
      port: 7480,
      host: '127.0.0.1:7480',
      basePath: '/s3/b',
    });
  });

  it('strips the brackets of an IPv6 endpoint for the socket, not for Host', async () => {
    const t = await resolveLeanTarget(
      client({ region: 'r1', endpoint: 'http://[::1]:9000', forcePathStyle: true }),
      'b',
    );
    expect(t).toMatchObject({ hostname: '::1', host: '[::1]:9000', basePath: '/b' });
  });

  it('leaves buckets of another auth scheme to the SDK (S3 Express: sigv4-s3express)', async () => {
    const t = await resolveLeanTarget(client({ region: 'us-east-1' }), 'bucket--use1-az4--x-s3');
    expect(t).toBeUndefined();
  });
});
