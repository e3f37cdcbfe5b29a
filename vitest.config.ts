import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code; cross-process tests live in e2e/ and share one
// controller per file. Both run in the README's single test command.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'e2e/**/*.test.ts', 'charms/*/src/**/*.test.ts', 'tests/charms/*/src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['e2e/global-setup.ts'],
  },
});
