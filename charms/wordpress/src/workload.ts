/** What the wordpress charm does to its machine, behind an interface the tests replace. */
import { aptInstall, isActive, sh, systemctl, writeIfChanged } from '@sigil/charm-sdk';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTENT_DIR, SITE, WP_CONFIG } from './render.ts';
import type { Blog } from './settings.ts';

export interface Workload {
  /** Installs WordPress, Apache and PHP, and makes the charm's site the only one Apache serves. */
  install(): Promise<void>;
  /** Installs PHP's memcached extension; true when it was not there (Apache must reload to load it). */
  installCacheClient(): Promise<boolean>;
  /** The Debian wordpress package's version. */
  version(): Promise<string>;
  /** Writes Apache's site; true when it changed. */
  writeSite(text: string): Promise<boolean>;
  /** Writes WordPress's configuration; true when it changed. */
  writeWpConfig(text: string): Promise<boolean>;
  apacheRunning(): Promise<boolean>;
  /** Starts Apache, or gracefully reloads it when it runs: no request is dropped. */
  startOrReload(): Promise<void>;
  /** Stops Apache gracefully: requests in flight finish first. */
  stop(): Promise<void>;
  /** Runs the leader's setup script (install or settings, see files/wp-setup.php); returns what it printed. */
  setup(mode: 'install' | 'settings', blog: Blog, adminPassword: string): Promise<string>;
}

const PACKAGES = ['wordpress', 'wordpress-theme-twentytwentythree', 'apache2', 'libapache2-mod-php', 'php-cli', 'php-mysql'];
const SERVICE = 'apache2.service';

export class MachineWorkload implements Workload {
  /** @param charmDir where the charm's files/ are (JUJU_CHARM_DIR). */
  constructor(private readonly charmDir: string) {}

  async install() {
    await aptInstall(PACKAGES);
    await sh(['a2enmod', '-q', 'headers', 'rewrite']);
    await sh(['a2dissite', '-q', '000-default']);
    // The object cache drop-in defines nothing until the config names memcached servers.
    await writeIfChanged(join(CONTENT_DIR, 'object-cache.php'), await readFile(join(this.charmDir, 'files', 'object-cache.php'), 'utf8'));
  }

  async installCacheClient() {
    return aptInstall(['php-memcached']);
  }

  async version() {
    return (await sh(['dpkg-query', '-W', '-f=${Version}', 'wordpress'])).trim().replace(/\+dfsg.*$/, '');
  }

  async writeSite(text: string) {
    const changed = await writeIfChanged(SITE, text);
    await sh(['a2ensite', '-q', 'wordpress']);
    return changed;
  }

  async writeWpConfig(text: string) {
    return writeIfChanged(WP_CONFIG, text, { mode: 0o640, uid: 0, gid: await wwwDataGid() });
  }

  apacheRunning() {
    return isActive(SERVICE);
  }

  async startOrReload() {
    if (await isActive(SERVICE)) await systemctl('reload', SERVICE);
    else await systemctl('start', SERVICE);
  }

  async stop() {
    await systemctl('stop', SERVICE);
  }

  async setup(mode: 'install' | 'settings', blog: Blog, adminPassword: string) {
    const env = {
      SIGIL_WP_TITLE: blog.title,
      SIGIL_WP_TAGLINE: blog.tagline,
      SIGIL_WP_ADMIN_USER: blog.adminUser,
      SIGIL_WP_ADMIN_EMAIL: blog.adminEmail,
      SIGIL_WP_ADMIN_PASSWORD: adminPassword,
      SIGIL_WP_PUBLIC: blog.public ? '1' : '0',
    };
    return (await sh(['php', join(this.charmDir, 'files', 'wp-setup.php'), mode], { env, timeoutMs: 300_000 })).trim();
  }
}

async function wwwDataGid(): Promise<number> {
  return Number((await sh(['getent', 'group', 'www-data'])).split(':')[2]);
}
