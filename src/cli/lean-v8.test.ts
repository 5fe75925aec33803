import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LEAN_V8_FLAGS } from './lean-v8.js';

const MiB = 1024 * 1024;
/** V8's optimization status bit for a function compiled by the optimizing compiler. */
const OPTIMIZED = 16;

/**
 * A fresh Node that sets `flags` as its first statements (as the module does), then allocates
 * the way module loading does (many objects that survive scavenges) and runs one function hot.
 * Reports its new space size in bytes and that function's V8 optimization status.
 */
function runAfter(flags: readonly string[]): { newSpace: number; status: number } {
  const script = `
    const v8 = require('node:v8');
    for (const flag of JSON.parse(process.env.FLAGS)) v8.setFlagsFromString(flag);
    const kept = [];
    for (let i = 0; i < 400000; i++) {
      kept.push({ i, s: 'x' + i });
      if (kept.length > 60000) kept.splice(0, 20000);
    }
    function hot(x) { let s = 0; for (let i = 0; i < 100; i++) s += (x * i) % 7; return s; }
    for (let i = 0; i < 200000; i++) hot(i);
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    process.stdout.write(JSON.stringify({ newSpace: space.space_size, status: %GetOptimizationStatus(hot) }));
  `;
  const env = { ...process.env, FLAGS: JSON.stringify(flags) };
  const args = ['--allow-natives-syntax', '-e', script];
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', env })) as {
    newSpace: number;
    status: number;
  };
}

describe('LEAN_V8_FLAGS', () => {
  it('keep the new space at its starting size and hot code unoptimized on this Node', () => {
    const plain = runAfter([]);
    const lean = runAfter(LEAN_V8_FLAGS);
    // without them (so this test can fail): the new space grows, the hot function is optimized
    expect(plain.newSpace).toBeGreaterThanOrEqual(8 * MiB);
    expect(plain.status & OPTIMIZED).toBe(OPTIMIZED);
    expect(lean.newSpace).toBeLessThanOrEqual(2 * MiB);
    expect(lean.status & OPTIMIZED).toBe(0);
  });
});
