// Secret hooks in the resolver: Juju's order (rotate, expired, changed, remove), each run
// once, after leadership and before actions, only for an installed, healthy, alive unit.
import { describe, expect, test } from 'vitest';
import type { OwnedSecretView, UnitView } from '@sigil/api';
import { commitHook } from './commit.ts';
import { nextOp } from './resolver.ts';
import { T0, unitView } from './resolver-kit.ts';
import { initialState, type LocalState } from './state.ts';

const owned = (over: Partial<OwnedSecretView> = {}): OwnedSecretView => ({ id: 'aaaaaaaaaaaaaaaaaaaa', owner: 'application', label: 'creds', description: '', revision: 2, rotation: '', obsolete: [], access: [], ...over });
const started = (): LocalState => ({ ...initialState(), installed: true, started: true, leader: true, leaderSettingsVersion: 0, configHash: 'c', charmHash: 'charm-1', nextUpdateStatus: T0 + 300_000 });
const remote = (unit: UnitView) => ({ unit, configHash: 'c', retryHooks: true });

/** Runs the resolver to quiescence, committing each hook; returns the hooks with their secret env. */
function drive(local: LocalState, unit: UnitView, now = T0): string[] {
  const ran: string[] = [];
  for (let i = 0; i < 20; i++) {
    const op = nextOp(local, remote(unit), now);
    if (op.type !== 'run-hook') return ran;
    const h = op.hook;
    ran.push(`${h.name}${h.secretId ? ` ${h.secretId.slice(0, 1)} ${h.secretLabel ?? ''} ${h.secretRevision ?? ''}`.trimEnd() : ''}`);
    local = commitHook(local, h, { unit, configHash: 'c', now, updateStatusDelay: 300_000, ownAppVersions: {} });
  }
  throw new Error(`no quiescence: ${ran.join(', ')}`);
}

describe('secret hooks', () => {
  test('run in Juju\'s order, each once', () => {
    const unit = unitView({
      secrets: {
        owned: [owned({ rotateAt: T0 - 1, expireAt: T0 - 1, obsolete: [1] })],
        consumed: [{ id: 'bbbbbbbbbbbbbbbbbbbb', label: 'shared', tracked: 1, latest: 3, ownerApp: false }],
      },
    });
    expect(drive(started(), unit)).toEqual(['secret-rotate a creds', 'secret-expired a creds 2', 'secret-changed b shared 3', 'secret-remove a creds 1']);
  });

  test('nothing for a consumer that never read the secret, for its own application\'s secrets, or before the time is due', () => {
    const unit = unitView({
      secrets: {
        owned: [owned({ rotateAt: T0 + 60_000 })],
        consumed: [{ id: 'bbbbbbbbbbbbbbbbbbbb', label: '', tracked: 0, latest: 3, ownerApp: false }, { id: 'cccccccccccccccccccc', label: 'x', tracked: 5, latest: 5, ownerApp: true }],
      },
    });
    expect(drive(started(), unit)).toEqual([]);
    // The uniter wakes when the rotation falls due.
    expect(nextOp(started(), remote(unit), T0)).toEqual({ type: 'wait', until: T0 + 60_000 });
    expect(drive(started(), unit, T0 + 60_000)).toEqual(['secret-rotate a creds']);
  });

  test('wait for install and for a failed hook to be resolved; leadership comes first', () => {
    const unit = unitView({ secrets: { owned: [owned({ obsolete: [1] })], consumed: [] } });
    expect(nextOp(initialState(), remote(unit), T0)).toMatchObject({ type: 'run-hook', hook: { name: 'install' } });
    expect(nextOp({ ...started(), leader: false }, remote(unit), T0)).toMatchObject({ type: 'run-hook', hook: { name: 'leader-elected' } });
    expect(nextOp({ ...started(), failed: { name: 'config-changed' }, nextRetryAt: T0 + 5000 }, remote(unit), T0)).toEqual({ type: 'wait', until: T0 + 5000 });
  });
});
