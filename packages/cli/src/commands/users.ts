import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import type { Command } from 'commander';
import { SigilError, looksLikeOfferUrl, parseDuration } from '@sigil/core';
import { certFingerprint } from '@sigil/core/tls';
import { Client } from '../client.ts';
import type { ControllerEntry } from '../home.ts';
import type { Ctx } from '../context.ts';
import { requestOf, type ApiAnswer } from '@sigil/api';
import { renderKeyValue, renderList } from '../render/output.ts';
import { grantOffer } from './offers.ts';

/** What `sigil add-user` prints for the new user: everything `sigil register` needs, and nothing more. */
export interface Registration {
  /** user */
  u: string;
  /** controller name */
  c: string;
  /** API endpoints */
  a: string[];
  /** SHA-256 fingerprint of the controller's CA: `register` fetches the CA and pins it only if it matches */
  f: string;
  /** the one-time registration key (24 h) */
  k: string;
}

export function encodeRegistration(r: Registration): string {
  return Buffer.from(JSON.stringify(r)).toString('base64url');
}

export function decodeRegistration(text: string): Registration {
  const bad = () => new SigilError('bad-request', 'this is not a registration string', 'copy the whole string that `sigil add-user` (or `change-user-password --reset`) printed');
  let r: Partial<Registration>;
  try {
    r = JSON.parse(Buffer.from(text.trim(), 'base64url').toString('utf8')) as Partial<Registration>;
  } catch {
    throw bad();
  }
  if (typeof r?.u !== 'string' || typeof r.c !== 'string' || !Array.isArray(r.a) || !r.a.every((x) => typeof x === 'string' && x.startsWith('https://')) || typeof r.f !== 'string' || typeof r.k !== 'string') throw bad();
  return r as Registration;
}

/** "3 minutes ago", as Juju's `users` shows dates. */
export function ago(iso: string | null, now = Date.now()): string {
  if (iso === null) return 'never connected';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return 'just now';
  const [n, unit] = s < 3600 ? [Math.round(s / 60), 'minute'] : s < 86400 ? [Math.round(s / 3600), 'hour'] : [Math.round(s / 86400), 'day'];
  return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
}

/**
 * A password, never from the command line: the first line of `--password-file` (`-` for
 * stdin), else stdin when it is not a terminal, else asked on the terminal without echo
 * (twice when it is a new one).
 */
export async function readPassword(opts: { passwordFile?: string }, prompt: string, confirm: boolean): Promise<string> {
  let text: string;
  if (opts.passwordFile !== undefined) {
    try {
      text = readFileSync(opts.passwordFile === '-' ? 0 : opts.passwordFile, 'utf8');
    } catch (e) {
      throw new SigilError('bad-request', `cannot read the password file ${opts.passwordFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'pass a readable file with the password on its first line');
    }
  } else if (!process.stdin.isTTY) {
    text = readFileSync(0, 'utf8');
  } else {
    const first = await askHidden(prompt);
    if (confirm && (await askHidden('Confirm password: ')) !== first) throw new SigilError('bad-request', 'the passwords do not match', 'run the command again');
    return first;
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line === '') throw new SigilError('bad-request', 'no password given', 'put the password on the first line of the file (or of stdin)');
  return line;
}

function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (b: Buffer) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new SigilError('bad-request', 'aborted'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else if (ch >= ' ') text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** The controller's CA over an unverified connection (nothing is sent but the GET), to check against a fingerprint. */
function fetchCa(endpoint: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${endpoint}${requestOf('GET /api/ca').path}`, { method: 'GET', rejectUnauthorized: false, timeout: 15_000 }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => {
        try {
          resolve((JSON.parse(text) as ApiAnswer<'GET /api/ca'>)['ca-cert']);
        } catch {
          reject(new SigilError('unavailable', `${endpoint} did not answer like a Sigil controller (HTTP ${res.statusCode})`, 'check the address in the registration string'));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => reject(new SigilError('unavailable', `cannot reach ${endpoint}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, 'is the controller running, and reachable from here?')));
    req.end();
  });
}

const roleArg = (role: string): string => {
  if (!['read', 'write', 'admin'].includes(role)) throw new SigilError('bad-request', `unknown access level "${role}"`, 'use read, write or admin');
  return role;
};

/** `--since`: a duration back from now (`1h`, `30m`) or a time (`2026-12-05T18:00:00Z`). */
export function parseSince(text: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?(ms|s|m|h)/.test(text.trim())) return now - parseDuration(text);
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new SigilError('bad-request', `invalid --since "${text}"`, 'pass a duration (30m, 2h, 48h) or a time (2026-12-05T18:00:00Z)');
  return t;
}

/** Users, login sessions and model access, as Juju's commands of the same names. */
export function registerUsers(program: Command, ctx: Ctx): void {
  const registrationLine = (c: Client, user: string, key: string) =>
    encodeRegistration({ u: user, c: c.controller, a: [c.entry.endpoint], f: c.entry['ca-cert'] ? certFingerprint(c.entry['ca-cert']) : '', k: key });

  program
    .command('add-user')
    .description('add a user to the controller; prints the `sigil register` command to send them')
    .argument('<name>')
    .option('--display-name <text>', 'the user\'s full name')
    .option('-c, --controller <name>', 'controller')
    .action(async (name: string, o: { displayName?: string; controller?: string }) => {
      const c = ctx.client(o.controller ? `${o.controller}:default` : undefined);
      const r = await c.call('POST /api/users', { body: { name, ...(o.displayName ? { displayName: o.displayName } : {}) } });
      const shown = o.displayName ?? name;
      ctx.out(`User "${shown}" added\nPlease send this command to ${name}:\n    sigil register ${registrationLine(c, r.user, r.key)}\n\n"${shown}" has not been granted access to any models. You can use "sigil grant" to grant access.\nThe registration string is valid once, until ${r.expires}.`);
    });

  program
    .command('register')
    .description('join a controller with the string `sigil add-user` printed: set a password and log in')
    .argument('<string>', 'the registration string')
    .option('--password-file <file>', 'read the new password from the first line of a file (- for stdin) instead of asking')
    .option('--replace', 'replace an existing controller entry of the same name')
    .action(async (text: string, o: { passwordFile?: string; replace?: boolean }) => {
      const reg = decodeRegistration(text);
      const existing = ctx.home.controllers().controllers[reg.c];
      if (existing && !o.replace) throw new SigilError('already-exists', `a controller named "${reg.c}" is already known here (${existing.endpoint})`, 'pass --replace to replace it, or use another SIGIL_HOME');
      const endpoint = reg.a[0]!;
      const ca = await fetchCa(endpoint);
      let presented = '';
      try {
        presented = certFingerprint(ca);
      } catch {
        presented = '(not a certificate)';
      }
      if (presented !== reg.f) {
        throw new SigilError('unavailable', `the controller at ${endpoint} presented a CA with SHA-256 fingerprint ${presented}; the registration string expects ${reg.f}`, 'something other than the controller may be answering at that address: nothing was sent. Ask the admin for a new registration string');
      }
      const password = await readPassword(o, 'Enter a new password: ', true);
      const entry: ControllerEntry = { endpoint, dir: ctx.home.controllerDir(reg.c), provider: 'remote', 'current-model': 'default', 'ca-cert': ca };
      const anon = new Client(reg.c, entry, '', 'default');
      const s = await anon.call('POST /api/register', { body: { key: reg.k, password } });
      const session = new Client(reg.c, entry, s.token, 'default');
      const who = await session.call('GET /api/whoami');
      // Every address of the controller goes into its entry, for when this one stops answering.
      await session.refreshEndpoints();
      const models = Object.keys(who.models);
      entry['current-model'] = models.includes('default') ? 'default' : (models[0] ?? 'default');
      ctx.home.updateControllers((f) => {
        f.controllers[reg.c] = entry;
        f['current-controller'] = reg.c;
      });
      ctx.home.updateAccounts((a) => {
        a.controllers[reg.c] = { user: s.user, token: s.token, expires: s.expires };
      });
      ctx.out(`Welcome, ${s.user}. You are now logged into "${reg.c}".\n` + (models.length ? `Models you can use: ${models.map((m) => `${m} (${who.models[m]})`).join(', ')}` : 'There are no models available. You can ask an admin to grant you access with `sigil grant`.'));
    });

  program
    .command('login')
    .description('log in to a controller as a user with a password')
    .option('-u, --user <name>', 'user name (default: the user last logged in)')
    .option('-c, --controller <name>', 'controller')
    .option('--password-file <file>', 'read the password from the first line of a file (- for stdin) instead of asking')
    .action(async (o: { user?: string; controller?: string; passwordFile?: string }) => {
      const f = ctx.home.controllers();
      const name = o.controller ?? f['current-controller'];
      const entry = name ? f.controllers[name] : undefined;
      if (!name || !entry) throw new SigilError('not-found', name ? `controller "${name}" not found` : 'no controller selected', 'a new user joins with `sigil register STRING`; see `sigil controllers`');
      const user = o.user ?? ctx.home.accounts().controllers[name]?.user;
      if (!user) throw new SigilError('bad-request', 'no user name', 'pass -u NAME');
      const password = await readPassword(o, `Enter password for ${user}: `, false);
      const s = await new Client(name, entry, '', entry['current-model']).call('POST /api/login', { body: { user, password } });
      ctx.home.updateAccounts((a) => {
        a.controllers[name] = { user: s.user, token: s.token, expires: s.expires };
      });
      await new Client(name, entry, s.token, entry['current-model'], { home: ctx.home }).refreshEndpoints();
      ctx.out(`Welcome, ${s.user}. You are now logged into "${name}".`);
    });

  program
    .command('logout')
    .description('log out of a controller: its session token is revoked and forgotten')
    .option('-c, --controller <name>', 'controller')
    .action(async (o: { controller?: string }) => {
      const c = ctx.client(o.controller ? `${o.controller}:default` : undefined);
      try {
        await c.call('POST /api/logout');
      } catch (e) {
        // An expired or revoked token is as logged out as it gets; forget it anyway.
        if (!(e instanceof SigilError && e.code === 'unauthorized')) throw e;
      }
      ctx.home.updateAccounts((a) => {
        const acc = a.controllers[c.controller];
        if (acc) a.controllers[c.controller] = { user: acc.user };
      });
      const left = Object.values(ctx.home.accounts().controllers).filter((v) => v.token).length;
      ctx.out(left === 0 ? 'Logged out. You are no longer logged into any controllers.' : `Logged out. You are still logged into ${left} controller${left === 1 ? '' : 's'}.`);
    });

  program
    .command('whoami')
    .description('the current controller, model and user')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (o: { format?: string }) => {
      const c = ctx.client();
      const w = await c.call('GET /api/whoami');
      const access = w.superuser ? 'superuser' : (w.models[c.model] ?? 'none');
      ctx.print({ controller: c.controller, model: c.model, user: w.user, access, superuser: w.superuser, models: w.models }, o.format, () =>
        renderKeyValue([['Controller:', c.controller], ['Model:', c.model], ['User:', w.user], ['Access:', access]]));
    });

  program
    .command('users')
    .alias('list-users')
    .description('list the controller\'s users (users who are not superusers see only themselves)')
    .option('-c, --controller <name>', 'controller')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (o: { controller?: string; format?: string }) => {
      const c = ctx.client(o.controller ? `${o.controller}:default` : undefined);
      const me = ctx.home.accounts().controllers[c.controller]?.user;
      const users = await c.call('GET /api/users');
      ctx.print(users, o.format, () =>
        `Controller: ${c.controller}\n\n` +
        renderList(['Name', 'Display name', 'Access', 'Models', 'Date created', 'Last connection'], users.map((u) => [
          u.name + (u.name === me ? '*' : ''),
          u['display-name'],
          u.access + (u.disabled ? ' (disabled)' : ''),
          u.access === 'superuser' ? '(all: admin)' : Object.entries(u.models).map(([m, r]) => `${m}:${r}`).join(', ') || '-',
          ago(u.created),
          u.registered || u.access === 'superuser' ? ago(u['last-connection']) : 'not registered',
        ])));
    });

  program
    .command('remove-user')
    .description('remove a user: their sessions and access go with them')
    .argument('<name>')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--no-prompt', 'do not ask for confirmation (as Juju)')
    .option('-c, --controller <name>', 'controller')
    .action(async (name: string, o: { yes?: boolean; prompt?: boolean; controller?: string }) => {
      const c = ctx.client(o.controller ? `${o.controller}:default` : undefined);
      await ctx.confirm(`remove user "${name}" from controller "${c.controller}" (their sessions and access go with them)`, o);
      await c.call('DELETE /api/users/:user', { params: { user: name } });
      ctx.out(`User "${name}" removed`);
    });

  for (const [verb, word] of [['disable', 'disabled'], ['enable', 'enabled']] as const) {
    program
      .command(`${verb}-user`)
      .description(verb === 'disable' ? 'disable a user: every call with their tokens is refused until enabled again' : 'enable a disabled user')
      .argument('<name>')
      .option('-c, --controller <name>', 'controller')
      .action(async (name: string, o: { controller?: string }) => {
        const c = ctx.client(o.controller ? `${o.controller}:default` : undefined);
        await c.call(`POST /api/users/:user/${verb}`, { params: { user: name } });
        ctx.out(`User "${name}" ${word}`);
      });
  }

  program
    .command('change-user-password')
    .description('change your password, or (superusers) another user\'s; --reset prints a new registration string instead')
    .argument('[name]', 'user (default: you)')
    .option('--password-file <file>', 'read the new password from the first line of a file (- for stdin) instead of asking')
    .option('--reset', 'clear the user\'s password and sessions and print a new `sigil register` string')
    .option('-c, --controller <name>', 'controller')
    .action(async (name: string | undefined, o: { passwordFile?: string; reset?: boolean; controller?: string }) => {
      const c = ctx.client(o.controller ? `${o.controller}:default` : undefined);
      const me = ctx.home.accounts().controllers[c.controller]?.user ?? '';
      const user = name ?? me;
      if (o.reset) {
        const r = await c.call('POST /api/users/:user/reset', { params: { user } });
        ctx.out(`Password for "${user}" has been reset.\nAsk the user to run:\n    sigil register ${registrationLine(c, r.user, r.key)}`);
        return;
      }
      const password = await readPassword(o, 'new password: ', true);
      await c.call('POST /api/users/:user/password', { params: { user }, body: { password } });
      ctx.out(user === me ? 'Your password has been changed.' : `Password for "${user}" has been changed.`);
    });

  for (const verb of ['grant', 'revoke'] as const) {
    program
      .command(verb)
      .description(verb === 'grant' ? 'give a user read, write or admin access to models' : 'take access away: revoking write leaves read, revoking read removes access')
      .argument('<user>')
      .argument('<access>', 'read, write or admin (for offers: read, consume or admin)')
      .argument('<models...>', 'models, or offer URLs')
      .option('-c, --controller <name>', 'controller')
      .action(async (user: string, access: string, models: string[], o: { controller?: string }) => {
        // Juju's `grant USER consume OFFER-URL`: offer URLs take offer access levels.
        if (models.some(looksLikeOfferUrl)) return grantOffer(ctx, verb, user, access, models, o.controller);
        roleArg(access);
        for (const model of models) {
          const c = ctx.client(`${o.controller ? `${o.controller}:` : ''}${model}`);
          const r = await c.call('POST /api/models/:model/access', { body: { user, role: access, action: verb } });
          ctx.info(`${user} now has ${r.access ?? 'no'} access to model "${model}"`);
        }
      });
  }

  program
    .command('audit-log')
    .description('who called what on the controller, from where, with what result (superusers)')
    .option('--user <name>', 'only this user\'s calls')
    .option('-m, --model <model>', 'only calls about this model')
    .option('--since <when>', 'only calls since a duration ago (1h) or a time (2026-12-05T18:00:00Z)')
    .option('-n, --limit <n>', 'at most this many (the newest)', '1000')
    .option('-c, --controller <name>', 'controller')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (o: { user?: string; model?: string; since?: string; limit: string; controller?: string; format?: string }) => {
      const c = ctx.client(o.controller ? `${o.controller}:default` : undefined);
      const records = await c.call('GET /api/audit', { query: {
        limit: o.limit,
        ...(o.user ? { user: o.user } : {}),
        ...(o.model ? { model: o.model } : {}),
        ...(o.since ? { since: String(parseSince(o.since)) } : {}),
      } });
      ctx.print(records.map((r) => ({ ...r, time: new Date(r.at).toISOString() })), o.format, () =>
        renderList(['Time', 'User', 'Address', 'Call', 'Model', 'Status', 'Summary'], records.map((r) => [new Date(r.at).toISOString().replace('T', ' ').slice(0, 19), r.user, r.address, `${r.method} ${r.route}`, r.model || '-', String(r.status), r.summary]), { empty: 'No audit records match.' }));
    });

  program
    .command('controller-config')
    .description('show or set controller configuration (superusers): audit-log-max-size, audit-log-max-age')
    .argument('[settings...]', 'key to read, or key=value pairs to set')
    .option('-c, --controller <name>', 'controller')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (settings: string[], o: { controller?: string; format?: string }) => {
      const c = ctx.client(o.controller ? `${o.controller}:default` : undefined);
      const set = Object.fromEntries(settings.filter((x) => x.includes('=')).map((x) => [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)]));
      const config: Record<string, string> = Object.keys(set).length > 0 ? await c.call('POST /api/controller/config', { body: set }) : await c.call('GET /api/controller/config');
      const key = settings.find((x) => !x.includes('='));
      if (key !== undefined) {
        if (!(key in config)) throw new SigilError('invalid-config', `unknown controller config key "${key}"`, `known keys: ${Object.keys(config).join(', ')}`);
        ctx.out(String(config[key]));
      } else if (Object.keys(set).length === 0) {
        ctx.print(config, o.format, () => renderList(['Attribute', 'Value'], Object.entries(config).map(([k, v]) => [k, String(v)])));
      }
    });

  program
    .command('unregister')
    .description('forget a controller this client registered with (the controller is not touched)')
    .argument('<name>')
    .action((name: string) => {
      const entry = ctx.home.controllers().controllers[name];
      if (!entry) throw new SigilError('not-found', `controller "${name}" not found`, 'see `sigil controllers`');
      if (entry.provider !== 'remote') throw new SigilError('bad-request', `controller "${name}" runs here`, `destroy it with \`sigil destroy-controller ${name}\``);
      ctx.home.updateControllers((f) => {
        delete f.controllers[name];
        if (f['current-controller'] === name) delete f['current-controller'];
      });
      ctx.home.updateAccounts((a) => {
        delete a.controllers[name];
      });
      ctx.out(`Controller "${name}" unregistered`);
    });
}
