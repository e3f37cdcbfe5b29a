import { describe, expect, it } from 'vitest';
import type { WhoAmI } from '@sigil/api';
import { canWrite } from './client.ts';

describe('canWrite', () => {
  const who = (superuser: boolean, models: WhoAmI['models']) => ({ superuser, models });

  it.each([
    ['a superuser, on any model', who(true, {}), 'm', true],
    ['write on the model', who(false, { m: 'write' }), 'm', true],
    ['admin on the model', who(false, { m: 'admin' }), 'm', true],
    ['read on the model', who(false, { m: 'read' }), 'm', false],
    ['write on another model only', who(false, { other: 'write' }), 'm', false],
    ['no access at all', who(false, {}), 'm', false],
  ])('%s', (_what, w, model, expected) => {
    expect(canWrite(w, model)).toBe(expected);
  });
});
