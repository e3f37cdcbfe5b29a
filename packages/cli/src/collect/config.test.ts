import { describe, expect, it } from 'vitest';
import { SigilError } from '@sigil/core';
import { parentsOf, parseCollectConfig, sourceText } from './config.ts';

function one(line: string) {
  const ds = parseCollectConfig(line, 'collect');
  expect(ds).toHaveLength(1);
  return ds[0]!;
}

function refused(text: string): SigilError {
  try {
    parseCollectConfig(text, 'collect-next');
  } catch (e) {
    expect(e).toBeInstanceOf(SigilError);
    return e as SigilError;
  }
  throw new Error(`accepted: ${text}`);
}

describe('Codetree config grammar', () => {
  it.each([
    // The exact shapes of real Codetree and Mojo collect files.
    ['charms/trusty/postgresql git+https://host/repo;revno=abc', { dest: 'charms/trusty/postgresql', url: 'git+https://host/repo', kind: 'git', options: { revno: 'abc' } }],
    ['app2                    git+ssh://git@github.com/me/app2.git', { dest: 'app2', url: 'git+ssh://git@github.com/me/app2.git', kind: 'git', options: {} }],
    ['app3                    git+https://github.com/me/my3rdapp.git', { dest: 'app3', url: 'git+https://github.com/me/my3rdapp.git', kind: 'git', options: {} }],
    ['app/mytag               git://github.com/myapp;revno=mytag', { dest: 'app/mytag', url: 'git://github.com/myapp', kind: 'git', options: { revno: 'mytag' } }],
    ['app/images/logo.gif     http://content.internal/myimage.gif;overwrite=true', { dest: 'app/images/logo.gif', url: 'http://content.internal/myimage.gif', kind: 'http', options: { overwrite: 'true' } }],
    ['app/downloads           @', { dest: 'app/downloads', url: '@', kind: 'empty', options: {} }],
    ['django git+file:///srv/git/django;ref=v1.2,depth=1', { dest: 'django', url: 'git+file:///srv/git/django', kind: 'git', options: { ref: 'v1.2', depth: '1' } }],
    ['./charms/app/ ../app', { dest: 'charms/app', url: '../app', kind: 'local', options: {} }],
    ['site file:///srv/site;overwrite=false', { dest: 'site', url: 'file:///srv/site', kind: 'local', options: { overwrite: 'false' } }],
    ['\tsrc\t\thttps://example.com/src-1.0.tar.gz  ', { dest: 'src', url: 'https://example.com/src-1.0.tar.gz', kind: 'http', options: {} }],
  ])('%s', (line, want) => {
    expect(one(line)).toMatchObject({ ...want, file: 'collect', line: 1 });
  });

  it('skips comments and blank lines and numbers lines as in the file', () => {
    const ds = parseCollectConfig('# charms for the conference\n\nhaproxy ../charms/haproxy\n  # indented comment\ndjango git+file:///r;revno=main\n', 'collect');
    expect(ds.map((d) => [d.dest, d.line])).toEqual([['haproxy', 3], ['django', 5]]);
  });

  it.each([
    ['onlydest', 'collect-next:1: "onlydest" has a destination but no source', 'DEST SOURCE'],
    ['/etc/passwd ../x', 'is an absolute path', 'relative path'],
    ['../up ../x', 'climbs out with ".."', 'relative path'],
    ['a/../../b ../x', 'climbs out', 'relative path'],
    ['http://host/x ../x', 'is a URL', 'relative path'],
    ['. ../x', 'is the collection root itself', 'relative path'],
    ['ceph lp:~openstack-charmers/charms/trusty/ceph/next', 'cannot be collected', 'git+https'],
    ['keystone cs:~openstack-charmers-next/keystone', 'cannot be collected', 'charm library'],
    ['x svn://host/repo', 'unknown source scheme', 'git+https://'],
    ['x git+https://h/r;lightweight=true', 'option "lightweight" does not apply to a git source', 'revno'],
    ['x ../y;revno=3', 'option "revno" does not apply to a local source', 'overwrite'],
    ['x @;overwrite=true', 'does not apply to a @ (empty directory) source', 'no options'],
    ['x git+https://h/r;revno=a,ref=b', 'both revno= and ref=', 'give one'],
    ['x git+https://h/r;depth=0', 'depth=0 is not a positive whole number', 'depth=1'],
    ['x http://h/f;overwrite=yes', 'overwrite=yes is not true or false', 'overwrite=true'],
    ['x git+https://h/r;revno', 'option "revno" is not key=value', 'DEST SOURCE'],
    ['x git+https://user:secret@h/r', 'carries a password', 'credential helper'],
    ['x ../a\nx ../b', 'collect-next:2: destination "x" is already collected at line 1', 'once'],
  ])('refuses %j', (text, message, hint) => {
    const e = refused(text);
    expect(e.message).toContain(message);
    expect(e.message).toMatch(/^collect-next:\d+: /);
    expect(e.hint).toContain(hint);
    expect(e.message).not.toContain('secret');
  });

  it('orders parents before children by path, ignoring unrelated prefixes', () => {
    const ds = parseCollectConfig('app ../a\napp/plugins/x ../x\napp/plugins ../p\napplet ../b\nother/deep ../c\n', 'c');
    expect(Object.fromEntries(parentsOf(ds))).toEqual({ app: undefined, 'app/plugins/x': 'app/plugins', 'app/plugins': 'app', applet: undefined, 'other/deep': undefined });
  });

  it('writes sources back with options sorted, as a pinned config does', () => {
    expect(sourceText('git+file:///r', { revno: 'abc', overwrite: 'true' })).toBe('git+file:///r;overwrite=true,revno=abc');
    expect(sourceText('@', {})).toBe('@');
  });
});

describe('variables in a collect config', () => {
  it('expands ${VAR} and ${VAR:-default} when given an environment, naming the line when unset', () => {
    const ds = parseCollectConfig('# repos\ncharms/django git+file://${GIT:-/srv/git}/django.git;revno=${REV}\n', 'collect', { REV: 'v1' });
    expect(ds).toMatchObject([{ dest: 'charms/django', url: 'git+file:///srv/git/django.git', options: { revno: 'v1' }, line: 2 }]);
    expect(() => parseCollectConfig('a ../a\nb ${NOPE}/b\n', 'collect', {})).toThrow('collect:2: variable NOPE is not set');
    expect(parseCollectConfig('a ${NOPE}', 'collect')[0]!.url).toBe('${NOPE}');
  });
});
