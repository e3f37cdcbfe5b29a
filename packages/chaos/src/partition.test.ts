import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { dropTable, heal, healCommands, listPartitions, partition, partitionCommands, tableName, tableScript } from './partition.ts';
import { canRun } from '../../../tests/ci.ts';

describe('partition rules (pure)', () => {
  it('only ever match traffic on the named bridge', () => {
    const script = tableScript('sgl-abc');
    expect(script).toContain('table inet sigil_chaos_sgl_abc {');
    for (const line of script.split('\n').filter((l) => l.includes(' drop'))) expect(line).toMatch(/(iifname|oifname) "sgl-abc" /);
  });

  it('cut a machine from everything, or from others both ways or one way, with a timeout when timed', () => {
    expect(partitionCommands('br0', { targets: ['10.0.0.5'], from: [], forSeconds: 30 })).toEqual(['add element inet sigil_chaos_br0 cut { 10.0.0.5 timeout 30s }']);
    expect(partitionCommands('br0', { targets: ['10.0.0.5'], from: ['10.0.0.6'] })).toEqual(['add element inet sigil_chaos_br0 pairs { 10.0.0.6 . 10.0.0.5, 10.0.0.5 . 10.0.0.6 }']);
    expect(partitionCommands('br0', { targets: ['10.0.0.5'], from: ['10.0.0.6'], oneWay: true })).toEqual(['add element inet sigil_chaos_br0 pairs { 10.0.0.6 . 10.0.0.5 }']);
    expect(healCommands('br0')).toEqual(['flush set inet sigil_chaos_br0 cut', 'flush set inet sigil_chaos_br0 pairs']);
  });

  it('refuse what is not an address or a bridge name, and a machine partitioned from itself', () => {
    expect(() => partitionCommands('br0', { targets: ['10.0.0.5; flush ruleset'], from: [] })).toThrow(/bad IPv4 address/);
    expect(() => tableName('br0 }')).toThrow(/bad bridge name/);
    expect(() => partitionCommands('br0', { targets: ['10.0.0.5'], from: ['10.0.0.5'] })).toThrow(/from itself/);
    expect(() => partitionCommands('br0', { targets: ['10.0.0.5'], from: [], oneWay: true })).toThrow(/need --from/);
  });
});

// Against the kernel's nftables, in a table of a bridge name no interface has: the rules
// can match no packet on this host, and the table is deleted afterwards.
const root = process.getuid?.() === 0 && (() => {
  try {
    execFileSync('nft', ['list', 'tables'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const bridge = `sgt-${process.pid % 100000}`;

describe.runIf(canRun(root, 'root with nftables (nft)'))('partition rules in nftables', () => {
  afterAll(() => dropTable(bridge));

  it('adds, lists, heals by itself when timed, and heals on demand', async () => {
    // One cut for good and one timed: the timed one goes by itself (the kernel's timeout)
    // while the other stays, whatever the host's load makes of the time between the calls.
    await partition(bridge, { targets: ['10.250.0.7'], from: [] });
    await partition(bridge, { targets: ['10.250.0.5'], from: [], forSeconds: 2 });
    await partition(bridge, { targets: ['10.250.0.5'], from: ['10.250.0.6'] });
    const now = await listPartitions(bridge);
    expect(now.cut.map((c) => c.address)).toContain('10.250.0.7');
    expect(now.pairs.map((p) => `${p.from}>${p.to}`).sort()).toEqual(['10.250.0.5>10.250.0.6', '10.250.0.6>10.250.0.5']);
    // Waited for, bounded.
    const deadline = Date.now() + 10_000;
    while ((await listPartitions(bridge)).cut.length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect((await listPartitions(bridge)).cut.map((c) => c.address)).toEqual(['10.250.0.7']);
    await heal(bridge);
    expect(await listPartitions(bridge)).toEqual({ cut: [], pairs: [] });
  });
});
