import type { ReactNode } from 'react';

/**
 * A charm's README.md, rendered from a small Markdown subset (headings, lists, code
 * blocks, paragraphs) as React elements: the text is never parsed as HTML.
 */
export function Readme({ text }: { text: string }) {
  const out: ReactNode[] = [];
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let para: string[] = [];
  let list: string[] = [];
  const flush = () => {
    if (para.length > 0) out.push(<p key={out.length}>{para.join(' ')}</p>);
    if (list.length > 0) out.push(<ul key={out.length}>{list.map((l, i) => <li key={i}>{l}</li>)}</ul>);
    para = [];
    list = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('```')) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) code.push(lines[i]!);
      out.push(<pre key={out.length}>{code.join('\n')}</pre>);
    } else if (/^#{1,6}\s/.test(line)) {
      flush();
      const level = Math.min(6, line.indexOf(' ') + 2);
      const Tag = `h${Math.min(level, 6)}` as 'h3';
      out.push(<Tag key={out.length}>{line.replace(/^#+\s*/, '')}</Tag>);
    } else if (/^\s*[-*]\s+/.test(line)) {
      if (para.length > 0) flush();
      list.push(line.replace(/^\s*[-*]\s+/, ''));
    } else if (line.trim() === '') {
      flush();
    } else {
      if (list.length > 0) flush();
      para.push(line.trim());
    }
  }
  flush();
  return <div className="readme" data-testid="readme">{out}</div>;
}
