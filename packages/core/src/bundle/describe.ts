import type { ConfigValue } from '../charm/types.ts';
import type { Change } from './types.ts';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Long or multi-line values (certificates from include-file://) are summarised, not printed. */
function value(v: ConfigValue | string): string {
  if (typeof v !== 'string') return String(v);
  return v.length > 60 || v.includes('\n') ? `<${v.length} characters>` : JSON.stringify(v);
}

const pairs = (m: Record<string, ConfigValue | string>) =>
  Object.entries(m)
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(', ');

function placement(p: string): string {
  if (p === 'new') return 'a new machine';
  if (/^[0-9]+$/.test(p)) return `machine ${p}`;
  if (p.startsWith('machine:')) return `existing machine ${p.slice('machine:'.length)}`;
  return `the machine of ${p}`;
}

const placements = (to: string[]) => (to.length === 0 ? '' : ` on ${to.map(placement).join(', ')}`);

/** One line a person can read in a plan, e.g. `deploy application "wordpress" from ./charms/wordpress with 2 units`. */
export function describeChange(c: Change): string {
  switch (c.kind) {
    case 'add-charm':
      return `upload charm ${c.path} for application "${c.app}"`;
    case 'add-machine':
      return `add new machine ${c.id}${c.constraints === '' ? '' : ` with constraints "${c.constraints}"`}`;
    case 'deploy': {
      const units = c.numUnits === 0 ? '' : ` with ${plural(c.numUnits, 'unit')}${placements(c.to)}`;
      const options = Object.keys(c.options).length === 0 ? '' : `, options ${pairs(c.options)}`;
      const constraints = c.constraints === '' ? '' : `, constraints "${c.constraints}"`;
      return `deploy application "${c.app}" from ${c.charmPath}${units}${options}${constraints}`;
    }
    case 'refresh':
      return `refresh application "${c.app}" to charm ${c.charmPath}`;
    case 'add-unit':
      return `add ${plural(c.n, 'unit')} to application "${c.app}"${placements(c.to)}`;
    case 'set-config': {
      const parts = [Object.keys(c.set).length > 0 ? `set ${pairs(c.set)}` : '', c.reset.length > 0 ? `reset ${c.reset.join(', ')} to default` : ''];
      return `configure application "${c.app}": ${parts.filter(Boolean).join('; ')}`;
    }
    case 'set-constraints':
      return `set constraints of application "${c.app}" to "${c.constraints}"`;
    case 'relate':
      return `add relation ${c.a} - ${c.b}`;
    case 'expose':
      return `expose application "${c.app}"`;
    case 'unexpose':
      return `unexpose application "${c.app}"`;
    case 'set-annotations':
      return `set annotations of application "${c.app}": ${pairs(c.annotations)}`;
  }
}
