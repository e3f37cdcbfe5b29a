/**
 * Whether a change-log entry can alter what a set of units sees. The machine agent uses it
 * to decide when to re-read its view; `sigil wait` uses the same rule to decide whether a
 * unit has seen everything that concerns it. Keeping one rule keeps the two in step.
 */
export interface Interest {
  /** The units' own applications and the applications related to them. */
  apps: ReadonlySet<string>;
  units: ReadonlySet<string>;
  machine: string;
  relationIds: ReadonlySet<string>;
  /** The applications one of the units leads: only a leader sees its application's and units' statuses. */
  leads: ReadonlySet<string>;
}

/**
 * `op` is the change-log entry's op. A `status` change touches only an entity's own runtime
 * fields (statuses; a unit's state, ports and version): it concerns the unit itself, and
 * otherwise only the leader of its application, whose view summarises the statuses.
 */
export function concerns(kind: string, key: string, i: Interest, op: string): boolean {
  switch (kind) {
    case 'model':
      return true;
    case 'machine':
      // A host's agent manages the containers on its machine (`N/lxc/M`).
      return key === i.machine || key.startsWith(`${i.machine}/lxc/`);
    case 'application':
      return op === 'status' ? i.leads.has(key) : i.apps.has(key);
    case 'unit': {
      if (i.units.has(key)) return true;
      const app = key.slice(0, key.lastIndexOf('/'));
      return op === 'status' ? i.leads.has(app) : i.apps.has(app);
    }
    case 'relation':
      return i.relationIds.has(key);
    case 'operation':
      return i.units.has(key.slice(0, key.indexOf('#')));
    // A secret changed that the application (key) owns, was granted or reads.
    case 'secret':
      return i.apps.has(key);
    default:
      return false;
  }
}

/** What `interestOf` needs of a machine's units: their names, applications, leadership and relations. */
export interface InterestUnit {
  name: string;
  app: string;
  leader: boolean;
  relations: readonly { id: number; remoteApp: string }[];
}

/**
 * The interest of the machine agent holding a view of these units: the agent filters the
 * change feed with it, and the controller filters what it sends each agent with the same
 * rule (from the last view it served that machine), so neither sees changes the other
 * would drop.
 */
export function interestOf(machine: string, units: readonly InterestUnit[]): Interest {
  return {
    apps: new Set(units.flatMap((u) => [u.app, ...u.relations.map((r) => r.remoteApp)])),
    units: new Set(units.map((u) => u.name)),
    machine,
    relationIds: new Set(units.flatMap((u) => u.relations.map((r) => String(r.id)))),
    leads: new Set(units.filter((u) => u.leader).map((u) => u.app)),
  };
}
