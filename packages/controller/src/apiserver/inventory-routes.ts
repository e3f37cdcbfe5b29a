import type { FastifyInstance } from 'fastify';
import type { AuditPackagesRequest, AuditReport, AuditReportAnswer, IndexAddRequest } from '@sigil/api';
import { SigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import { requireMachine } from './server.ts';
import { packagePayload } from '../domain/inventory/fingerprints.ts';

type M = { Params: { model: string } };

const str = (max: number) => ({ type: 'string', maxLength: max }) as const;
const PATH = str(4096);
const MD5 = { type: 'string', pattern: '^[0-9a-f]{32}$' } as const;
const NAME = { type: 'string', minLength: 1, maxLength: 214, pattern: '^[A-Za-z0-9@][A-Za-z0-9@._+/~-]*$' } as const;
const VERSION = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._+~:-]*$' } as const;
/** Files per report and per release at most: a bigger tree was cut by the agent's own limit. */
const MAX_FILES = 1_000_000;

const ReportSchema = {
  type: 'object',
  required: ['unit', 'request', 'collectedAt', 'packages', 'changed', 'charm', 'language', 'roots', 'files', 'skipped', 'ms'],
  additionalProperties: false,
  properties: {
    unit: str(256),
    request: { type: 'integer', minimum: 0 },
    collectedAt: { type: 'integer', minimum: 0 },
    ms: { type: 'integer', minimum: 0 },
    packages: { type: 'array', maxItems: 100_000, items: { type: 'object', required: ['name', 'version', 'arch'], additionalProperties: false, properties: { name: str(256), version: str(256), arch: str(64), source: str(256) } } },
    changed: { type: 'array', maxItems: 1_000_000, items: { type: 'object', required: ['package', 'path', 'state'], additionalProperties: false, properties: { package: str(256), path: PATH, state: { enum: ['modified', 'missing'] } } } },
    charm: {
      type: 'object', required: ['files', 'collected', 'modified', 'missing'], additionalProperties: false,
      properties: { files: { type: 'integer', minimum: 0 }, collected: { type: 'boolean' }, source: PATH, commit: str(256), collectDate: str(256), modified: { type: 'array', maxItems: 100_000, items: PATH }, missing: { type: 'array', maxItems: 100_000, items: PATH } },
    },
    language: { type: 'array', maxItems: 200_000, items: { type: 'object', required: ['ecosystem', 'name', 'version', 'path'], additionalProperties: false, properties: { ecosystem: { enum: ['npm', 'PyPI', 'Packagist', 'Go', 'RubyGems'] }, name: str(256), version: str(256), path: PATH } } },
    roots: { type: 'array', maxItems: 100, items: PATH },
    files: { type: 'array', maxItems: MAX_FILES, items: { type: 'array', minItems: 2, maxItems: 2, items: [PATH, MD5] } },
    skipped: {
      type: 'object', required: ['count', 'byReason', 'samples'], additionalProperties: false,
      properties: { count: { type: 'integer', minimum: 0 }, byReason: { type: 'object', additionalProperties: { type: 'integer' } }, samples: { type: 'array', maxItems: 100, items: { type: 'object', required: ['path', 'reason'], additionalProperties: false, properties: { path: PATH, reason: str(512) } } } },
    },
  },
} as const;

/** Packages per request at most: the agent sends them in small batches. */
const PACKAGES_PER_REQUEST = 100;
const PackagesSchema = {
  type: 'object', required: ['unit', 'packages'], additionalProperties: false,
  properties: {
    unit: str(256),
    packages: {
      type: 'array', minItems: 1, maxItems: PACKAGES_PER_REQUEST,
      items: { type: 'object', required: ['name', 'version', 'files'], additionalProperties: false, properties: { name: NAME, version: VERSION, files: { type: 'array', maxItems: 200_000, items: { type: 'array', minItems: 2, maxItems: 2, items: [{ type: 'string', minLength: 1, maxLength: 4096 }, MD5] } } } },
    },
  },
} as const;

const IndexAddSchema = {
  type: 'object', required: ['name', 'version', 'source', 'files'], additionalProperties: false,
  properties: { name: NAME, version: VERSION, source: { enum: ['upstream', 'deb'] }, files: { type: 'array', minItems: 1, maxItems: MAX_FILES, items: { type: 'array', minItems: 2, maxItems: 2, items: [{ type: 'string', minLength: 1, maxLength: 4096 }, MD5] } } },
} as const;
const IndexRemoveSchema = { type: 'object', required: ['name', 'version'], additionalProperties: false, properties: { name: NAME, version: VERSION } } as const;
const CollectSchema = { type: 'object', required: ['targets'], additionalProperties: false, properties: { targets: { type: 'array', maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 256 } } } } as const;

/** The inventory is large: agents send a unit's whole file list (tens of MB for a big tree). */
const REPORT_BODY = 256 * 1024 ** 2;

/**
 * The software inventory (issue 19): agents send their units' collections; users ask for
 * collections, read inventories and counts, and (controller admins) grow the fingerprint
 * index every model is matched against.
 */
export function registerInventoryRoutes(app: FastifyInstance, svc: Services): void {
  app.post<{ Body: AuditReport }>('/api/agent/audit', { schema: { body: ReportSchema }, bodyLimit: REPORT_BODY }, async (req) => {
    const { machine } = requireMachine(req);
    const u = svc.reads.unit(machine.model, req.body.unit);
    if (!u || u.machine !== machine.id) throw new SigilError('forbidden', `unit ${req.body.unit} is not on machine ${machine.id}`, 'a machine agent speaks only for the units on its own machine');
    if (req.body.files.some(([p]) => !p.startsWith('/') || p.split('/').includes('..'))) throw new SigilError('bad-request', 'inventory file paths must be absolute and without ".."', 'the agent reports paths as it found them on the machine');
    const r = svc.inventory.receive(machine.model, req.body);
    svc.log.info('inventory received', { model: machine.model, unit: req.body.unit, files: req.body.files.length, packages: req.body.packages.length, embedded: r.embedded, wanted: r.indexWanted.length });
    return { ok: true, ...r } satisfies AuditReportAnswer;
  });
  // The files of installed packages the index lacked, as the agent read them from dpkg.
  app.post<{ Body: AuditPackagesRequest }>('/api/agent/audit/packages', { schema: { body: PackagesSchema }, bodyLimit: REPORT_BODY }, async (req) => {
    const { machine } = requireMachine(req);
    const u = svc.reads.unit(machine.model, req.body.unit);
    if (!u || u.machine !== machine.id) throw new SigilError('forbidden', `unit ${req.body.unit} is not on machine ${machine.id}`, 'a machine agent speaks only for the units on its own machine');
    const added = svc.inventory.indexPackages(machine.model, req.body);
    if (added > 0) svc.log.info('installed packages indexed', { model: machine.model, unit: req.body.unit, added });
    return { added };
  });

  app.get<M>('/api/models/:model/inventory', async (req) => svc.inventory.summary(svc.models.mustGet(req.params.model).name));
  app.get<M & { Querystring: { units?: string } }>('/api/models/:model/inventory/units', async (req) => {
    const model = svc.models.mustGet(req.params.model).name;
    const units = (req.query.units ?? '').split(',').filter(Boolean);
    for (const u of units) if (!svc.reads.unit(model, u)) throw new SigilError('not-found', `unit "${u}" not found in model ${model}`, 'see `sigil status`');
    return svc.inventory.inventories(model, units);
  });
  app.post<M & { Body: { targets: string[] } }>('/api/models/:model/inventory/collect', { schema: { body: CollectSchema } }, async (req) => {
    const model = svc.models.mustBeAlive(req.params.model).name;
    const units = svc.inventory.requestCollect(model, req.body.targets);
    svc.wake();
    return { units };
  });

  app.get('/api/inventory/index', async () => svc.inventory.listIndex());
  app.post<{ Body: IndexAddRequest }>('/api/inventory/index', { schema: { body: IndexAddSchema }, bodyLimit: REPORT_BODY }, async (req) => {
    if (req.body.files.some(([p]) => p.startsWith('/') || p.split('/').includes('..'))) throw new SigilError('bad-request', 'release file paths must be relative and without ".."', 'paths are relative to the release\'s top directory');
    // A .deb is indexed as the packages agents see installed are: its payload, from the directory it shares.
    const r = svc.inventory.repo.addRelease(req.body.name, req.body.version, req.body.source, req.body.source === 'deb' ? packagePayload(req.body.files) : req.body.files);
    svc.log.info('release indexed', { name: r.name, version: r.version, source: r.source, files: r.files });
    // Every model's reports are matched again now, so status shows the new copies at once.
    for (const m of svc.models.list()) svc.inventory.refreshStale(m.name);
    return { name: r.name, version: r.version, source: r.source, files: r.files, added: r.added };
  });
  app.post<{ Body: { name: string; version: string } }>('/api/inventory/index/remove', { schema: { body: IndexRemoveSchema } }, async (req) => {
    const removed = svc.inventory.repo.removeRelease(req.body.name, req.body.version);
    for (const m of svc.models.list()) svc.inventory.refreshStale(m.name);
    if (removed === 0) throw new SigilError('not-found', `${req.body.name}=${req.body.version} is not in the index`, 'list it with `sigil audit index list`');
    return { removed };
  });
}
