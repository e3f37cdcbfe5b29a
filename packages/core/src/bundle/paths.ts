/*
 * POSIX path arithmetic without node:path, so that core stays free of Node built-ins and
 * pure: nothing here consults the working directory.
 */

/** The directory part of `path`: `/a/b/c.yaml` → `/a/b`. */
export function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : path.slice(0, i);
}

/**
 * `rel` resolved against directory `dir`, with `.` and `..` folded: absolute when either is.
 * `resolvePath('/b/bundles', '../charms/mysql')` → `/b/charms/mysql`.
 */
export function resolvePath(dir: string, rel: string): string {
  const joined = rel.startsWith('/') ? rel : `${dir}/${rel}`;
  const absolute = joined.startsWith('/');
  const out: string[] = [];
  for (const seg of joined.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (seg === '..' && absolute) continue;
    else out.push(seg);
  }
  const path = out.join('/');
  return absolute ? `/${path}` : path === '' ? '.' : path;
}
