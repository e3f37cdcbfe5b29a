/**
 * YAML exactly as Juju's hook tools print it. juju/cmd formats with gopkg.in/yaml.v2
 * (v2.4), whose libyaml-derived emitter makes choices no general-purpose YAML library
 * reproduces: which strings are quoted and how (YAML 1.1 resolution, `"12345"`, `'a: b'`),
 * literal blocks with chomping hints for multi-line strings, sequences not indented under
 * their key, go-yaml's "natural" map key order, and folding of long scalars at column 80.
 * This module ports those rules for the value shapes hook tools print (see `GoValue`).
 * The `yaml` package is still used for reading YAML input (`relation-set --file`).
 */
import { BASE60_FLOAT, analyzeScalar, cp, goYamlKeyCompare, isBreak, isPrintable, resolvesToString } from './goyaml-scalar.ts';
import { type GoValue, StringList, formatGoNumber, isGoStruct } from './govalue.ts';

export { goYamlKeyCompare, goYamlKeyLess, resolvesToString } from './goyaml-scalar.ts';

const BEST_INDENT = 2;
const BEST_WIDTH = 80;

/** `yaml.Marshal(value)` from gopkg.in/yaml.v2, including its final newline. */
export function goYamlMarshal(value: GoValue): string {
  const e = new Emitter();
  e.node(value, { root: true, sequence: false, mapping: false, simpleKey: false });
  e.writeIndent(); // DOCUMENT-END
  return e.out;
}

type Style = 'plain' | 'single' | 'double' | 'literal';

interface NodeContext {
  root: boolean;
  sequence: boolean;
  mapping: boolean;
  simpleKey: boolean;
}

/** The parts of libyaml's emitter state that block-style output depends on. */
class Emitter {
  out = '';
  private column = 0;
  private indent = -1;
  private readonly indents: number[] = [];
  private whitespace = true;
  private indention = true;
  private flowLevel = 0;
  private ctx: NodeContext = { root: false, sequence: false, mapping: false, simpleKey: false };

  node(value: GoValue, ctx: NodeContext): void {
    this.ctx = ctx;
    if (value instanceof StringList) return this.sequence(value.items);
    if (Array.isArray(value)) return this.sequence(value as readonly GoValue[]);
    if (isGoStruct(value)) return this.mapping([...value.entries()]);
    if (value !== null && typeof value === 'object') {
      const keys = Object.keys(value).sort(goYamlKeyCompare);
      return this.mapping(keys.map((k) => [k, (value as Record<string, GoValue>)[k] ?? null]));
    }
    if (typeof value === 'string') return this.stringScalar(value);
    if (value === null) return this.scalar('null', 'plain');
    if (typeof value === 'boolean') return this.scalar(value ? 'true' : 'false', 'plain');
    return this.scalar(formatGoNumber(value, 'yaml'), 'plain');
  }

  private sequence(items: readonly GoValue[]): void {
    if (this.flowLevel > 0 || items.length === 0) {
      this.writeIndicator('[', true, true, false);
      this.increaseIndent(true, false);
      this.popIndent();
      this.writeIndicator(']', false, false, false);
      return;
    }
    this.increaseIndent(false, this.ctx.mapping && !this.indention);
    for (const item of items) {
      this.writeIndent();
      this.writeIndicator('-', true, false, true);
      this.node(item, { root: false, sequence: true, mapping: false, simpleKey: false });
    }
    this.popIndent();
  }

  private mapping(entries: readonly (readonly [string, GoValue])[]): void {
    if (this.flowLevel > 0 || entries.length === 0) {
      this.writeIndicator('{', true, true, false);
      this.increaseIndent(true, false);
      this.popIndent();
      this.writeIndicator('}', false, false, false);
      return;
    }
    this.increaseIndent(false, false);
    for (const [key, value] of entries) {
      this.writeIndent();
      const simple = !key.includes('\n') && !/[\r\u0085\u2028\u2029]/.test(key) && Buffer.byteLength(key) <= 128;
      if (simple) {
        this.node(key, { root: false, sequence: false, mapping: true, simpleKey: true });
        this.writeIndicator(':', false, false, false);
      } else {
        this.writeIndicator('?', true, false, true);
        this.node(key, { root: false, sequence: false, mapping: true, simpleKey: false });
        this.writeIndent();
        this.writeIndicator(':', true, false, true);
      }
      this.node(value, { root: false, sequence: false, mapping: true, simpleKey: false });
    }
    this.popIndent();
  }

  /** go-yaml's `stringv`: plain unless YAML 1.1 would read it as another type. */
  private stringScalar(s: string): void {
    let style: Style;
    if (s.includes('\n')) style = 'literal';
    else if (resolvesToString(s) && !BASE60_FLOAT.test(s)) style = 'plain';
    else style = 'double';
    this.scalar(s, style);
  }

  private scalar(value: string, requested: Style): void {
    const chars = Array.from(value);
    const a = analyzeScalar(chars);
    let style = requested;
    if (this.ctx.simpleKey && a.multiline) style = 'double';
    if (style === 'plain') {
      if ((this.flowLevel > 0 && !a.flowPlainAllowed) || (this.flowLevel === 0 && !a.blockPlainAllowed)) style = 'single';
      if (chars.length === 0 && (this.flowLevel > 0 || this.ctx.simpleKey)) style = 'single';
    }
    if (style === 'single' && !a.singleQuotedAllowed) style = 'double';
    if (style === 'literal' && (!a.blockAllowed || this.flowLevel > 0 || this.ctx.simpleKey)) style = 'double';

    this.increaseIndent(true, false);
    const allowBreaks = !this.ctx.simpleKey;
    if (style === 'plain') this.writePlain(chars, allowBreaks);
    else if (style === 'single') this.writeSingleQuoted(chars, allowBreaks);
    else if (style === 'double') this.writeDoubleQuoted(chars, allowBreaks);
    else this.writeLiteral(chars);
    this.popIndent();
  }

  private increaseIndent(flow: boolean, indentless: boolean): void {
    this.indents.push(this.indent);
    if (this.indent < 0) this.indent = flow ? BEST_INDENT : 0;
    else if (!indentless) this.indent += BEST_INDENT;
  }

  private popIndent(): void {
    this.indent = this.indents.pop() ?? -1;
  }

  private put(ch: string): void {
    this.out += ch;
    this.column++;
  }

  private putBreak(): void {
    this.out += '\n';
    this.column = 0;
  }

  writeIndent(): void {
    const indent = Math.max(this.indent, 0);
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.putBreak();
    while (this.column < indent) this.put(' ');
    this.whitespace = true;
    this.indention = true;
  }

  private writeIndicator(indicator: string, needWhitespace: boolean, isWhitespace: boolean, isIndention: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(' ');
    for (const ch of indicator) this.put(ch);
    this.whitespace = isWhitespace;
    this.indention = this.indention && isIndention;
  }

  private writeBreak(ch: string): void {
    if (ch === '\n') this.putBreak();
    else {
      this.out += ch;
      this.column = 0;
    }
  }

  private writePlain(chars: readonly string[], allowBreaks: boolean): void {
    if (!this.whitespace) this.put(' ');
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i] as string;
      if (ch === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && chars[i + 1] !== ' ') this.writeIndent();
        else this.put(ch);
        spaces = true;
      } else if (isBreak(ch)) {
        if (!breaks && ch === '\n') this.putBreak();
        this.writeBreak(ch);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.put(ch);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    this.whitespace = false;
    this.indention = false;
  }

  private writeSingleQuoted(chars: readonly string[], allowBreaks: boolean): void {
    this.writeIndicator("'", true, false, false);
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i] as string;
      if (ch === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < chars.length - 1 && chars[i + 1] !== ' ') {
          this.writeIndent();
        } else this.put(ch);
        spaces = true;
      } else if (isBreak(ch)) {
        if (!breaks && ch === '\n') this.putBreak();
        this.writeBreak(ch);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        if (ch === "'") this.put("'");
        this.put(ch);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    this.writeIndicator("'", false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private writeDoubleQuoted(chars: readonly string[], allowBreaks: boolean): void {
    this.writeIndicator('"', true, false, false);
    let spaces = false;
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i] as string;
      const c = cp(ch);
      if (!isPrintable(c) || c === 0xfeff || isBreak(ch) || ch === '"' || ch === '\\') {
        this.putEscaped(c);
        spaces = false;
      } else if (ch === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < chars.length - 1) {
          this.writeIndent();
          if (chars[i + 1] === ' ') this.put('\\');
        } else this.put(ch);
        spaces = true;
      } else {
        this.put(ch);
        spaces = false;
      }
    }
    this.writeIndicator('"', false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private putEscaped(c: number): void {
    this.put('\\');
    const named = ESCAPES.get(c);
    if (named !== undefined) return this.put(named);
    const [prefix, width] = c <= 0xff ? ['x', 2] : c <= 0xffff ? ['u', 4] : ['U', 8];
    this.put(prefix);
    for (const d of c.toString(16).toUpperCase().padStart(width, '0')) this.put(d);
  }

  private writeLiteral(chars: readonly string[]): void {
    this.writeIndicator('|', true, false, false);
    const first = chars[0];
    if (first !== undefined && (first === ' ' || isBreak(first))) this.writeIndicator(String(BEST_INDENT), false, false, false);
    const last = chars[chars.length - 1];
    const beforeLast = chars[chars.length - 2];
    let chomp = '';
    if (last === undefined || !isBreak(last)) chomp = '-';
    else if (chars.length === 1 || (beforeLast !== undefined && isBreak(beforeLast))) chomp = '+';
    if (chomp !== '') this.writeIndicator(chomp, false, false, false);
    this.putBreak();
    this.indention = true;
    this.whitespace = true;
    let breaks = true;
    for (const ch of chars) {
      if (isBreak(ch)) {
        this.writeBreak(ch);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.put(ch);
        this.indention = false;
        breaks = false;
      }
    }
  }
}

const ESCAPES = new Map<number, string>([
  [0x00, '0'],
  [0x07, 'a'],
  [0x08, 'b'],
  [0x09, 't'],
  [0x0a, 'n'],
  [0x0b, 'v'],
  [0x0c, 'f'],
  [0x0d, 'r'],
  [0x1b, 'e'],
  [0x22, '"'],
  [0x5c, '\\'],
  [0x85, 'N'],
  [0xa0, '_'],
  [0x2028, 'L'],
  [0x2029, 'P'],
]);
