import { describe, expect, it } from 'vitest';
import type { ControllerReplica } from '@sigil/api';
import { failoverOrigins, ReplicaList } from './failover.ts';

const replica = (id: string, url: string, alive = true): ControllerReplica => ({ id, url, agentUrl: url, alive });
const A = 'https://10.0.0.1:17070';
const B = 'https://10.0.0.1:17071';
const C = 'https://10.0.0.1:17072';

describe('failoverOrigins', () => {
  const cases: [string, ControllerReplica[], string, string[]][] = [
    ['the replicas after this one first, then those before it', [replica('0', A), replica('1', B), replica('2', C)], B, [C, A]],
    ['only replicas listed alive', [replica('0', A), replica('1', B, false), replica('2', C)], A, [C]],
    ['every alive replica when this page is not one of them', [replica('0', A), replica('1', B)], 'https://ctl.example:17070', [A, B]],
    ['nothing from a controller older than replicas, or alone', [replica('0', A)], A, []],
    ['no address that is not https', [replica('0', A), replica('1', 'http://10.0.0.1:80'), replica('2', 'not a url')], A, []],
  ];
  it.each(cases)('%s', (_what, controllers, here, expected) => {
    expect(failoverOrigins(controllers, here)).toEqual(expected);
  });

  it('leaves out the replica that served the listing when the page reached it under another name', () => {
    const controllers = [replica('r0', A), replica('r1', B), replica('r2', C)];
    expect(failoverOrigins(controllers, 'https://localhost:17071', 'r1')).toEqual([C, A]);
    expect(failoverOrigins(controllers, 'https://localhost:17071')).toEqual([A, B, C]);
  });
});

describe('ReplicaList', () => {
  it('tells subscribers of a new listing, counts the alive ones and moves past the one that served it', () => {
    const list = new ReplicaList();
    let told = 0;
    const off = list.subscribe(() => told++);
    expect(list.next(A)).toBeUndefined();
    list.set([replica('r0', A), replica('r1', B), replica('r2', C, false)], 'r0');
    expect([told, list.alive.length, list.served, list.next(A)]).toEqual([1, 2, 'r0', B]);
    off();
    list.set([replica('r0', A)], 'r0');
    expect([told, list.next(A)]).toEqual([1, undefined]);
  });
});
