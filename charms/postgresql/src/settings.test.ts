import { describe, expect, test } from 'vitest';
import { changedKeys, configProblem, parse, render, settingsFor } from './settings.ts';

const ok = { port: 5432, max_connections: 100, shared_buffers: '128MB', work_mem: '4MB', maintenance_work_mem: '64MB', effective_cache_size: '4GB' };

describe('configProblem', () => {
  test.each([
    [{}, undefined],
    [{ port: 1023 }, 'port=1023 is out of range: use 1024-65535 (PostgreSQL does not run as root)'],
    [{ port: 65536 }, 'port=65536 is out of range: use 1024-65535 (PostgreSQL does not run as root)'],
    [{ max_connections: 9 }, 'max_connections=9 is out of range: use 10-262143'],
    [{ shared_buffers: '1 GB' }, 'shared_buffers=1 GB is not a memory size: use a whole number with kB, MB, GB or TB (e.g. 64MB)'],
    [{ effective_cache_size: '4gb' }, 'effective_cache_size=4gb is not a memory size: use a whole number with kB, MB, GB or TB (e.g. 64MB)'],
    [{ maintenance_work_mem: '' }, 'maintenance_work_mem= is not a memory size: use a whole number with kB, MB, GB or TB (e.g. 64MB)'],
    [{ work_mem: '65536' }, undefined], // kB, PostgreSQL's unit for work_mem
  ])('%o → %s', (change, problem) => {
    expect(configProblem({ ...ok, ...change })).toBe(problem);
  });
});

describe('the settings file', () => {
  test('listens on localhost and the machine address, and reads back what it wrote', () => {
    const s = settingsFor({ ...ok, work_mem: ' 8MB ' }, '10.0.0.5');
    expect(s).toMatchObject({ listen_addresses: 'localhost,10.0.0.5', port: '5432', work_mem: '8MB' });
    expect(parse(render(s))).toEqual(s);
    expect(render(s)).toContain("work_mem = '8MB'\n");
  });

  test('parse tolerates comments, unquoted values and quotes inside values', () => {
    expect(parse("# c\nport = 6000\nwork_mem='4MB' # tuned\nx = 'it''s'\n")).toEqual({ port: '6000', work_mem: '4MB', x: "it's" });
    expect(parse(undefined)).toEqual({});
  });

  test('changedKeys lists keys added, removed or changed', () => {
    expect(changedKeys({ a: '1', b: '2', c: '3' }, { a: '1', b: '5', d: '4' })).toEqual(['b', 'c', 'd']);
  });
});
