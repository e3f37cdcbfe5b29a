import { expect, test } from 'vitest';
import type { StatusHistoryEntry } from '@sigil/api';
import { formatHistoryTime, renderStatusLog, statusLogDoc } from './status-log.ts';

const T = Date.UTC(2024, 2, 1, 12, 0, 5, 250);
const ENTRIES: StatusHistoryEntry[] = [
  { type: 'juju-unit', status: 'executing', message: 'running install hook', data: {}, since: T },
  { type: 'workload', status: 'maintenance', message: 'installing charm software', data: {}, since: T + 1000 },
  { type: 'juju-unit', status: 'idle', message: '', data: {}, since: T + 2000 },
];

test("Juju's time formats: local `02 Jan 2006 15:04:05Z07:00`, --utc `2006-01-02 15:04:05Z`", () => {
  expect(formatHistoryTime(T, true)).toBe('2024-03-01 12:00:05Z');
  expect(formatHistoryTime(T, false, 0)).toBe('01 Mar 2024 12:00:05Z');
  expect(formatHistoryTime(T, false, 60)).toBe('01 Mar 2024 13:00:05+01:00');
  expect(formatHistoryTime(T, false, -330)).toBe('01 Mar 2024 06:30:05-05:30');
});

test('the table has Juju\'s columns: Time, Type, Status, Message', () => {
  expect(renderStatusLog(ENTRIES, { utc: true, color: false })).toBe(
    [
      'Time                  Type       Status       Message',
      '2024-03-01 12:00:05Z  juju-unit  executing    running install hook',
      '2024-03-01 12:00:06Z  workload   maintenance  installing charm software',
      '2024-03-01 12:00:07Z  juju-unit  idle',
      '',
    ].join('\n'),
  );
});

test('yaml/json entries carry status, message, data only when set, since and type', () => {
  expect(statusLogDoc([{ ...ENTRIES[2]!, data: { hook: 'install' } }])).toEqual([{ status: 'idle', data: { hook: 'install' }, since: '2024-03-01T12:00:07.250Z', type: 'juju-unit' }]);
});
