// Operations that can no longer finish are failed, saying why, and `wait` names what it is
// waiting on; against a real store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb } from '../store/test-store.ts';
import { Store } from '../store/store.ts';
import { Services } from '../services.ts';
import { silentLogger } from '../logger.ts';
import { waitReport } from './settle.ts';

const META = 'name: act\nsummary: s\ndescription: d\n';
const ACTIONS = 'backup:\n  description: d\n';
const file = (path: string, text: string) => ({ path, mode: 0o644, data: Buffer.from(text).toString('base64') });

let dir: string;
let svc: Services;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sigil-ops-'));
  svc = new Services(new Store(openTestDb(dir)), silentLogger, 'test', 'x', join(dir, 'controller.log'), () => {});
  svc.models.add('m');
  const c = svc.charms.add('m', { files: [file('metadata.yaml', META), file('actions.yaml', ACTIONS)] });
  svc.applications.deploy({ model: 'm', app: 'act', charmUrl: c.url, numUnits: 2, config: {}, constraints: '', to: [] });
});

afterAll(() => {
  svc.store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('stuck operations', () => {
  it('fail when the agent that claimed them stays away, and wait names them until then', () => {
    const op = svc.operations.enqueueAction('m', 'act/0', 'backup', {});
    expect(svc.agent.startOperation('m', op.id)).toBe(true);
    const machine = svc.reads.unit('m', 'act/0')!.machine!;
    svc.store.db.prepare("UPDATE machines SET instance_id = 'i' WHERE model = 'm'").run();
    const presence = { connected: () => true };
    const busy = waitReport(svc.store, 'm', [], presence).busy.find((b) => b.unit === 'act/0');
    expect(busy?.reason).toMatch(/^operation \d+ \(action backup\) running for \d+ms$/);

    expect(svc.operations.failStuck('m', () => 30_000)).toEqual([]);
    expect(svc.operations.get('m', op.id).status).toBe('running');
    const failed = svc.operations.failStuck('m', (m) => (m === machine ? 120_000 : 0));
    expect(failed).toEqual([{ id: op.id, unit: 'act/0', reason: expect.stringContaining(`the agent of machine ${machine} lost contact while the operation ran`) }]);
    expect(svc.operations.get('m', op.id)).toMatchObject({ status: 'failed', message: failed[0]!.reason });
    expect(waitReport(svc.store, 'm', [], presence).busy.find((b) => b.unit === 'act/0')?.reason ?? '').not.toMatch(/operation/);
  });

  it('leave a queued action waiting for an absent agent, but fail it once its unit is gone', () => {
    const op = svc.operations.enqueueAction('m', 'act/1', 'backup', {});
    expect(svc.operations.failStuck('m', () => 3_600_000)).toEqual([]);
    svc.store.db.prepare("DELETE FROM units WHERE model = 'm' AND name = 'act/1'").run();
    expect(svc.operations.failStuck('m', () => 0)).toEqual([{ id: op.id, unit: 'act/1', reason: 'unit act/1 was removed before the operation finished' }]);
  });
});
