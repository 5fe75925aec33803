import { defineConfig } from 'vitest/config';

// Three tiers, run apart: unit (pure logic and real tiny child processes), integration (a real
// S3 server on 127.0.0.1, see test/s3-env.ts), e2e (the built CLI against real OpenZFS in the VM).
export default defineConfig({
  test: {
    // the reliability suite: tests that inject faults carry this tag and count what they injected
    // (src/testing/faults.ts); `npm run test:faults` runs only them, test-all.sh prints the ledger
    tags: [{ name: 'faults', description: 'injects a fault and asserts no data is lost' }],
    reporters: ['default', './test/faults/reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
