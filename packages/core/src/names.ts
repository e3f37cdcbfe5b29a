import { SigilError } from './errors.ts';

// juju/names ApplicationSnippet: lowercase, starts with a letter, hyphen-separated, and
// no segment may be digits only.
const APP_RE = /^[a-z][a-z0-9]*(?:-[a-z0-9]*[a-z][a-z0-9]*)*$/;
const UNIT_RE = /^([a-z][a-z0-9]*(?:-[a-z0-9]*[a-z][a-z0-9]*)*)\/(\d+)$/;
const MODEL_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export function isApplicationName(s: string): boolean {
  return APP_RE.test(s);
}

/**
 * Names end up in URLs, unit tags, agent directories and (for models) container hostnames,
 * which are limited to 63 characters: `sigil-<model>-<machine>`.
 */
export const MAX_APPLICATION_NAME = 50;
export const MAX_MODEL_NAME = 40;

export function checkApplicationName(s: string): string {
  if (s.length > MAX_APPLICATION_NAME) {
    throw new SigilError('bad-request', `application name "${s.slice(0, 20)}…" is ${s.length} characters long`, `use at most ${MAX_APPLICATION_NAME} characters (names appear in unit tags, paths and URLs); this limit is fixed`);
  }
  if (!APP_RE.test(s)) {
    throw new SigilError(
      'bad-request',
      `invalid application name "${s}"`,
      'use lowercase letters, digits and hyphens, starting with a letter; no segment may be only digits (e.g. "my-app")',
    );
  }
  return s;
}

export function checkModelName(s: string): string {
  if (s.length > MAX_MODEL_NAME) {
    throw new SigilError('bad-request', `model name "${s.slice(0, 20)}…" is ${s.length} characters long`, `use at most ${MAX_MODEL_NAME} characters (the model name is part of every machine's hostname, at most 63 characters); this limit is fixed`);
  }
  if (!MODEL_RE.test(s)) {
    throw new SigilError('bad-request', `invalid model name "${s}"`, 'use lowercase letters, digits and hyphens');
  }
  return s;
}

export interface UnitName {
  app: string;
  number: number;
}

export function parseUnitName(s: string): UnitName | undefined {
  const m = UNIT_RE.exec(s);
  if (!m) return undefined;
  return { app: m[1]!, number: Number(m[2]) };
}

export function checkUnitName(s: string): UnitName {
  const u = parseUnitName(s);
  if (!u) throw new SigilError('bad-request', `invalid unit name "${s}"`, 'units are named <application>/<number>, e.g. "sink/0"');
  return u;
}

export function unitApp(unit: string): string {
  return unit.slice(0, unit.lastIndexOf('/'));
}

/** `wordpress/0` → `unit-wordpress-0`, Juju's tag and agent directory name. */
export function unitTag(unit: string): string {
  return 'unit-' + unit.replace('/', '-');
}

/** `0` → `machine-0`, `0/lxc/1` → `machine-0-lxc-1`: Juju's machine tag. */
export function machineTag(machine: string): string {
  return 'machine-' + machine.replaceAll('/', '-');
}

/** Natural order, as Juju sorts status rows: `app/2` before `app/10`, machine `2` before `10`. */
export function naturalCompare(a: string, b: string): number {
  collator ??= new Intl.Collator('en', { numeric: true });
  return collator.compare(a, b);
}

/** Made on first use: creating a collator loads ICU data (about 12 ms), which most CLI runs never need. */
let collator: Intl.Collator | undefined;
