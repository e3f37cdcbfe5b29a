import {
  SigilError, checkApplicationName, coerceConfigValue, effectiveConfig, validateConfigValues,
  type ConfigValue, type StorageDirective,
} from '@sigil/core';
import type { Store } from '../store/store.ts';
import { Reads, type AppRow } from '../state/rows.ts';
import { Units } from './units.ts';
import { Models, type ModelConfig } from './models.ts';
import { checkSize, storedSize } from './limits.ts';
import { OfferRepository } from '../state/offers.ts';
import { StorageService } from './storage.ts';
import { Resources } from './resources.ts';
import { RolloutRepository } from '../state/rollouts.ts';
import { ApplicationRepository } from '../state/applications.ts';
import { UnitRepository } from '../state/units.ts';
import { RelationRepository } from '../state/relations.ts';
import { LifecycleRepository } from '../state/lifecycle.ts';

export interface DeployArgs {
  model: string;
  app: string;
  charmUrl: string;
  numUnits: number;
  /** Values as the user typed them (strings from the CLI) or typed values from a bundle. */
  config: Record<string, unknown>;
  constraints: string;
  to: string[];
  /** `--storage`, by store name (issue 20). */
  storage?: Record<string, StorageDirective>;
  /** `--resource NAME=FILE`: the files' content, stored with the application in one transaction. */
  resources?: Record<string, Buffer>;
  /** Who deployed (shown as the uploader of its resources). */
  username?: string;
}

export interface ConfigSetting {
  default?: ConfigValue;
  description: string;
  source: 'default' | 'user' | 'unset';
  type: string;
  value?: ConfigValue;
}

export class Applications {
  private readonly reads: Reads;
  private readonly units: Units;
  private readonly models: Models;
  private readonly applications: ApplicationRepository;
  private readonly unitRows: UnitRepository;
  private readonly relations: RelationRepository;

  constructor(private readonly s: Store) {
    this.reads = new Reads(s);
    this.units = new Units(s);
    this.models = new Models(s);
    this.applications = new ApplicationRepository(s);
    this.unitRows = new UnitRepository(s);
    this.relations = new RelationRepository(s);
  }

  deploy(a: DeployArgs): AppRow {
    checkApplicationName(a.app);
    return this.s.tx(() => {
      const { config: limits } = this.models.mustBeAlive(a.model);
      if (this.reads.app(a.model, a.app)) {
        throw new SigilError('already-exists', `application "${a.app}" already exists`, `choose another name: \`sigil deploy <charm> ${a.app}-2\`, or scale it with \`sigil add-unit ${a.app}\``);
      }
      const { charm } = this.reads.charm(a.model, a.charmUrl);
      if (charm.meta.subordinate && a.numUnits > 1) {
        throw new SigilError('bad-request', `cannot use -n ${a.numUnits} with subordinate application "${a.app}"`, 'subordinate units are created when you relate it to a principal application');
      }
      const config = validateConfigValues(charm.meta.name, charm.config, typedConfig(charm.config, a.config));
      checkConfigSizes(limits, config);
      const storage = new StorageService(this.s);
      const directives = storage.resolveDirectives(charm.meta.name, charm.meta.storage ?? {}, a.storage ?? {});
      this.applications.insert(a.model, a.app, { charmUrl: a.charmUrl, config, constraints: a.constraints });
      storage.saveDirectives(a.model, a.app, directives);
      for (const [name, data] of Object.entries(a.resources ?? {})) new Resources(this.s).upload(a.model, a.app, name, data, a.username ?? 'admin');
      // Peer relations exist from the start, one per peers endpoint.
      for (const [name, spec] of Object.entries(charm.meta.peers)) {
        const id = this.relations.nextId(a.model);
        this.relations.insert(a.model, id, `${a.app}:${name}`, [{ app: a.app, name, role: 'peer', interface: spec.interface, scope: spec.scope }]);
      }
      if (!charm.meta.subordinate) this.units.add(a.model, a.app, a.numUnits, a.to);
      return this.reads.mustApp(a.model, a.app);
    });
  }

  /** Sets options from CLI strings or typed values; a bad key or value changes nothing. */
  setConfig(model: string, app: string, values: Record<string, unknown>): void {
    this.s.tx(() => {
      const row = this.alive(model, app);
      const { charm } = this.reads.charm(model, row.charmUrl);
      const typed = validateConfigValues(charm.meta.name, charm.config, typedConfig(charm.config, values));
      checkConfigSizes(this.models.config(model), typed);
      const next = { ...row.config, ...typed };
      // A value equal to the default counts as default (Juju's `source: default`).
      for (const [k, v] of Object.entries(typed)) if (charm.config[k]?.default === v) delete next[k];
      if (JSON.stringify(next) === JSON.stringify(row.config)) return;
      this.applications.setConfig(model, app, next);
    });
  }

  resetConfig(model: string, app: string, keys: string[]): void {
    this.s.tx(() => {
      const row = this.alive(model, app);
      const { charm } = this.reads.charm(model, row.charmUrl);
      const next = { ...row.config };
      for (const k of keys) {
        if (!(k in charm.config)) {
          throw new SigilError('invalid-config', `unknown option "${k}" for application "${app}"`, `valid options: ${Object.keys(charm.config).sort().join(', ') || '(none)'}`);
        }
        delete next[k];
      }
      if (JSON.stringify(next) === JSON.stringify(row.config)) return;
      this.applications.setConfig(model, app, next);
    });
  }

  getConfig(model: string, app: string): { application: string; charm: string; settings: Record<string, ConfigSetting> } {
    const row = this.reads.mustApp(model, app);
    const { charm } = this.reads.charm(model, row.charmUrl);
    const settings: Record<string, ConfigSetting> = {};
    for (const [k, opt] of Object.entries(charm.config).sort(([a], [b]) => a.localeCompare(b))) {
      const s: ConfigSetting = { description: opt.description, source: 'unset', type: opt.type };
      if (opt.default !== undefined) {
        s.default = opt.default;
        s.value = opt.default;
        s.source = 'default';
      }
      const v = row.config[k];
      if (v !== undefined) {
        s.value = v;
        s.source = 'user';
      }
      settings[k] = s;
    }
    return { application: app, charm: charm.meta.name, settings };
  }

  effectiveConfig(model: string, app: string): Record<string, ConfigValue | null> {
    const row = this.reads.mustApp(model, app);
    return effectiveConfig(this.reads.charm(model, row.charmUrl).charm.config, row.config);
  }

  /**
   * `sigil refresh`: moves the application to another revision of its charm. Options the
   * new charm no longer declares are dropped; every unit then runs upgrade-charm and
   * config-changed. No relation hooks run (as in Juju).
   */
  refresh(model: string, app: string, charmUrl: string): void {
    this.s.tx(() => {
      const row = this.alive(model, app);
      const active = new RolloutRepository(this.s).active(model).find((r) => r.doc.app === app);
      if (active) throw new SigilError('conflict', `application "${app}" has a roll-out ${active.doc.status}`, `finish it with \`sigil refresh ${app} --resume\` or undo it with \`sigil refresh ${app} --rollback\` first`);
      const { config } = checkRefresh(this.reads, model, row, charmUrl);
      new LifecycleRepository(this.s).setCharm(model, app, charmUrl, config);
    });
  }

  setExposed(model: string, app: string, exposed: boolean): void {
    this.s.tx(() => {
      const row = this.alive(model, app);
      if (row.exposed === exposed) return;
      this.applications.setExposed(model, app, exposed);
    });
  }

  setConstraints(model: string, app: string, constraints: string): void {
    this.s.tx(() => {
      this.alive(model, app);
      this.applications.setConstraints(model, app, constraints.trim());
    });
  }

  setAnnotations(model: string, app: string, values: Record<string, string>): void {
    this.s.tx(() => {
      const row = this.reads.mustApp(model, app);
      const next = { ...row.annotations, ...values };
      for (const [k, v] of Object.entries(values)) if (v === '') delete next[k];
      this.applications.setAnnotations(model, app, next);
    });
  }

  /** Marks the application, its units and relations dying; agents and the cleanup worker do the rest. */
  remove(model: string, app: string, destroyStorage = false): void {
    this.s.tx(() => {
      const offers = new OfferRepository(this.s);
      if (!this.reads.app(model, app) && offers.saas(model, app)) {
        throw new SigilError('not-found', `application "${app}" not found`, `"${app}" is a consumed offer (SAAS): remove it with \`sigil remove-saas ${app}\``);
      }
      this.reads.mustApp(model, app);
      // As Juju: an offered application stays until its offers are removed.
      const used = offers.offers(model).filter((o) => o.app === app);
      if (used.length > 0) {
        throw new SigilError('conflict', `cannot remove application "${app}": application is used by ${used.length} offer${used.length === 1 ? '' : 's'}`, `remove the offer first: \`sigil remove-offer ${used.map((o) => `admin/${model}.${o.name}`).join(' ')}\` (with --force if relations use it)`);
      }
      const storage = new StorageService(this.s);
      for (const u of this.reads.units(model, app)) storage.unitRemoved(model, u.name, destroyStorage);
      this.applications.markDying(model, app);
      this.unitRows.markAppDying(model, app);
      for (const r of this.reads.relations(model)) {
        if (r.life === 'alive' && r.endpoints.some((e) => e.app === app)) this.relations.markDying(model, r.id);
      }
      this.s.changed(model, 'application', app);
      for (const u of this.reads.units(model, app)) this.s.changed(model, 'unit', u.name);
    });
  }

  private alive(model: string, app: string): AppRow {
    const row = this.reads.mustApp(model, app);
    if (row.life !== 'alive') throw new SigilError('conflict', `application "${app}" is being removed`);
    return row;
  }
}

/**
 * Whether `app` may move to `charmUrl`: same charm name and kind, and every endpoint in use
 * by a relation still declared. Returns the options that carry over (those the new charm
 * still declares).
 */
export function checkRefresh(reads: Reads, model: string, row: AppRow, charmUrl: string): { config: Record<string, ConfigValue> } {
  const app = row.name;
  const old = reads.charm(model, row.charmUrl).charm;
  const next = reads.charm(model, charmUrl).charm;
  if (next.meta.name !== old.meta.name) {
    throw new SigilError('bad-request', `cannot refresh "${app}" from charm "${old.meta.name}" to "${next.meta.name}"`, 'a refresh keeps the charm name; deploy the other charm as a new application');
  }
  if (next.meta.subordinate !== old.meta.subordinate) throw new SigilError('bad-request', 'cannot change whether a charm is subordinate on refresh');
  const endpoints = { ...next.meta.provides, ...next.meta.requires, ...next.meta.peers, 'juju-info': true };
  const lost = reads.relations(model).filter((r) => r.life === 'alive').flatMap((r) => r.endpoints.filter((e) => e.app === app && !(e.name in endpoints)).map((e) => ({ e, r })));
  if (lost.length > 0) {
    const names = [...new Set(lost.map((l) => `"${l.e.name}"`))].join(', ');
    const rels = lost.filter((l) => l.e.role !== 'peer').map((l) => l.r.key);
    throw new SigilError('conflict', `the new charm drops endpoint ${names} of "${app}", in use by ${lost.map((l) => l.r.key).join(', ')}`,
      rels.length > 0 ? `remove those relations first (\`sigil remove-relation ${rels[0]!}\`), or keep the endpoint in the new charm's metadata.yaml` : "keep the peer endpoint in the new charm's metadata.yaml");
  }
  return { config: Object.fromEntries(Object.entries(row.config).filter(([k]) => k in next.config)) };
}

function checkConfigSizes(limits: ModelConfig, values: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(values)) checkSize(limits, 'max-config-value-size', `config value ${k}`, storedSize(v));
}

/** CLI values arrive as strings and are parsed by the option's type; typed values pass through. */
function typedConfig(options: Parameters<typeof coerceConfigValue>[1] extends infer O ? Record<string, O> : never, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    const opt = options[k];
    out[k] = opt !== undefined && typeof v === 'string' ? coerceConfigValue(k, opt, v) : v;
  }
  return out;
}
