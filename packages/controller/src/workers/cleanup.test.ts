// The cleanup worker on a real store, one model at a time: what finished dying goes, with
// the changes that tell the other workers, and nothing of another model is touched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDb } from '../store/test-store.ts';
import { Store, type Change } from '../store/store.ts';
import { Models } from '../domain/models.ts';
import { Charms } from '../domain/charms.ts';
import { Applications } from '../domain/applications.ts';
import { Units } from '../domain/units.ts';
import { AgentFacade } from '../domain/agent.ts';
import { Reads } from '../state/rows.ts';
import { silentLogger } from '../logger.ts';
import { cleanup } from './cleanup.ts';
import type { WorkerContext } from './context.ts';

const WEB = { files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from('name: web\nsummary: s\ndescription: d\n').toString('base64') }] };

describe('cleanup', () => {
  let dir: string;
  let store: Store;
  let reads: Reads;
  let ctx: WorkerContext;
  const changes: Change[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sigil-cleanup-'));
    store = new Store(openTestDb(dir));
    reads = new Reads(store);
    for (const model of ['a', 'b']) {
      new Models(store).add(model);
      new Applications(store).deploy({ model, app: 'web', charmUrl: new Charms(store).add(model, WEB).url, numUnits: 2, config: {}, constraints: '', to: [] });
    }
    changes.length = 0;
    store.subscribe((_rev, cs) => changes.push(...cs));
    ctx = { store, log: silentLogger, provider: {} } as unknown as WorkerContext;
  });
  afterEach(() => {
    store.db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const dead = (model: string, unit: string) => {
    new Units(store).remove(model, [unit]);
    new AgentFacade(store).setDead(model, unit);
  };

  it('removes a dead unit of its model only, and says so', () => {
    dead('a', 'web/1');
    dead('b', 'web/1');
    changes.length = 0;
    cleanup(ctx, 'a');
    expect(reads.units('a').map((u) => u.name)).toEqual(['web/0']);
    expect(reads.units('b').map((u) => u.life)).toEqual(['alive', 'dead']);
    expect(changes.filter((c) => c.op === 'remove').map((c) => `${c.model} ${c.kind} ${c.key}`)).toEqual(['a unit web/1']);
  });

  it('leaves a dying unit, and keeps an application while it has units', () => {
    new Units(store).remove('a', ['web/0']);
    new Applications(store).remove('a', 'web');
    cleanup(ctx, 'a');
    expect(reads.units('a').map((u) => `${u.name} ${u.life}`)).toEqual(['web/0 dying', 'web/1 dying']);
    expect(reads.app('a', 'web')?.life).toBe('dying');
    for (const u of ['web/0', 'web/1']) new AgentFacade(store).setDead('a', u);
    cleanup(ctx, 'a');
    expect(reads.units('a')).toEqual([]);
    expect(reads.app('a', 'web')).toBeUndefined();
    expect(reads.app('b', 'web')?.life).toBe('alive');
  });

  it('does nothing for a model that is gone', () => {
    cleanup(ctx, 'nope');
    expect(changes).toEqual([]);
  });
});
