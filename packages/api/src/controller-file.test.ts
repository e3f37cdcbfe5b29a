import { describe, expect, it } from 'vitest';
import { parseControllerFile } from './controller-file.ts';

const valid = {
  name: 'demo', provider: 'local-process', host: '127.0.0.1', port: 17070, adminTokenHash: 'ab'.repeat(32), octet: 42,
  store: { url: 'postgresql://sigil@10.0.0.2/sigil' }, replicaPorts: [17071],
  awayReplicas: { '1': { target: 'root@10.0.0.7:22', address: '10.0.0.7', port: 17070, init: 'systemd' } },
};

describe('controller.json', () => {
  it('takes what bootstrap and enable-ha write', () => {
    expect(parseControllerFile(JSON.stringify(valid), 'x').awayReplicas?.['1']?.address).toBe('10.0.0.7');
    expect(parseControllerFile(JSON.stringify({ ...valid, away: { home: '127.0.0.1' } }), 'x').away).toEqual({ home: '127.0.0.1' });
  });

  it.each([
    [{ ...valid, port: '17070' }, /\/port Expected integer/],
    [{ ...valid, provider: 'kvm' }, /\/provider/],
    [{ ...valid, adminTokenHash: 'secret' }, /\/adminTokenHash/],
    [{ ...valid, awayReplicas: { '0': valid.awayReplicas['1'] } }, /\/awayReplicas/],
    [(({ name: _n, ...rest }) => rest)(valid), /\/name/],
  ])('refuses a damaged file, naming the first fault and where the file is (%#)', (doc, why) => {
    const e = (() => {
      try {
        parseControllerFile(JSON.stringify(doc), '/x/controller.json');
      } catch (x) {
        return x as Error & { hint?: string };
      }
      return undefined;
    })();
    expect(e?.message).toMatch(/^\/x\/controller\.json does not describe a controller: /);
    expect(e?.message).toMatch(why);
    expect(e?.hint).toContain('restore');
  });

  it('refuses what is not JSON', () => {
    expect(() => parseControllerFile('{"name":', '/x/controller.json')).toThrow(/\/x\/controller\.json is not JSON/);
  });
});
