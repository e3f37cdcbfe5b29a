/**
 * Version ordering. Debian versions follow dpkg's algorithm ([epoch:]upstream[-revision],
 * `~` before everything, letters before other characters); other ecosystems are compared
 * with the same digit/non-digit walk on their release part, a pre-release (`1.0-rc1`,
 * `1.0rc1` in PyPI is treated alike) sorting before its release.
 */

function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[0-9]/.test(c)) return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp: compares one part (upstream or revision). */
export function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !/[0-9]/.test(a[i]!)) || (j < b.length && !/[0-9]/.test(b[j]!))) {
      const ac = order(a[i]);
      const bc = order(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (i < a.length && /[0-9]/.test(a[i]!) && j < b.length && /[0-9]/.test(b[j]!)) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && /[0-9]/.test(a[i]!)) return 1;
    if (j < b.length && /[0-9]/.test(b[j]!)) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

function splitDebian(v: string): { epoch: number; upstream: string; revision: string } {
  const colon = v.indexOf(':');
  const epoch = colon > 0 && /^\d+$/.test(v.slice(0, colon)) ? Number(v.slice(0, colon)) : 0;
  const rest = colon > 0 ? v.slice(colon + 1) : v;
  const dash = rest.lastIndexOf('-');
  return dash === -1 ? { epoch, upstream: rest, revision: '' } : { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) };
}

export function compareDebian(a: string, b: string): number {
  const x = splitDebian(a);
  const y = splitDebian(b);
  return Math.sign(x.epoch - y.epoch) || Math.sign(verrevcmp(x.upstream, y.upstream)) || Math.sign(verrevcmp(x.revision, y.revision));
}

function splitGeneric(v: string): { release: string; pre: string } {
  const s = v.trim().replace(/^v(?=\d)/, '').replace(/\+.*$/, '');
  const m = /^([0-9][0-9.]*)(?:[-.]?((?:a|b|rc|alpha|beta|pre|dev|preview)[-.]?\d*.*|-.+))?$/i.exec(s);
  if (!m) return { release: s, pre: '' };
  return { release: m[1]!.replace(/\.$/, ''), pre: (m[2] ?? '').replace(/^-/, '') };
}

export function compareGeneric(a: string, b: string): number {
  const x = splitGeneric(a);
  const y = splitGeneric(b);
  const rel = Math.sign(verrevcmp(x.release, y.release));
  if (rel !== 0) return rel;
  if (x.pre === y.pre) return 0;
  if (x.pre === '') return 1;
  if (y.pre === '') return -1;
  return Math.sign(verrevcmp(x.pre, y.pre));
}

export function compareVersions(ecosystem: string, a: string, b: string): number {
  return /^debian/i.test(ecosystem) ? compareDebian(a, b) : compareGeneric(a, b);
}
