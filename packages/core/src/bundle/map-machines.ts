import { SigilError } from '../errors.ts';

/**
 * `deploy --map-machines`: `existing` (every bundle machine whose id is a machine of the
 * model is that machine), `B=M` pairs (bundle machine B is model machine M), or both
 * (`existing,2=5`, pairs win). Returns bundle id → model machine id. Unknown ids are refused
 * with a hint, as Juju refuses them.
 */
export function parseMapMachines(text: string, bundleMachines: readonly string[], modelMachines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw new SigilError('bad-request', 'empty --map-machines', 'use --map-machines existing, or bundle=model pairs such as 1=3,2=4');
  for (const part of parts) {
    if (part === 'existing') {
      for (const id of bundleMachines) if (modelMachines.includes(id) && !out.has(id)) out.set(id, id);
      continue;
    }
    const m = /^(0|[1-9][0-9]*)=(0|[1-9][0-9]*)$/.exec(part);
    if (m === null) throw new SigilError('bad-request', `expected "existing" or <bundle machine>=<model machine> in --map-machines, got "${part}"`, 'e.g. --map-machines existing,1=3');
    const [, from, to] = m as unknown as [string, string, string];
    if (!bundleMachines.includes(from)) throw new SigilError('bad-request', `--map-machines: the bundle declares no machine "${from}"`, `bundle machines: ${bundleMachines.join(', ') || '(none)'}`);
    if (!modelMachines.includes(to)) throw new SigilError('not-found', `--map-machines: machine ${to} not found in the model`, `model machines: ${modelMachines.join(', ') || '(none)'}`);
    out.set(from, to);
  }
  return out;
}
