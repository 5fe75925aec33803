import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findProgram, installHint } from './which.js';

describe('findProgram', () => {
  const dir = mkdtempSync(join(tmpdir(), 'z3-which-'));
  const tool = join(dir, 'tool');
  writeFileSync(tool, '#!/bin/sh\n');
  chmodSync(tool, 0o755);
  const plain = join(dir, 'plain');
  writeFileSync(plain, 'not executable');

  it('finds a program on PATH, in PATH order', () => {
    expect(findProgram('tool', { path: `/nonexistent:${dir}` })).toBe(tool);
    expect(findProgram('sh')).toMatch(/\/sh$/);
  });

  it('skips non-executable files and directories', () => {
    expect(findProgram('plain', { path: dir })).toBeUndefined();
    expect(findProgram('tmp', { path: '/' })).toBeUndefined();
  });

  it('takes a name with a slash as a path', () => {
    expect(findProgram(tool, { path: '' })).toBe(tool);
    expect(findProgram(plain)).toBeUndefined();
    expect(findProgram(join(dir, 'missing'))).toBeUndefined();
  });

  it('reports a missing program as undefined', () => {
    expect(findProgram('z3-no-such-program')).toBeUndefined();
    expect(findProgram('')).toBeUndefined();
  });
});

describe('installHint', () => {
  it('names the package when known', () => {
    expect(installHint('xz')).toBe('install it, e.g. apt-get install xz-utils');
    expect(installHint('frob')).toBe("install 'frob' or put it on PATH");
  });
});
