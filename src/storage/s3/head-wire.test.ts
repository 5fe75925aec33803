import { describe, expect, it } from 'vitest';
import { encodeKeyPath, headErrorName, objectInfoFromHeaders } from './head-wire.js';
import { injected } from '../../testing/faults.js';

describe('encodeKeyPath', () => {
  it.each([
    ['tank/fs@snap', 'tank/fs%40snap'],
    ['pool/my data@snap:1', 'pool/my%20data%40snap%3A1'],
    ["a!b'c(d)e*f", 'a%21b%27c%28d%29e%2Af'],
    ['a+b=c&d?e#f%g', 'a%2Bb%3Dc%26d%3Fe%23f%25g'],
    ['-_.~', '-_.~'],
    ['ünï/çødé', '%C3%BCn%C3%AF/%C3%A7%C3%B8d%C3%A9'],
    ['a//b/', 'a//b/'],
    ['😀', '%F0%9F%98%80'],
  ])('%s → %s (as the SDK encodes {Key+})', (key, path) => {
    expect(encodeKeyPath(key)).toBe(path);
  });
});

describe('objectInfoFromHeaders', () => {
  it('reads size, ETag and x-amz-meta-* (prefix dropped, values as sent)', () => {
    expect(
      objectInfoFromHeaders('k', {
        'content-length': '1234',
        etag: '"abc-2"',
        'content-type': 'binary/octet-stream',
        'x-amz-meta-isfull': 'true',
        'x-amz-meta-parent': 'pool/my data@snap:1',
        'x-amz-meta-odd': 'a=b+c d',
        'x-amz-request-id': 'tx1',
      }),
    ).toEqual({
      key: 'k',
      size: 1234,
      etag: '"abc-2"',
      metadata: { isfull: 'true', parent: 'pool/my data@snap:1', odd: 'a=b+c d' },
    });
  });

  it(
    'defaults a missing or broken length to 0 and a missing ETag to empty',
    { tags: ['faults'] },
    () => {
      expect(objectInfoFromHeaders('k', {})).toEqual({ key: 'k', size: 0, etag: '', metadata: {} });
      expect(objectInfoFromHeaders('k', { 'content-length': 'x' }).size).toBe(0);
      injected('corrupt data', 2); // no headers, a non-numeric length
    },
  );
});

describe('headErrorName', () => {
  it.each([
    [403, 'Forbidden'],
    [400, 'BadRequest'],
    [503, 'ServiceUnavailable'],
    [599, 'HTTP599'],
  ])('%i → %s', (status, name) => {
    expect(headErrorName(status)).toBe(name);
  });
});
