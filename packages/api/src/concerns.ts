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
  /**
   * Per relation id, the applications whose scope and bags the units see there: the other
   * side's, and their own in a peer relation.
   */
  relationSides: ReadonlyMap<string, ReadonlySet<string>>;
  /** The applications one of the units leads: only a leader sees its application's and units' statuses. */
  leads: ReadonlySet<string>;
}

/**
 * `op` is the change-log entry's op. A `meta` change concerns no agent. A `status` change
 * touches only an entity's own runtime fields (statuses; a unit's state, ports and version):
 * it concerns the unit itself, and otherwise only the leader of its application, whose view
 * summarises the statuses.
 *
 * No other unit's view holds a unit's own row either: what others see of it travels as
 * `relation-data` (its scope and bags), so a unit change concerns the unit and its
 * application's leader (whose summary lists the units). `relation-data` (key
 * `<relation id>:<unit or application>`) concerns the units that read that bag or scope:
 * the writer itself, the other side, peers, and for an application bag its own leader.
 * So a unit of a 1,000-unit application joining a database wakes the database's units,
 * not its 999 siblings.
 */
export function concerns(kind: string, key: string, i: Interest, op: string): boolean {
  // Fields no agent's view holds (an application's exposure, annotations, scale).
  if (op === 'meta') return false;
  switch (kind) {
    case 'model':
      return true;
    case 'machine':
      // A host's agent manages the containers on its machine (`N/lxc/M`).
      return key === i.machine || key.startsWith(`${i.machine}/lxc/`);
    case 'application':
      return op === 'status' ? i.leads.has(key) : i.apps.has(key);
    case 'unit':
      return i.units.has(key) || i.leads.has(key.slice(0, key.lastIndexOf('/')));
    case 'relation':
      return i.relationIds.has(key);
    case 'relation-data': {
      const at = key.indexOf(':');
      const id = key.slice(0, at);
      const owner = key.slice(at + 1);
      if (!i.relationIds.has(id)) return false;
      if (i.units.has(owner)) return true;
      const slash = owner.lastIndexOf('/');
      const app = slash < 0 ? owner : owner.slice(0, slash);
      return i.relationSides.get(id)?.has(app) === true || (slash < 0 && i.leads.has(app));
    }
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
  const relationSides = new Map<string, Set<string>>();
  for (const u of units) {
    for (const r of u.relations) {
      const id = String(r.id);
      const sides = relationSides.get(id) ?? new Set<string>();
      // The other side; in a peer relation (remote is local) the unit's own application.
      sides.add(r.remoteApp);
      relationSides.set(id, sides);
    }
  }
  return {
    apps: new Set(units.flatMap((u) => [u.app, ...u.relations.map((r) => r.remoteApp)])),
    units: new Set(units.map((u) => u.name)),
    machine,
    relationIds: new Set(units.flatMap((u) => u.relations.map((r) => String(r.id)))),
    relationSides,
    leads: new Set(units.filter((u) => u.leader).map((u) => u.app)),
  };
}
