/**
 * The model status document, with Juju 3.x key names (cmd/juju/status/formatted.go), so
 * scripts written against `juju status --format json` keep working. The controller builds
 * it from one snapshot read; the CLI renders it as a table, YAML or JSON.
 */

import type { RolloutStatusDoc } from './rollout.ts';
import type { OfferStatusDoc, RemoteApplicationStatusDoc } from './offers.ts';

export interface StatusInfoContents {
  current: string;
  message?: string;
  since?: string;
  version?: string;
  life?: string;
}

export interface UnitStatusDoc {
  'workload-status': StatusInfoContents;
  'juju-status': StatusInfoContents;
  leader?: boolean;
  machine?: string;
  'open-ports'?: string[];
  'public-address'?: string;
  /** Sigil addition: where `expose` published the unit's opened ports on the host. */
  'published-ports'?: string[];
  /** Sigil addition (issue 19): counts from the unit's last software inventory, once one was collected. */
  audit?: { 'modified-files': number; 'embedded-copies': number; packages: number; collected: string };
  subordinates?: Record<string, UnitStatusDoc>;
  /** Sigil addition: the charm revision this unit runs, when a roll-out has it on another than its application's. */
  'charm-rev'?: number;
  /** Sigil addition: where this unit is in its application's roll-out (while one runs or is halted). */
  rollout?: string;
}

export interface RelationStatusEntry {
  'related-application': string;
  interface: string;
  scope: 'global' | 'container';
}

export interface ApplicationStatusDoc {
  charm: string;
  base: { name: string; channel: string };
  'charm-origin': string;
  'charm-name': string;
  'charm-rev': number;
  'charm-version'?: string;
  exposed: boolean;
  life?: string;
  'application-status': StatusInfoContents;
  relations?: Record<string, RelationStatusEntry[]>;
  'subordinate-to'?: string[];
  units?: Record<string, UnitStatusDoc>;
  version?: string;
  'endpoint-bindings'?: Record<string, string>;
  /** Sigil addition: desired unit count, for the Scale column. */
  scale?: number;
  constraints?: string;
  /** Sigil addition: where exposed ports are published on the host. */
  'exposed-endpoints'?: Record<string, unknown>;
  /** Sigil addition: the application's latest roll-out (`sigil refresh --batch`), while it runs or is halted, and once it ended. */
  rollout?: RolloutStatusDoc;
  /**
   * Sigil addition (issue 18): the latest finished run of a schedule on this application
   * (`sigil schedule`), with its snapshot in the backup store when it made one.
   */
  'last-backup'?: { schedule: string; action: string; at: string; status: string; snapshot?: string; message: string };
  /**
   * Sigil addition (issue 16): where the application's charm came from, for a charm collected
   * with `sigil collect` (its codetree-collect-info.yaml checked against the uploaded files).
   */
  'charm-provenance'?: CharmProvenanceDoc;
}

/** A charm's provenance as status shows it (kebab-case, as status keys are). */
export interface CharmProvenanceDoc {
  source: string;
  url: string;
  commit?: string;
  sha256?: string;
  'collected-at': string;
  files: number;
  matches: boolean;
  modified: string[];
  missing: string[];
}

export interface MachineStatusDoc {
  'juju-status': StatusInfoContents;
  hostname?: string;
  'dns-name'?: string;
  'ip-addresses'?: string[];
  'instance-id': string;
  'machine-status': StatusInfoContents;
  base: { name: string; channel: string };
  constraints?: string;
  hardware?: string;
  /** LXC containers on this machine (`N/lxc/M`), as Juju nests them under their host. */
  containers?: Record<string, MachineStatusDoc>;
}

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

export interface RelationRow {
  id: number;
  /** `provider:ep` (or the single peer endpoint). */
  provider: string;
  requirer: string;
  interface: string;
  type: 'regular' | 'peer' | 'subordinate';
  status: string;
  message?: string;
}

export interface ModelStatusDoc {
  model: {
    name: string;
    type: 'iaas';
    controller: string;
    cloud: string;
    region?: string;
    version: string;
    'model-status': StatusInfoContents;
    sla: string;
  };
  machines: Record<string, MachineStatusDoc>;
  applications: Record<string, ApplicationStatusDoc>;
  /** Consumed offers (Juju's SAAS), by alias. */
  'application-endpoints': Record<string, RemoteApplicationStatusDoc>;
  /** This model's offers, by offer name. */
  offers: Record<string, OfferStatusDoc>;
  /** Sigil addition kept under its own key: the relation table rows (Juju prints these with --relations). */
  integrations?: RelationRow[];
  controller: { timestamp: string };
  /** Sigil addition: the change-log revision this snapshot reflects (status --watch resumes from it). */
  revision?: number;
}

/** `sigil wait`: whether the model (or some applications) has settled, and if not, why. */
export interface WaitReport {
  settled: boolean;
  errors: { unit: string; message: string; output: string[] }[];
  busy: { unit: string; reason: string }[];
  revision: number;
}

/** The kinds of status history kept (show-status-log --type; `unit` is workload and juju-unit). */
export type StatusHistoryKind = 'workload' | 'juju-unit' | 'machine';

/** One show-status-log entry; `since` is ms since the epoch. */
export interface StatusHistoryEntry {
  type: StatusHistoryKind;
  status: string;
  message: string;
  data: Record<string, unknown>;
  since: number;
}
