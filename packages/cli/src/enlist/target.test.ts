import { describe, expect, it } from 'vitest';
import { parseTarget, targetName } from './target.ts';

describe('ssh placement', () => {
  it.each([
    ['ssh:10.0.0.5', { user: undefined, host: '10.0.0.5', port: 22 }, '10.0.0.5:22'],
    ['ssh:ubuntu@10.0.0.5', { user: 'ubuntu', host: '10.0.0.5', port: 22 }, 'ubuntu@10.0.0.5:22'],
    ['ssh:root@db-1.example.com:2222', { user: 'root', host: 'db-1.example.com', port: 2222 }, 'root@db-1.example.com:2222'],
    ['ssh:admin@[fd00::5]:2200', { user: 'admin', host: 'fd00::5', port: 2200 }, 'admin@[fd00::5]:2200'],
  ])('reads %s', (spec, want, name) => {
    expect(parseTarget(spec)).toEqual(want);
    expect(targetName(parseTarget(spec))).toBe(name);
  });

  it.each([
    ['10.0.0.5', 'does not start with ssh:'],
    ['ssh:', 'is not a host name'],
    ['ssh:root@', 'is not a host name'],
    ['ssh:-oProxyCommand=x', 'is not a host name'],
    ['ssh:ro ot@host', 'not a valid user name'],
    ['ssh:host:99999', 'out of range'],
    ['ssh:host:x', 'is not a number'],
    ['ssh:host;rm', 'is not a host name'],
  ])('refuses %s', (spec, why) => {
    expect(() => parseTarget(spec)).toThrow(why);
  });
});
