import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import LongFilesFirst from './tests/sequencer.ts';

/**
 * The repository and domain tests of the controller, which run a second time on the
 * PostgreSQL store (a throwaway cluster started by tests/pg-global-setup.ts).
 */
export const POSTGRESQL_TESTS = ['packages/controller/src/{store,state,domain,workers}/**/*.test.ts'];

/**
 * Whether that second run happens: wherever Debian's postgresql is installed, and always under
 * CI=true (where its global setup fails the run if it is missing: scripts/setup.sh installs it).
 */
export const WITH_POSTGRESQL = existsSync('/usr/lib/postgresql') || process.env.CI === 'true';

// Unit tests sit beside the code; cross-process tests live in e2e/ and share one
// controller per file. Both run in the README's single test command.
/** Pool and timeouts, shared with vitest.unit.config.ts. */
export const SHARED = {
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
    // Names the test that holds a worker's event loop for long (tests/loop-watch.ts).
    setupFiles: ['tests/loop-watch.ts'],
    // Every controller a test starts (in process or bootstrapped) checks each JSON answer
    // against the API contract's response schema, and fails the call when it does not match.
    env: { SIGIL_CHECK_RESPONSES: '1' },
} as const;

export default defineConfig({
  test: {
    ...SHARED,
    sequence: { sequencer: LongFilesFirst },
    projects: [
      {
        extends: true,
        test: {
          name: 'sigil',
          include: ['packages/*/src/**/*.test.ts', 'e2e/**/*.test.ts', 'charms/*/src/**/*.test.ts', 'tests/charms/*/src/**/*.test.ts'],
          globalSetup: ['e2e/global-setup.ts'],
        },
      },
      ...(WITH_POSTGRESQL ? [{
        extends: true,
        test: {
          name: 'postgresql',
          include: POSTGRESQL_TESTS,
          env: { SIGIL_TEST_STORE: 'postgresql' },
          globalSetup: ['tests/pg-global-setup.ts'],
          // Each test's database made ahead of it, asynchronously.
          setupFiles: ['tests/pg-test-db.ts'],
        },
      }] : []),
    ],
  },
});
