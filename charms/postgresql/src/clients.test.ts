import { describe, expect, test } from 'vitest';
import { type Grant, connectionString, hba, published, requestOf, requestProblem, unitRanges, username } from './clients.ts';

describe('names and requests', () => {
  test('roles are named after the application, as the legacy charm does, within 63 characters', () => {
    expect(username('db', 'wordpress')).toBe('juju_wordpress');
    expect(username('db-admin', 'pgbouncer')).toBe('jujuadmin_pgbouncer');
    const long = username('db', 'a'.repeat(70));
    expect(long).toHaveLength(63);
    expect(long).not.toBe(username('db', 'a'.repeat(71)));
  });

  test('database comes from the application bag first, else the first unit naming one; roles and extensions from every bag', () => {
    const r = requestOf({ roles: 'a' }, { 'app/1': { database: 'two', roles: 'b,a', extensions: 'citext' }, 'app/0': { database: 'one', extensions: 'hstore:extras, citext' } });
    expect(r).toEqual({ database: 'one', roles: ['a', 'b'], extensions: [{ name: 'hstore', schema: 'extras' }, { name: 'citext', schema: 'public' }] });
    expect(requestOf({ database: 'app-wide' }, { 'app/0': { database: 'one' } }).database).toBe('app-wide');
    expect(requestOf({}, { 'app/0': { database: ' ' } })).toEqual({ database: undefined, roles: [], extensions: [] });
  });

  test.each([
    [{ database: 'postgres' }, /asked for database "postgres"/],
    [{ database: 'template1' }, /asked for database "template1"/],
    [{ database: 'x'.repeat(64) }, /at most 63 characters/],
    [{ roles: 'juju_other' }, /asked for role "juju_other"/],
    [{ roles: 'pg_write_server_files' }, /asked for role "pg_write_server_files"/],
  ])('refuses %o', (bag, message) => {
    expect(requestProblem('app', requestOf(bag, {}))).toMatch(message);
  });

  test('a unit connects from its egress subnets, else its address', () => {
    expect(unitRanges({ 'egress-subnets': '10.1.0.0/24, 10.2.0.1/32', 'private-address': '10.9.9.9' })).toEqual(['10.1.0.0/24', '10.2.0.1/32']);
    expect(unitRanges({ 'ingress-address': '10.0.0.4', 'private-address': '10.9.9.9' })).toEqual(['10.0.0.4/32']);
    expect(unitRanges({ 'private-address': 'fd00::4' })).toEqual(['fd00::4/128']);
    expect(unitRanges({})).toEqual([]);
  });
});

describe('what is published and admitted', () => {
  const grant: Grant = {
    relationId: 3,
    endpoint: 'db',
    app: 'web',
    user: 'juju_web',
    password: 'pw',
    database: 'my db',
    superuser: false,
    roles: ['reporting'],
    extensions: [{ name: 'citext', schema: 'public' }],
    units: { 'web/1': ['10.0.0.8/32'], 'web/0': ['10.0.0.7/32'], 'web/2': [] },
  };

  test('connection strings sort keys and quote values that need it', () => {
    expect(connectionString({ user: 'u', dbname: "it's db", host: 'h' })).toBe("dbname='it\\'s db' host=h user=u");
  });

  test('published keys follow the legacy charm', () => {
    expect(published(grant, { host: '10.0.0.2', port: 5432, version: '15' })).toEqual({
      host: '10.0.0.2',
      port: '5432',
      database: 'my db',
      user: 'juju_web',
      password: 'pw',
      schema_user: 'juju_web',
      schema_password: 'pw',
      'allowed-units': 'web/0 web/1',
      state: 'standalone',
      version: '15',
      master: "dbname='my db' host=10.0.0.2 password=pw port=5432 user=juju_web",
      roles: 'reporting',
      extensions: 'citext',
    });
  });

  test('pg_hba.conf admits each unit for its database and role, admins everywhere, and rejects the rest', () => {
    const admin: Grant = { ...grant, relationId: 4, endpoint: 'db-admin', user: 'jujuadmin_web', superuser: true, units: { 'web/0': ['10.0.0.7/32'] } };
    const rules = hba([admin, grant]).split('\n').filter((l) => l.startsWith('host'));
    expect(rules).toEqual([
      'host    "my db"  "juju_web"  10.0.0.7/32  scram-sha-256  # web/0 (db:3)',
      'host    "my db"  "juju_web"  10.0.0.8/32  scram-sha-256  # web/1 (db:3)',
      'host    all  all  10.0.0.7/32  scram-sha-256  # web/0 (db-admin:4)',
      'host    all       all   all         reject',
    ]);
  });
});
