import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { SigilError } from '@sigil/core';

/**
 * The client's files under SIGIL_HOME (default ~/.local/share/sigil), as Juju keeps
 * controllers.yaml and accounts.yaml: two checkouts or two test runs with different
 * SIGIL_HOMEs never see each other. Local controllers keep their data here too.
 */
export interface ControllerEntry {
  /** The address calls go to first: the one that answered last. */
  endpoint: string;
  /**
   * Every address of the controller (one per controller process sharing its store), as the
   * controller last listed them: a call moves to the next when the one it tried does not
   * answer. Counts only while it includes `endpoint`.
   */
  endpoints?: string[];
  dir: string;
  provider: string;
  'current-model': string;
  /**
   * The controller's CA (PEM), pinned at bootstrap: the only certificate the CLI trusts for
   * this controller. Absent only in entries written before controllers served TLS.
   */
  'ca-cert'?: string;
}

export interface ControllersFile {
  'current-controller'?: string;
  controllers: Record<string, ControllerEntry>;
}

/**
 * A user's session on a controller: its name, a session token (never a password) and when
 * the token expires (ISO 8601; the CLI refreshes it as it nears expiry). `token` is absent
 * after `sigil logout`.
 */
export interface AccountEntry {
  user: string;
  token?: string;
  expires?: string;
}

export interface AccountsFile {
  controllers: Record<string, AccountEntry>;
}

export class Home {
  readonly root: string;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.root = env.SIGIL_HOME || join(env.HOME ?? homedir(), '.local', 'share', 'sigil');
  }

  controllerDir(name: string): string {
    return join(this.root, 'controllers', name);
  }

  controllers(): ControllersFile {
    return this.read<ControllersFile>('controllers.yaml', { controllers: {} });
  }

  accounts(): AccountsFile {
    return this.read<AccountsFile>('accounts.yaml', { controllers: {} });
  }

  /**
   * Changes controllers.yaml: `change` sees the file as it is now, under a lock, so two
   * CLIs bootstrapping or switching at once never lose each other's entries.
   */
  updateControllers(change: (f: ControllersFile) => void): ControllersFile {
    return this.update('controllers.yaml', 0o644, { controllers: {} }, change);
  }

  updateAccounts(change: (f: AccountsFile) => void): AccountsFile {
    return this.update('accounts.yaml', 0o600, { controllers: {} }, change);
  }

  /** The controller a command talks to: `-c`/`-m ctl:model`, else the current one. */
  resolve(controller?: string): { name: string; entry: ControllerEntry; token: string; user: string; expires: number | undefined } {
    const f = this.controllers();
    const name = controller ?? f['current-controller'];
    if (!name) throw new SigilError('not-found', 'no controller selected', 'bootstrap one with `sigil bootstrap --provider local-process demo`');
    const entry = f.controllers[name];
    if (!entry) throw new SigilError('not-found', `controller "${name}" not found`, `known controllers: ${Object.keys(f.controllers).join(', ') || '(none)'}; see \`sigil controllers\``);
    const account = this.accounts().controllers[name];
    const token = account?.token;
    if (!token) throw new SigilError('unauthorized', `not logged in to controller "${name}"`, `log in with \`sigil login -c ${name} -u ${account?.user ?? 'NAME'}\` (credentials are kept in ${join(this.root, 'accounts.yaml')})`);
    const expires = account.expires ? Date.parse(account.expires) : undefined;
    return { name, entry, token, user: account.user, expires: Number.isNaN(expires) ? undefined : expires };
  }

  private read<T>(file: string, fallback: T): T {
    try {
      return (YAML.parse(readFileSync(join(this.root, file), 'utf8')) as T | null) ?? fallback;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
      throw new SigilError('bad-request', `cannot read ${join(this.root, file)}: ${(e as Error).message}`, 'fix or remove the file');
    }
  }

  private update<T>(file: string, mode: number, fallback: T, change: (f: T) => void): T {
    mkdirSync(this.root, { recursive: true });
    const path = join(this.root, file);
    const release = lock(path + '.lock');
    try {
      const f = this.read<T>(file, fallback);
      change(f);
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, YAML.stringify(f), { mode });
      renameSync(tmp, path);
      return f;
    } finally {
      release();
    }
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * A lock file made with O_EXCL, waited for (a CLI holds it for milliseconds); one left by
 * a process that died holding it is taken over after 10 s.
 */
function lock(path: string): () => void {
  for (const deadline = Date.now() + 15_000; ;) {
    try {
      closeSync(openSync(path, 'wx'));
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 10_000 || Date.now() > deadline) rmSync(path, { force: true });
      else Atomics.wait(pause, 0, 0, 20);
    }
  }
}
