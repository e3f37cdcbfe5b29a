/**
 * The files the charm writes: Apache's site and WordPress's configuration (Debian's
 * /etc/wordpress/config-default.php, which its wp-config.php loads for any host). Pure and
 * deterministic, so an unchanged model never rewrites a file or reloads Apache.
 */
import { createHash } from 'node:crypto';
import { type Database, type Salts, SALT_NAMES, type Settings, databaseId } from './settings.ts';

export const SITE = '/etc/apache2/sites-available/wordpress.conf';
export const WP_CONFIG = '/etc/wordpress/config-default.php';
export const CONTENT_DIR = '/var/lib/wordpress/wp-content';

/** Apache's virtual host for WordPress on port 80. Changes to it need a graceful reload. */
export function renderSite(unit: string, s: Settings): string {
  return `# Written by the Sigil wordpress charm; local edits are overwritten.
<VirtualHost *:80>
    DocumentRoot /usr/share/wordpress
    Alias /wp-content ${CONTENT_DIR}
    # Which unit answered, so an operator (or a test) can see where the load balancer sent a request.
    Header always set X-Sigil-Unit "${unit}"
    php_admin_value upload_max_filesize ${s.uploadMaxSize}
    # The configuration is rewritten when the database moves (a new address, a proxy put in
    # between or taken out): PHP must read the new one on the next request, not after its
    # opcode cache looks again (every 2 s by default) with the old address possibly gone.
    php_admin_value opcache.revalidate_freq 0
    php_admin_value post_max_size ${s.uploadMaxSize}

    <Directory /usr/share/wordpress>
        Options FollowSymLinks
        AllowOverride None
        DirectoryIndex index.php
        Require all granted
        # Pretty permalinks, as WordPress's own .htaccess would set them.
        RewriteEngine On
        RewriteBase /
        RewriteRule ^index\\.php$ - [L]
        RewriteCond %{REQUEST_FILENAME} !-f
        RewriteCond %{REQUEST_FILENAME} !-d
        RewriteRule . /index.php [L]
    </Directory>
    <Directory ${CONTENT_DIR}>
        Options FollowSymLinks
        AllowOverride None
        Require all granted
    </Directory>
    # The leader installs WordPress from the charm; nobody may do it (or reconfigure it) over HTTP.
    <LocationMatch "^/wp-admin/(install|setup-config)\\.php">
        Require all denied
    </LocationMatch>

    ErrorLog \${APACHE_LOG_DIR}/wordpress-error.log
    CustomLog \${APACHE_LOG_DIR}/wordpress-access.log combined
</VirtualHost>
`;
}

/** A PHP single-quoted string literal holding exactly `value`. */
export function phpString(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

export interface WpConfigInput {
  db: Database;
  salts: Salts;
  /** host:port of each memcached; empty for WordPress's own per-request cache. */
  memcached: readonly string[];
  settings: Settings;
}

/**
 * WordPress's configuration. PHP reads it on every request (the site sets the opcode cache
 * to look at file times on every request), so writing it is enough: no reload. Every unit renders the same file from the same relation data and leader data.
 */
export function renderWpConfig(c: WpConfigInput): string {
  const define = (name: string, value: string | boolean) => `define(${phpString(name)}, ${typeof value === 'boolean' ? String(value) : phpString(value)});`;
  // Keeps sites that share a memcached apart, and is the same on every unit of one site.
  const cacheSalt = createHash('sha256').update(databaseId(c.db)).digest('hex').slice(0, 12);
  return [
    '<?php',
    '// Written by the Sigil wordpress charm from its relations, leader data and config; local edits are overwritten.',
    define('DB_NAME', c.db.name),
    define('DB_USER', c.db.user),
    define('DB_PASSWORD', c.db.password),
    define('DB_HOST', `${c.db.host}:${c.db.port}`),
    define('DB_CHARSET', 'utf8mb4'),
    define('DB_COLLATE', ''),
    ...SALT_NAMES.map((n) => define(n, c.salts[n])),
    define('WP_CACHE_KEY_SALT', cacheSalt),
    define('SIGIL_MEMCACHED_SERVERS', c.memcached.join(',')),
    define('WP_DEBUG', c.settings.debug),
    define('WP_DEBUG_DISPLAY', c.settings.debug),
    // Units do not share wp-content: a plugin or theme installed through one unit would be
    // missing on the others, so changes to code come from packages, not the admin pages.
    define('DISALLOW_FILE_MODS', true),
    define('WP_CONTENT_DIR', CONTENT_DIR),
    '',
    '// The site answers under the host and port each request names (a unit address, the load',
    "// balancer's, a port published on a host), so links and redirects work from everywhere.",
    "$sigil_host = $_SERVER['HTTP_HOST'] ?? 'localhost';",
    "if (!preg_match('/^([A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?$/', $sigil_host)) $sigil_host = 'localhost';",
    "$sigil_https = (!empty($_SERVER['HTTPS']) && $_SERVER['HTTPS'] !== 'off') || ($_SERVER['HTTP_X_FORWARDED_PROTO'] ?? '') === 'https';",
    "define('WP_HOME', ($sigil_https ? 'https://' : 'http://') . $sigil_host);",
    "define('WP_SITEURL', WP_HOME);",
    '',
  ].join('\n');
}
