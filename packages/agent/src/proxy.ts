import { mkdir, readFile, rm } from 'node:fs/promises';
import type { ProxySettings } from '@sigil/api';
import { writeAtomically } from './authorized-keys.ts';

/** Juju's file is 95-juju-proxy-settings; this one is the machine agent's and only its. */
export const APT_PROXY_FILE = '95-sigil-proxy-settings';

/**
 * apt's configuration for the model's `apt-*-proxy` keys, as Juju's proxy updater writes
 * it; undefined when none is set (the file is then removed). `apt-no-proxy` hosts get
 * DIRECT for each scheme that has a proxy.
 */
export function aptProxyConf(p: ProxySettings): string | undefined {
  const schemes = [['http', p['apt-http-proxy']], ['https', p['apt-https-proxy']], ['ftp', p['apt-ftp-proxy']]] as const;
  const set = schemes.filter(([, url]) => url !== '');
  if (set.length === 0) return undefined;
  const lines = ['// Written by the Sigil machine agent from the model\'s apt-*-proxy keys (sigil model-config), or the controller\'s apt cache for a host without a mirror; edits are replaced.'];
  for (const [scheme, url] of set) lines.push(`Acquire::${scheme}::Proxy "${url}";`);
  const direct = p['apt-no-proxy'].split(',').filter((h) => h !== '');
  for (const [scheme] of set) for (const host of direct) lines.push(`Acquire::${scheme}::Proxy::${host} "DIRECT";`);
  return lines.join('\n') + '\n';
}

/**
 * The settings apt gets on a machine: the model's, with the controller's apt cache as the
 * http proxy of a host that reaches no mirror (`aptCache`) while the model names none.
 */
export function machineAptProxy(model: ProxySettings, aptCache: string | undefined): ProxySettings {
  return aptCache && model['apt-http-proxy'] === '' ? { ...model, 'apt-http-proxy': aptCache } : model;
}

/** The JUJU_CHARM_*_PROXY variables every hook gets (empty when the model sets none), as Juju exports them. */
export function charmProxyEnv(p: ProxySettings | undefined): Record<string, string> {
  return {
    JUJU_CHARM_HTTP_PROXY: p?.['juju-http-proxy'] ?? '',
    JUJU_CHARM_HTTPS_PROXY: p?.['juju-https-proxy'] ?? '',
    JUJU_CHARM_FTP_PROXY: p?.['juju-ftp-proxy'] ?? '',
    JUJU_CHARM_NO_PROXY: p?.['juju-no-proxy'] ?? '',
  };
}

/** Brings `dir/95-sigil-proxy-settings` in step with the settings; returns whether the file changed. */
export async function applyAptProxy(dir: string, p: ProxySettings): Promise<boolean> {
  const path = `${dir}/${APT_PROXY_FILE}`;
  const wanted = aptProxyConf(p);
  const now = await readFile(path, 'utf8').catch(() => undefined);
  if (now === wanted) return false;
  if (wanted === undefined) await rm(path, { force: true });
  else {
    await mkdir(dir, { recursive: true });
    await writeAtomically(path, wanted, 0o644);
  }
  return true;
}
