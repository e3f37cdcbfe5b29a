import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code; cross-process tests live in e2e/ and share one
// controller per file. Both run in the README's single test command.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'e2e/**/*.test.ts', 'charms/*/src/**/*.test.ts', 'tests/charms/*/src/**/*.test.ts'],
    // End-to-end tests wait on conditions with their own deadlines, which say what was still
    // missing; vitest's own timeout is only the backstop for a test that hangs, sized for four
    // suites sharing a 2-core runner.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // End-to-end files spend most of their time waiting on containers, apt and hooks, so
    // run more files at once than there are cores (CI machines have 2).
    maxWorkers: 4,
    minWorkers: 1,
    globalSetup: ['e2e/global-setup.ts'],
  },
});
