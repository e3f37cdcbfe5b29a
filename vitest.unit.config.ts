import { defineConfig } from 'vitest/config';
import { POSTGRESQL_TESTS, SHARED, WITH_POSTGRESQL } from './vitest.config.ts';

// Unit tests only, with no controllers bootstrapped: `npx vitest run -c vitest.unit.config.ts [filter]`
// (`--project sqlite` skips the second run of the store tests on PostgreSQL).
// The README's test command runs everything through vitest.config.ts.
export default defineConfig({
  test: {
    ...SHARED,
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['packages/*/src/**/*.test.ts', 'charms/*/src/**/*.test.ts', 'tests/charms/*/src/**/*.test.ts'] } },
      ...(WITH_POSTGRESQL ? [{ extends: true, test: { name: 'postgresql', include: POSTGRESQL_TESTS, env: { SIGIL_TEST_STORE: 'postgresql' }, globalSetup: ['tests/pg-global-setup.ts'], setupFiles: ['tests/pg-test-db.ts'] } }] : []),
    ],
  },
});
