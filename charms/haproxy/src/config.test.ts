import { describe, expect, test } from 'vitest';
import { portsOf, render, serverStates } from './render.ts';
import { DEFAULT_SERVICE, plan, type UnitBag } from './services.ts';
import { SettingsError, parseSettings, timeMs, type RawConfig } from './settings.ts';

const raw: RawConfig = {
  'listen-port': 80,
  'stats-port': 8404,
  'stats-user': 'admin',
  'stats-password': '',
  'check-path': '/',
  'check-inter': '2s',
  'check-timeout': '',
  'check-rise': 2,
  'check-fall': 3,
  balance: 'roundrobin',
};
const settings = parseSettings(raw, 'generated-pw');
const web = (n: number, extra: Record<string, string> = {}): UnitBag => ({ unit: `web/${n}`, data: { 'private-address': `10.0.0.${n + 1}`, port: '8080', ...extra } });

describe('settings', () => {
  test('defaults pass, and an empty stats-password takes the generated one', () => {
    expect(settings).toEqual({ listenPort: 80, statsPort: 8404, statsUser: 'admin', statsPassword: 'generated-pw', checkPath: '/', checkInter: '2s', checkTimeout: '', checkRise: 2, checkFall: 3, balance: 'roundrobin' });
    expect(parseSettings({ ...raw, 'stats-password': 's3cret' }, 'x').statsPassword).toBe('s3cret');
  });

  const bad: [Partial<RawConfig>, RegExp][] = [
    [{ 'listen-port': 0 }, /^listen-port=0 is not a TCP port: use 1-65535$/],
    [{ 'listen-port': 70000 }, /^listen-port=70000 is not a TCP port/],
    [{ 'stats-port': -1 }, /^stats-port=-1 is not a TCP port: use 1-65535 \(0 turns it off\)$/],
    [{ 'stats-port': 80 }, /^stats-port=80 is also listen-port/],
    [{ 'stats-user': 'a:b' }, /^stats-user=a:b is not a plain word/],
    [{ 'stats-password': 'has space' }, /^stats-password=\(hidden\) contains characters/],
    [{ 'check-path': 'health' }, /^check-path=health is not an absolute URL path/],
    [{ 'check-path': '/a b' }, /^check-path=\/a b is not/],
    [{ 'check-inter': 'soon' }, /^check-inter=soon is not a positive HAProxy time/],
    [{ 'check-inter': '0s' }, /^check-inter=0s/],
    [{ 'check-timeout': 'long' }, /^check-timeout=long is not a positive HAProxy time/],
    [{ 'check-timeout': '0' }, /^check-timeout=0 is not/],
    [{ 'check-rise': 0 }, /^check-rise=0 is out of range: use 1-100 checks$/],
    [{ 'check-fall': 101 }, /^check-fall=101 is out of range/],
    [{ balance: 'random-ish' }, /^balance=random-ish is not supported: use one of roundrobin, static-rr, leastconn, first, source$/],
  ];
  test.each(bad)('refuses %o', (change, message) => {
    const err = (() => {
      try {
        parseSettings({ ...raw, ...change }, 'pw');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SettingsError);
    expect((err as Error).message).toMatch(message);
  });

  test('timeMs reads HAProxy times', () => {
    expect([timeMs('2s'), timeMs('500ms'), timeMs('1500'), timeMs('1m')]).toEqual([2000, 500, 1500, 60_000]);
  });
});

describe('plan: servers from plain units (hostname/port)', () => {
  test('every unit is a server of the default service, ordered numerically, hostname before private-address', () => {
    const p = plan(settings, [web(10), web(2), { unit: 'web/3', data: { hostname: 'web-3.lan', 'private-address': '10.0.0.4', port: '8080' } }]);
    expect(p.warnings).toEqual([]);
    expect(p.services).toHaveLength(1);
    const svc = p.services[0]!;
    expect(svc).toMatchObject({ name: DEFAULT_SERVICE, host: '0.0.0.0', port: 80, isDefault: true });
    expect(svc.servers.map((s) => [s.name, s.address, s.port])).toEqual([
      ['web-2-8080', '10.0.0.3', 8080],
      ['web-3-8080', 'web-3.lan', 8080],
      ['web-10-8080', '10.0.0.11', 8080],
    ]);
  });

  test('a unit that has not published its port yet is left out silently; bad values are reported', () => {
    const p = plan(settings, [{ unit: 'web/0', data: { 'private-address': '10.0.0.1' } }, web(1, { port: 'http' }), web(2, { hostname: 'a b' }), web(3, { 'check-port': '99999' })]);
    expect(p.services[0]!.servers).toEqual([]);
    expect(p.warnings).toEqual([
      'web/1: ignored: port "http" is not a TCP port',
      'web/2: ignored: hostname "a b" is not a host name or address',
      'web/3: ignored: check-port "99999" is not a TCP port',
    ]);
  });

  test('check-port moves the health check; busy marks the server for draining', () => {
    const p = plan(settings, [web(0, { 'check-port': '8081' }), web(1, { busy: 'true' }), web(2, { busy: 'false' })]);
    expect(p.services[0]!.servers.map((s) => [s.name, s.options.join(' '), s.busy])).toEqual([
      ['web-0-8080', 'check port 8081', false],
      ['web-1-8080', 'check', true],
      ['web-2-8080', 'check', false],
    ]);
    expect(serverStates(p)).toEqual([
      { backend: DEFAULT_SERVICE, server: 'web-0-8080', state: 'ready' },
      { backend: DEFAULT_SERVICE, server: 'web-1-8080', state: 'drain' },
      { backend: DEFAULT_SERVICE, server: 'web-2-8080', state: 'ready' },
    ]);
  });
});

describe('plan: services YAML (Juju haproxy format)', () => {
  const services = (n: number, body: string) => ({ unit: `api/${n}`, data: { 'private-address': `10.0.1.${n}`, port: '9000', services: body } });
  const apiService = (n: number) => `- service_name: api
  service_host: 0.0.0.0
  service_port: 9000
  service_options: [balance leastconn, mode tcp, timeout client 30s]
  servers: [[api-${n}, 10.0.1.${n}, 9001, check inter 5s]]
`;

  test('units of one service are merged into one backend; their own hostname/port are not used', () => {
    const p = plan(settings, [services(1, apiService(1)), services(0, apiService(0))]);
    expect(p.warnings).toEqual([]);
    expect(p.services.map((s) => s.name)).toEqual([DEFAULT_SERVICE, 'api']);
    const api = p.services[1]!;
    expect(api).toMatchObject({ port: 9000, options: ['balance leastconn', 'mode tcp', 'timeout client 30s'], isDefault: false });
    expect(api.servers.map((s) => [s.name, s.address, s.port, s.options.join(' '), s.unit])).toEqual([
      ['api-0', '10.0.1.0', 9001, 'check inter 5s', 'api/0'],
      ['api-1', '10.0.1.1', 9001, 'check inter 5s', 'api/1'],
    ]);
    expect(p.services[0]!.servers).toEqual([]);
  });

  test('comma-separated options, server_options for units that join by service_name, {i}', () => {
    const def = { unit: 'lb-config/0', data: { services: '- {service_name: app, service_port: 8000, service_options: "balance leastconn, cookie SRVNAME insert", server_options: "maxconn 100 cookie S{i} check"}' } };
    const p = plan(settings, [def, web(0, { service_name: 'app' }), web(1, { service_name: 'app' }), web(2, { service_name: 'nope' })]);
    expect(p.warnings).toEqual([`web/2: service_name nope is not a known service; using ${DEFAULT_SERVICE}`]);
    const app = p.services.find((s) => s.name === 'app')!;
    expect(app.options).toEqual(['balance leastconn', 'cookie SRVNAME insert']);
    expect(app.servers.map((s) => s.options.join(' '))).toEqual(['check maxconn 100 cookie S{i}', 'check maxconn 100 cookie S{i}']);
    const cfg = render(p, settings, 'haproxy/0');
    expect(cfg).toContain('    server web-0-8080 10.0.0.1:8080 check maxconn 100 cookie S0\n    server web-1-8080 10.0.0.2:8080 check maxconn 100 cookie S1\n');
    expect(p.services.find((s) => s.isDefault)!.servers.map((s) => s.name)).toEqual(['web-2-8080']);
  });

  test('bad services data is ignored with the reason, never written to haproxy.cfg', () => {
    const cases: [string, string][] = [
      ['[unclosed', 'api/0: services ignored: not YAML'],
      ['service_name: x', 'api/0: services ignored: not a YAML list of services'],
      ['- {service_name: "a b", service_port: 1}', 'api/0: services ignored: entry 0: service_name "a b" is not a name'],
      ['- {service_name: a}', 'api/0: services ignored: a: service_port is missing'],
      ['- {service_name: a, service_port: 1, service_options: ["x\\nlisten evil"]}', 'api/0: services ignored: a: service_options contains a line break'],
      ['- {service_name: a, service_port: 1, servers: [[s, 10.0.0.1]]}', 'api/0: services ignored: a: a server is not [name, address, port, options]'],
      ['- {service_name: a, service_port: 1, servers: [[s, "10.0.0.1 backup", 80]]}', 'api/0: services ignored: a: server s address "10.0.0.1 backup" is not an address'],
    ];
    for (const [body, warning] of cases) {
      const p = plan(settings, [services(0, body)]);
      expect(p.warnings[0]).toMatch(new RegExp('^' + warning.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      expect(p.services.map((s) => s.name)).toEqual([DEFAULT_SERVICE]);
    }
  });

  test('a service on a port already taken (listen-port, stats-port, another service) is ignored', () => {
    const p = plan(settings, [
      services(0, '- {service_name: a, service_port: 80}'),
      services(1, '- {service_name: b, service_port: 8404}'),
      services(2, '- {service_name: c, service_port: 9000}\n- {service_name: d, service_port: 9000}'),
    ]);
    expect(p.warnings).toEqual([
      `api/0: service a ignored: port 80 is already used by ${DEFAULT_SERVICE}`,
      "api/1: service b ignored: port 8404 is the statistics page's (stats-port)",
      'api/2: service d ignored: port 9000 is already used by c',
    ]);
    expect(p.services.map((s) => s.name)).toEqual([DEFAULT_SERVICE, 'c']);
  });

  test('a unit may add servers to the default service by naming it', () => {
    const p = plan(settings, [services(0, `- {service_name: ${DEFAULT_SERVICE}, service_port: 1234, servers: [[extra, 10.9.9.9, 81, check]]}`), web(1)]);
    expect(p.services).toHaveLength(1);
    expect(p.services[0]!.port).toBe(80);
    expect(p.services[0]!.servers.map((s) => s.name)).toEqual(['extra', 'web-1-8080']);
  });
});

describe('render', () => {
  test('the default service: frontend on listen-port, health checks, seamless-reload globals, stats', () => {
    const cfg = render(plan(settings, [web(0, { 'check-port': '8081' }), web(1, { busy: 'true' })]), settings, 'haproxy/0');
    expect(cfg).toContain('    stats socket /run/haproxy/admin.sock mode 660 level admin expose-fd listeners\n');
    expect(cfg).toContain('    master-worker\n    server-state-file /var/lib/haproxy/server-state\n');
    expect(cfg).toContain('    load-server-state-from-file global\n');
    expect(cfg).toContain(
      [
        'frontend haproxy-0-80',
        '    bind 0.0.0.0:80',
        `    default_backend ${DEFAULT_SERVICE}`,
        '',
        `backend ${DEFAULT_SERVICE}`,
        '    balance roundrobin',
        '    option httpchk GET /',
        '    retry-on conn-failure empty-response',
        '    http-request disable-l7-retry unless METH_GET || METH_HEAD',
        '    default-server inter 2s rise 2 fall 3 init-addr last,libc,none',
        '    server web-0-8080 10.0.0.1:8080 check port 8081',
        // Busy is runtime state, not configuration: the file does not change.
        '    server web-1-8080 10.0.0.2:8080 check',
        '',
        'listen stats',
        '    bind 0.0.0.0:8404',
      ].join('\n'),
    );
    expect(cfg).toContain('    stats auth admin:generated-pw\n');
    expect(cfg.endsWith('\n')).toBe(true);
  });

  test('busy or not, the same units give the same file (no reload to drain)', () => {
    expect(render(plan(settings, [web(0), web(1, { busy: 'true' })]), settings, 'haproxy/0')).toBe(render(plan(settings, [web(1), web(0)]), settings, 'haproxy/0'));
  });

  test('check settings and balance come from config; stats-port=0 drops the stats listener and port', () => {
    const s = parseSettings({ ...raw, 'check-path': '/healthz', 'check-inter': '500ms', 'check-rise': 1, 'check-fall': 5, balance: 'leastconn', 'stats-port': 0, 'listen-port': 8080 }, 'pw');
    const p = plan(s, [web(0)]);
    const cfg = render(p, s, 'haproxy/3');
    expect(cfg).toContain('frontend haproxy-3-8080\n    bind 0.0.0.0:8080\n');
    expect(cfg).toContain('    balance leastconn\n    option httpchk GET /healthz\n');
    expect(cfg).toContain('    default-server inter 500ms rise 1 fall 5 init-addr');
    expect(cfg).not.toContain('timeout check');
    expect(cfg).not.toContain('listen stats');
    expect(portsOf(p, s)).toEqual([8080]);
  });

  test('check-timeout lets a connected check wait longer for its answer than the interval', () => {
    const s = parseSettings({ ...raw, 'check-timeout': '30s' }, 'pw');
    expect(s.checkTimeout).toBe('30s');
    expect(render(plan(s, [web(0)]), s, 'haproxy/0')).toContain('    option httpchk GET /\n    timeout check 30s\n    retry-on');
  });

  test('service_options are split between frontend and backend as in Juju haproxy', () => {
    const p = plan(settings, [
      { unit: 'api/0', data: { services: '- {service_name: api, service_port: 9000, service_options: [mode tcp, option tcplog, timeout client 30s, maxconn 50, balance leastconn, timeout server 60s], servers: [[api-0, 10.0.1.1, 9001, [check, inter 5s]]]}' } },
    ]);
    const cfg = render(p, settings, 'haproxy/0');
    expect(cfg).toContain('frontend haproxy-0-9000\n    bind 0.0.0.0:9000\n    default_backend api\n    mode tcp\n    option tcplog\n    timeout client 30s\n    maxconn 50\n\n');
    expect(cfg).toContain('backend api\n    mode tcp\n    option tcplog\n    balance leastconn\n    timeout server 60s\n    default-server inter 2s rise 2 fall 3 init-addr last,libc,none\n    server api-0 10.0.1.1:9001 check inter 5s\n');
    expect(portsOf(p, settings)).toEqual([80, 8404, 9000]);
  });
});
