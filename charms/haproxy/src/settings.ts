/**
 * The charm's configuration, checked. Every refusal names the option, the value and what
 * would be accepted, so the operator can fix it from the status line alone.
 */

export interface Settings {
  listenPort: number;
  /** 0: no statistics page. */
  statsPort: number;
  statsUser: string;
  statsPassword: string;
  checkPath: string;
  checkInter: string;
  /** HAProxy's `timeout check`; empty: the interval bounds the whole check. */
  checkTimeout: string;
  checkRise: number;
  checkFall: number;
  balance: string;
}

export class SettingsError extends Error {
  constructor(
    readonly option: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`${option}=${String(value)} ${reason}`);
    this.name = 'SettingsError';
  }
}

export interface RawConfig {
  'listen-port': number;
  'stats-port': number;
  'stats-user': string;
  'stats-password': string;
  'check-path': string;
  'check-inter': string;
  'check-timeout': string;
  'check-rise': number;
  'check-fall': number;
  balance: string;
}

export const BALANCE = ['roundrobin', 'static-rr', 'leastconn', 'first', 'source'] as const;

/** HAProxy's time format: a number with an optional unit (milliseconds when none). */
const TIME = /^[0-9]+(us|ms|s|m|h|d)?$/;
/** Characters HAProxy reads literally in a `stats auth user:password` line. */
const AUTH_WORD = /^[A-Za-z0-9._~!$%&*+=@^-]+$/;

/**
 * Checks the configuration; `generatedPassword` is used when stats-password is empty, and
 * while there is none yet (a unit before its leader made one) the statistics page is off.
 * Throws SettingsError for the first bad option.
 */
export function parseSettings(c: RawConfig, generatedPassword: string | undefined): Settings {
  const port = (option: keyof RawConfig, v: number, allowZero: boolean) => {
    if (!Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > 65535) throw new SettingsError(option, v, `is not a TCP port: use 1-65535${allowZero ? ' (0 turns it off)' : ''}`);
    return v;
  };
  const listenPort = port('listen-port', c['listen-port'], false);
  const configuredStatsPort = port('stats-port', c['stats-port'], true);
  if (configuredStatsPort === listenPort) throw new SettingsError('stats-port', configuredStatsPort, `is also listen-port: choose another port for the statistics page`);
  if (!AUTH_WORD.test(c['stats-user'])) throw new SettingsError('stats-user', c['stats-user'], 'is not a plain word: use letters, digits and ._~!$%&*+=@^- (no colon or space)');
  const password = c['stats-password'] === '' ? generatedPassword ?? '' : c['stats-password'];
  const statsPort = password === '' ? 0 : configuredStatsPort;
  if (password !== '' && !AUTH_WORD.test(password)) throw new SettingsError('stats-password', '(hidden)', 'contains characters HAProxy would misread: use letters, digits and ._~!$%&*+=@^- (no colon, space or #)');
  const path = c['check-path'];
  if (!/^\/[\x21-\x7e]*$/.test(path) || path.includes('#')) throw new SettingsError('check-path', path, 'is not an absolute URL path: start with / and use no spaces or #');
  if (!TIME.test(c['check-inter']) || /^0+[a-z]*$/.test(c['check-inter'])) throw new SettingsError('check-inter', c['check-inter'], 'is not a positive HAProxy time: e.g. 500ms, 2s, 1m');
  const checkTimeout = c['check-timeout'].trim();
  if (checkTimeout !== '' && (!TIME.test(checkTimeout) || /^0+[a-z]*$/.test(checkTimeout))) {
    throw new SettingsError('check-timeout', c['check-timeout'], 'is not a positive HAProxy time: e.g. 10s, 30s (empty: check-inter bounds the check)');
  }
  for (const option of ['check-rise', 'check-fall'] as const) {
    const v = c[option];
    if (!Number.isInteger(v) || v < 1 || v > 100) throw new SettingsError(option, v, 'is out of range: use 1-100 checks');
  }
  if (!(BALANCE as readonly string[]).includes(c.balance)) throw new SettingsError('balance', c.balance, `is not supported: use one of ${BALANCE.join(', ')}`);
  return {
    listenPort,
    statsPort,
    statsUser: c['stats-user'],
    statsPassword: password,
    checkPath: path,
    checkInter: c['check-inter'],
    checkTimeout,
    checkRise: c['check-rise'],
    checkFall: c['check-fall'],
    balance: c.balance,
  };
}

/** A time in HAProxy's format, in milliseconds. */
export function timeMs(t: string): number {
  const m = /^([0-9]+)(us|ms|s|m|h|d)?$/.exec(t);
  if (!m) throw new Error(`not an HAProxy time: ${t}`);
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms']!;
  return Number(m[1]) * scale;
}
