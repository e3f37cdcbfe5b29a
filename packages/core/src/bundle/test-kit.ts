/*
 * Shared fixtures for the bundle tests: real charms parsed from text, an in-memory file
 * tree for include-file://, and `applyPlan`, which carries out a plan on a ModelState the
 * way the controller does (machines numbered in order, units numbered per application,
 * peer relations on deploy, subordinate units beside principals on relate).
 */
import { parseCharm } from '../charm/charm.ts';
import { charmEndpoints } from '../charm/endpoints.ts';
import type { Charm } from '../charm/types.ts';
import { SigilError } from '../errors.ts';
import { loadBundle } from './load.ts';
import type { Bundle, BundleCharm, Change, ModelApp, ModelState } from './types.ts';

export const DIR = '/srv/bundles';

const charm = (name: string, meta: string, config?: string): Charm =>
  parseCharm({ metadata: `name: ${name}\nsummary: s\ndescription: d\n${meta}`, ...(config === undefined ? {} : { config }) });

export const CHARMS: Record<string, Charm> = {
  wordpress: charm(
    'wordpress',
    'requires:\n  db: {interface: mysql}\n  cache: {interface: memcache}\nprovides:\n  website: {interface: http}\npeers:\n  cluster: {interface: wp-peers}\n',
    'options:\n  blog-title: {type: string, default: My Blog}\n  port: {type: int, default: 80}\n  debug: {type: boolean, default: false}\n  tls-cert: {type: string}\n',
  ),
  mysql: charm('mysql', 'provides:\n  db: {interface: mysql}\n  db-admin: {interface: mysql}\n', 'options:\n  max-connections: {type: int, default: 100}\n'),
  memcached: charm('memcached', 'provides:\n  cache: {interface: memcache}\n'),
  haproxy: charm('haproxy', 'requires:\n  backend: {interface: http}\n'),
  logger: charm('logger', 'subordinate: true\nrequires:\n  host: {interface: juju-info, scope: container}\n'),
};

/** The charm each path under ./charms/ holds: the directory's last segment names it. */
export function charmAt(path: string, hash = 'h1'): BundleCharm {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const c = CHARMS[name];
  if (c === undefined) throw new Error(`no test charm ${name}`);
  return { hash: `${name}-${hash}`, charm: c };
}

export function charmsFor(bundle: Bundle, hash = 'h1'): Record<string, BundleCharm> {
  return Object.fromEntries(Object.entries(bundle.applications).map(([app, a]) => [app, charmAt(a.charm, hash)]));
}

export function files(tree: Record<string, string | Buffer>): (p: string) => Buffer {
  return (p) => {
    const f = tree[p];
    if (f === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
    return typeof f === 'string' ? Buffer.from(f) : f;
  };
}

/** Loads YAML text as /srv/bundles/bundle.yaml, with overlays given as [name, text]. */
export function load(text: string, overlays: [string, string][] = [], tree: Record<string, string | Buffer> = {}): Bundle {
  return loadBundle({ path: `${DIR}/bundle.yaml`, text }, overlays.map(([name, t]) => ({ path: `${DIR}/${name}`, text: t })), files(tree));
}

export const emptyModel = (): ModelState => ({ applications: {}, machines: [], relations: [] });

/** Carries out `changes` on a copy of `model`. Charms are looked up by path as charmAt does. */
export function applyPlan(model: ModelState, changes: Change[], hash = 'h1'): ModelState {
  const m: ModelState = structuredClone(model);
  const bundleMachines = new Map<string, string>();
  const next = new Map<string, number>();
  const newMachine = () => {
    const id = String(m.machines.reduce((max, x) => Math.max(max, Number(x) + 1), 0));
    m.machines.push(id);
    return id;
  };
  const app = (name: string): ModelApp => m.applications[name] ?? (() => { throw new Error(`no app ${name}`); })();
  const machineFor = (p: string): string => {
    if (p === 'new') return newMachine();
    if (/^[0-9]+$/.test(p)) return bundleMachines.get(p) ?? (() => { throw new Error(`bundle machine ${p} not added`); })();
    const unit = Object.values(m.applications).flatMap((a) => a.units).find((u) => u.name === p);
    if (unit?.machine == null) throw new Error(`no unit ${p} with a machine`);
    return unit.machine;
  };
  const addUnits = (name: string, n: number, to: string[]) => {
    const a = app(name);
    for (let i = 0; i < n; i++) {
      const num = next.get(name) ?? a.units.reduce((max, u) => Math.max(max, Number(u.name.split('/')[1]) + 1), 0);
      next.set(name, num + 1);
      a.units.push({ name: `${name}/${num}`, machine: machineFor(to[Math.min(i, to.length - 1)] ?? 'new') });
    }
  };
  for (const c of changes) {
    switch (c.kind) {
      case 'add-charm':
        break;
      case 'add-machine': {
        const id = newMachine();
        bundleMachines.set(c.id, id);
        if (c.constraints !== '' || c.annotations !== undefined) (m.machineSpecs ??= {})[id] = { constraints: c.constraints, annotations: { ...c.annotations } };
        break;
      }
      case 'deploy': {
        const { hash: h, charm: ch } = charmAt(c.charmPath, hash);
        m.applications[c.app] = { charmName: ch.meta.name, charmHash: h, units: [], config: { ...c.options }, exposed: false, constraints: c.constraints, annotations: {}, subordinate: ch.meta.subordinate };
        for (const peer of charmEndpoints(ch.meta).filter((e) => e.role === 'peer')) m.relations.push({ endpoints: [{ app: c.app, name: peer.name }] });
        addUnits(c.app, c.numUnits, c.to);
        break;
      }
      case 'refresh':
        app(c.app).charmHash = charmAt(c.charmPath, hash).hash;
        break;
      case 'add-unit':
        addUnits(c.app, c.n, c.to);
        break;
      case 'set-config': {
        const a = app(c.app);
        Object.assign(a.config, c.set);
        for (const k of c.reset) delete a.config[k];
        break;
      }
      case 'set-constraints':
        app(c.app).constraints = c.constraints;
        break;
      case 'relate': {
        const [a, b] = [c.a, c.b].map((s) => s.split(':') as [string, string]) as [[string, string], [string, string]];
        if (m.relations.some((r) => r.endpoints.map((e) => `${e.app}:${e.name}`).sort().join(' ') === [c.a, c.b].sort().join(' '))) {
          throw new SigilError('already-exists', `relation ${c.a} ${c.b} exists`);
        }
        m.relations.push({ endpoints: [{ app: a[0], name: a[1] }, { app: b[0], name: b[1] }] });
        const [sub, principal] = app(a[0]).subordinate ? [a[0], b[0]] : app(b[0]).subordinate ? [b[0], a[0]] : [];
        if (sub !== undefined && principal !== undefined) {
          for (const u of app(principal).units) addUnits(sub, 1, [u.name]);
        }
        break;
      }
      case 'expose':
      case 'unexpose':
        app(c.app).exposed = c.kind === 'expose';
        break;
      case 'set-annotations':
        Object.assign(app(c.app).annotations, c.annotations);
        break;
    }
  }
  return m;
}

/** The charms of a model's applications, by application name. */
export function modelCharms(model: ModelState): Record<string, Charm> {
  return Object.fromEntries(Object.entries(model.applications).map(([name, a]) => [name, CHARMS[a.charmName]!]));
}
