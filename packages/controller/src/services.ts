import type { LogLine } from '@sigil/api';
import type { Store } from './store/store.ts';
import type { Logger } from './logger.ts';
import { Reads } from './domain/rows.ts';
import { Models } from './domain/models.ts';
import { Charms } from './domain/charms.ts';
import { Applications } from './domain/applications.ts';
import { Units } from './domain/units.ts';
import { Machines } from './domain/machines.ts';
import { Relations } from './domain/relations.ts';
import { Operations } from './domain/operations.ts';
import { AgentFacade } from './domain/agent.ts';
import { PresenceTracker } from './apiserver/presence.ts';
import { LogHub } from './apiserver/loghub.ts';

/** Everything the API edge needs, wired once by main.ts. */
export class Services {
  readonly reads: Reads;
  readonly models: Models;
  readonly charms: Charms;
  readonly applications: Applications;
  readonly units: Units;
  readonly machines: Machines;
  readonly relations: Relations;
  readonly operations: Operations;
  readonly agent: AgentFacade;
  readonly presence = new PresenceTracker();
  readonly logs = new LogHub();
  /** Where the exposer published a unit's ports on the host (set by main.ts). */
  publishedPorts: (model: string, unit: string) => string[] = () => [];

  constructor(
    readonly store: Store,
    readonly log: Logger,
    readonly controllerName: string,
    readonly adminTokenHash: string,
    readonly logPath: string,
    /** Nudges the workers (they also run on every committed change). */
    readonly wake: () => void,
  ) {
    this.reads = new Reads(store);
    this.models = new Models(store);
    this.charms = new Charms(store);
    this.applications = new Applications(store);
    this.units = new Units(store);
    this.machines = new Machines(store);
    this.relations = new Relations(store);
    this.operations = new Operations(store);
    this.agent = new AgentFacade(store);
  }

  appendLogs(model: string, lines: LogLine[]): void {
    const first = (this.store.db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM logs').get() as { id: number }).id;
    this.agent.appendLogs(model, lines);
    lines.forEach((l, i) => this.logs.publish({ ...l, model, id: first + i + 1 }));
  }
}
