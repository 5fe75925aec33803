import { describe, expect, it } from 'vitest';
import { parseBandwidth } from './bandwidth.js';

const MIB = 1024 * 1024;

function parse(values: Record<string, string>) {
  return parseBandwidth((key) =>
    values[key] === undefined ? undefined : { value: values[key], where: '--limit' },
  );
}

describe('parseBandwidth', () => {
  it.each<[Record<string, string>, number | undefined, number | undefined]>([
    [{}, undefined, undefined],
    [{ LIMIT_UPLOAD: '20M' }, 20 * MIB, undefined],
    [{ LIMIT_DOWNLOAD: '1.5G' }, undefined, 1.5 * 1024 * MIB],
    [{ LIMIT_UPLOAD: ' 512k ', LIMIT_DOWNLOAD: '2MiB' }, 512 * 1024, 2 * MIB],
    [{ LIMIT_UPLOAD: '0', LIMIT_DOWNLOAD: '' }, undefined, undefined],
    [{ LIMIT_UPLOAD: '1048576' }, MIB, undefined],
  ])('%j', (values, upload, download) => {
    expect(parse(values)).toEqual({ upload, download });
  });

  it.each([['20'], ['fast'], ['-1M'], ['20M/s']])('refuses %j, naming the key', (text) => {
    expect(() => parse({ LIMIT_UPLOAD: text })).toThrow(
      '--limit LIMIT_UPLOAD: expected a rate like 20M (bytes per second: K, M, G are KiB, MiB, GiB), at least 1K; 0 for no limit',
    );
  });
});
