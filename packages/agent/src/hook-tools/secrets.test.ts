// The secret hook tools over a hook context: Juju's flags, outputs and errors, pinning,
// and the buffered operations the uniter commits.
import { describe, expect, test } from 'vitest';
import type { HookToolEnv, SecretEntry, ToolResult } from './context.ts';
import { testEnv } from './testkit.ts';
import { runHookTool } from './tools.ts';
import { HookScrubber } from '../hooks/secrets.ts';

const OWN = '9m4e2mr0ui3e8a215n4g';
const GRANTED = 'cj4k2lr0ui3e8a215n4h';
const b64 = (s: string) => Buffer.from(s).toString('base64');

function run(env: HookToolEnv, command: string, args: string[] = []): ToolResult {
  const r = runHookTool(env, command, args, undefined, '/');
  if (r instanceof Promise || 'needStdin' in r) throw new Error('unexpected stdin request or promise');
  return r;
}

function env(leader = true): HookToolEnv {
  const own: SecretEntry = {
    id: OWN, access: 'manage', label: 'db-pass', tracked: 2, latest: 2, content: { 2: { password: b64('s3cret-two') } },
    meta: { id: OWN, owner: 'application', label: 'db-pass', description: 'the db password', revision: 2, rotation: 'monthly', rotateAt: Date.UTC(2030, 0, 1), obsolete: [1], access: [{ target: 'application-mysql', scope: 'relation-wordpress:db mysql:db', role: 'view' }] },
  };
  const granted: SecretEntry = { id: GRANTED, access: 'granted', label: '', tracked: 1, latest: 3, content: { 1: { token: b64('tok-one'), user: b64('wp') }, 3: { token: b64('tok-three'), user: b64('wp') } } };
  return testEnv((s) => {
    s.leader = leader;
    const { meta: _meta, ...follower } = own;
    s.secrets = leader ? [own, granted] : [{ ...follower, access: 'owner-app' }, granted];
  });
}

describe('secret-get', () => {
  test('a consumer reads the revision it pinned; --peek reads the latest once; --refresh moves the pin', () => {
    const e = env();
    expect(run(e, 'secret-get', [`secret:${GRANTED}`])).toEqual({ code: 0, stdout: 'token: tok-one\nuser: wp\n', stderr: '' });
    expect(run(e, 'secret-get', [GRANTED, 'token', '--peek']).stdout).toBe('tok-three\n');
    expect(run(e, 'secret-get', [GRANTED, 'token']).stdout).toBe('tok-one\n');
    expect(e.changes.secrets ?? []).toEqual([]);
    expect(run(e, 'secret-get', [GRANTED, 'token', '--refresh']).stdout).toBe('tok-three\n');
    expect(run(e, 'secret-get', [GRANTED, 'token']).stdout).toBe('tok-three\n');
    expect(e.changes.secrets).toEqual([{ op: 'track', id: GRANTED, revision: 3 }]);
  });

  test('the first read pins the latest revision; the id with --label names it for later reads by label', () => {
    const e = testEnv((s) => {
      s.secrets = [{ id: GRANTED, access: 'granted', label: '', tracked: 0, latest: 3, content: { 3: { token: b64('tok-three') } } }];
    });
    expect(run(e, 'secret-get', [GRANTED, '--label', 'api', '--format', 'json']).stdout).toBe('{"token":"tok-three"}\n');
    expect(e.changes.secrets).toEqual([{ op: 'track', id: GRANTED, revision: 3, label: 'api' }]);
    expect(run(e, 'secret-get', ['--label', 'api']).stdout).toBe('token: tok-three\n');
    // As in Juju, the first argument is always the URI: a key needs it.
    expect(run(e, 'secret-get', [GRANTED, 'token#base64']).stdout).toBe(`${b64('tok-three')}\n`);
  });

  test('usage and lookup errors are Juju\'s', () => {
    const e = env();
    expect(run(e, 'secret-get')).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR require either a secret URI or label\n/) });
    expect(run(e, 'secret-get', ['nope'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR secret URI "nope" not valid\n/) });
    expect(run(e, 'secret-get', [GRANTED, '--peek', '--refresh'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR specify one of --peek or --refresh but not both\n/) });
    expect(run(e, 'secret-get', ['secret:aaaaaaaaaaaaaaaaaaaa'])).toEqual({ code: 1, stdout: '', stderr: 'ERROR secret "secret:aaaaaaaaaaaaaaaaaaaa" not found (it does not exist or was not granted to wordpress/0)\n' });
    expect(run(e, 'secret-get', [GRANTED, 'missing'])).toEqual({ code: 1, stdout: '', stderr: 'ERROR secret key "missing" not found\n' });
    expect(run(e, 'secret-get', [GRANTED, '--format', 'smart'])).toMatchObject({ code: 2 });
  });
});

describe('secret-add, secret-set and the owner-side tools', () => {
  test('secret-add prints the new URI, the hook reads its own secret back, and the operation is buffered', () => {
    const e = env();
    const r = run(e, 'secret-add', ['--label', 'api-key', '--rotate', 'daily', '--description', 'an api key', 'key=abc123', 'cert#base64=AAEC']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^secret:[0-9a-v]{20}\n$/);
    const uri = r.stdout.trim();
    expect(run(e, 'secret-get', [uri, 'key']).stdout).toBe('abc123\n');
    expect(e.changes.secrets).toEqual([{ op: 'add', id: uri.slice(7), owner: 'application', content: { key: b64('abc123'), cert: 'AAEC' }, label: 'api-key', description: 'an api key', rotate: 'daily' }]);
    expect(run(e, 'secret-ids').stdout).toBe([`secret:${OWN}`, uri].sort().join('\n') + '\n');
  });

  test('secret-add refuses bad input with Juju\'s errors, and a non-leader cannot add an application secret', () => {
    const e = env();
    expect(run(e, 'secret-add')).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR missing secret value or filename\n/) });
    expect(run(e, 'secret-add', ['--rotate', 'sometimes', 'key=v'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR rotate policy "sometimes" not valid\n/) });
    expect(run(e, 'secret-add', ['--owner', 'model', 'key=v'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR secret owner "model" not valid\n/) });
    expect(run(e, 'secret-add', ['--expire', 'soon', 'key=v'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR expire time or duration "soon" not valid\n/) });
    expect(run(e, 'secret-add', ['pw=v'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR key "pw" not valid\n/) });
    expect(e.changes.secrets ?? []).toEqual([]);
    const follower = env(false);
    expect(run(follower, 'secret-add', ['key=v']).stderr).toMatch(/^ERROR cannot create an application-owned secret: this unit is not the leader/);
    expect(run(follower, 'secret-add', ['--owner', 'unit', 'key=v']).code).toBe(0);
  });

  test('secret-set makes a new revision; consumers and non-leaders may not change a secret', () => {
    const e = env();
    expect(run(e, 'secret-set', [OWN, 'password=s3cret-three', '--expire', '2031-01-01T00:00:00'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(run(e, 'secret-get', [OWN, 'password']).stdout).toBe('s3cret-three\n');
    expect(e.changes.secrets).toEqual([{ op: 'set', id: OWN, content: { password: b64('s3cret-three') }, expire: Date.UTC(2031, 0, 1) }]);
    expect(run(e, 'secret-set', [OWN])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR at least one attribute to update must be specified\n/) });
    expect(run(e, 'secret-set', [GRANTED, 'token=x']).stderr).toBe(`ERROR cannot update secret "secret:${GRANTED}": permission denied (only the secret's owner may; a consumer can only read it)\n`);
    expect(run(env(false), 'secret-set', [OWN, 'password=x']).stderr).toMatch(/^ERROR cannot update secret "secret:9m4e2mr0ui3e8a215n4g": this unit is not the leader/);
  });

  test('secret-grant and secret-revoke are scoped to a relation (the hook\'s by default) and check the unit', () => {
    const e = env();
    expect(run(e, 'secret-grant', [OWN])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(run(e, 'secret-grant', [OWN, '-r', '3', '--unit', 'haproxy/0']).code).toBe(0);
    expect(run(e, 'secret-grant', [OWN, '-r', 'db:2', '--unit', 'haproxy/0'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR cannot specify unit "haproxy\/0" in relation to application "mysql"\n/) });
    expect(run(e, 'secret-revoke', [OWN, '--app', 'haproxy']).code).toBe(0);
    expect(run(e, 'secret-revoke', [OWN]).code).toBe(0);
    expect(e.changes.secrets).toEqual([
      { op: 'grant', id: OWN, relation: 2, app: 'mysql' },
      { op: 'grant', id: OWN, relation: 3, app: 'haproxy', unit: 'haproxy/0' },
      { op: 'revoke', id: OWN, app: 'haproxy' },
      { op: 'revoke', id: OWN, app: 'mysql' },
    ]);
    const outside = testEnv((s) => {
      delete s.hookRelationId;
      s.secrets = env().snapshot.secrets!;
    });
    expect(run(outside, 'secret-grant', [OWN])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR no relation id specified\n/) });
    expect(run(outside, 'secret-revoke', [OWN])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ERROR missing relation or application or unit\n/) });
  });

  test('secret-remove removes a revision or the secret; secret-info-get shows the owner\'s metadata', () => {
    const e = env();
    expect(run(e, 'secret-info-get', ['--label', 'db-pass']).stdout).toBe(
      `${OWN}:\n  revision: 2\n  label: db-pass\n  owner: application\n  description: the db password\n  rotation: monthly\n  rotates: "2030-01-01T00:00:00.000Z"\n  access:\n  - target: application-mysql\n    scope: relation-wordpress:db mysql:db\n    role: view\n`,
    );
    expect(run(e, 'secret-info-get', [GRANTED]).stderr).toMatch(/^ERROR secret "cj4k2lr0ui3e8a215n4h" not found/);
    expect(run(e, 'secret-remove', [OWN, '--revision', '1']).code).toBe(0);
    expect(run(e, 'secret-remove', [OWN]).code).toBe(0);
    expect(run(e, 'secret-ids').stdout).toBe('');
    expect(e.changes.secrets).toEqual([{ op: 'remove', id: OWN, revision: 1 }, { op: 'remove', id: OWN }]);
  });
});

describe('scrubbing hook output', () => {
  test('every value the hook can read or wrote becomes ***, short values are left alone', () => {
    const e = env();
    run(e, 'secret-add', ['key=freshly-made-value', 'tiny=ab1']);
    const scrub = new HookScrubber(e);
    expect(scrub.scrub('pw=s3cret-two token=tok-one new=tok-three made=freshly-made-value tiny=ab1')).toBe('pw=*** token=*** new=*** made=*** tiny=ab1');
    expect(scrub.scrubDeep({ out: ['tok-one'], n: 1 })).toEqual({ out: ['***'], n: 1 });
  });
});
