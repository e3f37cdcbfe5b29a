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
      return key === i.machine;
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
