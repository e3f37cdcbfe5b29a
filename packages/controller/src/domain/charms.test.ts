// Charm uploads against a real store on a temp SQLite file: hostile archives are refused,
// naming the entry, with nothing stored; an inside symlink survives the whole trip from the
// CLI's reader to the agent's unpacker.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import AdmZip from 'adm-zip';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { CharmArchive, CharmArchiveFile, CharmUpload } from '@sigil/api';
import { SigilError } from '@sigil/core';
import { readCharmDir } from '@sigil/cli/src/charm-dir.ts';
import { unpackCharm } from '@sigil/agent/src/charm-unpack.ts';
import { openTestDb } from '../store/test-store.ts';
import { Store } from '../store/store.ts';
import { Services } from '../services.ts';
import { silentLogger } from '../logger.ts';
import { buildServer } from '../apiserver/server.ts';

const META = 'name: linky\nsummary: s\ndescription: d\n';
const TOKEN = 'charms-test-token';
const file = (path: string, text: string, mode = 0o644): CharmArchiveFile => ({ path, mode, data: Buffer.from(text).toString('base64') });
const link = (path: string, target: string): CharmArchiveFile => ({ path, mode: 0o777, data: '', link: target });

let dir: string;
let store: Store;
let svc: Services;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sigil-charms-'));
  store = new Store(openTestDb(dir));
  svc = new Services(store, silentLogger, 'test', createHash('sha256').update(TOKEN).digest('hex'), join(dir, 'controller.log'), () => {});
  svc.models.add('m');
});
afterEach(() => {
  store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An upload made straight from a zip's entries, as a client that skips the CLI's checks would send it. */
function uploadOfZip(entries: { name: string; text: string }[]): CharmUpload {
  const zip = new AdmZip();
  entries.forEach((e, i) => {
    zip.addFile(`entry-${i}`, Buffer.from(e.text), '', 0o644);
    zip.getEntry(`entry-${i}`)!.entryName = e.name;
  });
  const read = new AdmZip(zip.toBuffer());
  return { files: read.getEntries().map((e) => ({ path: e.entryName, mode: 0o644, data: e.getData().toString('base64') })) };
}

function refusedAdd(upload: CharmUpload): SigilError {
  const before = store.revision();
  try {
    svc.charms.add('m', upload);
  } catch (e) {
    if (!(e instanceof SigilError)) throw e;
    expect(store.revision()).toBe(before);
    expect(svc.reads.charms('m')).toEqual([]);
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM blobs').get()).toEqual({ n: 0 });
    return e;
  }
  throw new Error('expected the upload to be refused');
}

describe('Charms.add', () => {
  test('refuses a zip entry that climbs out with .., naming it, storing nothing', () => {
    const e = refusedAdd(uploadOfZip([{ name: 'metadata.yaml', text: META }, { name: '../../../../x', text: 'pwned' }]));
    expect(e.code).toBe('invalid-charm');
    expect(e.message).toContain('charm entry "../../../../x" climbs out of the charm');
    expect(e.hint).toMatch(/relative paths inside the charm/);
  });

  test.each([
    ['an absolute entry', [file('metadata.yaml', META), file('/etc/cron.d/x', 'pwned')], '"/etc/cron.d/x" is an absolute path'],
    ['a backslash entry', [file('metadata.yaml', META), file('..\\..\\x', 'pwned')], 'backslash'],
    ['a NUL in a name', [file('metadata.yaml', META), file('a\u0000b', 'pwned')], 'control character'],
    ['an empty name', [file('metadata.yaml', META), file('', 'pwned')], 'empty name'],
    ['an absolute symlink', [file('metadata.yaml', META), link('shadow', '/etc/shadow')], 'symlink "shadow" points outside the charm with an absolute target'],
    ['an escaping symlink', [file('metadata.yaml', META), link('hooks/stolen', '../../accounts.yaml')], 'symlink "hooks/stolen" points outside the charm'],
    ['a file beneath a symlink', [file('metadata.yaml', META), link('hooks', 'src'), file('hooks/install', 'x')], 'lies beneath the symlink "hooks"'],
    ['metadata.yaml as a link loop', [link('metadata.yaml', 'metadata.yaml')], 'is part of a loop'],
  ])('refuses %s', (_what, files, message) => {
    const e = refusedAdd({ files });
    expect(e.code).toBe('invalid-charm');
    expect(e.message).toContain(message);
    expect(e.hint).toBeTruthy();
  });

  test('reads metadata through a link inside the charm and stores the link as a link', () => {
    const row = svc.charms.add('m', { files: [file('src/metadata.yaml', META), link('metadata.yaml', 'src/metadata.yaml'), file('x', 'y')] });
    expect(row.charm.meta.name).toBe('linky');
    const stored = JSON.parse(svc.charms.blob(row.hash).toString('utf8')) as CharmArchive;
    expect(stored.files).toContainEqual({ path: 'metadata.yaml', mode: 0o777, data: '', link: 'src/metadata.yaml' });
  });
});

describe('POST /api/models/:model/charms', () => {
  test('answers a hostile upload with the named invalid-charm error, and accepts links', async () => {
    const app = buildServer(svc);
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/models/m/charms`;
      const post = (body: unknown) => fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const bad = await post(uploadOfZip([{ name: 'metadata.yaml', text: META }, { name: '../../x', text: 'pwned' }]));
      expect(bad.status).toBe(400);
      const { error } = (await bad.json()) as { error: { code: string; message: string; hint?: string } };
      expect(error.code).toBe('invalid-charm');
      expect(error.message).toContain('"../../x"');
      expect(error.hint).toBeTruthy();
      const good = await post({ files: [file('metadata.yaml', META), file('src/charm.py', '#!/bin/sh\n', 0o755), link('hooks/install', '../src/charm.py')] });
      expect(good.status).toBe(200);
      expect(svc.reads.charms('m').map((c) => c.url)).toEqual(['local:linky-0']);
    } finally {
      await app.close();
    }
  });
});

describe('an inside symlink from the CLI to the agent', () => {
  test('readCharmDir → Charms.add → blob → unpackCharm gives the same link', async () => {
    const charm = join(dir, 'charm');
    mkdirSync(join(charm, 'src'), { recursive: true });
    mkdirSync(join(charm, 'hooks'));
    writeFileSync(join(charm, 'metadata.yaml'), META);
    writeFileSync(join(charm, 'src', 'charm.py'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    symlinkSync('../src/charm.py', join(charm, 'hooks', 'install'));
    symlinkSync('install', join(charm, 'hooks', 'config-changed'));

    const row = svc.charms.add('m', readCharmDir(charm).archive);
    const unit = join(dir, 'agents', 'unit-linky-0', 'charm');
    await unpackCharm(JSON.parse(svc.charms.blob(row.hash).toString('utf8')) as CharmArchive, unit);

    expect(lstatSync(join(unit, 'hooks', 'install')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(unit, 'hooks', 'install'))).toBe('../src/charm.py');
    expect(readlinkSync(join(unit, 'hooks', 'config-changed'))).toBe('install');
    expect(readFileSync(join(unit, 'hooks', 'config-changed'), 'utf8')).toContain('echo hi');
    expect(lstatSync(join(unit, 'src', 'charm.py')).mode & 0o777).toBe(0o755);
  });
});
