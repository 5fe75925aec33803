/**
 * A Vitest reporter that collects the fault ledger (src/testing/faults.ts): for every test that
 * injected faults, the counts by kind and whether the test passed. When Z3_FAULT_LEDGER names a
 * file, one JSON line per such test is appended to it at the end of the run (test-all.sh runs
 * the tiers one by one and prints the table of all of them, scripts/fault-ledger.mjs), after a
 * line `{"kinds": [...]}` that gives the printer FAULT_KINDS, so the list lives in one place.
 */
import { appendFileSync } from 'node:fs';
import type { Reporter, TestCase } from 'vitest/node';
import { FAULT_KINDS } from '../../src/testing/faults.js';

interface LedgerLine {
  project: string;
  test: string;
  state: string;
  faults: Record<string, number>;
}

export default class FaultLedgerReporter implements Reporter {
  private readonly lines: LedgerLine[] = [];

  onTestCaseResult(testCase: TestCase): void {
    const faults = testCase.meta().faults;
    if (faults === undefined) return;
    this.lines.push({
      project: testCase.project.name,
      test: testCase.fullName,
      state: testCase.result().state,
      faults,
    });
  }

  onTestRunEnd(): void {
    const file = process.env['Z3_FAULT_LEDGER'];
    if (file === undefined || file === '' || this.lines.length === 0) return;
    const header = JSON.stringify({ kinds: FAULT_KINDS }) + '\n';
    appendFileSync(file, header + this.lines.map((l) => JSON.stringify(l) + '\n').join(''));
  }
}
