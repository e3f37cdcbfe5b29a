import { ErrBadRequestBody, ErrInvalidStream, ErrInvalidToxicType } from './errors.ts';

/** `upstream` is client → server, `downstream` (the default) server → client. */
export type Stream = 'upstream' | 'downstream';

/**
 * Every toxic type and its attributes with their defaults. The first eight are Toxiproxy's,
 * with its names and units (slicer's `delay` is in microseconds, everything else in ms,
 * bandwidth's `rate` in KB/s). The `http_*` toxics are Sigil's own: HTTP/1.1-aware faults.
 */
export const TOXIC_TYPES = {
  noop: {},
  latency: { latency: 0, jitter: 0 },
  bandwidth: { rate: 0 },
  slow_close: { delay: 0 },
  timeout: { timeout: 0 },
  reset_peer: { timeout: 0 },
  slicer: { average_size: 0, size_variation: 0, delay: 0 },
  limit_data: { bytes: 0 },
  /** Answers `status` instead of forwarding, for a `rate` fraction (0..1) of requests. */
  http_error: { status: 503, rate: 1 },
  /** Cuts a `rate` fraction (0..1) of responses after `bytes` bytes of their body. */
  http_abort: { bytes: 0, rate: 1 },
} as const satisfies Record<string, Record<string, number>>;

export type ToxicType = keyof typeof TOXIC_TYPES;
export type Attributes = Record<string, number>;

/** A toxic as the API shows it; the key order is Toxiproxy's. */
export interface ToxicSpec {
  attributes: Attributes;
  name: string;
  type: ToxicType;
  stream: Stream;
  toxicity: number;
}

export function isToxicType(type: unknown): type is ToxicType {
  return typeof type === 'string' && Object.hasOwn(TOXIC_TYPES, type);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks attribute values against the type's attribute set and merges them onto `base`.
 * Toxiproxy silently ignores unknown attributes and wraps Go's decoding errors; here an
 * unknown name or a value that is not a whole number >= 0 is refused, so a typo such as
 * `latancy` cannot pass for a working toxic.
 */
export function mergeAttributes(type: ToxicType, base: Attributes, input: unknown): Attributes {
  const known = TOXIC_TYPES[type] as Attributes;
  const out: Attributes = { ...base };
  if (input === undefined || input === null) return out;
  if (!isRecord(input)) throw ErrBadRequestBody.with('attributes must be an object');
  for (const [key, value] of Object.entries(input)) {
    if (!Object.hasOwn(known, key)) {
      const names = Object.keys(known);
      throw ErrBadRequestBody.with(`unknown attribute "${key}" for ${type} (${names.length ? names.join(', ') : 'it takes none'})`);
    }
    if (key === 'rate' && (type === 'http_error' || type === 'http_abort')) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
        throw ErrBadRequestBody.with('attribute rate must be a fraction between 0 and 1');
      }
    } else if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw ErrBadRequestBody.with(`attribute ${key} must be a whole number >= 0`);
    }
    out[key] = value;
  }
  if (type === 'slicer' && out['size_variation']! > 0 && out['size_variation']! >= out['average_size']!) {
    throw ErrBadRequestBody.with('slicer size_variation must be smaller than average_size');
  }
  if (type === 'http_error' && (out['status']! < 100 || out['status']! > 599)) {
    throw ErrBadRequestBody.with('attribute status must be an HTTP status (100..599)');
  }
  return out;
}

export function checkToxicity(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw ErrBadRequestBody.with('toxicity must be a number between 0 and 1');
  }
  return value;
}

/**
 * A new toxic from a request body, in Toxiproxy's order of checks: the body, the stream,
 * the default name `<type>_<stream>`, the type, then the attributes.
 */
export function parseToxic(body: unknown): ToxicSpec {
  if (!isRecord(body)) throw ErrBadRequestBody.with('expected a JSON object');
  const streamIn = body['stream'] ?? 'downstream';
  if (streamIn !== 'upstream' && streamIn !== 'downstream' && streamIn !== '') throw ErrInvalidStream;
  const stream: Stream = streamIn === 'upstream' ? 'upstream' : 'downstream';
  if (body['name'] !== undefined && typeof body['name'] !== 'string') throw ErrBadRequestBody.with('name must be a string');
  const type = body['type'];
  const name = typeof body['name'] === 'string' && body['name'] !== '' ? body['name'] : `${String(type ?? '')}_${stream}`;
  if (!isToxicType(type)) throw ErrInvalidToxicType;
  const toxicity = body['toxicity'] === undefined ? 1 : checkToxicity(body['toxicity']);
  const attributes = mergeAttributes(type, TOXIC_TYPES[type], body['attributes']);
  return { attributes, name, type, stream, toxicity };
}
