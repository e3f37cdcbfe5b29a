import { EXISTING_MACHINE, SigilError, describeChange, type Change } from '@sigil/core';
import type { ModelStatusDoc } from '@sigil/api';
import type { Client } from '../client.ts';
import type { ReadBundle } from './read.ts';

/**
 * Carries out a plan through the ordinary API, in order. Placements name `new`, a bundle
 * machine created earlier in the plan, or a unit whose machine to share. Each step is
 * printed as it is applied; the first failure stops the apply (Juju aborts too).
 */
export async function applyPlan(c: Client, plan: Change[], read: ReadBundle, say: (line: string) => void): Promise<void> {
  const charmUrls = new Map<string, string>();
  const machines = new Map<string, string>();
  const upload = async (path: string) => {
    let url = charmUrls.get(path);
    if (url) return url;
    const entry = Object.values(read.charms).find((x) => x.path === path);
    if (!entry) throw new SigilError('internal', `no charm read for ${path}`);
    url = (await c.call('POST /api/models/:model/charms', { body: { ...entry.archive, source: entry.source ?? path } })).url;
    charmUrls.set(path, url);
    return url;
  };
  const place = async (to: string[]) => {
    let status: ModelStatusDoc | undefined;
    const out: string[] = [];
    for (const p of to) {
      if (p === 'new') out.push(p);
      else if (p.startsWith(EXISTING_MACHINE)) out.push(p.slice(EXISTING_MACHINE.length));
      else if (machines.has(p)) out.push(machines.get(p)!);
      else if (p.includes('/')) {
        status ??= await c.call('GET /api/models/:model/status');
        const m = status.applications[p.split('/')[0]!]?.units?.[p]?.machine;
        if (m === undefined) throw new SigilError('not-found', `placement "${p}": no such unit with a machine`, 'place units on machines or on existing units');
        out.push(m);
      } else out.push(p);
    }
    return out;
  };
  for (const ch of plan) {
    say(`- ${describeChange(ch)}`);
    switch (ch.kind) {
      case 'add-charm':
        await upload(ch.path);
        break;
      case 'add-machine': {
        const r = await c.call('POST /api/models/:model/machines', { body: { n: 1, constraints: ch.constraints, ...(ch.annotations ? { annotations: ch.annotations } : {}) } });
        machines.set(ch.id, r.machines[0]!);
        break;
      }
      case 'deploy':
        await c.call('POST /api/models/:model/applications', { body: { app: ch.app, charmUrl: await upload(ch.charmPath), numUnits: ch.numUnits, config: ch.options, constraints: ch.constraints, to: await place(ch.to) } });
        break;
      case 'refresh':
        await c.call('POST /api/models/:model/applications/:app/refresh', { params: { app: ch.app }, body: { charmUrl: await upload(ch.charmPath) } });
        break;
      case 'set-config':
        await c.call('POST /api/models/:model/applications/:app/config', { params: { app: ch.app }, body: { set: ch.set, reset: ch.reset } });
        break;
      case 'set-constraints':
        await c.call('POST /api/models/:model/applications/:app/constraints', { params: { app: ch.app }, body: { constraints: ch.constraints } });
        break;
      case 'add-unit':
        await c.call('POST /api/models/:model/applications/:app/units', { params: { app: ch.app }, body: { n: ch.n, to: await place(ch.to) } });
        break;
      case 'relate':
        await c.call('POST /api/models/:model/relations', { body: { a: ch.a, b: ch.b } });
        break;
      case 'expose':
      case 'unexpose':
        await c.call('POST /api/models/:model/applications/:app/expose', { params: { app: ch.app }, body: { exposed: ch.kind === 'expose' } });
        break;
      case 'set-annotations':
        await c.call('POST /api/models/:model/applications/:app/annotations', { params: { app: ch.app }, body: ch.annotations });
        break;
    }
  }
}
