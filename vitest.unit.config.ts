import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// Unit tests only, with no controllers bootstrapped: `npx vitest run -c vitest.unit.config.ts [filter]`.
// The README's test command runs everything through vitest.config.ts.
export default defineConfig({
  test: {
    ...base.test,
    include: ['packages/*/src/**/*.test.ts', 'charms/*/src/**/*.test.ts', 'tests/charms/*/src/**/*.test.ts'],
    globalSetup: [],
  },
});
