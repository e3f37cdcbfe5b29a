import { describe, expect, test } from 'vitest';
import { parseCharm } from '@sigil/core';
import { Charm, RelationDataError, StatusError, active, blocked, type CharmSpec } from './index.ts';
import { InconsistentScenarioError, event, run, state } from './testing.ts';
import { generateSpecSource, specOf } from './codegen.ts';

const spec = {
  name: 'db',
  subordinate: false,
  holistic: false,
  provides: { db: { interface: 'pgsql' } },
  requires: { cache: { interface: 'memcache' } },
  peers: { cluster: { interface: 'db-peers' } },
  config: { port: { type: 'int', default: 5432 }, motd: { type: 'string' }, debug: { type: 'boolean', default: false } },
  actions: { backup: { params: { label: { type: 'string' }, keep: { type: 'integer' } }, required: ['label'] } },
} as const satisfies CharmSpec;

function dbCharm() {
  const charm = new Charm(spec);
  charm.on.configChanged(async (ctx) => {
    const port: number = ctx.config.port;
    const motd: string | undefined = ctx.config.motd;
    if (port < 1024) throw new StatusError(blocked(`port ${port} is privileged; choose 1024-65535`));
    await ctx.setPorts([port]);
    await ctx.setStatus(active(motd ?? `listening on ${port}`));
  });
  charm.on.relationJoined('db', async (ctx, ev) => {
    await ev.relation.local.update({ host: await ctx.address(), port: ctx.config.port });
    if (ctx.isLeader) await ev.relation.localApp.update({ database: ev.remoteApp });
  });
  charm.on.relationChanged('db', async (_ctx, ev) => {
    const wanted = await ev.relation.unit(ev.remoteUnit!).get('database');
    await ev.relation.local.update({ 'allowed-units': ev.relation.units.join(' '), database: wanted ?? null });
  });
  charm.on.action('backup', async (_ctx, ev) => {
    const label: string = ev.params.label;
    if (label === 'bad') throw new Error('label "bad" is reserved');
    await ev.log(`backing up ${label}`);
    await ev.set({ path: `/var/backups/${label}.dump`, keep: ev.params.keep ?? 7 });
  });
  return charm;
}

describe('handlers against the test kit', () => {
  const db = { endpoint: 'db', id: 3, remoteApp: 'app', remoteUnits: { 'app/0': { database: 'shop' }, 'app/1': {} } };

  test('config-changed opens the configured port and sets active; the input state is untouched', async () => {
    const input = state(spec, { config: { port: 6000 } });
    const out = await run(dbCharm(), event.configChanged(), input);
    expect(out.ports).toEqual([{ port: 6000, protocol: 'tcp' }]);
    expect(out.unitStatus).toEqual({ name: 'active', message: 'listening on 6000' });
    expect(input.ports).toEqual([]);
    expect(Object.isFrozen(out) && Object.isFrozen(out.ports)).toBe(true);
  });

  test('a ports change closes what is no longer wanted', async () => {
    const out = await run(dbCharm(), event.configChanged(), state(spec, { config: { port: 7000 }, ports: [{ port: 6000, protocol: 'tcp' }] }));
    expect(out.ports).toEqual([{ port: 7000, protocol: 'tcp' }]);
  });

  test('a StatusError ends the hook with that status instead of failing it', async () => {
    const out = await run(dbCharm(), event.configChanged(), state(spec, { config: { port: 80 } }));
    expect(out.unitStatus).toEqual({ name: 'blocked', message: 'port 80 is privileged; choose 1024-65535' });
    expect(out.ports).toEqual([]);
  });

  test('the leader writes its unit and application bags on join', async () => {
    const s = state(spec, { leader: true, relations: [db] });
    const out = await run(dbCharm(), event.relationJoined(s.relations[0]!, 'app/0'), s);
    expect(out.relations[0]!.localUnitData).toEqual({ host: '10.0.0.10', port: '5432' });
    expect(out.relations[0]!.localAppData).toEqual({ database: 'app' });
  });

  test('relation-changed reads the remote unit bag; null deletes a key', async () => {
    const s = state(spec, { relations: [{ ...db, localUnitData: { database: 'old', host: 'h' } }] });
    const out = await run(dbCharm(), event.relationChanged(s.relations[0]!, 'app/1'), s);
    expect(out.relations[0]!.localUnitData).toEqual({ host: 'h', 'allowed-units': 'app/0 app/1' });
    const out2 = await run(dbCharm(), event.relationChanged(s.relations[0]!, 'app/0'), s);
    expect(out2.relations[0]!.localUnitData.database).toBe('shop');
  });

  test('a non-leader writing its application bag fails the hook with a clear error', async () => {
    const charm = new Charm(spec);
    charm.on.relationJoined('db', async (_ctx, ev) => ev.relation.localApp.update({ x: '1' }));
    const s = state(spec, { leader: false, relations: [db] });
    const err = await run(charm, event.relationJoined(s.relations[0]!, 'app/0'), s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RelationDataError);
    expect(String(err)).toMatch(/cannot write the application bag of db on relation db:3: db\/0 is not the leader of db\nhint: only the leader/);
  });

  test('nobody writes a remote bag', async () => {
    const charm = new Charm(spec);
    charm.on.relationChanged('db', async (_ctx, ev) => ev.relation.unit('app/0').update({ x: '1' }));
    charm.on.relationJoined('db', async (_ctx, ev) => ev.relation.remoteApp.update({ x: '1' }));
    const s = state(spec, { leader: true, relations: [db] });
    await expect(run(charm, event.relationChanged(s.relations[0]!, 'app/0'), s)).rejects.toThrow(/cannot write the unit bag of app\/0 .* belongs to the other side/);
    await expect(run(charm, event.relationJoined(s.relations[0]!, 'app/0'), s)).rejects.toThrow(/cannot write the application bag of app/);
  });

  test('actions: results, logs, and a thrown error becomes a failed action, not a failed hook', async () => {
    const okRun = await run(dbCharm(), event.action('backup', { label: 'nightly' }), state(spec));
    expect(okRun.action).toEqual({ results: { path: '/var/backups/nightly.dump', keep: '7' }, failed: undefined, logs: ['backing up nightly'] });
    const bad = await run(dbCharm(), event.action('backup', { label: 'bad' }), state(spec));
    expect(bad.action?.failed).toBe('label "bad" is reserved');
  });

  test('a holistic charm reconciles after every hook and alone for a batch', async () => {
    const seen: string[] = [];
    const charm = new Charm(spec);
    charm.on.install(() => void seen.push('install'));
    charm.reconcile(async (ctx) => {
      const rels = await ctx.relations('db');
      seen.push(`reconcile:${rels.map((r) => r.units.length).join(',')}`);
    });
    const s = state(spec, { relations: [db] });
    await run(charm, event.install(), s);
    await run(charm, event.reconcile(), s);
    expect(seen).toEqual(['install', 'reconcile:2', 'reconcile:2']);
    expect(() => charm.reconcile(() => {})).toThrow(/already has a reconcile handler/);
  });
});

describe('consistency checks refuse impossible scenarios', () => {
  const rel = { endpoint: 'db', id: 1, remoteApp: 'app', remoteUnits: { 'app/0': {} } };
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ['unknown config key', () => run(dbCharm(), event.configChanged(), state(spec, { config: { colour: 'red' } as never })), /config "colour" is not in config.yaml/],
    ['config of the wrong type', () => run(dbCharm(), event.configChanged(), state(spec, { config: { port: '5432' as never } })), /config "port" is "5432", but config.yaml says int/],
    ['unknown endpoint', () => run(dbCharm(), event.configChanged(), state(spec, { relations: [{ endpoint: 'nope', id: 2 }] })), /relation on "nope": the charm has no such endpoint/],
    ['joined unit not in the relation', () => {
      const s = state(spec, { relations: [rel] });
      return run(dbCharm(), event.relationJoined(s.relations[0]!, 'app/5'), s);
    }, /app\/5 must be among the relation's remote units \(app\/0\)/],
    ['departed unit still listed', () => {
      const s = state(spec, { relations: [rel] });
      return run(dbCharm(), event.relationDeparted(s.relations[0]!, 'app/0'), s);
    }, /departing unit app\/0 is no longer listed/],
    ['remote unit of another app', () => run(dbCharm(), event.install(), state(spec, { relations: [{ ...rel, remoteUnits: { 'other/0': {} } }] })), /other\/0 is not a unit of app/],
    ['leader-elected on a non-leader', () => run(dbCharm(), event.leaderElected(), state(spec)), /leader-elected runs only on the leader/],
    ['missing required action parameter', () => run(dbCharm(), event.action('backup', {}), state(spec)), /action "backup" needs parameter "label"/],
    ['action parameter of the wrong type', () => run(dbCharm(), event.action('backup', { label: 'x', keep: 'many' }), state(spec)), /parameter "keep" is "many", expected integer/],
    ['unknown action', () => run(dbCharm(), event.action('vacuum'), state(spec)), /action "vacuum" is not in actions.yaml/],
  ];
  test.each(cases)('%s', async (_name, scenario, message) => {
    const err = await scenario().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InconsistentScenarioError);
    expect(String((err as Error).message)).toMatch(message);
  });
});

describe('names are checked against the metadata', () => {
  test('at compile time and, for untyped callers, at registration', () => {
    const charm = new Charm(spec);
    // @ts-expect-error 'website' is not an endpoint of this charm
    expect(() => charm.on.relationJoined('website', () => {})).toThrow(/no endpoint "website" in metadata.yaml \(declared: db, cache, cluster\)/);
    // @ts-expect-error 'restore' is not an action of this charm
    expect(() => charm.on.action('restore', () => {})).toThrow(/no action "restore"/);
  });
});

describe('codegen', () => {
  test('writes the spec from the YAML files', () => {
    const charm = parseCharm({
      metadata: 'name: cache\nsummary: s\ndescription: d\nprovides:\n  cache: memcache\nsigil:\n  holistic: true\n',
      config: 'options:\n  size:\n    type: int\n    default: 64\n    description: MB\n  motd:\n    type: string\n    description: m\n',
      actions: 'flush:\n  description: f\n  params:\n    delay:\n      type: integer\n  required: [delay]\n',
    });
    expect(specOf(charm)).toEqual({
      name: 'cache',
      subordinate: false,
      holistic: true,
      provides: { cache: { interface: 'memcache' } },
      requires: {},
      peers: {},
      config: { size: { type: 'int', default: 64 }, motd: { type: 'string' } },
      actions: { flush: { params: { delay: { type: 'integer' } }, required: ['delay'] } },
    });
    expect(generateSpecSource(charm)).toMatch(/^\/\/ Generated by `sigil charm build`[\s\S]*export const spec = \{[\s\S]*\} as const satisfies CharmSpec;\n$/);
  });
});
