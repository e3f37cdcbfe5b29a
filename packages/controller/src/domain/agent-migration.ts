import type { AgentPresenceDoc, MigrateAgentsMachine, MigrateAgentsResponse } from '@sigil/api';
import { SigilError } from '@sigil/core';
import type { Provider } from '@sigil/providers';
import type { Store } from '../store/store.ts';
import { AgentRepository } from '../state/agents.ts';
import { EnlistedRepository } from '../state/enlisted.ts';
import type { PresenceTracker } from '../apiserver/presence.ts';

export interface AgentMigrationDeps {
  store: Store;
  provider: Provider;
  presence: PresenceTracker;
  caCert: string;
  /** Machines being re-pointed now (`model/id`), which the provisioner leaves alone meanwhile. */
  repointing: Set<string>;
  /** Where new machines are told to dial from now on (kept in controller.json). */
  setAgentUrl(url: string): void;
}

/**
 * `sigil migrate-agents` (issue 18 item 1): after `restore-backup` at a new address, every
 * machine's agent is told the controller's address (and CA). Provider machines are
 * re-pointed here, through the provider (the config written on the machine, the agent
 * restarted); enlisted hosts are listed for the client, which reaches them over ssh with the
 * operator's key, as it enlisted them. Nothing is changed when the address is not a URL.
 */
export class AgentMigration {
  constructor(private readonly d: AgentMigrationDeps) {}

  /** The machines that have (or had) an agent: provisioned or enlisted, not yet dead. */
  private machines(): { model: string; id: string }[] {
    return new AgentRepository(this.d.store).machinesWithAgents();
  }

  async migrate(url: string): Promise<MigrateAgentsResponse> {
    const to = parseAgentUrl(url);
    const at = Date.now();
    const enlisted = new EnlistedRepository(this.d.store);
    this.d.setAgentUrl(to);
    const machines = await Promise.all(this.machines().map(async ({ model, id }): Promise<MigrateAgentsMachine> => {
      const e = enlisted.get(model, id);
      if (e) return { model, machine: id, kind: 'enlisted', target: e.target, init: e.init };
      const key = `${model}/${id}`;
      this.d.repointing.add(key);
      try {
        await this.d.provider.repointAgent(model, id, { controllerUrl: to, caCert: this.d.caCert });
        return { model, machine: id, kind: 'provider' };
      } catch (err) {
        return { model, machine: id, kind: 'provider', error: err instanceof Error ? err.message : String(err) };
      } finally {
        this.d.repointing.delete(key);
      }
    }));
    return { url: to, caCert: this.d.caCert, at, machines };
  }

  agents(): AgentPresenceDoc[] {
    return this.machines().map(({ model, id }) => {
      const since = this.d.presence.connectedSince(model, id);
      const last = this.d.presence.lastConnect(model, id);
      return { model, machine: id, connected: since !== undefined, ...(since !== undefined ? { 'connected-since': since } : {}), ...(last !== undefined ? { 'last-connect': last } : {}) };
    });
  }
}

/** `https://HOST:PORT` (an IPv6 host in brackets), normalised; anything else is refused. */
export function parseAgentUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SigilError('bad-request', `"${url.slice(0, 100)}" is not a controller address`, 'give it as HOST[:PORT], e.g. `sigil migrate-agents --to 10.0.0.5:17070`');
  }
  if (u.protocol !== 'https:' || !u.hostname || u.pathname !== '/' || u.search || u.hash || u.username || u.password) {
    throw new SigilError('bad-request', `"${url.slice(0, 100)}" is not a controller address`, 'give it as HOST[:PORT], e.g. `sigil migrate-agents --to 10.0.0.5:17070`');
  }
  return `https://${u.host}`;
}
