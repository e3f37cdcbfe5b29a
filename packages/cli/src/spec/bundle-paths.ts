import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import YAML, { isMap, isScalar } from 'yaml';
import { SigilError } from '@sigil/core';

/**
 * A bundle in a spec names its charms relative to itself (`charm: ../charms/haproxy`) or by
 * their place in the collected tree (`charm: charms/django`, as Mojo's bundles named charms in
 * the repository the collect phase built). This writes a copy of the bundle into the workspace
 * with every such charm made absolute — beside the bundle first, then in the collected tree —
 * and `include-file://` / `include-base64://` values made absolute against the original file,
 * so the copy means exactly what the original meant. Bare names that are in neither place
 * stay as written.
 */
export function resolveBundle(file: string, buildDir: string, outDir: string, tag: string): string {
  let doc: YAML.Document;
  try {
    doc = YAML.parseDocument(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new SigilError('bad-request', `cannot read bundle ${file}: ${(e as Error).message}`, 'check the YAML');
  }
  if (doc.errors.length > 0) throw new SigilError('bad-request', `bundle ${file}: ${doc.errors[0]!.message.split('\n')[0]}`, 'fix the YAML syntax');
  const here = dirname(file);
  const apps = doc.get('applications');
  if (isMap(apps)) {
    for (const item of apps.items) {
      const app = item.value;
      if (!isMap(app)) continue;
      const charm = app.get('charm', true);
      if (isScalar(charm) && typeof charm.value === 'string' && !isAbsolute(charm.value) && !/^[a-z]+:/.test(charm.value)) {
        const beside = resolve(here, charm.value);
        const collected = resolve(buildDir, charm.value);
        if (existsSync(beside)) charm.value = beside;
        else if (existsSync(collected) && collected.startsWith(resolve(buildDir) + '/')) charm.value = collected;
      }
      const options = app.get('options', true);
      if (!isMap(options)) continue;
      for (const opt of options.items) {
        if (!isScalar(opt.value) || typeof opt.value.value !== 'string') continue;
        const m = /^(include-(?:file|base64):\/\/)(.*)$/.exec(opt.value.value);
        if (m && !isAbsolute(m[2]!)) opt.value.value = `${m[1]}${resolve(here, m[2]!)}`;
      }
    }
  }
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `${tag}-${basename(file)}`);
  writeFileSync(out, doc.toString({ lineWidth: 0 }), { mode: 0o600 });
  return out;
}
