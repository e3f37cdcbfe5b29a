import { SigilError } from './errors.ts';
import { isApplicationName } from './names.ts';

/**
 * An offer URL as Juju writes it: `[controller:][user/]model.offer`. Models on a Sigil
 * controller belong to its bootstrap user, so the user part, when given, is `admin`.
 */
export interface OfferUrl {
  source?: string;
  user: string;
  model: string;
  name: string;
}

/** The owner of every model on a Sigil controller, as URLs and find-offers show it. */
export const OFFER_OWNER = 'admin';

// juju/juju core/crossmodel/offerurl.go: source, user, model and application (offer) parts.
const URL_RE = /^(?:([^:/.]+):)?(?:([^:/.]+)\/)?([^:/.]+)\.([^:/.]+)$/;
const MODEL_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Whether an argument is meant as an offer URL rather than an application name (names hold no `.` or `/`). */
export function looksLikeOfferUrl(s: string): boolean {
  return s.includes('.') || s.includes('/');
}

/** Parses an offer URL, refusing anything malformed with a hint at the form. */
export function parseOfferUrl(s: string): OfferUrl {
  const m = URL_RE.exec(s);
  const hint = 'write an offer URL as [controller:][user/]model.offer, e.g. admin/prod.hosted-mysql (see `sigil find-offers`)';
  if (!m) throw new SigilError('bad-request', `invalid offer URL "${s}"`, hint);
  const [, source, user, model, name] = m;
  if (!MODEL_RE.test(model!)) throw new SigilError('bad-request', `invalid model name "${model}" in offer URL "${s}"`, hint);
  if (!isApplicationName(name!)) throw new SigilError('bad-request', `invalid offer name "${name}" in offer URL "${s}"`, hint);
  const url: OfferUrl = { user: user ?? OFFER_OWNER, model: model!, name: name! };
  if (source !== undefined) url.source = source;
  return url;
}

/** The URL as Juju prints it (without the controller unless `withSource`). */
export function formatOfferUrl(u: OfferUrl, withSource = false): string {
  return `${withSource && u.source ? `${u.source}:` : ''}${u.user}/${u.model}.${u.name}`;
}

/**
 * `sigil offer APP:ENDPOINT[,ENDPOINT…] [NAME]`: the application, its endpoints and the
 * offer's name (the application's by default), as Juju's offer command reads them.
 */
export function parseOfferSpec(spec: string, name?: string): { app: string; endpoints: string[]; name: string } {
  const hint = 'write APP:ENDPOINT[,ENDPOINT…] [OFFER-NAME], e.g. `sigil offer mysql:db hosted-mysql`';
  const i = spec.indexOf(':');
  if (i <= 0) throw new SigilError('bad-request', `an offer needs an application and its endpoints, got "${spec}"`, hint);
  const app = spec.slice(0, i);
  const endpoints = spec.slice(i + 1).split(',').map((e) => e.trim());
  if (!isApplicationName(app)) throw new SigilError('bad-request', `invalid application name "${app}"`, hint);
  if (endpoints.some((e) => e === '' || !/^[a-z][a-z0-9-]*$/.test(e))) throw new SigilError('bad-request', `invalid endpoints "${spec.slice(i + 1)}"`, hint);
  if (new Set(endpoints).size !== endpoints.length) throw new SigilError('bad-request', `endpoint repeated in "${spec}"`, hint);
  const offerName = name ?? app;
  if (!isApplicationName(offerName)) throw new SigilError('bad-request', `invalid offer name "${offerName}"`, 'an offer name is written like an application name: lowercase letters, digits and hyphens');
  return { app, endpoints, name: offerName };
}

/**
 * Splits `integrate`'s offer argument, `[controller:][user/]model.offer[:endpoint]`, into
 * the URL (without the controller, which must be this one) and the endpoint, if named.
 */
export function splitOfferEndpoint(s: string): { url: string; endpoint?: string; source?: string } {
  const m = /^(?:([^:/.]+):)?((?:[^:/.]+\/)?[^:/.]+\.[^:/.]+)(?::([^:/.]+))?$/.exec(s);
  if (!m) return { url: s };
  const out: { url: string; endpoint?: string; source?: string } = { url: m[2]! };
  if (m[1] !== undefined) out.source = m[1];
  if (m[3] !== undefined) out.endpoint = m[3];
  return out;
}
