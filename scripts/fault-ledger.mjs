#!/usr/bin/env node
// fault-ledger.mjs FILE — print the reliability suite's table from the ledger that
// test/faults/reporter.ts appended to FILE: per fault kind, how many faults were injected, by how
// many tests, and how many of those tests failed. Every fault test asserts that no data was lost
// and no wrong object was committed, so "held" means exactly that. Exit 1 when a fault test failed.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
let text = '';
try {
  text = readFileSync(file, 'utf8');
} catch {
  // no fault test ran
}
const records = text
  .split('\n')
  .filter((l) => l !== '')
  .map((l) => JSON.parse(l));
// the reporter's header lines carry the kinds in the order src/testing/faults.ts lists them
const kinds = records.find((r) => Array.isArray(r.kinds))?.kinds ?? [];
const lines = records.filter((r) => r.faults !== undefined);
const rows = new Map(kinds.map((k) => [k, { faults: 0, tests: 0, failed: 0 }]));
const projects = new Set();
for (const line of lines) {
  projects.add(line.project);
  for (const [kind, count] of Object.entries(line.faults)) {
    if (!rows.has(kind)) rows.set(kind, { faults: 0, tests: 0, failed: 0 });
    const row = rows.get(kind);
    row.faults += count;
    row.tests += 1;
    if (line.state !== 'passed') row.failed += 1;
  }
}
const failedTests = lines.filter((l) => l.state !== 'passed');
const pad = (s, n) => String(s).padStart(n);
console.log(
  `== reliability suite (tests tagged "faults"; tiers: ${[...projects].join(', ') || 'none'})`,
);
console.log(`  ${'fault'.padEnd(18)} ${pad('injected', 9)} ${pad('tests', 6)} ${pad('failed', 7)}`);
let total = 0;
for (const [kind, row] of rows) {
  total += row.faults;
  console.log(
    `  ${kind.padEnd(18)} ${pad(row.faults, 9)} ${pad(row.tests, 6)} ${pad(row.failed, 7)}`,
  );
}
console.log(
  `  ${'total'.padEnd(18)} ${pad(total, 9)} ${pad(lines.length, 6)} ${pad(failedTests.length, 7)}`,
);
if (lines.length === 0) {
  console.log('  no fault test ran');
  process.exitCode = 1;
} else if (failedTests.length === 0) {
  console.log(`  every fault test passed: none lost data or committed a wrong object`);
} else {
  for (const t of failedTests) console.log(`  FAILED: [${t.project}] ${t.test} (${t.state})`);
  process.exitCode = 1;
}
