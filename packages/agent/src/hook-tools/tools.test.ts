import { describe, expect, test } from 'vitest';
import type { HookToolEnv, ToolResult } from './context.ts';
import { testEnv } from './testkit.ts';
import { HOOK_TOOL_NAMES, runHookTool } from './tools.ts';

function run(env: HookToolEnv, command: string, args: string[] = [], stdin?: Buffer): ToolResult {
  const r = runHookTool(env, command, args, stdin, '/');
  if (r instanceof Promise || 'needStdin' in r) throw new Error('unexpected stdin request or promise');
  return r;
}

const ok = (stdout: string): ToolResult => ({ code: 0, stdout, stderr: '' });
const usage = (pattern: RegExp) => ({ code: 2, stdout: '', stderr: expect.stringMatching(pattern) });
const failure = (stderr: string): ToolResult => ({ code: 1, stdout: '', stderr });

test('serves the tools charms use', () => {
  expect(HOOK_TOOL_NAMES).toEqual([
    'action-fail', 'action-get', 'action-log', 'action-set', 'add-metric', 'application-version-set', 'close-port', 'config-get',
    'credential-get', 'goal-state', 'is-leader', 'juju-log', 'juju-reboot', 'leader-get', 'leader-set', 'network-get', 'open-port',
    'opened-ports', 'relation-get', 'relation-ids', 'relation-list', 'relation-model-get', 'relation-set', 'resource-get', 'secret-add', 'secret-get', 'secret-grant', 'secret-ids',
    'secret-info-get', 'secret-remove', 'secret-revoke', 'secret-set', 'state-delete', 'state-get', 'state-set',
    'status-get', 'status-set', 'storage-add', 'storage-get', 'storage-list', 'unit-get',
  ]);
  expect(run(testEnv(), 'payload-register')).toEqual(failure('ERROR bad request: unknown command: payload-register\n'));
});

describe('argument handling', () => {
  test('unknown options and missing values are usage errors with a usage line', () => {
    const env = testEnv();
    expect(run(env, 'config-get', ['--bogus'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'ERROR option provided but not defined: --bogus\nUsage: config-get [options] [<key>]\n',
    });
    expect(run(env, 'config-get', ['-x'])).toEqual(usage(/^ERROR option provided but not defined: -x\n/));
    expect(run(env, 'config-get', ['--format'])).toEqual(usage(/^ERROR option needs an argument: --format\n/));
    expect(run(env, 'config-get', ['--format', 'xml'])).toEqual(usage(/^ERROR invalid value "xml" for option --format: unknown format "xml"\n/));
    expect(run(env, 'config-get', ['--all=maybe'])).toEqual(
      usage(/^ERROR invalid value "maybe" for option --all: strconv.ParseBool: parsing "maybe": invalid syntax\n/),
    );
  });

  test('flags may follow positionals, and -- ends the flags', () => {
    const env = testEnv();
    expect(run(env, 'config-get', ['port', '--format', 'json'])).toEqual(ok('80\n'));
    expect(run(env, 'juju-log', ['--', '-l', 'is', 'not', 'a', 'flag'])).toEqual(ok(''));
    expect(env.logs).toEqual([['INFO', 'db:2: -l is not a flag']]);
  });

  test('--help prints usage, summary and options', () => {
    const r = run(testEnv(), 'config-get', ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: config-get [options] [<key>]\n\nSummary:\nprint application configuration\n');
    expect(r.stdout).toContain('-a, --all (= false)\n    print all keys\n');
  });
});

describe('config-get', () => {
  test('smart output follows Go types: strings raw, bools True/False, numbers as YAML', () => {
    const env = testEnv();
    expect(run(env, 'config-get', ['blog_title'])).toEqual(ok('My Blog\n'));
    expect(run(env, 'config-get', ['debug'])).toEqual(ok('False\n'));
    expect(run(env, 'config-get', ['port'])).toEqual(ok('80\n'));
    expect(run(env, 'config-get', ['unset_option'])).toEqual(ok(''));
    expect(run(env, 'config-get', ['undeclared', '--format=json'])).toEqual(ok('null\n'));
  });

  test('all keys with values; --all adds unset keys as null', () => {
    const env = testEnv();
    expect(run(env, 'config-get')).toEqual(ok('blog_title: My Blog\ndebug: false\nport: 80\nratio: 1.5\n'));
    expect(run(env, 'config-get', ['-a', '--format', 'json'])).toEqual(
      ok('{"blog_title":"My Blog","debug":false,"port":80,"ratio":1.5,"unset_option":null}\n'),
    );
    expect(run(env, 'config-get', ['--all', 'port'])).toEqual(usage(/^ERROR cannot use argument --all together with key "port"\n/));
  });
});

describe('status-set and status-get', () => {
  test('status-set records the workload status; error and unknown are refused', () => {
    const env = testEnv();
    expect(run(env, 'status-set', ['maintenance', 'installing packages'])).toEqual(ok(''));
    expect(env.changes.unitStatus).toEqual({ status: 'maintenance', message: 'installing packages' });
    expect(run(env, 'status-set', ['blocked'])).toEqual(ok(''));
    expect(env.changes.unitStatus).toEqual({ status: 'blocked', message: '' });
    for (const s of ['error', 'unknown', 'idle']) {
      expect(run(env, 'status-set', [s, 'x'])).toEqual(
        usage(new RegExp(`^ERROR invalid status "${s}", expected one of \\[maintenance blocked waiting active\\]\\n`)),
      );
    }
    expect(run(env, 'status-set')).toEqual(usage(/^ERROR invalid args, require <status> \[message\] \[data\]\n/));
    expect(env.changes.unitStatus).toEqual({ status: 'blocked', message: '' });
  });

  test('status-set --application is for the leader only', () => {
    const env = testEnv();
    expect(run(env, 'status-set', ['--application', 'active', 'serving'])).toEqual(ok(''));
    expect(env.changes.appStatus).toEqual({ status: 'active', message: 'serving' });
    const follower = testEnv((s) => {
      s.leader = false;
    });
    expect(run(follower, 'status-set', ['--application', 'active'])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^ERROR this unit is not the leader/),
    });
    expect(follower.changes.appStatus).toBeUndefined();
  });

  test('status-get prints the word in smart format and a map otherwise, reflecting this hook\'s status-set', () => {
    const env = testEnv();
    expect(run(env, 'status-get')).toEqual(ok('active\n'));
    expect(run(env, 'status-get', ['--format', 'json'])).toEqual(ok('{"status":"active"}\n'));
    run(env, 'status-set', ['waiting', 'for db']);
    expect(run(env, 'status-get', ['--include-data'])).toEqual(ok('message: for db\nstatus: waiting\nstatus-data: {}\n'));
  });

  test('status-get --application shows the application and its units to the leader', () => {
    const env = testEnv();
    expect(run(env, 'status-get', ['--application'])).toEqual(ok('active\n'));
    expect(run(env, 'status-get', ['--application', '--format', 'json'])).toEqual(
      ok('{"application-status":{"status":"active","units":{"wordpress/0":{"status":"active"},"wordpress/1":{"status":"waiting"}}}}\n'),
    );
    expect(run(env, 'status-get', ['--application', '--include-data'])).toEqual(
      ok(
        'application-status:\n  message: ""\n  status: active\n  status-data: {}\n  units:\n    wordpress/0:\n      message: ready\n      status: active\n      status-data: {}\n    wordpress/1:\n      message: syncing\n      status: waiting\n      status-data:\n        progress: 40\n',
      ),
    );
    const follower = testEnv((s) => {
      s.leader = false;
    });
    expect(run(follower, 'status-get', ['--application'])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^ERROR finding application status: this unit is not the leader/),
    });
  });

  test('application-version-set', () => {
    const env = testEnv();
    expect(run(env, 'application-version-set', ['5.9.3'])).toEqual(ok(''));
    expect(env.changes.applicationVersion).toBe('5.9.3');
    expect(run(env, 'application-version-set')).toEqual(usage(/^ERROR no version specified\n/));
  });
});

describe('ports', () => {
  test('open-port accepts Juju\'s forms and records them', () => {
    const env = testEnv();
    for (const arg of ['8080', '8081/udp', '9000-9010/UDP', 'icmp']) expect(run(env, 'open-port', [arg])).toEqual(ok(''));
    expect(run(env, 'open-port', ['443', '--endpoints', 'website,admin'])).toEqual(ok(''));
    expect(env.changes.openPorts).toEqual([
      { from: 8080, to: 8080, protocol: 'tcp', endpoints: ['*'] },
      { from: 8081, to: 8081, protocol: 'udp', endpoints: ['*'] },
      { from: 9000, to: 9010, protocol: 'udp', endpoints: ['*'] },
      { from: -1, to: -1, protocol: 'icmp', endpoints: ['*'] },
      { from: 443, to: 443, protocol: 'tcp', endpoints: ['website', 'admin'] },
    ]);
  });

  test('invalid ports are usage errors with Juju\'s messages', () => {
    const env = testEnv();
    const cases: [string, string][] = [
      ['http', 'expected <port>[/<protocol>] or <from>-<to>[/<protocol>] or icmp; got "http"'],
      ['0', 'port must be in the range [1, 65535]; got "0"'],
      ['70000', 'port must be in the range [1, 65535]; got "70000"'],
      ['90-80', 'invalid port range 90-80/tcp; expected fromPort <= toPort'],
      ['80/sctp', 'protocol must be "tcp", "udp", or "icmp"; got "sctp"'],
      ['80/icmp', 'protocol "icmp" doesn\'t support any ports; got "80"'],
    ];
    for (const [arg, message] of cases) {
      expect(run(env, 'open-port', [arg]).stderr.split('\n')[0]).toBe(`ERROR ${message}`);
    }
    expect(run(env, 'close-port')).toEqual(usage(/^ERROR no port or range specified\n/));
    expect(env.changes.openPorts).toEqual([]);
  });

  test('close-port cancels a pending open and vice versa; opened-ports shows the result', () => {
    const env = testEnv();
    run(env, 'open-port', ['8080']);
    run(env, 'close-port', ['8080']);
    expect(env.changes.openPorts).toEqual([]);
    expect(env.changes.closePorts).toEqual([{ from: 8080, to: 8080, protocol: 'tcp', endpoints: ['*'] }]);
    run(env, 'close-port', ['80/tcp']);
    run(env, 'open-port', ['53/udp']);
    run(env, 'open-port', ['1000-2000', '--endpoints', 'website']);
    expect(run(env, 'opened-ports')).toEqual(ok('1000-2000/tcp\n53/udp\n'));
    expect(run(env, 'opened-ports', ['--endpoints'])).toEqual(ok('1000-2000/tcp (website)\n53/udp (*)\n'));
    expect(run(env, 'opened-ports', ['--format', 'json'])).toEqual(ok('["1000-2000/tcp","53/udp"]\n'));
  });
});

describe('leadership', () => {
  test('is-leader prints True/False, and true/false as JSON', () => {
    expect(run(testEnv(), 'is-leader')).toEqual(ok('True\n'));
    const follower = testEnv((s) => {
      s.leader = false;
    });
    expect(run(follower, 'is-leader')).toEqual(ok('False\n'));
    expect(run(follower, 'is-leader', ['--format=json'])).toEqual(ok('false\n'));
  });

  test('a leader whose agent cannot vouch for the lease gets an error from is-leader and the leader-only tools, never True', () => {
    let heard = true;
    const env = testEnv();
    env.leaseHeld = () => heard;
    expect(run(env, 'is-leader')).toEqual(ok('True\n'));
    heard = false;
    for (const [tool, args] of [['is-leader', []], ['leader-set', ['k=v']], ['status-set', ['--application', 'active']]] as const) {
      const r = run(env, tool, [...args]);
      expect(r.code, tool).toBe(1);
      expect(r.stderr, tool).toContain('cannot verify leadership');
    }
    expect(env.changes.leaderSettings).toEqual({});
    // A follower is simply not the leader, whether or not its agent hears from the controller.
    const follower = testEnv((s) => {
      s.leader = false;
    });
    follower.leaseHeld = () => false;
    expect(run(follower, 'is-leader')).toEqual(ok('False\n'));
  });

  test('leader-set is leader-only; leader-get shows this hook\'s writes', () => {
    const env = testEnv();
    expect(run(env, 'leader-set', ['db-password=abc', 'admin-password='])).toEqual(ok(''));
    expect(env.changes.leaderSettings).toEqual({ 'db-password': 'abc', 'admin-password': null });
    expect(run(env, 'leader-get')).toEqual(ok('db-password: abc\n'));
    expect(run(env, 'leader-get', ['db-password'])).toEqual(ok('abc\n'));
    expect(run(env, 'leader-get', ['a=b'])).toEqual(usage(/^ERROR invalid key "a=b"\n/));

    const follower = testEnv((s) => {
      s.leader = false;
    });
    expect(run(follower, 'leader-get', ['admin-password'])).toEqual(ok('hunter2\n'));
    expect(run(follower, 'leader-set', ['x=1'])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^ERROR cannot write leadership settings: cannot write settings: not the leader/),
    });
    expect(follower.changes.leaderSettings).toEqual({});
  });
});

describe('actions', () => {
  const inAction = () =>
    testEnv((s) => {
      s.action = { id: '42', name: 'backup', params: { target: { dir: '/srv', keep: 3 }, compress: true, tags: ['a', 'b'] } };
    });

  test('action-get prints parameters, following dotted keys', () => {
    const env = inAction();
    expect(run(env, 'action-get', ['target.dir'])).toEqual(ok('/srv\n'));
    expect(run(env, 'action-get', ['target.keep'])).toEqual(ok('3\n'));
    expect(run(env, 'action-get', ['compress'])).toEqual(ok('True\n'));
    expect(run(env, 'action-get', ['tags'])).toEqual(ok('- a\n- b\n'));
    expect(run(env, 'action-get', ['target.nope.deeper'])).toEqual(ok(''));
    expect(run(env, 'action-get')).toEqual(ok('compress: true\ntags:\n- a\n- b\ntarget:\n  dir: /srv\n  keep: 3\n'));
    expect(run(env, 'action-get', ['--format', 'json'])).toEqual(ok('{"compress":true,"tags":["a","b"],"target":{"dir":"/srv","keep":3}}\n'));
  });

  test('action-set builds nested results and validates keys', () => {
    const env = inAction();
    expect(run(env, 'action-set', ['outfile.size=10G', 'foo.bar=2', 'foo.baz.val=3', 'result=a=b'])).toEqual(ok(''));
    expect(run(env, 'action-set', ['foo.bar.zab=4', 'foo.baz=1'])).toEqual(ok(''));
    expect(env.changes.actionResults).toEqual({ outfile: { size: '10G' }, foo: { bar: { zab: '4' }, baz: '1' }, result: 'a=b' });
    expect(run(env, 'action-set', ['Bad=1'])).toEqual(
      usage(/^ERROR key "Bad" must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods\n/),
    );
    expect(run(env, 'action-set', ['stdout=x'])).toEqual(usage(/^ERROR cannot set reserved action key "stdout"\n/));
    expect(run(env, 'action-set', ['a.stderr-encoding=x'])).toEqual(usage(/^ERROR cannot set reserved action key "stderr-encoding"\n/));
    expect(run(env, 'action-set', ['novalue'])).toEqual(usage(/^ERROR argument "novalue" must be of the form key...=value\n/));
  });

  test('action-fail and action-log', () => {
    const env = inAction();
    expect(run(env, 'action-log', ['halfway', 'there'])).toEqual(ok(''));
    expect(env.actionLogs).toEqual(['halfway there']);
    expect(run(env, 'action-fail')).toEqual(ok(''));
    expect(env.changes.actionFailed).toBe('action failed without reason given, check action for errors');
    expect(run(env, 'action-fail', ['disk full'])).toEqual(ok(''));
    expect(env.changes.actionFailed).toBe('disk full');
  });

  test('action tools outside an action fail as Juju\'s do', () => {
    const env = testEnv();
    const notInAction = failure('ERROR not running an action\n');
    expect(run(env, 'action-get')).toEqual(notInAction);
    expect(run(env, 'action-set', ['a=1'])).toEqual(notInAction);
    expect(run(env, 'action-log', ['x'])).toEqual(notInAction);
    expect(run(env, 'action-fail')).toEqual(notInAction);
    expect(env.changes.actionResults).toEqual({});
    expect(env.changes.actionFailed).toBeUndefined();
  });
});

describe('state', () => {
  test('state-set, state-get and state-delete work on the hook\'s view', () => {
    const env = testEnv();
    expect(run(env, 'state-get', ['installed'])).toEqual(ok('1\n'));
    expect(run(env, 'state-set', ['a=1', 'b=two words'])).toEqual(ok(''));
    expect(run(env, 'state-delete', ['installed'])).toEqual(ok(''));
    expect(run(env, 'state-get')).toEqual(ok('a: "1"\nb: two words\n'));
    expect(env.changes.unitState).toEqual({ a: '1', b: 'two words', installed: null });
  });

  test('a missing key prints nothing unless --strict', () => {
    const env = testEnv();
    expect(run(env, 'state-get', ['nope'])).toEqual(ok(''));
    expect(run(env, 'state-get', ['nope', '--strict'])).toEqual(failure('ERROR "nope" not found\n'));
  });

  test('keys are limited to 256 bytes and values to 64 KiB', () => {
    const env = testEnv();
    expect(run(env, 'state-set', [`${'k'.repeat(256)}=v`])).toEqual(ok(''));
    expect(run(env, 'state-set', [`${'k'.repeat(257)}=v`])).toEqual(failure('ERROR max allowed key length (256) exceeded\n'));
    expect(run(env, 'state-set', [`big=${'v'.repeat(65536)}`])).toEqual(ok(''));
    expect(run(env, 'state-set', [`big=${'v'.repeat(65537)}`])).toEqual(failure('ERROR max allowed value length (65536) exceeded\n'));
  });

  test('state-set --file - reads stdin', () => {
    const env = testEnv();
    expect(runHookTool(env, 'state-set', ['--file', '-'], undefined)).toEqual({ needStdin: true });
    expect(run(env, 'state-set', ['--file', '-'], Buffer.from('x: "1"\n'))).toEqual(ok(''));
    expect(env.changes.unitState).toEqual({ x: '1' });
  });
});

describe('unit-get, network-get and juju-log', () => {
  test('unit-get prints the addresses', () => {
    const env = testEnv();
    expect(run(env, 'unit-get', ['private-address'])).toEqual(ok('10.0.0.5\n'));
    expect(run(env, 'unit-get', ['public-address'])).toEqual(ok('203.0.113.5\n'));
    expect(run(env, 'unit-get', ['mac'])).toEqual(usage(/^ERROR unknown setting "mac"\n/));
  });

  test('network-get prints Juju\'s NetworkInfoResult, or one value per flag', () => {
    const env = testEnv();
    expect(run(env, 'network-get', ['db'])).toEqual(
      ok(
        'bind-addresses:\n- mac-address: ""\n  interface-name: eth0\n  addresses:\n  - hostname: ""\n    value: 10.0.0.5\n    cidr: 10.0.0.0/24\negress-subnets:\n- 10.0.0.5/32\ningress-addresses:\n- 10.0.0.5\n',
      ),
    );
    expect(run(env, 'network-get', ['db', '--ingress-address'])).toEqual(ok('10.0.0.5\n'));
    expect(run(env, 'network-get', ['db', '--egress-subnets'])).toEqual(ok('10.0.0.5/32\n'));
    expect(run(env, 'network-get', ['db', '--bind-address', '--ingress-address'])).toEqual(
      ok('bind-address: 10.0.0.5\ningress-address: 10.0.0.5\n'),
    );
    expect(run(env, 'network-get')).toEqual(usage(/^ERROR no arguments specified\n/));
  });

  test('juju-log logs at INFO by default, with the relation as prefix in relation hooks', () => {
    const env = testEnv((s) => {
      delete s.hookRelationId;
    });
    expect(run(env, 'juju-log', ['hello', 'world'])).toEqual(ok(''));
    expect(run(env, 'juju-log', ['-l', 'warning', 'careful'])).toEqual(ok(''));
    expect(run(env, 'juju-log', ['--log-level=DEBUG', 'details'])).toEqual(ok(''));
    expect(run(env, 'juju-log', ['--debug', 'more'])).toEqual(ok(''));
    expect(run(env, 'juju-log', ['-l', 'LOUD', 'odd'])).toEqual(ok(''));
    expect(env.logs).toEqual([
      ['INFO', 'hello world'],
      ['WARNING', 'careful'],
      ['DEBUG', 'details'],
      ['DEBUG', 'more'],
      ['WARNING', 'Specified log level of "LOUD" is not valid'],
      ['INFO', 'odd'],
    ]);
    expect(run(env, 'juju-log')).toEqual(usage(/^ERROR no message specified\n/));
  });
});
