import { randomUUID } from 'node:crypto';
import { SigilError, checkModelName, parseDuration, parseSize } from '@sigil/core';
import type { ProxySettings } from '@sigil/api';
import type { Store } from '../store/store.ts';
import { ModelRepository } from '../state/models.ts';

export interface ModelInfo {
  name: string;
  uuid: string;
  life: string;
  config: ModelConfig;
  machines: number;
  applications: number;
  units: number;
}

/** Juju's proxy keys (ProxySettings): `juju-*` reach hooks as JUJU_CHARM_*_PROXY; `apt-*` go into each machine's apt configuration. */
export interface ModelConfig extends ProxySettings {
  'update-status-hook-interval': string;
  'automatically-retry-hooks': boolean;
  /** Limits that keep one model from starving the controller (each error names its key). */
  'max-units-per-call': number;
  'max-relation-bag-size': string;
  'max-config-value-size': string;
  'max-charm-state-size': string;
  /** Juju's names: the model log is pruned past this size and age. */
  'logs-max-size': string;
  'logs-max-age': string;
  /** How often each unit's software inventory is collected again (issue 19); `0` turns the schedule off. */
  'audit-interval': string;
}

export const DEFAULT_MODEL_CONFIG: ModelConfig = {
  'update-status-hook-interval': '5m',
  'automatically-retry-hooks': true,
  'max-units-per-call': 200,
  'max-relation-bag-size': '1M',
  'max-config-value-size': '1M',
  // Juju's controller default for a unit's state-set data.
  'max-charm-state-size': '2M',
  'logs-max-size': '100M',
  'logs-max-age': '72h',
  'audit-interval': '24h',
  'juju-http-proxy': '',
  'juju-https-proxy': '',
  'juju-ftp-proxy': '',
  'juju-no-proxy': '127.0.0.1,localhost,::1',
  'apt-http-proxy': '',
  'apt-https-proxy': '',
  'apt-ftp-proxy': '',
  'apt-no-proxy': '',
};

const URL_PROXY_KEYS = ['juju-http-proxy', 'juju-https-proxy', 'juju-ftp-proxy', 'apt-http-proxy', 'apt-https-proxy', 'apt-ftp-proxy'] as const;
const NO_PROXY_KEYS = ['juju-no-proxy', 'apt-no-proxy'] as const;

/**
 * A proxy key's value: empty (none), or an http(s) URL to a proxy (Juju takes a bare
 * host:port too and means http). Credentials in it are allowed, as in Juju; nothing else
 * with a shell or apt meaning may slip into the files it is written to.
 */
export function checkProxy(key: string, v: string): string {
  if (v === '') return v;
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `http://${v}`;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SigilError('invalid-config', `${key} "${v}" is not a proxy address`, `e.g. ${key}=http://10.0.0.1:3128, or ${key}= for none`);
  }
  if (!['http:', 'https:'].includes(u.protocol) || u.hostname === '' || /[\s"';\\]/.test(v)) {
    throw new SigilError('invalid-config', `${key} "${v}" is not an http or https proxy address`, `e.g. ${key}=http://10.0.0.1:3128, or ${key}= for none`);
  }
  return url;
}

/** A no-proxy list: comma-separated hosts, domains (`.example.com`), addresses or CIDRs. */
export function checkNoProxy(key: string, v: string): string {
  const items = v.split(',').map((x) => x.trim()).filter((x) => x !== '');
  const bad = items.find((x) => !/^[A-Za-z0-9.:*\/_-]+$/.test(x));
  if (bad !== undefined) throw new SigilError('invalid-config', `${key}: "${bad}" is not a host, domain or address`, `e.g. ${key}=127.0.0.1,localhost,.internal`);
  return items.join(',');
}

export class Models {
  private readonly repo: ModelRepository;

  constructor(private readonly s: Store) {
    this.repo = new ModelRepository(s);
  }

  add(name: string): ModelInfo {
    checkModelName(name);
    return this.s.tx(() => {
      const existing = this.repo.life(name);
      if (existing !== undefined) {
        throw new SigilError(
          'already-exists',
          `model "${name}" already exists`,
          existing === 'alive' ? `switch to it with \`sigil switch ${name}\`` : 'it is being destroyed; try again in a moment',
        );
      }
      this.repo.insert(name, randomUUID(), DEFAULT_MODEL_CONFIG, Date.now());
      return this.mustGet(name);
    });
  }

  get(name: string): ModelInfo | undefined {
    const r = this.repo.get(name);
    if (!r) return undefined;
    return {
      name,
      uuid: r.uuid,
      life: r.life,
      config: { ...DEFAULT_MODEL_CONFIG, ...(r.config as Partial<ModelConfig>) },
      machines: this.repo.count('machines', name),
      applications: this.repo.count('applications', name),
      units: this.repo.count('units', name),
    };
  }

  /** The model's life (alive, dying), or undefined when there is no such model: for hot paths (no counts). */
  life(name: string): string | undefined {
    return this.repo.get(name)?.life;
  }

  /** Just the model's configuration, for hot paths (no counts). */
  config(name: string): ModelConfig {
    const config = this.repo.config(name);
    if (!config) throw new SigilError('not-found', `model "${name}" not found`, 'list models with `sigil models`');
    return { ...DEFAULT_MODEL_CONFIG, ...(config as Partial<ModelConfig>) };
  }

  mustGet(name: string): ModelInfo {
    const m = this.get(name);
    if (!m) throw new SigilError('not-found', `model "${name}" not found`, 'list models with `sigil models`, or create one with `sigil add-model`');
    return m;
  }

  /** Models that accept new work: dying models refuse deploys. */
  mustBeAlive(name: string): ModelInfo {
    const m = this.mustGet(name);
    if (m.life !== 'alive') throw new SigilError('conflict', `model "${name}" is being destroyed`, 'create a new model with `sigil add-model`');
    return m;
  }

  list(): ModelInfo[] {
    return this.repo.names().map((n) => this.mustGet(n));
  }

  /** `sigil model-config k=v`: values arrive as strings and are checked before anything changes. */
  setConfig(name: string, values: Record<string, string>): ModelConfig {
    return this.s.tx(() => {
      const m = this.mustGet(name);
      const next: ModelConfig = { ...m.config };
      for (const [k, v] of Object.entries(values)) {
        if (k === 'update-status-hook-interval') {
          const ms = parseDuration(v);
          if (ms < 1000 || ms > 3_600_000) throw new SigilError('invalid-config', `update-status-hook-interval ${v} out of range`, 'use a duration between 1s and 60m (Juju allows 1m to 60m; the default is 5m)');
          next[k] = v;
        } else if (k === 'automatically-retry-hooks') {
          if (!['true', 'false'].includes(v)) throw new SigilError('invalid-config', `automatically-retry-hooks must be true or false, not "${v}"`, 'e.g. automatically-retry-hooks=false');
          next[k] = v === 'true';
        } else if (k === 'max-units-per-call') {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new SigilError('invalid-config', `max-units-per-call must be a whole number from 1 to 100000, not "${v}"`, 'e.g. max-units-per-call=500');
          next[k] = n;
        } else if (k === 'max-relation-bag-size' || k === 'max-config-value-size' || k === 'max-charm-state-size') {
          const bytes = parseSize(v);
          if (bytes < 1024 || bytes > 64 * 1024 ** 2) throw new SigilError('invalid-config', `${k} ${v} out of range`, `use a size from 1K to 64M, e.g. ${k}=4M`);
          next[k] = v;
        } else if (k === 'logs-max-size') {
          if (parseSize(v) < 1024 ** 2) throw new SigilError('invalid-config', `logs-max-size ${v} is too small`, 'use at least 1M, e.g. logs-max-size=100M');
          next[k] = v;
        } else if (k === 'logs-max-age') {
          if (parseDuration(v) < 60_000) throw new SigilError('invalid-config', `logs-max-age ${v} is too short`, 'use at least 1m, e.g. logs-max-age=72h');
          next[k] = v;
        } else if ((URL_PROXY_KEYS as readonly string[]).includes(k)) {
          next[k as (typeof URL_PROXY_KEYS)[number]] = checkProxy(k, v);
        } else if ((NO_PROXY_KEYS as readonly string[]).includes(k)) {
          next[k as (typeof NO_PROXY_KEYS)[number]] = checkNoProxy(k, v);
        } else if (k === 'audit-interval') {
          let ms = 0;
          try {
            ms = v === '0' ? 60_000 : parseDuration(v);
          } catch {
            ms = 0;
          }
          if (ms < 60_000) throw new SigilError('invalid-config', `audit-interval ${v} is not a duration of at least 1m`, 'e.g. audit-interval=24h, or audit-interval=0 to collect only on request and after install and upgrade-charm');
          next[k] = v;
        } else {
          throw new SigilError('invalid-config', `unknown model config key "${k}"`, `known keys: ${Object.keys(DEFAULT_MODEL_CONFIG).join(', ')}`);
        }
      }
      this.repo.setConfig(name, next);
      return next;
    });
  }

  /**
   * Marks the model dying with everything in it; the cleanup worker tears machines down
   * and removes the model once it is empty.
   */
  destroy(name: string): void {
    this.s.tx(() => {
      this.mustGet(name);
      this.repo.markDying(name);
    });
  }

  remove(name: string): void {
    this.s.tx(() => this.repo.remove(name));
  }

  nextMachineId(name: string): string {
    return String(this.repo.nextMachineId(name));
  }
}
