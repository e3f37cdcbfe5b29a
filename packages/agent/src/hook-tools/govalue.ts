/**
 * The values hook tools print, typed the way Juju's Go code types them, because the
 * output depends on the Go type: a `[]string` prints one item per line in smart format
 * while a `[]interface{}` prints as YAML; map keys are sorted but struct fields keep their
 * declaration order.
 *
 * - a plain object is a Go map (keys sorted when printed);
 * - a `Map` is a Go struct (fields printed in insertion order);
 * - a `StringList` is a `[]string`; a plain array is a `[]interface{}`;
 * - integral numbers print as Go ints, others as float64.
 */

export type GoValue =
  | null
  | string
  | number
  | boolean
  | StringList
  | readonly GoValue[]
  | GoStruct
  | { readonly [key: string]: GoValue };

export type GoStruct = ReadonlyMap<string, GoValue>;

/** A Go `[]string`. */
export class StringList {
  constructor(readonly items: readonly string[]) {}
}

export function isGoStruct(v: GoValue): v is GoStruct {
  return v instanceof Map;
}

/** Converts decoded JSON (action parameters, results) into Go's generic shapes. */
export function fromJson(v: unknown): GoValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (Array.isArray(v)) return v.map(fromJson);
  if (typeof v === 'object') {
    const out: Record<string, GoValue> = {};
    for (const [k, x] of Object.entries(v)) out[k] = fromJson(x);
    return out;
  }
  return String(v);
}

/**
 * A number as Go prints it: integers in decimal; floats as `strconv.FormatFloat(f, 'g',
 * -1, 64)` for YAML (`1.5e-07`, `1.2345675e+06`) and as encoding/json does for JSON.
 */
export function formatGoNumber(n: number, target: 'yaml' | 'json'): string {
  if (Number.isNaN(n)) return target === 'yaml' ? '.nan' : 'null';
  if (!Number.isFinite(n)) return target === 'yaml' ? (n > 0 ? '.inf' : '-.inf') : 'null';
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return n.toFixed(0);
  if (target === 'json') return JSON.stringify(n);
  const [mantissa = '0', exponent = '0'] = n.toExponential().split('e');
  const exp = Number(exponent);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(n);
}

/** Orders strings as Go compares them: by UTF-8 bytes, which is code point order. */
export function compareCodePoints(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done === true) return y.done === true ? 0 : -1;
    if (y.done === true) return 1;
    const d = (x.value.codePointAt(0) ?? 0) - (y.value.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
}

/** `json.Marshal(value)` from Go's encoding/json: sorted map keys, HTML-safe escaping. */
export function goJsonMarshal(v: GoValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return goJsonString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return formatGoNumber(v, 'json');
  if (v instanceof StringList) return `[${v.items.map(goJsonString).join(',')}]`;
  if (Array.isArray(v)) return `[${(v as readonly GoValue[]).map(goJsonMarshal).join(',')}]`;
  if (isGoStruct(v)) return `{${[...v].map(([k, x]) => `${goJsonString(k)}:${goJsonMarshal(x)}`).join(',')}}`;
  const obj = v as Readonly<Record<string, GoValue>>;
  const keys = Object.keys(obj).sort(compareCodePoints);
  return `{${keys.map((k) => `${goJsonString(k)}:${goJsonMarshal(obj[k] ?? null)}`).join(',')}}`;
}

const JSON_HTML_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function goJsonString(s: string): string {
  return JSON.stringify(s)
    .replace(/[<>&\u2028\u2029]/g, (c) => JSON_HTML_ESCAPES[c] ?? c)
    .replace(/\\ud[89a-f][0-9a-f]{2}/g, '\\ufffd');
}

/** Go's `%q` for one string (strconv.Quote). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (GO_QUOTE_ESCAPES[ch] !== undefined) out += GO_QUOTE_ESCAPES[ch];
    else if (/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) out += ch;
    else if (c < 0x80) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c < 0x10000) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += '\\U' + c.toString(16).padStart(8, '0');
  }
  return out + '"';
}

const GO_QUOTE_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};

/** Go's `%q` for a `[]string`: `["a" "b"]`. */
export function goQuoteList(items: readonly string[]): string {
  return `[${items.map(goQuote).join(' ')}]`;
}
