/**
 * Text from agents and charms is shown on users' terminals: control characters (ANSI
 * escapes, carriage returns, newlines that would fake another log line, C1 codes) are shown
 * escaped, as `\x1b`, `\n`, `\u009b`, never interpreted. Tabs are kept. Where a message
 * may span lines (a log), `newline` replaces each newline instead: an indented line break
 * keeps it readable while it still cannot pass for a line of its own.
 */
export function escapeControl(text: string, opts: { newline?: string } = {}): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]/g, (c) => {
    if (c === '\n') return opts.newline ?? '\\n';
    if (c === '\r') return '\\r';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
