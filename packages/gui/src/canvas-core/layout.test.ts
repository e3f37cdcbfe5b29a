import { describe, expect, it } from 'vitest';
import { NODE_HEIGHT, NODE_WIDTH, annotatedPosition, facingEnds, freeSpot, layout, positionAnnotations } from './layout.ts';

const disjoint = (a: { x: number; y: number }, b: { x: number; y: number }) => Math.abs(a.x - b.x) >= NODE_WIDTH || Math.abs(a.y - b.y) >= NODE_HEIGHT;

describe('layout', () => {
  it('keeps saved positions and places the rest without overlap', () => {
    const apps = [
      { name: 'db', annotations: positionAnnotations({ x: 0, y: 0 }) },
      ...Array.from({ length: 99 }, (_, i) => ({ name: `app${i}`, annotations: {} })),
    ];
    const pos = layout(apps);
    expect(pos.get('db')).toEqual({ x: 0, y: 0 });
    const all = [...pos.values()];
    for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) expect(disjoint(all[i]!, all[j]!)).toBe(true);
  });

  it('is the same for the same model, whatever the order apps arrive in', () => {
    const apps = ['c', 'a', 'b'].map((name) => ({ name, annotations: {} }));
    expect(layout(apps)).toEqual(layout([...apps].reverse()));
  });

  it('prefers a position just dragged over the saved one', () => {
    const apps = [{ name: 'a', annotations: positionAnnotations({ x: 10, y: 10 }) }];
    expect(layout(apps, new Map([['a', { x: 500, y: 40 }]])).get('a')).toEqual({ x: 500, y: 40 });
  });

  it('places a new node beside one saved off-grid rather than on top of it', () => {
    const p = freeSpot([{ x: 30, y: 20 }], 4);
    expect(disjoint(p, { x: 30, y: 20 })).toBe(true);
  });

  it('reads gui-x/gui-y annotations as Juju GUI writes them, ignoring junk', () => {
    expect(annotatedPosition({ 'gui-x': '120.5', 'gui-y': '-40' })).toEqual({ x: 120.5, y: -40 });
    expect(annotatedPosition({ 'gui-x': 'left', 'gui-y': '1' })).toBeUndefined();
    expect(annotatedPosition({ 'gui-x': '1' })).toBeUndefined();
    expect(positionAnnotations({ x: 1.6, y: 2.2 })).toEqual({ 'gui-x': '2', 'gui-y': '2' });
  });
});

describe('facingEnds', () => {
  const box = (x: number, y: number) => ({ x, y, width: 220, height: 84 });

  it('joins the sides that face each other, whichever way round the two nodes sit', () => {
    // The demo: wordpress (requirer) left of mariadb (provider); the line runs provider-left to requirer-right.
    expect(facingEnds(box(700, 100), box(400, 200))).toEqual({ source: { x: 700, y: 142, side: 'left' }, target: { x: 620, y: 242, side: 'right' } });
    expect(facingEnds(box(100, 200), box(400, 200))).toEqual({ source: { x: 320, y: 242, side: 'right' }, target: { x: 400, y: 242, side: 'left' } });
  });

  it('joins top and bottom when one node sits below the other', () => {
    expect(facingEnds(box(0, 0), box(40, 300))).toEqual({ source: { x: 110, y: 84, side: 'bottom' }, target: { x: 150, y: 300, side: 'top' } });
    expect(facingEnds(box(40, 300), box(0, 0))).toEqual({ source: { x: 150, y: 300, side: 'top' }, target: { x: 110, y: 84, side: 'bottom' } });
  });
});
