import { SigilError } from '@sigil/core';
import type { ControllerEntry } from './home.ts';

/**
 * Why a call got no answer: `refused` and `unreachable` never left this host (nothing was
 * sent: any call may go to another controller, and a refused one may be a controller
 * restarting); `interrupted` may have been sent and the answer lost.
 */
export type Failure = 'refused' | 'unreachable' | 'interrupted';

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** `connected`: whether the connection had been set up (TCP) when it failed; a timeout before that sent nothing. */
export function transportFailure(e: unknown, connected = true): Failure | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  // A controller shutting down refuses a stream with a bare 5xx (`HTTP 503`): nothing was done.
  if (code === 'ECONNREFUSED' || (typeof code === 'string' && /^HTTP 5\d\d$/.test(code))) return 'refused';
  if (typeof code === 'string' && (UNREACHABLE.has(code) || (code === 'ETIMEDOUT' && !connected))) return 'unreachable';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED' || code === 'ETIMEDOUT') return 'interrupted';
  return undefined;
}

/** An error carrying a connection-level code, for the timeouts the client enforces itself. */
export function timedOut(message: string): Error {
  return Object.assign(new Error(message), { code: 'ETIMEDOUT' });
}

export function causeCode(cause: unknown): string {
  const c = cause as { cause?: { code?: string }; code?: string; message?: string } | undefined;
  return c?.cause?.code ?? c?.code ?? c?.message ?? String(cause);
}

export function notRunning(name: string, entry: ControllerEntry, cause: unknown): SigilError {
  return new SigilError(
    'unavailable',
    `cannot connect to controller "${name}" at ${entry.endpoint} (${causeCode(cause)})`,
    `is it running? start it again with \`sigil start-controller ${name}\`; its log is ${entry.dir}/controller.log`,
  );
}

/**
 * No address of the controller answered: each is named with why. One address tried is the
 * single controller's message.
 */
export function noneAnswered(name: string, entry: ControllerEntry, tried: ReadonlyMap<string, unknown>): SigilError {
  const all = [...tried];
  if (all.length <= 1) return notRunning(name, { ...entry, endpoint: all[0]?.[0] ?? entry.endpoint }, all[0]?.[1] ?? 'no answer');
  return new SigilError(
    'unavailable',
    `cannot connect to controller "${name}" at any of its ${all.length} addresses: ${all.map(([url, cause]) => `${url} (${causeCode(cause)})`).join(', ')}`,
    `check that the controller hosts are up and reachable from here, then try \`sigil status\` again; a local controller starts again with \`sigil start-controller ${name}\` (its log is ${entry.dir}/controller.log)`,
  );
}

/** The connection dropped after a call that changes state was sent: it may or may not have been applied. */
export function interrupted(controller: string, endpoint: string, method: string, path: string, cause: unknown): SigilError {
  return new SigilError(
    'unavailable',
    `lost the connection to controller "${controller}" at ${endpoint} during ${method} ${path.split('?')[0]} (${causeCode(cause)}); the change may or may not have been applied`,
    'check with `sigil status` before trying again; the controller may be restarting (see `sigil controllers`)',
  );
}
