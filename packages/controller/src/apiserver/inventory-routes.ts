import type { FastifyInstance } from 'fastify';
import { SigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import { requireMachine } from './server.ts';
import { packagePayload } from '../domain/inventory/fingerprints.ts';
import { routes } from './contract.ts';

/** The inventory is large: agents send a unit's whole file list (tens of MB for a big tree). */
const REPORT_BODY = 256 * 1024 ** 2;

/**
 * The software inventory (issue 19): agents send their units' collections; users ask for
 * collections, read inventories and counts, and (controller admins) grow the fingerprint
 * index every model is matched against.
 */
export function registerInventoryRoutes(app: FastifyInstance, svc: Services): void {
  const on = routes(app);
  on('POST /api/agent/audit', async (req) => {
    const { machine } = requireMachine(req);
    const u = svc.reads.unit(machine.model, req.body.unit);
    if (!u || u.machine !== machine.id) throw new SigilError('forbidden', `unit ${req.body.unit} is not on machine ${machine.id}`, 'a machine agent speaks only for the units on its own machine');
    if (req.body.files.some(([p]) => !p.startsWith('/') || p.split('/').includes('..'))) throw new SigilError('bad-request', 'inventory file paths must be absolute and without ".."', 'the agent reports paths as it found them on the machine');
    const r = svc.inventory.receive(machine.model, req.body);
    svc.log.info('inventory received', { model: machine.model, unit: req.body.unit, files: req.body.files.length, packages: req.body.packages.length, embedded: r.embedded, wanted: r.indexWanted.length });
    return { ok: true, ...r };
  }, { bodyLimit: REPORT_BODY });
  // The files of installed packages the index lacked, as the agent read them from dpkg.
  on('POST /api/agent/audit/packages', async (req) => {
    const { machine } = requireMachine(req);
    const u = svc.reads.unit(machine.model, req.body.unit);
    if (!u || u.machine !== machine.id) throw new SigilError('forbidden', `unit ${req.body.unit} is not on machine ${machine.id}`, 'a machine agent speaks only for the units on its own machine');
    const added = svc.inventory.indexPackages(machine.model, req.body);
    if (added > 0) svc.log.info('installed packages indexed', { model: machine.model, unit: req.body.unit, added });
    return { added };
  }, { bodyLimit: REPORT_BODY });

  on('GET /api/models/:model/inventory', async (req) => svc.inventory.summary(svc.models.mustGet(req.params.model).name));
  on('GET /api/models/:model/inventory/units', async (req) => {
    const model = svc.models.mustGet(req.params.model).name;
    const units = (req.query.units ?? '').split(',').filter(Boolean);
    for (const u of units) if (!svc.reads.unit(model, u)) throw new SigilError('not-found', `unit "${u}" not found in model ${model}`, 'see `sigil status`');
    return svc.inventory.inventories(model, units);
  });
  on('POST /api/models/:model/inventory/collect', async (req) => {
    const model = svc.models.mustBeAlive(req.params.model).name;
    const units = svc.inventory.requestCollect(model, req.body.targets);
    svc.wake();
    return { units };
  });

  on('GET /api/inventory/index', async () => svc.inventory.listIndex());
  on('POST /api/inventory/index', async (req) => {
    if (req.body.files.some(([p]) => p.startsWith('/') || p.split('/').includes('..'))) throw new SigilError('bad-request', 'release file paths must be relative and without ".."', 'paths are relative to the release\'s top directory');
    // A .deb is indexed as the packages agents see installed are: its payload, from the directory it shares.
    const r = svc.inventory.repo.addRelease(req.body.name, req.body.version, req.body.source, req.body.source === 'deb' ? packagePayload(req.body.files) : req.body.files);
    svc.log.info('release indexed', { name: r.name, version: r.version, source: r.source, files: r.files });
    // Every model's reports are matched again now, so status shows the new copies at once.
    for (const m of svc.models.list()) svc.inventory.refreshStale(m.name);
    return { name: r.name, version: r.version, source: r.source, files: r.files, added: r.added };
  }, { bodyLimit: REPORT_BODY });
  on('POST /api/inventory/index/remove', async (req) => {
    const removed = svc.inventory.repo.removeRelease(req.body.name, req.body.version);
    for (const m of svc.models.list()) svc.inventory.refreshStale(m.name);
    if (removed === 0) throw new SigilError('not-found', `${req.body.name}=${req.body.version} is not in the index`, 'list it with `sigil audit index list`');
    return { removed };
  });
}
