import { describe, expect, it } from 'vitest';
import type { Provider } from '@sigil/providers';
import { openDb } from '../store/db.ts';
import { Store } from '../store/store.ts';
import { PresenceTracker } from '../apiserver/presence.ts';
import { AgentMigration, parseAgentUrl } from './agent-migration.ts';

describe('parseAgentUrl', () => {
  it('takes https://HOST:PORT and refuses anything else with a hint', () => {
    expect(parseAgentUrl('https://10.0.0.5:17070')).toBe('https://10.0.0.5:17070');
    expect(parseAgentUrl('https://[fd00::1]:17070/')).toBe('https://[fd00::1]:17070');
    for (const bad of ['10.0.0.5:17070', 'http://10.0.0.5:1', 'https://u:p@h:1', 'https://h:1/x', 'https://h:1?x', '']) {
      expect(() => parseAgentUrl(bad)).toThrow(/is not a controller address/);
    }
  });
});

describe('AgentMigration', () => {
  function setup(fail = new Set<string>()) {
    const store = new Store(openDb(':memory:'));
    const ins = store.db.prepare(`INSERT INTO machines (model, id, life, instance_id, status, created) VALUES (?, ?, ?, ?, '{"current":"started","message":"","since":0}', 0)`);
    ins.run('a', '0', 'alive', 'i-0');
    ins.run('a', '10', 'alive', 'i-10');
    ins.run('a', '2', 'alive', 'i-2');
    ins.run('a', '3', 'alive', null);
    ins.run('b', '0', 'dead', 'i-b0');
    ins.run('b', '1', 'alive', 'e-b1');
    store.db.prepare("INSERT INTO enlisted_machines (model, id, target, hardware, init) VALUES ('b', '1', 'root@10.0.0.9:22', '{}', 'systemd')").run();
    const repointed: string[] = [];
    const provider = {
      repointAgent: async (model: string, id: string, to: { controllerUrl: string; caCert: string }) => {
        if (fail.has(`${model}/${id}`)) throw new Error('machine is not running');
        repointed.push(`${model}/${id} ${to.controllerUrl} ${to.caCert}`);
      },
    } as unknown as Provider;
    let now = 1000;
    const presence = new PresenceTracker(() => now);
    const urls: string[] = [];
    const m = new AgentMigration({ store, provider, presence, caCert: 'CA', repointing: new Set(), setAgentUrl: (u) => urls.push(u) });
    return { m, repointed, presence, urls, tick: (t: number) => (now = t) };
  }

  it('re-points provider machines (not unprovisioned or dead ones), lists enlisted hosts for the client, and records the address', async () => {
    const { m, repointed, urls } = setup(new Set(['a/2']));
    const r = await m.migrate('https://10.1.1.1:17070');
    expect(urls).toEqual(['https://10.1.1.1:17070']);
    expect(repointed.sort()).toEqual(['a/0 https://10.1.1.1:17070 CA', 'a/10 https://10.1.1.1:17070 CA']);
    expect(r.machines).toEqual([
      { model: 'a', machine: '0', kind: 'provider' },
      { model: 'a', machine: '2', kind: 'provider', error: 'machine is not running' },
      { model: 'a', machine: '10', kind: 'provider' },
      { model: 'b', machine: '1', kind: 'enlisted', target: 'root@10.0.0.9:22', init: 'systemd' },
    ]);
    expect(r.caCert).toBe('CA');
  });

  it('changes nothing for an address that is not a URL', async () => {
    const { m, repointed, urls } = setup();
    await expect(m.migrate('not a url')).rejects.toThrow(/is not a controller address/);
    expect(repointed).toEqual([]);
    expect(urls).toEqual([]);
  });

  it('reports when each agent connected, and when its newest connection opened, so the client knows which have moved', () => {
    const { m, presence, tick } = setup();
    tick(5000);
    const leave = presence.add('a', '0');
    tick(6000);
    // The restarted agent dials in before the controller sees its old connection close.
    presence.add('a', '0');
    leave();
    expect(m.agents().find((a) => a.machine === '0' && a.model === 'a')).toEqual({ model: 'a', machine: '0', connected: true, 'connected-since': 5000, 'last-connect': 6000 });
    expect(m.agents().find((a) => a.machine === '10')).toEqual({ model: 'a', machine: '10', connected: false });
  });
});
