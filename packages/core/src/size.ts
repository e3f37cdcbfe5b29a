import { SigilError } from './errors.ts';

const UNIT: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** Parses sizes as Juju writes them (`512K`, `1M`, `2G`, plain bytes), in binary units. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([BKMG]?)i?B?$/i.exec(text.trim());
  if (!m) throw new SigilError('bad-request', `invalid size "${text}"`, 'write sizes like 512K, 1M or 2G');
  return Math.round(Number(m[1]) * UNIT[m[2]!.toUpperCase()]!);
}

export function formatSize(bytes: number): string {
  for (const [u, n] of [['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) {
    if (bytes >= n) return `${Number((bytes / n).toFixed(1))}${u}`;
  }
  return `${bytes}B`;
}
