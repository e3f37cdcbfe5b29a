import { describe, expect, it } from 'vitest';
import { endpointOrder, endpointsFromAnswer } from './endpoints.ts';
import type { ControllerEntry } from './home.ts';

const A = 'https://10.0.0.1:17070';
const B = 'https://10.0.0.2:17070';
const C = 'https://10.0.0.3:17070';
const entry = (endpoint: string, endpoints?: string[]): ControllerEntry => ({ endpoint, ...(endpoints ? { endpoints } : {}), dir: '/d', provider: 'remote', 'current-model': 'default' });
const replica = (id: string, url: string, alive = true) => ({ id, url, agentUrl: url, alive });

describe('endpointOrder', () => {
  const cases: [string, ControllerEntry, string[]][] = [
    ['an entry of one address', entry(A), [A]],
    ['the endpoint first, then the others in their cyclic order', entry(B, [A, B, C]), [B, C, A]],
    ['only the endpoint when the saved list lacks it', entry('https://192.168.1.5:17070', [A, B]), ['https://192.168.1.5:17070']],
  ];
  it.each(cases)('%s', (_what, e, expected) => {
    expect(endpointOrder(e)).toEqual(expected);
  });
});

describe('endpointsFromAnswer', () => {
  const cases: [string, unknown, string, string[] | undefined][] = [
    ['the alive replicas, in the answer’s order', { controllers: [replica('1', A), replica('2', B, false), replica('3', C)] }, A, [A, C]],
    ['the address asked in place of the answering replica’s own URL', { replica: '1', controllers: [replica('1', 'https://ctl-1:17070'), replica('2', B)] }, A, [A, B]],
    ['the address asked first when the answer does not name it', { controllers: [replica('1', 'https://ctl-1:17070'), replica('2', B)] }, A, [A, 'https://ctl-1:17070', B]],
    ['no https server URL is taken from a replica but https ones', { controllers: [replica('1', A), replica('2', 'http://10.0.0.2:1'), replica('3', 'https://10.0.0.3/x')] }, A, [A]],
    ['nothing from a controller older than replicas', { name: 'c', models: [] }, A, undefined],
    ['nothing when no replica is alive', { controllers: [replica('1', A, false)] }, A, undefined],
  ];
  it.each(cases)('%s', (_what, answer, askedAt, expected) => {
    expect(endpointsFromAnswer(answer, askedAt)).toEqual(expected);
  });
});
