import { SigilError } from '@sigil/core';
import type { StatusHistoryEntry, StatusHistoryKind } from '@sigil/api';
import type { Store } from '../store/store.ts';
import { StatusHistoryRepository } from '../state/status-history.ts';
import { Reads } from '../state/rows.ts';

/** show-status-log's `--type` values Sigil keeps, and the kinds each one reads. */
export const HISTORY_TYPES: Readonly<Record<string, readonly StatusHistoryKind[]>> = {
  unit: ['workload', 'juju-unit'],
  workload: ['workload'],
  'juju-unit': ['juju-unit'],
  machine: ['machine'],
};

const UNIT = /^[a-z][a-z0-9]*(?:-[a-z0-9]*[a-z][a-z0-9]*)*\/(?:0|[1-9][0-9]*)$/;
const MACHINE = /^(?:0|[1-9][0-9]*)$/;

/** An entity's status history, checked as Juju's show-status-log checks its arguments. */
export function statusHistory(s: Store, model: string, entity: string, type: string, n: number): StatusHistoryEntry[] {
  const kinds = HISTORY_TYPES[type];
  if (kinds === undefined) throw new SigilError('bad-request', `unexpected status type "${type}"`, `--type is one of ${Object.keys(HISTORY_TYPES).join(', ')}`);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new SigilError('bad-request', `invalid -n "${n}"`, 'give a whole number of entries from 1 to 10000');
  const reads = new Reads(s);
  if (type === 'machine') {
    if (!MACHINE.test(entity)) throw new SigilError('bad-request', `"${entity}" is not a valid name for a machine`, 'a machine is named by its number, e.g. 0');
    if (!reads.machine(model, entity)) throw new SigilError('not-found', `machine ${entity} not found`, 'sigil status lists the machines');
  } else {
    if (!UNIT.test(entity)) throw new SigilError('bad-request', `"${entity}" is not a valid name for a ${type}`, 'a unit is named <application>/<number>, e.g. wordpress/0');
    if (!reads.unit(model, entity)) throw new SigilError('not-found', `unit ${entity} not found`, 'sigil status lists the units');
  }
  return new StatusHistoryRepository(s).list(model, entity, kinds, n);
}
