import { useEffect, useRef, useState } from 'react';
import type { LogLine } from '@sigil/api';
import { useApp } from '../app-context.tsx';

const KEEP = 2000;

/** The unit's log as `sigil debug-log --include UNIT --replay` shows it, then live. */
export function UnitLog({ unit }: { unit: string }) {
  const { model } = useApp();
  const [lines, setLines] = useState<(LogLine & { id: number })[]>([]);
  const [state, setState] = useState('connecting…');
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    setLines([]);
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const q = new URLSearchParams({ model, include: unit, replay: 'true' });
    // The session cookie authenticates the handshake.
    const ws = new WebSocket(`${scheme}://${location.host}/api/logs?${q}`, ['sigil']);
    let queued: (LogLine & { id: number })[] = [];
    let framed = false;
    ws.onopen = () => setState('live');
    ws.onclose = () => setState('closed');
    ws.onmessage = (e) => {
      queued.push(JSON.parse(String(e.data)) as LogLine & { id: number });
      if (framed) return;
      framed = true;
      requestAnimationFrame(() => {
        framed = false;
        const batch = queued;
        queued = [];
        setLines((ls) => [...ls, ...batch].slice(-KEEP));
      });
    };
    return () => ws.close();
  }, [model, unit]);
  useEffect(() => {
    const b = box.current;
    if (b) b.scrollTop = b.scrollHeight;
  }, [lines]);
  return (
    <div className="log" ref={box} data-testid="unit-log" data-state={state}>
      {lines.length === 0 && <div className="muted">No log lines yet ({state}).</div>}
      {lines.map((l) => (
        <div key={l.id} className={`line level-${l.level}`}>
          <span className="muted">{new Date(l.at).toISOString().slice(11, 19)}</span> <span className="level">{l.level}</span> {l.module}: {l.message}
        </div>
      ))}
    </div>
  );
}
