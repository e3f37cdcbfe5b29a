// Offers across controllers (issue 20): a model on one controller consumes and relates to an
// offer of another controller, relation data flows both ways through the consuming
// controller's remote-relations worker, both sides show it in status with Juju's keys, the
// credential the offering controller minted opens nothing but that offer's exchanges (its
// end with the user's consume access is in domain/remote-offers.test.ts), and removing the
// relation ends it on both sides.
// The suite has its own SIGIL_HOME with two local-process controllers.
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelStatusDoc } from '@sigil/api';
import { CHARMS, controllerEntry, ok, poll, sigil, status } from './harness.ts';
import { alive } from '../tests/procs.ts';

const home = mkdtempSync(join(tmpdir(), 'sigil-xc-'));
const O = 'xc-offering';
const C = 'xc-consuming';
const OFFERING = `${O}:default`;
const CONSUMING = `${C}:default`;
const URL = `${O}:admin/default.tokens`;

const run = (args: string[]) => ok(args, { home });
const statusOf = (model: string) => status(model, { home });
const sh = async (model: string, unit: string, cmd: string) => (await run(['exec', '-m', model, '--unit', unit, '--', ...cmd.split(' ')])).trim();
const workload = (s: ModelStatusDoc, unit: string) => {
  const w = s.applications[unit.split('/')[0]!]?.units?.[unit]?.['workload-status'];
  return w ? `${w.current} ${w.message ?? ''}`.trim() : '';
};
async function until(model: string, what: string, pred: (s: ModelStatusDoc) => boolean, timeoutMs = 60_000): Promise<ModelStatusDoc> {
  return poll(what, async () => {
    const s = await statusOf(model);
    return pred(s) ? s : undefined;
  }, timeoutMs, 500);
}

/** A POST straight to a controller's API with some credential, trusting only its pinned CA. */
function post(controller: string, path: string, token: string | undefined, body: unknown): Promise<{ status: number; json: { error?: { message: string; hint?: string } } & Record<string, unknown> }> {
  const e = controllerEntry(controller, home);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(e.endpoint + path, { method: 'POST', ca: e['ca-cert'], timeout: 10_000, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as never }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

beforeAll(async () => {
  // One at a time: both write the same controllers.yaml.
  await run(['bootstrap', '--provider', 'local-process', O]);
  await run(['bootstrap', '--provider', 'local-process', C]);
  await run(['deploy', join(CHARMS, 'source'), 'source', '-m', OFFERING, '--config', 'token=abc']);
  await run(['deploy', join(CHARMS, 'sink'), 'sink', '-m', CONSUMING]);
  await run(['offer', 'source:output', 'tokens', '-m', OFFERING]);
  await until(OFFERING, 'source active', (s) => workload(s, 'source/0') === 'active token=abc', 90_000);
}, 180_000);

afterAll(async () => {
  for (const c of [C, O]) await sigil(['destroy-controller', c, '--yes'], { home });
  rmSync(home, { recursive: true, force: true });
}, 120_000);

describe('offers across controllers', () => {
  it('integrate with another controller\'s offer URL: the token crosses controllers, and a bag and a change come back', async () => {
    await run(['integrate', 'sink', URL, '-m', CONSUMING]);
    const consuming = await until(CONSUMING, 'the token to cross controllers', (s) => workload(s, 'sink/0') === 'active token=abc app-token=abc');
    expect(consuming['application-endpoints'].tokens).toMatchObject({
      url: URL,
      endpoints: { output: { interface: 'token', role: 'provider' } },
      'application-status': { current: 'active' },
      relations: { output: ['sink'] },
    });
    const rid = await sh(CONSUMING, 'sink/0', 'relation-ids input');
    expect(await sh(CONSUMING, 'sink/0', `relation-list -r ${rid}`)).toBe('tokens/0');
    expect(await run(['status', '-m', CONSUMING])).toMatch(new RegExp(`^tokens\\s+active\\s+local\\s+${URL.replace(/[.]/g, '\\.')}$`, 'm'));

    const offering = await until(OFFERING, 'the offer to count its connection', (s) => s.offers.tokens?.['active-connected-count'] === 1);
    expect(offering.applications.source?.relations?.output?.[0]?.['related-application']).toMatch(/^remote-[0-9a-f]{32}$/);

    // The other way: a bag written on the consuming controller is read on the offering one.
    await sh(CONSUMING, 'sink/0', `relation-set -r ${rid} back=hello-from-${C}`);
    const ridO = await sh(OFFERING, 'source/0', 'relation-ids output');
    const remote = await sh(OFFERING, 'source/0', `relation-list -r ${ridO}`);
    expect(remote).toMatch(/^remote-[0-9a-f]{32}\/0$/);
    await poll('source/0 to read the bag written on the other controller', async () =>
      (await sh(OFFERING, 'source/0', `relation-get -r ${ridO} back ${remote}`)) === `hello-from-${C}` ? true : undefined, 30_000);
    // And a change on the offering controller reaches the consuming one.
    await run(['config', 'source', 'token=xyz', '-m', OFFERING]);
    await until(CONSUMING, 'the new token to cross controllers', (s) => workload(s, 'sink/0') === 'active token=xyz app-token=xyz');
  }, 180_000);

  it('the offering controller\'s credential opens only that offer\'s exchanges', async () => {
    const admin = controllerEntry(O, home).token;
    const minted = await post(O, '/api/offers/consumer-token', admin, { url: 'admin/default.tokens', consumer: 'test' });
    expect(minted.status).toBe(200);
    const token = String(minted.json.token);
    // Nothing but the remote-relation routes: not status, not the client API.
    for (const [path, body] of [['/api/models/default/config', { set: { token: 'stolen' }, reset: [] }], ['/api/offers/consumer-token', { url: 'admin/default.tokens', consumer: 'x' }]] as const) {
      const r = await post(O, path, token, body);
      expect(r.status).toBe(403);
      expect(r.json.error?.message).toMatch(/an offer's credential cannot call/);
    }
    // A user's session cannot pose as a consuming controller.
    const asUser = await post(O, '/api/remote-relations/1/sync', admin, { life: 'alive', scope: [], settings: [] });
    expect(asUser.status).toBe(403);
    expect(asUser.json.error?.message).toMatch(/is for consuming controllers only/);
    // A relation the credential's offer has no link to is dead to it.
    expect((await post(O, '/api/remote-relations/999/sync', token, { life: 'alive', scope: [], settings: [] })).json).toMatchObject({ life: 'dead', scope: [] });
    expect((await statusOf(OFFERING)).applications.source?.units?.['source/0']?.['workload-status'].message).toBe('token=xyz');
    // Bad input changes nothing and says what was wrong.
    const bad = await post(O, '/api/remote-relations', token, { consumer: { model: 'm', app: 'x', endpoint: { name: 'input', interface: 'http', role: 'requirer' } }, offerEndpoint: 'output' });
    expect(bad.status).toBe(400);
    expect(bad.json.error?.message).toMatch(/does not fit source:output/);
    expect(bad.json.error?.hint).toBeTruthy();
  });

  it('says why the offering controller cannot be reached, and catches up by itself once it is back', async () => {
    const dir = join(home, 'controllers', O);
    const [sup, ctl] = ['supervisor.pid', 'controller.pid'].map((f) => Number(readFileSync(join(dir, f), 'utf8'))) as [number, number];
    process.kill(sup, 'SIGTERM');
    await poll('the offering controller to stop', async () => (alive(sup) || alive(ctl) ? undefined : true), 20_000);
    await until(CONSUMING, 'the SAAS to say why', (s) => /^controller xc-offering: cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED$/.test(s['application-endpoints'].tokens?.['application-status']?.message ?? ''));
    // A change made while it is away reaches it once it is back.
    const rid = await sh(CONSUMING, 'sink/0', 'relation-ids input');
    await sh(CONSUMING, 'sink/0', `relation-set -r ${rid} back=while-away`);
    await run(['start-controller', O]);
    await until(CONSUMING, 'the SAAS to recover', (s) => s['application-endpoints'].tokens?.['application-status']?.message === 'token=xyz');
    const ridO = await sh(OFFERING, 'source/0', 'relation-ids output');
    const remote = await sh(OFFERING, 'source/0', `relation-list -r ${ridO}`);
    await poll('source/0 to read the bag written while its controller was away', async () =>
      (await sh(OFFERING, 'source/0', `relation-get -r ${ridO} back ${remote}`)) === 'while-away' ? true : undefined, 30_000);
  }, 120_000);

  it('remove-relation on the consuming controller ends the relation on both sides, and remove-saas forgets the offer', async () => {
    await run(['remove-relation', 'sink', 'tokens', '-m', CONSUMING]);
    await until(CONSUMING, 'sink to lose its source', (s) => workload(s, 'sink/0').startsWith('blocked') && s['application-endpoints'].tokens?.relations === undefined);
    const offering = await until(OFFERING, 'the offering side to end its relation', (s) => s.offers.tokens?.['total-connected-count'] === undefined && s.applications.source?.relations?.output === undefined);
    expect(offering.offers.tokens).toMatchObject({ application: 'source' });
    await run(['remove-saas', 'tokens', '-m', CONSUMING]);
    expect((await statusOf(CONSUMING))['application-endpoints'].tokens).toBeUndefined();
  }, 120_000);
});
