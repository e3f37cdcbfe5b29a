import { SigilError } from './errors.ts';

/** A batch size: a fixed number of units, or a share of them (rounded up, at least one). */
export type BatchSpec = { units: number } | { percent: number };

const BATCH_HINT = 'give a unit count such as --batch 2, or a share such as --batch 25% (1-100%)';

export function parseBatchSpec(text: string): BatchSpec {
  const s = text.trim();
  const pct = /^(\d{1,3})%$/.exec(s);
  if (pct) {
    const percent = Number(pct[1]);
    if (percent < 1 || percent > 100) throw new SigilError('bad-request', `invalid batch "${text}": a share must be 1-100%`, BATCH_HINT);
    return { percent };
  }
  if (!/^\d{1,6}$/.test(s) || Number(s) < 1) throw new SigilError('bad-request', `invalid batch "${text}": not a positive unit count or a percentage`, BATCH_HINT);
  return { units: Number(s) };
}

export function batchSize(spec: BatchSpec, unitCount: number): number {
  if ('units' in spec) return spec.units;
  return Math.max(1, Math.ceil((spec.percent * unitCount) / 100));
}

/**
 * Cuts the units into batches: non-leaders first in unit order, the leader last, so
 * leadership moves at most once and the leader runs the new revision only when every other
 * unit already does (Juju operators' habit for rolling upgrades).
 */
export function planBatches(units: string[], leader: string | null, spec: BatchSpec): string[][] {
  const byNumber = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
  const ordered = [...units.filter((u) => u !== leader).sort(byNumber), ...units.filter((u) => u === leader)];
  const size = batchSize(spec, ordered.length);
  const out: string[][] = [];
  for (let i = 0; i < ordered.length; i += size) out.push(ordered.slice(i, i + size));
  return out;
}

const GATE_HINT = 'a gate is a shell command such as --gate \'curl -fsS http://localhost/health\', or --gate-http http://{address}/health';

/** Checks a gate command's shape (its shell syntax is checked by `bash -n` where it is given). */
export function checkGateCommand(cmd: string): void {
  if (cmd.trim() === '') throw new SigilError('bad-request', 'the gate command is empty', GATE_HINT);
  if (cmd.length > 4096) throw new SigilError('bad-request', `the gate command is ${cmd.length} characters long (at most 4096)`, 'put a long check in a script on the units and call it');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000\r]/.test(cmd)) throw new SigilError('bad-request', 'the gate command contains a NUL or carriage return', GATE_HINT);
}

/** Checks a `--gate-http` URL: http or https, with `{address}` the only placeholder. */
export function checkGateUrl(url: string): void {
  const hint = 'write a URL such as http://{address}:80/health ({address} is each upgraded unit\'s address) or a fixed http(s) URL';
  const probe = url.replaceAll('{address}', '127.0.0.1');
  if (/[{}]/.test(probe)) throw new SigilError('bad-request', `invalid gate URL "${url}": unknown placeholder`, hint);
  let u: URL;
  try {
    u = new URL(probe);
  } catch {
    throw new SigilError('bad-request', `invalid gate URL "${url}"`, hint);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new SigilError('bad-request', `invalid gate URL "${url}": ${u.protocol} is not http or https`, hint);
  if (u.username || u.password) throw new SigilError('bad-request', 'the gate URL carries credentials', 'credentials in a URL end up in status and logs; check an endpoint that needs none');
}
