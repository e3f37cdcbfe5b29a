import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The end-to-end files that take minutes (LXC stacks, enlisted hosts), longest first, as
 * measured in CI runs. A fresh checkout has no timings cached, and vitest then starts the
 * largest files first, which put a 12-minute file in the middle of the run; started first,
 * the long files overlap the many short ones and none is left running alone at the end.
 */
export const LONG_FILES = [
  'e2e/stack-conference.test.ts',
  'e2e/stack-wordpress.test.ts',
  'e2e/enlist.test.ts',
  'e2e/operations.test.ts',
  'e2e/charm-postgresql.test.ts',
  'e2e/users.test.ts',
  'e2e/containers.test.ts',
  'e2e/charm-mariadb.test.ts',
];

export default class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONG_FILES.findIndex((l) => f.moduleId.endsWith(`/${l}`));
      return i < 0 ? LONG_FILES.length : i;
    };
    // Array.prototype.sort is stable: the rest keep vitest's own order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
