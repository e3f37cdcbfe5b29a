/**
 * The unit's copy of its application's resources (issue 20): each is fetched once per
 * fingerprint into `<unit dir>/resources/<name>/<filename>`, checked against its sha384,
 * and replaced atomically, so `resource-get` only ever prints the path of a whole file.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { UnitResourceView } from '@sigil/api';
import type { AgentApi } from '../api-client.ts';

export async function ensureResources(api: AgentApi, unit: string, dir: string, views: UnitResourceView[]): Promise<Record<string, { path?: string; error?: string }>> {
  const out: Record<string, { path?: string; error?: string }> = {};
  for (const r of views) {
    if (r.fingerprint === '') {
      out[r.name] = { error: `resource "${r.name}" has not been uploaded (sigil attach-resource <application> ${r.name}=<file>)` };
      continue;
    }
    const home = join(dir, r.name);
    const path = join(home, r.filename || r.name);
    const have = await readFile(join(home, '.fingerprint'), 'utf8').catch(() => '');
    if (have === r.fingerprint) {
      out[r.name] = { path };
      continue;
    }
    try {
      const got = await api.call('POST /api/agent/resources', { body: { unit, name: r.name } });
      const data = Buffer.from(got.data, 'base64');
      const sum = createHash('sha384').update(data).digest('hex');
      if (sum !== got.fingerprint) throw new Error(`content does not match its fingerprint ${got.fingerprint.slice(0, 12)}`);
      await mkdir(home, { recursive: true, mode: 0o755 });
      await writeFile(path + '.tmp', data);
      await rename(path + '.tmp', path);
      await writeFile(join(home, '.fingerprint'), sum);
      out[r.name] = { path };
    } catch (e) {
      out[r.name] = { error: `could not download resource "${r.name}": ${(e as Error).message}` };
    }
  }
  return out;
}
