// The postgresql project's setup file: each test's database is created before the test and
// before the file's own hooks, asynchronously (packages/controller/src/store/test-store.ts).
import { beforeAll, beforeEach } from 'vitest';
import { prepareTestDb } from '../packages/controller/src/store/test-store.ts';

beforeAll(prepareTestDb);
beforeEach(prepareTestDb);
