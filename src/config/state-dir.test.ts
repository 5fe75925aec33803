import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { defaultStateDir, parseStateDir } from './state-dir.js';

describe('STATE_DIR', () => {
  it('defaults to /var/lib/z3 for root, else the XDG state directory, else ~/.local/state', () => {
    const env = { XDG_STATE_HOME: '/home/u/.st', HOME: '/home/u' };
    expect(defaultStateDir({ env, uid: 0 })).toBe('/var/lib/z3');
    expect(defaultStateDir({ env, uid: 1000 })).toBe('/home/u/.st/z3');
    expect(defaultStateDir({ env: { XDG_STATE_HOME: 'rel', HOME: '/home/u' }, uid: 1000 })).toBe(
      '/home/u/.local/state/z3',
    );
    expect(defaultStateDir({ env: {}, uid: 1000 })).toBe('/tmp/z3-state-1000');
  });

  it('takes an absolute path as set; an empty value means the default; a relative one is refused', () => {
    expect(parseStateDir({ value: '/srv/z3', where: 'environment' }, {}, 1000)).toBe('/srv/z3');
    expect(parseStateDir({ value: ' ', where: 'environment' }, { HOME: '/h' }, 1000)).toBe(
      '/h/.local/state/z3',
    );
    expect(() => parseStateDir({ value: 'state', where: 'environment' }, {}, 1000)).toThrow(
      new ConfigError('environment STATE_DIR: expected an absolute directory path'),
    );
  });
});
