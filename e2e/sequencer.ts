import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The files that take longest on a 2-core runner (measured in CI: the WordPress stack alone
// runs 10-17 minutes), in that order. Vitest's own order on a fresh clone, with no results
// cached, is by file size, which can start the longest file last and make it the critical
// path of the whole run; starting these first lets the short files fill in beside them.
const SLOWEST = [
  'e2e/stack-wordpress.test.ts',
  'e2e/charm-postgresql.test.ts',
  'e2e/stack-conference.test.ts',
  'e2e/charm-mariadb.test.ts',
  'e2e/gui.test.ts',
  'e2e/tools.test.ts',
  'e2e/bundle.test.ts',
  'e2e/lifecycle.test.ts',
  'e2e/charm-memcached.test.ts',
  'e2e/cli-resilience.test.ts',
  'e2e/charm-haproxy.test.ts',
  'e2e/charm-redis.test.ts',
];

export class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOWEST.findIndex((s) => f.moduleId.endsWith(s));
      return i === -1 ? SLOWEST.length : i;
    };
    // Array.prototype.sort is stable: files not listed keep vitest's order after the listed ones.
    return base.sort((a, b) => rank(a) - rank(b));
  }
}
