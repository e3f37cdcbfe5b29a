import { SigilError, formatSize, parseSize } from '@sigil/core';
import type { ModelConfig } from './models.ts';

/**
 * The model's limits, checked where data enters the store. Each refusal names the limit,
 * its value, and the `model-config` key that raises it; nothing is written when it fires.
 */
export function checkUnitCount(config: ModelConfig, n: number, what = 'units'): void {
  const max = config['max-units-per-call'];
  if (n > max) {
    throw new SigilError('too-large', `cannot add ${n} ${what} in one call: the limit is ${max}`, `add them in steps of at most ${max}, or raise the limit: \`sigil model-config max-units-per-call=${Math.max(n, max * 2)}\``);
  }
}

type SizeKey = 'max-relation-bag-size' | 'max-config-value-size' | 'max-charm-state-size';

export function checkSize(config: ModelConfig, key: SizeKey, what: string, bytes: number): void {
  const max = parseSize(config[key]);
  if (bytes > max) {
    throw new SigilError('too-large', `${what} is ${formatSize(bytes)}, over the limit of ${formatSize(max)} (${key})`, `store large data elsewhere (a file, a resource), or raise the limit: \`sigil model-config ${key}=${formatSize(Math.max(bytes * 2, max * 2))}\``);
  }
}

/** The size of a bag or value as stored. */
export function storedSize(value: unknown): number {
  return Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value) ?? '');
}
