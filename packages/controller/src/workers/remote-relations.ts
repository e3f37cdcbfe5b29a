import { request as httpsRequest } from 'node:https';
import { Value } from '@sinclair/typebox/value';
import { RemoteSide, requestOf, type ApiAnswer, type ApiArgs, type ApiRoute, type RemoteSyncReply } from '@sigil/api';
import type { Logger } from '../logger.ts';
import type { RemoteOffers } from '../domain/remote-offers.ts';
import { NOT_REGISTERED } from '../domain/offers.ts';
import type { RemoteOfferRow } from '../state/remote-offers.ts';

/** How often each relation with another controller is exchanged (both sides, one round trip). */
export const EXCHANGE_MS = 1_000;

/** The most an answer of the offering controller may hold: more is refused, not read on. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** A refused or failed call to the offering controller. */
class RemoteError extends Error {
  constructor(message: string, readonly status: number, readonly code: string) {
    super(message);
  }
}

/**
 * Keeps the relations with offers of other controllers in step (issue 20). Only the consuming
 * controller dials, so the offering one needs no way back to it: for each consumed remote
 * offer, each relation is registered there once, then every second this side (units in
 * scope, bags, life) goes out and the offering side (and its application's status) comes
 * back. A relation that ended here is reported as dead before its link is dropped; one that
 * ended there ends here. Failures are kept for `status` and retried at the next round.
 */
export class RemoteRelationsWorker {
  private readonly failing = new Map<string, string>();

  constructor(private readonly remote: RemoteOffers, private readonly log: Logger, private readonly everyMs = EXCHANGE_MS) {}

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.round();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.everyMs);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
    }
  }

  /** One exchange for every relation of every consumed remote offer. */
  async round(): Promise<void> {
    let offers: ReturnType<RemoteOffers['consumed']>;
    try {
      offers = this.remote.consumed();
    } catch (e) {
      this.log.warn('remote relations: cannot read the consumed offers', { error: String(e) });
      return;
    }
    await Promise.all(offers.map(async (o) => {
      const key = `${o.model}/${o.name}`;
      try {
        await this.offer(o);
        if (this.failing.delete(key)) this.log.info('remote relations: the offering controller answers again', { model: o.model, saas: o.name });
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (this.failing.get(key) !== message) this.log.warn('remote relations: exchange failed', { model: o.model, saas: o.name, controller: o.controller, error: message });
        this.failing.set(key, message);
        try {
          this.remote.failed(o.model, o.name, message);
        } catch {
          // The store is unavailable: the next round tries again.
        }
      }
    }));
  }

  private async offer(o: RemoteOfferRow & { credential: string }): Promise<void> {
    for (const link of this.remote.links(o.model, o.name)) {
      if (link.local === undefined) {
        // Gone here: the offering side hears it is dead (if it ever knew), then the link goes.
        // A refusal is final too: the offer, its credential or the relation is gone there.
        if (link.peerRelationId !== NOT_REGISTERED) await this.exchange(o, link.peerRelationId, { life: 'dead', scope: [], settings: [] }).catch((e: unknown) => {
          if (!(e instanceof RemoteError && e.status >= 400 && e.status < 500)) throw e;
        });
        this.remote.forget(o.model, link.relationId);
        continue;
      }
      let peer = link.peerRelationId;
      if (peer === NOT_REGISTERED) {
        if (!link.alive) continue;
        const r = await call(o, 'POST /api/remote-relations', {
          body: {
            consumer: { model: this.remote.modelUuid(o.model), app: link.local.app, endpoint: { name: link.local.name, role: link.local.role, interface: link.local.interface } },
            offerEndpoint: link.offerEndpoint,
          },
        });
        peer = r.relationId;
        this.remote.registered(o.model, link.relationId, peer);
      }
      const reply = await this.exchange(o, peer, this.remote.ownSide(o.model, link.relationId, link.local.app));
      this.remote.apply(o.model, o.name, link.relationId, reply);
    }
    this.remote.dropIfUnused(o.model, o.name);
  }

  private async exchange(o: RemoteOfferRow & { credential: string }, peer: number, side: RemoteSide): Promise<RemoteSyncReply> {
    const reply = await call(o, 'POST /api/remote-relations/:id/sync', { params: { id: String(peer) }, body: side });
    // What another controller sends is checked before this controller's agents read it.
    const { appStatus, ...rest } = reply;
    const status = appStatus !== undefined && typeof appStatus === 'object' && appStatus !== null && typeof appStatus.current === 'string' ? { current: appStatus.current.slice(0, 100), ...(typeof appStatus.message === 'string' ? { message: appStatus.message.slice(0, 1000) } : {}) } : undefined;
    if (!Value.Check(RemoteSide, rest)) throw new RemoteError('the offering controller answered with a malformed side of the relation', 0, 'bad-answer');
    return { ...rest, ...(status ? { appStatus: status } : {}) };
  }
}

/**
 * A call of the offering controller (its remote-relations routes), trusting only its CA, at
 * each of its addresses in turn. The answer is typed by the contract but comes from another
 * controller: callers check what they pass on.
 */
async function call<K extends ApiRoute>(o: RemoteOfferRow & { credential: string }, key: K, ...input: ApiArgs<K>): Promise<ApiAnswer<K>> {
  const { method, path, body } = requestOf(key, ...input);
  let last: unknown;
  for (const base of o.apiUrls) {
    try {
      return await send<ApiAnswer<K>>(method, `${base.replace(/\/$/, '')}${path}`, o.caCert, o.credential, body);
    } catch (e) {
      // An answer (a refusal) is final; only an unreachable address moves on to the next.
      if (e instanceof RemoteError && e.status > 0) throw e;
      last = e;
    }
  }
  throw last instanceof Error ? last : new Error(`controller "${o.controller}" has no address`);
}

function send<T>(method: string, url: string, ca: string, token: string, body: unknown): Promise<T> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, ca, timeout: 10_000, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER_BYTES) req.destroy(new Error(`the answer is over ${MAX_ANSWER_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          try {
            resolve(JSON.parse(text) as T);
          } catch {
            reject(new RemoteError(`the offering controller answered with something other than JSON (HTTP ${status})`, status, 'bad-answer'));
          }
          return;
        }
        let error: { code?: string; message?: string } = {};
        try {
          error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
        } catch {
          // Not a Sigil controller's error document: the status says enough.
        }
        reject(new RemoteError(`the offering controller refused: ${error.message ?? `HTTP ${status}`}`, status, error.code ?? ''));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${new URL(url).host} within 10 s`)));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new RemoteError(`cannot reach ${new URL(url).host}: ${e.code ?? e.message}`, 0, e.code ?? '')));
    req.end(payload);
  });
}
