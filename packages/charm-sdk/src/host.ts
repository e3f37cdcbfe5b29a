/**
 * Small helpers for what charms do to their machine: run commands, install Debian
 * packages, manage services, write configuration only when it changed. Charms keep these
 * calls behind their own workload interface so the test kit can replace them.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile, chown } from 'node:fs/promises';
import { dirname } from 'node:path';

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    const tail = (stderr.trim() || stdout.trim()).split('\n').slice(-5).join('\n  ');
    super(`${argv.join(' ')} exited ${code}${tail ? `:\n  ${tail}` : ''}`);
    this.name = 'CommandError';
  }
}

export interface RunOptions {
  input?: string;
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs a command; resolves with stdout, rejects with CommandError carrying its output. */
export function sh(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      argv[0]!,
      argv.slice(1),
      { env: { ...process.env, ...opts.env }, cwd: opts.cwd, timeout: opts.timeoutMs ?? 0, maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const code = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
        reject(new CommandError(argv, code, stdout, stderr));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/**
 * Installs the Debian packages not installed yet, waiting out another dpkg run on the
 * machine; resolves whether it installed anything.
 */
export async function aptInstall(packages: readonly string[]): Promise<boolean> {
  if (packages.length === 0) return false;
  const missing = [];
  for (const p of packages) {
    const state = await sh(['dpkg-query', '-W', '-f=${Status}', p]).catch(() => '');
    // Exactly this: dpkg also knows packages as "unknown ok not-installed".
    if (state !== 'install ok installed') missing.push(p);
  }
  if (missing.length === 0) return false;
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  const install = ['apt-get', '-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-q', '--no-install-recommends', ...missing];
  try {
    await sh(install, { env });
  } catch {
    // Stale package lists are the usual cause; refresh once and try again.
    await sh(['apt-get', '-o', 'DPkg::Lock::Timeout=300', 'update', '-q'], { env });
    await sh(install, { env });
  }
  return true;
}

export const systemctl = (verb: 'start' | 'stop' | 'restart' | 'reload' | 'enable' | 'disable' | 'is-active', unit: string) => sh(['systemctl', verb, unit]);

export async function isActive(unit: string): Promise<boolean> {
  return (await sh(['systemctl', 'is-active', unit]).catch(() => '')).trim() === 'active';
}

/** Writes a file atomically when its content differs; returns whether it changed. */
export async function writeIfChanged(path: string, content: string, opts: { mode?: number; uid?: number; gid?: number } = {}): Promise<boolean> {
  const old = await readFile(path, 'utf8').catch(() => undefined);
  if (old === content) return false;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path + '.sigil-tmp', content, { mode: opts.mode ?? 0o644 });
  if (opts.uid !== undefined) await chown(path + '.sigil-tmp', opts.uid, opts.gid ?? opts.uid);
  await rename(path + '.sigil-tmp', path);
  return true;
}

/** A random password from the system's CSPRNG, safe in URLs, shell words and configuration files. */
export function password(length = 24): string {
  return randomBytes(length).toString('base64url').slice(0, length);
}
