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
}

export function concerns(kind: string, key: string, i: Interest): boolean {
  switch (kind) {
    case 'model':
      return true;
    case 'machine':
      return key === i.machine;
    case 'application':
      return i.apps.has(key);
    case 'unit':
      return i.units.has(key) || i.apps.has(key.slice(0, key.lastIndexOf('/')));
    case 'relation':
      return i.relationIds.has(key);
    case 'operation':
      return i.units.has(key.slice(0, key.indexOf('#')));
    default:
      return false;
  }
}
