import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { quoteArg, quoteCommand, quotePipeline } from './shell-quote.js';

describe('quoteArg', () => {
  it.each([
    ['pool/fs@zfs-auto-snap:daily-2018', 'pool/fs@zfs-auto-snap:daily-2018'],
    ['', "''"],
    ['a b', "'a b'"],
    ["it's", "'it'\\''s'"],
    ['$HOME;rm -rf /', "'$HOME;rm -rf /'"],
  ])('%j → %s', (input, quoted) => {
    expect(quoteArg(input)).toBe(quoted);
  });

  it('round-trips hostile names through a real sh', () => {
    const names = ['tank/my data@snap 1', `q"uote's`, '$(touch /tmp/x);`id`', 'a\nb', '*', '~'];
    const out = execFileSync('sh', ['-c', `printf '%s\\0' ${names.map(quoteArg).join(' ')}`]);
    expect(out.toString().split('\0').slice(0, -1)).toEqual(names);
  });
});

describe('quoteCommand / quotePipeline', () => {
  it('joins words and stages', () => {
    expect(quoteCommand(['zfs', 'send', 'p/f@a b'])).toBe("zfs send 'p/f@a b'");
    expect(
      quotePipeline([
        ['zfs', 'send', 'p@s'],
        ['pigz', '-1'],
      ]),
    ).toBe('zfs send p@s | pigz -1');
  });
});
