import { describe, expect, test } from 'vitest';
import { parseCharm } from './charm.ts';
import { SigilError } from '../errors.ts';
import { sigilError } from './test-util.ts';

const metadata = 'name: mysql\nsummary: Database\ndescription: MySQL server\nprovides:\n  db: mysql\n';

describe('parseCharm', () => {
  test('reads all files of a charm', () => {
    const charm = parseCharm({
      metadata,
      config: 'options:\n  port: {type: int, default: 3306}\n',
      actions: 'backup: {description: Back up}\n',
      version: 'a1b2c3d\n',
    });
    expect(charm.meta.name).toBe('mysql');
    expect(charm.meta.provides['db']?.interface).toBe('mysql');
    expect(charm.config).toEqual({ port: { type: 'int', default: 3306, description: '' } });
    expect(charm.actions['backup']?.description).toBe('Back up');
    expect(charm.version).toBe('a1b2c3d');
  });

  test('config.yaml, actions.yaml and version are optional', () => {
    const charm = parseCharm({ metadata, version: '  \n' });
    expect(charm).toEqual({ meta: expect.objectContaining({ name: 'mysql' }), config: {}, actions: {} });
    expect('version' in charm).toBe(false);
  });

  test('metadata.yaml is required', () => {
    const e = sigilError(() => parseCharm({ config: 'options: {}\n' }));
    expect(e).toBeInstanceOf(SigilError);
    expect(e.code).toBe('invalid-charm');
    expect(e.message).toBe('charm has no metadata.yaml');
    expect(e.hint).toMatch(/name, summary and description/);
  });

  test('errors name the file they come from', () => {
    expect(sigilError(() => parseCharm({ metadata, config: '' })).message).toBe('config.yaml: invalid config: empty configuration');
    expect(sigilError(() => parseCharm({ metadata, actions: 'a:\n  params: [x\n' })).message).toMatch(/^actions\.yaml:\d+: malformed YAML/);
  });

  test('action names are checked against the charm name', () => {
    expect(sigilError(() => parseCharm({ metadata, actions: 'juju-run: {}\n' })).code).toBe('invalid-charm');
    const tools = parseCharm({ metadata: 'name: juju-tools\nsummary: s\ndescription: d\n', actions: 'juju-run: {}\n' });
    expect(Object.keys(tools.actions)).toEqual(['juju-run']);
  });
});
