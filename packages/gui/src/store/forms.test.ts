import { describe, expect, it } from 'vitest';
import type { ConfigOption } from '@sigil/core';
import { checkAppName, checkConfigForm, suggestAppName } from './forms.ts';

const options: Record<string, ConfigOption> = {
  token: { type: 'string', default: '', description: '' },
  replicas: { type: 'int', default: 1, description: '' },
  ratio: { type: 'float', description: '' },
  verbose: { type: 'boolean', default: false, description: '' },
};

describe('checkConfigForm', () => {
  it('types values as `sigil config` does and sends only what changed', () => {
    const r = checkConfigForm(options, { token: 'x', replicas: '3', ratio: '0.5', verbose: false }, { token: '', replicas: 1, verbose: false });
    expect(r).toEqual({ set: { token: 'x', replicas: 3, ratio: 0.5 }, reset: [], errors: {} });
  });

  it('names the option and says why a value is refused', () => {
    const r = checkConfigForm(options, { replicas: 'three', ratio: '1e' }, {});
    expect(r.errors.replicas?.message).toBe('option "replicas" expected int, got "three"');
    expect(r.errors.ratio?.message).toMatch(/option "ratio" expected float/);
    expect(r.set).toEqual({});
  });

  it('resets a typed option the user emptied', () => {
    expect(checkConfigForm(options, { replicas: '' }, { replicas: 5 }).reset).toEqual(['replicas']);
    expect(checkConfigForm(options, { replicas: '' }, { replicas: 1 }).reset).toEqual([]);
  });
});

describe('application names', () => {
  it('suggests the charm name, numbered when taken', () => {
    expect(suggestAppName('sink', new Set())).toBe('sink');
    expect(suggestAppName('sink', new Set(['sink', 'sink-2']))).toBe('sink-3');
  });
  it('refuses names Juju refuses, with a hint', () => {
    expect(checkAppName('my-app')).toBeUndefined();
    expect(checkAppName('My_App')?.message).toBe('invalid application name "My_App"');
    expect(checkAppName('My_App')?.hint).toMatch(/lowercase/);
  });
});
