import { describe, expect, it } from 'vitest';
import type { GuiMessage, GuiModel } from '@sigil/api';
import { ModelFeed, type SocketHandlers } from './feed.ts';

const model: GuiModel = { name: 'm', apps: {}, units: {}, relations: {}, machines: {}, charms: {} };

/** The feed's outside world, driven by hand: sockets opened, frames and timers run when the test says. */
function world(failing?: (inARow: number) => void) {
  const sockets: { url: string; protocols: string[]; on: SocketHandlers; closed: boolean }[] = [];
  const frames: (() => void)[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const feed = new ModelFeed('ws://x/api/gui/watch?model=m', {
    open: (url, protocols, on) => {
      const s = { url, protocols, on, closed: false };
      sockets.push(s);
      return { close: () => (s.closed = true) };
    },
    frame: (fn) => frames.push(fn),
    later: (fn, ms) => timers.push({ fn, ms }),
    ...(failing ? { failing } : {}),
  });
  const send = (m: GuiMessage) => sockets[sockets.length - 1]!.on.message(JSON.stringify(m));
  const paint = () => frames.splice(0).forEach((f) => f());
  return { feed, sockets, timers, send, paint };
}

describe('ModelFeed', () => {
  it('offers only the sigil subprotocol (no token: the cookie authenticates) and applies a burst of messages in one frame', () => {
    const w = world();
    let renders = 0;
    w.feed.subscribe(() => renders++);
    w.feed.start();
    expect(w.sockets[0]!.protocols).toEqual(['sigil']);
    w.send({ type: 'snapshot', rev: 5, model });
    w.send({ type: 'deltas', rev: 6, deltas: [{ kind: 'machine', op: 'put', value: { id: '0', address: null, up: true, status: { current: 'running', message: '' } } }] });
    expect(w.feed.state.model).toBeUndefined();
    w.paint();
    expect(renders).toBe(1);
    expect(w.feed.state.rev).toBe(6);
    expect(Object.keys(w.feed.state.model!.machines)).toEqual(['0']);
    expect(w.feed.applied).toBe(2);
  });

  it('reconnects with backoff from the last revision it applied', () => {
    const w = world();
    w.feed.start();
    w.sockets[0]!.on.open();
    w.send({ type: 'snapshot', rev: 9, model });
    w.paint();
    w.sockets[0]!.on.close(1006, '');
    expect(w.feed.status).toBe('reconnecting');
    expect(w.timers.map((t) => t.ms)).toEqual([250]);
    w.timers.shift()!.fn();
    expect(w.sockets[1]!.url).toBe('ws://x/api/gui/watch?model=m&since=9');
    w.sockets[1]!.on.close(1006, '');
    expect(w.timers.map((t) => t.ms)).toEqual([500]);
  });

  it('tells how many connections failed in a row since the stream was last open', () => {
    const failing: number[] = [];
    const w = world((n) => failing.push(n));
    w.feed.start();
    w.sockets[0]!.on.open();
    w.sockets[0]!.on.close(1006, '');
    w.timers.shift()!.fn();
    w.sockets[1]!.on.close(1006, '');
    w.timers.shift()!.fn();
    w.sockets[2]!.on.close(1006, '');
    expect(failing).toEqual([1, 2, 3]);
    w.timers.shift()!.fn();
    w.sockets[3]!.on.open();
    w.sockets[3]!.on.close(1006, '');
    expect(failing).toEqual([1, 2, 3, 1]);
  });

  it('gives up, with the reason, when the model cannot be watched', () => {
    const w = world();
    w.feed.start();
    w.sockets[0]!.on.close(4004, 'model "m" not found');
    expect(w.feed.status).toBe('failed');
    expect(w.feed.reason).toBe('model "m" not found');
    expect(w.timers).toEqual([]);
  });

  it('tells an action form when its operation changed', () => {
    const w = world();
    const seen: string[] = [];
    w.feed.onOperation((k) => seen.push(k));
    w.feed.start();
    w.send({ type: 'snapshot', rev: 1, model });
    w.send({ type: 'deltas', rev: 2, deltas: [{ kind: 'operation', op: 'put', key: 'a/0#3' }] });
    w.paint();
    expect(seen).toEqual(['a/0#3']);
  });
});
