import { realClock, type Clock } from './clock.ts';
import { ErrBadRequestBody, ErrMissingField, ErrProxyAlreadyExists, ErrProxyNotFound } from './errors.ts';
import type { LinkEnv } from './link.ts';
import { Proxy } from './proxy.ts';
import { TCP_STAGES, type StageFactory } from './stages.ts';
import { HTTP_STAGES } from './http-stages.ts';

/** A small seeded generator (mulberry32) for `--seed`: the same seed, the same toxicity draws. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ProxyInput {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a proxy definition the way Toxiproxy's JSON decoding does; `where` names it in errors. */
export function parseProxyInput(body: unknown, defaults: Partial<ProxyInput>, where = ''): ProxyInput {
  if (!isRecord(body)) throw ErrBadRequestBody.with('expected a JSON object');
  for (const key of ['name', 'listen', 'upstream'] as const) {
    if (body[key] !== undefined && typeof body[key] !== 'string') throw ErrBadRequestBody.with(`${key} must be a string`);
  }
  if (body['enabled'] !== undefined && typeof body['enabled'] !== 'boolean') throw ErrBadRequestBody.with('enabled must be a boolean');
  const name = (body['name'] as string | undefined) ?? defaults.name ?? '';
  const upstream = (body['upstream'] as string | undefined) ?? defaults.upstream ?? '';
  if (name.length < 1) throw ErrMissingField.with(`name${where}`);
  if (upstream.length < 1) throw ErrMissingField.with(`upstream${where}`);
  return {
    name,
    listen: (body['listen'] as string | undefined) || defaults.listen || '127.0.0.1:0',
    upstream,
    enabled: (body['enabled'] as boolean | undefined) ?? defaults.enabled ?? true,
  };
}

export interface CollectionOptions {
  clock?: Clock;
  random?: () => number;
}

/** Every proxy of one chaos daemon, by name; the API's operations, with Toxiproxy's rules. */
export class ProxyCollection {
  private readonly proxies = new Map<string, Proxy>();
  readonly env: LinkEnv;

  constructor(options: CollectionOptions = {}) {
    const stages: Record<string, StageFactory> = { ...TCP_STAGES, ...HTTP_STAGES };
    this.env = {
      clock: options.clock ?? realClock,
      random: options.random ?? Math.random,
      stageFor: (type) => stages[type]!,
    };
  }

  list(): Proxy[] {
    return [...this.proxies.values()];
  }

  get(name: string): Proxy {
    const proxy = this.proxies.get(name);
    if (!proxy) throw ErrProxyNotFound;
    return proxy;
  }

  async add(input: ProxyInput): Promise<Proxy> {
    if (this.proxies.has(input.name)) throw ErrProxyAlreadyExists;
    const proxy = new Proxy(input.name, input.listen, input.upstream, this.env);
    if (input.enabled) await proxy.start();
    if (this.proxies.has(input.name)) {
      await proxy.stop();
      throw ErrProxyAlreadyExists;
    }
    this.proxies.set(input.name, proxy);
    return proxy;
  }

  /** Populate's rule: an identical proxy is kept as it is, a different one is replaced. */
  async addOrReplace(input: ProxyInput): Promise<Proxy> {
    const existing = this.proxies.get(input.name);
    if (existing) {
      if (!existing.differs(input.listen, input.upstream)) return existing;
      await existing.stop();
      this.proxies.delete(input.name);
    }
    const proxy = new Proxy(input.name, input.listen, input.upstream, this.env);
    if (input.enabled) await proxy.start();
    this.proxies.set(input.name, proxy);
    return proxy;
  }

  /** Listen/upstream changes restart the proxy (dropping connections); `enabled` starts or stops it. */
  async update(name: string, body: unknown): Promise<Proxy> {
    const proxy = this.get(name);
    const input = parseProxyInput(body, { name, listen: proxy.listen, upstream: proxy.upstream, enabled: proxy.enabled });
    if (proxy.differs(input.listen, input.upstream)) {
      const wasEnabled = proxy.enabled;
      await proxy.stop();
      proxy.listen = input.listen;
      proxy.upstream = input.upstream;
      if (wasEnabled && input.enabled) await proxy.start();
    }
    if (input.enabled && !proxy.enabled) await proxy.start();
    if (!input.enabled && proxy.enabled) await proxy.stop();
    return proxy;
  }

  async remove(name: string): Promise<void> {
    const proxy = this.get(name);
    this.proxies.delete(name);
    await proxy.stop();
  }

  /** `POST /reset`: every proxy enabled again, every toxic gone. */
  async reset(): Promise<void> {
    for (const proxy of this.proxies.values()) {
      await proxy.start();
      proxy.removeAllToxics();
    }
  }

  async close(): Promise<void> {
    for (const proxy of this.proxies.values()) await proxy.stop();
    this.proxies.clear();
  }
}
