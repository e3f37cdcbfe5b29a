/**
 * juju/cmd's output formatters (`--format smart|yaml|json`) and the `-o/--output` file
 * option, byte for byte:
 *
 * - smart: a string prints raw plus a newline, a `[]string` one item per line, a bool as
 *   `True`/`False` (a pyjuju legacy); nil or "" prints nothing; anything else as yaml;
 * - yaml: go-yaml v2 with trailing newlines trimmed to one; nil prints nothing;
 * - json: one line (nil is `null`).
 */
import type { FlagSpec } from './args.ts';
import { goYamlMarshal } from './goyaml.ts';
import { type GoValue, StringList, goJsonMarshal, goQuote } from './govalue.ts';

export type OutputFormat = 'smart' | 'yaml' | 'json';

export const OUTPUT_FLAGS: readonly FlagSpec[] = [
  {
    names: ['format'],
    kind: 'string',
    help: 'Specify output format (json|smart|yaml)',
    default: 'smart',
    check: (v) => (v === 'smart' || v === 'yaml' || v === 'json' ? undefined : `unknown format ${goQuote(v)}`),
  },
  { names: ['o', 'output'], kind: 'string', help: 'Specify an output file' },
];

/** The output flags of a tool that offers only some formats (secret-get: yaml or json, yaml by default). */
export function outputFlags(formats: { default: OutputFormat; allowed: readonly OutputFormat[] } | undefined): readonly FlagSpec[] {
  if (formats === undefined) return OUTPUT_FLAGS;
  const [, file] = OUTPUT_FLAGS;
  return [
    {
      names: ['format'],
      kind: 'string',
      help: `Specify output format (${[...formats.allowed].sort().join('|')})`,
      default: formats.default,
      check: (v) => ((formats.allowed as readonly string[]).includes(v) ? undefined : `unknown format ${goQuote(v)}`),
    },
    file!,
  ];
}

export function formatOutput(value: GoValue, format: OutputFormat): string {
  if (format === 'json') return goJsonMarshal(value) + '\n';
  if (format === 'yaml') return formatYaml(value);
  if (value === null) return '';
  let text: string;
  if (typeof value === 'string') text = value;
  else if (value instanceof StringList) text = value.items.join('\n');
  else if (typeof value === 'boolean') text = value ? 'True' : 'False';
  else return formatYaml(value);
  return text === '' ? '' : text + '\n';
}

function formatYaml(value: GoValue): string {
  if (value === null) return '';
  const text = goYamlMarshal(value).replace(/\n+$/, '');
  return text === '' ? '' : text + '\n';
}
