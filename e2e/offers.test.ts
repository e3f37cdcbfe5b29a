// Offers across models on one controller (issue 20): offer, find-offers, consume, integrate
// with an offer URL, remove-relation, remove-offer; relation data flowing both ways between
// two models; Juju's status keys on both sides; and the refusals that change nothing.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelStatusDoc } from '@sigil/api';
import { CHARMS, ROOT, freshModel, hookLines, ok, poll, sigil, until, workload } from './harness.ts';

let consumer: string;
let offering: string;
let offeringName: string;
let url: string;

const sh = async (model: string, unit: string, cmd: string) => (await ok(['exec', '-m', model, '--unit', unit, '--', ...cmd.split(' ')])).trim();

/** A refusal: a non-zero exit, `ERROR …` and a `hint:` line. */
async function refused(args: string[], message: RegExp, run: (args: string[]) => Promise<{ code: number; stderr: string }> = (a) => sigil(a)): Promise<void> {
  const r = await run(args);
  expect({ args, failed: r.code !== 0 }).toEqual({ args, failed: true });
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toMatch(/^hint: /m);
}

const home = mkdtempSync(join(tmpdir(), 'sigil-offers-user-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const USER = 'carol';
const PASSWORD = 'carol-offers-Secret-5150';

/** The CLI as another user, from her own SIGIL_HOME. */
function asUser(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(join(ROOT, 'bin', 'sigil'), args, { env: { ...process.env, SIGIL_HOME: home }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

beforeAll(async () => {
  consumer = await freshModel('offers-a');
  offering = await freshModel('offers-b');
  offeringName = offering.split(':')[1]!;
  url = `admin/${offeringName}.tokens`;
  await ok(['deploy', join(CHARMS, 'source'), 'source', '-m', offering, '--config', 'token=abc']);
  await ok(['deploy', join(CHARMS, 'sink'), 'sink', '-m', consumer]);
  await until(offering, 'source active', (s) => workload(s, 'source/0') === 'active token=abc', 90_000);
  await until(consumer, 'sink waiting for a source', (s) => workload(s, 'sink/0') === 'blocked waiting for a source', 90_000);
}, 150_000);

describe('offers across models', () => {
  it('offer refuses an endpoint that is not a provides/requires endpoint, and changes nothing', async () => {
    await refused(['offer', 'source:nothing', 'tokens', '-m', offering], /application "source" has no "nothing" provides or requires endpoint/);
    await refused(['offer', 'sink:cluster', '-m', consumer], /has no "cluster" provides or requires endpoint/);
    await refused(['offer', 'nosuch:output', '-m', offering], /application "nosuch" not found/);
    const found = JSON.parse(await ok(['find-offers', '-c', 'e2e', '--format', 'json'])) as Record<string, unknown>;
    expect(Object.keys(found).filter((k) => k.includes(offeringName) || k.includes(consumer.split(':')[1]!))).toEqual([]);
  });

  it('offer prints the URL; find-offers lists it with its endpoints', async () => {
    const r = await sigil(['offer', 'source:output', 'tokens', '-m', offering]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`Application "source" endpoints [output] available at "${url}"`);
    const found = JSON.parse(await ok(['find-offers', offeringName, '-c', 'e2e', '--format', 'json'])) as Record<string, { application: string; access: string; endpoints: Record<string, { interface: string; role: string }> }>;
    expect(found[url]).toMatchObject({ application: 'source', access: 'admin', endpoints: { output: { interface: 'token', role: 'provider' } } });
    // The controller from the URL itself, as Juju's [controller:]user/model.offer.
    const table = await ok(['find-offers', `e2e:${url}`]);
    expect(table).toMatch(/^Store\s+URL\s+Access\s+Interfaces/);
    expect(table).toContain(`${url}  admin   token:output`);
  });

  it('integrate with an offer URL: the sink in model A gets the token from model B', async () => {
    await refused(['integrate', 'sink', `admin/${offeringName}.nothing`, '-m', consumer], /application offer "admin\/.*\.nothing" not found/);
    await refused(['consume', 'admin/nosuchmodel.tokens', '-m', consumer], /not found/);
    // Another controller's offer needs that controller in this SIGIL_HOME (e2e/offers-controllers).
    await refused(['consume', `elsewhere:${url}`, '-m', consumer], /controller "elsewhere" not found/);
    expect((await ok(['status', '-m', consumer, '--format', 'json']))).not.toContain('nothing');

    await ok(['integrate', 'sink', url, '-m', consumer]);
    const a = await until(consumer, 'the token to cross models', (s) => workload(s, 'sink/0') === 'active token=abc app-token=abc', 60_000);
    // The consuming model: Juju's application-endpoints entry for the SAAS.
    expect(a['application-endpoints'].tokens).toMatchObject({
      url,
      endpoints: { output: { interface: 'token', role: 'provider' } },
      'application-status': { current: 'active' },
      relations: { output: ['sink'] },
    });
    expect(a.applications.sink?.relations?.input).toEqual([{ 'related-application': 'tokens', interface: 'token', scope: 'global' }]);
    // JUJU_REMOTE_APP is the consumer's alias; the remote unit is named after it.
    expect((await hookLines(consumer, 'sink/0')).some((l) => l.startsWith('input-relation-joined remote=tokens/0 app=tokens'))).toBe(true);
    const rid = await sh(consumer, 'sink/0', 'relation-ids input');
    expect(await sh(consumer, 'sink/0', `relation-list -r ${rid}`)).toBe('tokens/0');
    expect(await sh(consumer, 'sink/0', `relation-get -r ${rid} token tokens/0`)).toBe('abc');

    // The offering model: Juju's offers entry with its connection counts.
    const b = await until(offering, 'the offer to count its connection', (s) => s.offers.tokens?.['active-connected-count'] === 1);
    expect(b.offers.tokens).toMatchObject({ application: 'source', 'total-connected-count': 1, 'active-connected-count': 1, endpoints: { output: { interface: 'token', role: 'provider' } } });
    expect(b.applications.source?.relations?.output?.[0]?.['related-application']).toMatch(/^remote-[0-9a-f]{32}$/);
    const tables = [await ok(['status', '-m', consumer]), await ok(['status', '-m', offering])];
    expect(tables[0]).toMatch(/^SAAS\s+Status\s+Store\s+URL\ntokens\s+active\s+local\s+admin\//m);
    expect(tables[1]).toMatch(/^Offer\s+Application\s+Charm\s+Rev\s+Connected\s+Endpoint\s+Interface\s+Role\ntokens\s+source\s+source\s+\d+\s+1\/1\s+output\s+token\s+provider/m);
  });

  it('data flows the other way too: a bag set in model A is read in model B, whose unit runs relation-changed', async () => {
    const rid = await sh(consumer, 'sink/0', 'relation-ids input');
    await sh(consumer, 'sink/0', `relation-set -r ${rid} back=hello-from-a`);
    const ridB = await sh(offering, 'source/0', 'relation-ids output');
    const remote = await sh(offering, 'source/0', `relation-list -r ${ridB}`);
    expect(remote).toMatch(/^remote-[0-9a-f]{32}\/0$/);
    await poll('source/0 to read the bag written in model A', async () =>
      (await sh(offering, 'source/0', `relation-get -r ${ridB} back ${remote}`)) === 'hello-from-a' ? true : undefined, 30_000);
    await poll('source/0 to run relation-changed for the remote unit', async () =>
      (await hookLines(offering, 'source/0')).some((l) => l.startsWith(`hooks/output-relation-changed remote=${remote} app=${remote.split('/')[0]}`)) ? true : undefined, 30_000);
    // And a change in model B reaches model A.
    await ok(['config', 'source', 'token=xyz', '-m', offering]);
    await until(consumer, 'the new token to cross models', (s) => workload(s, 'sink/0') === 'active token=xyz app-token=xyz', 60_000);
  });

  it('a user needs consume access to the offer: not found until granted', async () => {
    const out = await ok(['add-user', USER, '-c', 'e2e']);
    const string = /sigil register (\S+)/.exec(out)![1]!;
    expect((await asUser(['register', string, '--password-file', '-'], `${PASSWORD}\n`)).code).toBe(0);
    const consumerName = consumer.split(':')[1]!;
    await ok(['grant', USER, 'write', consumerName, '-c', 'e2e']);
    await refused(['consume', url, 'mine', '-m', consumer], /application offer ".*" not found/, asUser);
    expect((await asUser(['find-offers', '--format', 'json'])).stdout.trim()).toBe('{}');
    await ok(['grant', USER, 'consume', url, '-c', 'e2e']);
    const r = await asUser(['consume', url, 'mine', '-m', consumer]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stderr).toContain(`Added ${url} as mine`);
    const s = JSON.parse((await asUser(['status', '-m', consumer, '--format', 'json'])).stdout) as ModelStatusDoc;
    expect(s['application-endpoints'].mine).toMatchObject({ url });
    await ok(['remove-saas', 'mine', '-m', consumer]);
  });

  it('remove-offer refuses while relations use the offer; remove-relation runs departed and broken on both sides', async () => {
    await refused(['remove-offer', url, '-c', 'e2e'], /cannot delete application offer ".*": offer has 1 relation$/m);
    expect(Object.keys(JSON.parse(await ok(['find-offers', offeringName, '-c', 'e2e', '--format', 'json'])) as object)).toEqual([url]);
    await ok(['remove-relation', 'sink', 'tokens', '-m', consumer]);
    await until(consumer, 'sink to see the relation broken', (s) => workload(s, 'sink/0') === 'blocked no source', 60_000);
    const lines = await hookLines(consumer, 'sink/0');
    expect(lines.some((l) => l.startsWith('input-relation-departed remote=tokens/0 app=tokens'))).toBe(true);
    await poll('source/0 to run departed and broken', async () => {
      const hooks = (await hookLines(offering, 'source/0')).map((l) => l.split(' ')[0]);
      return hooks.includes('hooks/output-relation-departed') && hooks.includes('hooks/output-relation-broken') ? true : undefined;
    }, 60_000);
    await until(offering, 'the offer to have no connections', (s) => s.offers.tokens !== undefined && s.offers.tokens['total-connected-count'] === undefined && s.applications.source?.relations?.output === undefined, 30_000);
  });

  it('remove-offer --force removes the relations with the offer', async () => {
    await ok(['integrate', 'sink', 'tokens', '-m', consumer]);
    await until(consumer, 'the token again', (s) => workload(s, 'sink/0') === 'active token=xyz app-token=xyz', 60_000);
    const before = (await hookLines(consumer, 'sink/0')).filter((l) => l.startsWith('input-relation-broken')).length;
    await refused(['remove-offer', url, '-c', 'e2e', '--force'], /without confirmation/);
    await ok(['remove-offer', `e2e:${url}`, '--force', '-y']);
    await until(consumer, 'sink to see the relation broken again', (s) => workload(s, 'sink/0') === 'blocked no source', 60_000);
    expect((await hookLines(consumer, 'sink/0')).filter((l) => l.startsWith('input-relation-broken')).length).toBe(before + 1);
    const a = await until(consumer, 'the SAAS to show the offer gone', (s) => s['application-endpoints'].tokens?.['application-status'].current === 'terminated');
    expect(a['application-endpoints'].tokens?.relations).toBeUndefined();
    const b = await status(offering);
    expect(b.offers).toEqual({});
    expect((await ok(['find-offers', offeringName, '-c', 'e2e', '--format', 'json'])).trim()).toBe('{}');
    await refused(['integrate', 'sink', 'tokens', '-m', consumer], /has been removed/);
    await ok(['remove-saas', 'tokens', '-m', consumer]);
    expect((await status(consumer))['application-endpoints']).toEqual({});
  });
});

async function status(model: string): Promise<ModelStatusDoc> {
  return JSON.parse(await ok(['status', '-m', model, '--format', 'json'])) as ModelStatusDoc;
}
