import type { UnitView } from '@sigil/api';
import type { AgentApi } from '../api-client.ts';
import type { HookToolEnv, SecretEntry } from '../hook-tools/context.ts';
import { hookSecretValues } from '../hook-tools/secrets.ts';

/** Values shorter than this are not scrubbed (the controller uses the same bound). */
const MIN_SCRUB_LENGTH = 4;

/**
 * The secrets a hook may read, with their content, fetched from the controller as the hook
 * starts (only when the unit has any, or has made one: its view may lag its own commits). Content lives in this process's memory for the
 * hook's life and is never written to disk.
 */
export async function loadSecretEntries(api: AgentApi, view: UnitView, hadSecrets: boolean): Promise<SecretEntry[] | undefined> {
  const known = view.secrets;
  if (!hadSecrets && (!known || known.owned.length + known.consumed.length === 0)) return undefined;
  // The answer carries the unit's secrets as of now: the view may not show the last commit yet.
  const { secrets, view: s } = await api.call('POST /api/agent/secrets/content', { body: { unit: view.name } });
  const content = new Map(secrets.map((x) => [x.id, Object.fromEntries(Object.entries(x.revisions).map(([r, c]) => [Number(r), c]))]));
  return [
    ...s.owned.map((o): SecretEntry => ({ id: o.id, access: 'manage', label: o.label, tracked: o.revision, latest: o.revision, content: content.get(o.id) ?? {}, meta: o })),
    ...s.consumed.map((c): SecretEntry => ({ id: c.id, access: c.ownerApp ? 'owner-app' : 'granted', label: c.label, tracked: c.tracked, latest: c.latest, content: content.get(c.id) ?? {} })),
  ];
}

/**
 * Replaces every secret value the hook can read or has written with `***`, in any text the
 * hook produces (output lines, juju-log, action output and logs, status messages) before
 * it leaves the agent. Values are re-read when the hook's secret changes grow.
 */
export class HookScrubber {
  private values: string[] = [];
  private seen = -1;

  constructor(private readonly env: HookToolEnv) {}

  scrub(text: string): string {
    const n = this.env.changes.secrets?.length ?? 0;
    if (n !== this.seen) {
      this.seen = n;
      const found = new Set<string>();
      for (const v of hookSecretValues(this.env)) for (const piece of [v, ...v.split(/\r?\n/)].map((x) => x.trim())) if (piece.length >= MIN_SCRUB_LENGTH) found.add(piece);
      this.values = [...found].sort((a, b) => b.length - a.length);
    }
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join('***');
    return out;
  }

  scrubDeep<T>(value: T): T {
    if (this.values.length === 0 && (this.env.snapshot.secrets?.length ?? 0) === 0 && (this.env.changes.secrets?.length ?? 0) === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.scrub(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    return walk(value) as T;
  }
}
