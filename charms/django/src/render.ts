/**
 * The files the charm writes, rendered without I/O: settings.json (read by the
 * sigil_settings module in files/) and gunicorn's systemd unit.
 */
import type { Database } from './relations.ts';

export interface Release {
  /** `dir-<hash of the files>` or `git-<commit>`: the same code gives the same id on every unit. */
  id: string;
  /** The directory holding the project (manage.py). */
  projectDir: string;
  /** Where collectstatic put the release's static files. */
  staticRoot: string;
}

export interface SettingsInput {
  release: Release;
  settingsModule: string;
  debug: boolean;
  secretKey: string;
  allowedHosts: readonly string[];
  database: Database | undefined;
  cacheServers: readonly string[];
  /** Keeps the keys of applications sharing one memcached apart. */
  cachePrefix: string;
}

/** settings.json: what sigil_settings.py puts over the project's own settings. */
export function renderSettings(i: SettingsInput): string {
  const cache =
    i.cacheServers.length > 0
      ? { BACKEND: 'django.core.cache.backends.memcached.PyMemcacheCache', LOCATION: [...i.cacheServers], KEY_PREFIX: i.cachePrefix }
      : { BACKEND: 'django.core.cache.backends.locmem.LocMemCache', LOCATION: i.cachePrefix };
  const database = i.database && {
    ENGINE: 'django.db.backends.postgresql',
    NAME: i.database.name,
    USER: i.database.user,
    PASSWORD: i.database.password,
    HOST: i.database.host,
    PORT: String(i.database.port),
    // Keep connections for a minute instead of one per request; health checks come every 2 s.
    CONN_MAX_AGE: 60,
  };
  const doc = {
    project_dir: i.release.projectDir,
    settings_module: i.settingsModule,
    debug: i.debug,
    secret_key: i.secretKey,
    allowed_hosts: [...i.allowedHosts],
    database: database ?? null,
    cache,
    static_root: i.release.staticRoot,
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

/** The release a settings.json serves (the last part of its project_dir), if any. */
export function servedRelease(settingsText: string): string | undefined {
  try {
    const dir = (JSON.parse(settingsText) as { project_dir?: unknown }).project_dir;
    return typeof dir === 'string' ? dir.split('/').filter((p) => p !== '').pop() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The settings a release is built with (collectstatic) before the unit has a database or
 * the leader's secret: nothing secret in it, so it can sit beside the release.
 */
export function buildSettings(release: Release, settingsModule: string): string {
  return renderSettings({ release, settingsModule, debug: false, secretKey: 'collectstatic-only', allowedHosts: [], database: undefined, cacheServers: [], cachePrefix: 'build' });
}

export interface ServiceInput {
  port: number;
  workers: number;
  /** Directory of sigil_settings.py and sigil_wsgi.py. */
  overlayDir: string;
  settingsFile: string;
  workDir: string;
}

/**
 * gunicorn as a systemd service. SIGHUP (ExecReload) starts new workers, which import the
 * settings afresh, and retires the old ones gracefully: config and release changes need no
 * restart. Only the listening port and the worker count are command-line options.
 */
export function renderService(s: ServiceInput): string {
  return `# Managed by the Sigil django charm.
[Unit]
Description=Django project on gunicorn (Sigil django charm)
After=network.target

[Service]
User=django
Group=django
WorkingDirectory=${s.workDir}
Environment=SIGIL_DJANGO_SETTINGS=${s.settingsFile}
ExecStart=/usr/bin/gunicorn --bind 0.0.0.0:${s.port} --workers ${s.workers} --pythonpath ${s.overlayDir} --access-logfile - --graceful-timeout 30 sigil_wsgi:application
ExecReload=/bin/kill -s HUP $MAINPID
KillMode=mixed
TimeoutStopSec=35
Restart=on-failure
RestartSec=2

[Install]
WantedBy=multi-user.target
`;
}

/**
 * What the leader records in leader data once migrations ran: the code and the database
 * they ran for. Other units serve a release only when the leader's key matches theirs.
 */
export function migrationKey(releaseId: string, db: Database): string {
  return `${releaseId}@${db.host}:${db.port}/${db.name}`;
}
