/**
 * The charm's config and what the relations publish, checked and turned into the values
 * the renderers and the leader's setup script use. Pure: no I/O, table-tested.
 */

export interface Blog {
  title: string;
  tagline: string;
  adminUser: string;
  adminEmail: string;
  public: boolean;
}

export interface Settings {
  blog: Blog;
  /** PHP's upload_max_filesize and post_max_size, as PHP writes sizes (8M). */
  uploadMaxSize: string;
  debug: boolean;
}

export interface Config {
  'blog-title': string;
  tagline: string;
  'admin-user': string;
  'admin-email': string;
  'blog-public': boolean;
  'upload-max-size': string;
  debug: boolean;
}

/** A config value the charm refuses; the message names the option, the value and a fix. */
export class ConfigError extends Error {
  constructor(option: string, value: string, reason: string) {
    super(`${option}=${JSON.stringify(value)} ${reason}`);
    this.name = 'ConfigError';
  }
}

// WordPress's sanitize_user(strict): letters, digits, space, _ . - @ ; no leading/trailing space.
const LOGIN = /^[A-Za-z0-9_.@-](?:[A-Za-z0-9_.@ -]{0,58}[A-Za-z0-9_.@-])?$/;
// What WordPress's is_email() accepts, roughly: local@domain.tld without spaces.
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/;
const SIZE = /^([0-9]+)([KMG]?)$/i;
const UNIT = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 } as const;

export function settingsFrom(c: Config): Settings {
  if (c['blog-title'].trim() === '') throw new ConfigError('blog-title', c['blog-title'], 'is empty: give the site a title');
  if (!LOGIN.test(c['admin-user'])) {
    throw new ConfigError('admin-user', c['admin-user'], 'is not a WordPress login: use 1-60 letters, digits, spaces, _ . - @ (no leading or trailing space)');
  }
  if (!EMAIL.test(c['admin-email'])) throw new ConfigError('admin-email', c['admin-email'], 'is not an e-mail address: use name@example.com');
  const m = SIZE.exec(c['upload-max-size'].trim());
  const bytes = m ? Number(m[1]) * UNIT[m[2]!.toUpperCase() as keyof typeof UNIT] : NaN;
  if (!m || !(bytes >= 1024 && bytes <= 1024 ** 3)) {
    throw new ConfigError('upload-max-size', c['upload-max-size'], 'is not a size from 1K to 1G: use bytes or a K, M or G suffix, e.g. 8M');
  }
  return {
    blog: { title: c['blog-title'], tagline: c.tagline, adminUser: c['admin-user'], adminEmail: c['admin-email'], public: c['blog-public'] },
    uploadMaxSize: `${m[1]}${m[2]!.toUpperCase()}`,
    debug: c.debug,
  };
}

/** What Juju's MySQL charm publishes on the `mysql` interface, as WordPress needs it. */
export interface Database {
  host: string;
  port: number;
  name: string;
  user: string;
  password: string;
  /** The provider unit that published it. */
  unit: string;
}

/**
 * The database from the provider's unit bags: the first unit that published all of host,
 * database, user and password (Juju's MySQL charm publishes from the unit serving the
 * relation; other units publish nothing). Undefined until one has.
 */
export function databaseFrom(bags: readonly { unit: string; data: Readonly<Record<string, string>> }[]): Database | undefined {
  for (const { unit, data: b } of bags) {
    if (!b.host || !b.database || !b.user || !b.password) continue;
    const port = b.port ? Number(b.port) : 3306;
    if (!Number.isInteger(port) || port < 1 || port > 65535) continue;
    return { host: b.host, port, name: b.database, user: b.user, password: b.password, unit };
  }
  return undefined;
}

/**
 * Which database a site was installed into: the leader records it, the others compare, and
 * the object cache's key salt is made from it. It names the database by the unit serving
 * it, not by the address it is reached at: a proxy put in between (`sigil chaos add`, a
 * connection router) or a new address of the same unit is the same database, and must not
 * send the leader to install again while the other units leave the load balancer.
 */
export function databaseId(db: Database): string {
  return `${db.user}@${db.unit}/${db.name}`;
}

/** Whether `recorded` (leader data) names `db`; ids recorded by earlier revisions named its address. */
export function installedInto(recorded: string | undefined, db: Database): boolean {
  return recorded === databaseId(db) || recorded === `${db.user}@${db.host}:${db.port}/${db.name}`;
}

/** memcached servers (host:port) from the units on `cache`, in a stable order. */
export function memcachedFrom(bags: readonly Readonly<Record<string, string>>[]): string[] {
  const servers = new Set<string>();
  for (const b of bags) {
    if (!b.host || !/^[A-Za-z0-9_.:-]+$/.test(b.host)) continue;
    const port = b.port ? Number(b.port) : 11211;
    if (!Number.isInteger(port) || port < 1 || port > 65535) continue;
    servers.add(`${b.host}:${port}`);
  }
  return [...servers].sort();
}

/** The eight keys and salts wp-config.php defines; the leader generates them once for all units. */
export const SALT_NAMES = ['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as const;
export type Salts = Record<(typeof SALT_NAMES)[number], string>;

/** Salts from leader data (a JSON object), or undefined when absent or incomplete. */
export function parseSalts(text: string | undefined): Salts | undefined {
  if (!text) return undefined;
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    return SALT_NAMES.every((n) => typeof o[n] === 'string' && o[n] !== '') ? (o as Salts) : undefined;
  } catch {
    return undefined;
  }
}
