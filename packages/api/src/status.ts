/**
 * The model status document, with Juju 3.x key names (cmd/juju/status/formatted.go), so
 * scripts written against `juju status --format json` keep working. The controller builds
 * it from one snapshot read; the CLI renders it as a table, YAML or JSON.
 */

import { Type, type Static } from '@sinclair/typebox';
import { RolloutStatusDoc } from './rollout.ts';
import { OfferStatusDoc, RemoteApplicationStatusDoc } from './offers.ts';

export const StatusInfoContents = Type.Object({
  current: Type.String(),
  message: Type.Optional(Type.String()),
  since: Type.Optional(Type.String()),
  version: Type.Optional(Type.String()),
  life: Type.Optional(Type.String()),
}, { additionalProperties: false });
export type StatusInfoContents = Static<typeof StatusInfoContents>;

/** A machine's or an application's OS, as Juju's base. */
const Base = Type.Object({ name: Type.String(), channel: Type.String() }, { additionalProperties: false });

/** A unit's status entry; `subordinates` holds entries of the same shape. */
export const UnitStatusDoc = Type.Recursive((self) => Type.Object({
  'workload-status': StatusInfoContents,
  'juju-status': StatusInfoContents,
  leader: Type.Optional(Type.Literal(true)),
  machine: Type.Optional(Type.String()),
  'open-ports': Type.Optional(Type.Array(Type.String())),
  'public-address': Type.Optional(Type.String()),
  /** Sigil addition: where `expose` published the unit's opened ports on the host. */
  'published-ports': Type.Optional(Type.Array(Type.String())),
  /** Sigil addition (issue 19): counts from the unit's last software inventory, once one was collected. */
  audit: Type.Optional(Type.Object({
    'modified-files': Type.Integer(),
    'embedded-copies': Type.Integer(),
    packages: Type.Integer(),
    collected: Type.String(),
  }, { additionalProperties: false })),
  subordinates: Type.Optional(Type.Record(Type.String(), self)),
  /** Sigil addition: the charm revision this unit runs, when a roll-out has it on another than its application's. */
  'charm-rev': Type.Optional(Type.Integer()),
  /** Sigil addition: where this unit is in its application's roll-out (while one runs or is halted). */
  rollout: Type.Optional(Type.String()),
}, { additionalProperties: false }), { $id: 'UnitStatusDoc' });
export type UnitStatusDoc = Static<typeof UnitStatusDoc>;

export const RelationStatusEntry = Type.Object({
  'related-application': Type.String(),
  interface: Type.String(),
  scope: Type.Union([Type.Literal('global'), Type.Literal('container')]),
}, { additionalProperties: false });
export type RelationStatusEntry = Static<typeof RelationStatusEntry>;

/** A charm's provenance as status shows it (kebab-case, as status keys are). */
export const CharmProvenanceDoc = Type.Object({
  source: Type.String(),
  url: Type.String(),
  commit: Type.Optional(Type.String()),
  sha256: Type.Optional(Type.String()),
  'collected-at': Type.String(),
  files: Type.Integer({ minimum: 0 }),
  matches: Type.Boolean(),
  modified: Type.Array(Type.String()),
  missing: Type.Array(Type.String()),
}, { additionalProperties: false });
export type CharmProvenanceDoc = Static<typeof CharmProvenanceDoc>;

export const ApplicationStatusDoc = Type.Object({
  charm: Type.String(),
  base: Base,
  'charm-origin': Type.String(),
  'charm-name': Type.String(),
  'charm-rev': Type.Integer(),
  'charm-version': Type.Optional(Type.String()),
  exposed: Type.Boolean(),
  life: Type.Optional(Type.String()),
  'application-status': StatusInfoContents,
  relations: Type.Optional(Type.Record(Type.String(), Type.Array(RelationStatusEntry))),
  'subordinate-to': Type.Optional(Type.Array(Type.String())),
  units: Type.Optional(Type.Record(Type.String(), UnitStatusDoc)),
  version: Type.Optional(Type.String()),
  'endpoint-bindings': Type.Optional(Type.Record(Type.String(), Type.String())),
  /** Sigil addition: desired unit count, for the Scale column. */
  scale: Type.Optional(Type.Integer({ minimum: 0 })),
  constraints: Type.Optional(Type.String()),
  /** Sigil addition: the application's latest roll-out (`sigil refresh --batch`), while it runs or is halted, and once it ended. */
  rollout: Type.Optional(RolloutStatusDoc),
  /**
   * Sigil addition (issue 18): the latest finished run of a schedule on this application
   * (`sigil schedule`), with its snapshot in the backup store when it made one.
   */
  'last-backup': Type.Optional(Type.Object({
    schedule: Type.String(),
    action: Type.String(),
    at: Type.String(),
    status: Type.String(),
    snapshot: Type.Optional(Type.String()),
    message: Type.String(),
  }, { additionalProperties: false })),
  /**
   * Sigil addition (issue 16): where the application's charm came from, for a charm collected
   * with `sigil collect` (its codetree-collect-info.yaml checked against the uploaded files).
   */
  'charm-provenance': Type.Optional(CharmProvenanceDoc),
}, { additionalProperties: false });
export type ApplicationStatusDoc = Static<typeof ApplicationStatusDoc>;

/** A machine's status entry; `containers` holds entries of the same shape. */
export const MachineStatusDoc = Type.Recursive((self) => Type.Object({
  'juju-status': StatusInfoContents,
  hostname: Type.Optional(Type.String()),
  'dns-name': Type.Optional(Type.String()),
  'ip-addresses': Type.Optional(Type.Array(Type.String())),
  'instance-id': Type.String(),
  'machine-status': StatusInfoContents,
  base: Base,
  constraints: Type.Optional(Type.String()),
  hardware: Type.Optional(Type.String()),
  /** LXC containers on this machine (`N/lxc/M`), as Juju nests them under their host. */
  containers: Type.Optional(Type.Record(Type.String(), self)),
}, { additionalProperties: false }), { $id: 'MachineStatusDoc' });
export type MachineStatusDoc = Static<typeof MachineStatusDoc>;

/** A machine of a status doc by id, a container (`0/lxc/1`) looked up under its host. */
export function statusMachine(doc: Pick<ModelStatusDoc, 'machines'>, id: string): MachineStatusDoc | undefined {
  const top = Object.hasOwn(doc.machines, id) ? doc.machines[id] : undefined;
  if (top) return top;
  const host = /^(\d+)\/lxc\/\d+$/.exec(id)?.[1];
  const containers = host === undefined ? undefined : doc.machines[host]?.containers;
  return containers && Object.hasOwn(containers, id) ? containers[id] : undefined;
}

/** Every machine of a status doc, containers after their host: `[id, doc]` pairs. */
export function allStatusMachines(doc: Pick<ModelStatusDoc, 'machines'>): [string, MachineStatusDoc][] {
  return Object.entries(doc.machines).flatMap(([id, m]) => [[id, m] as [string, MachineStatusDoc], ...Object.entries(m.containers ?? {})]);
}

export const RelationRow = Type.Object({
  id: Type.Integer(),
  /** `provider:ep` (or the single peer endpoint). */
  provider: Type.String(),
  requirer: Type.String(),
  interface: Type.String(),
  type: Type.Union([Type.Literal('regular'), Type.Literal('peer'), Type.Literal('subordinate')]),
  status: Type.String(),
  message: Type.Optional(Type.String()),
}, { additionalProperties: false });
export type RelationRow = Static<typeof RelationRow>;

export const ModelStatusDoc = Type.Object({
  model: Type.Object({
    name: Type.String(),
    type: Type.Literal('iaas'),
    controller: Type.String(),
    cloud: Type.String(),
    region: Type.Optional(Type.String()),
    version: Type.String(),
    'model-status': StatusInfoContents,
    sla: Type.String(),
  }, { additionalProperties: false }),
  machines: Type.Record(Type.String(), MachineStatusDoc),
  applications: Type.Record(Type.String(), ApplicationStatusDoc),
  /** Consumed offers (Juju's SAAS), by alias. */
  'application-endpoints': Type.Record(Type.String(), RemoteApplicationStatusDoc),
  /** This model's offers, by offer name. */
  offers: Type.Record(Type.String(), OfferStatusDoc),
  /** Sigil addition kept under its own key: the relation table rows (Juju prints these with --relations). */
  integrations: Type.Optional(Type.Array(RelationRow)),
  controller: Type.Object({ timestamp: Type.String() }, { additionalProperties: false }),
  /** Sigil addition: the change-log revision this snapshot reflects (status --watch resumes from it). */
  revision: Type.Optional(Type.Integer({ minimum: 0 })),
}, { additionalProperties: false });
export type ModelStatusDoc = Static<typeof ModelStatusDoc>;

/** `sigil wait`: whether the model (or some applications) has settled, and if not, why. */
export const WaitReport = Type.Object({
  settled: Type.Boolean(),
  errors: Type.Array(Type.Object({ unit: Type.String(), message: Type.String(), output: Type.Array(Type.String()) }, { additionalProperties: false })),
  busy: Type.Array(Type.Object({ unit: Type.String(), reason: Type.String() }, { additionalProperties: false })),
  revision: Type.Integer({ minimum: 0 }),
}, { additionalProperties: false });
export type WaitReport = Static<typeof WaitReport>;

/** The kinds of status history kept (show-status-log --type; `unit` is workload and juju-unit). */
export const StatusHistoryKind = Type.Union([Type.Literal('workload'), Type.Literal('juju-unit'), Type.Literal('machine')]);
export type StatusHistoryKind = Static<typeof StatusHistoryKind>;

/** One show-status-log entry; `since` is ms since the epoch. */
export const StatusHistoryEntry = Type.Object({
  type: StatusHistoryKind,
  status: Type.String(),
  message: Type.String(),
  /** What the agent reported with the status (free-form, as Juju's status data). */
  data: Type.Record(Type.String(), Type.Unknown()),
  since: Type.Integer(),
}, { additionalProperties: false });
export type StatusHistoryEntry = Static<typeof StatusHistoryEntry>;
