import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { isSigilError } from '@sigil/core';
import { ago, secretContent, secretDoc } from './secrets.ts';
import { testDir } from '../../../../tests/temp.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('secret content from the command line', () => {
  test('key=value, key#base64 and key#file, with --file entries that arguments override', () => {
    const dir = testDir('sigil-secret-cli-');
    writeFileSync(join(dir, 'cert.pem'), 'PEM\n');
    writeFileSync(join(dir, 'values.yaml'), 'password: from-file\nport: 5432\n');
    expect(secretContent(['user=admin', 'key#base64=AAEC', `cert#file=${join(dir, 'cert.pem')}`, 'password=from-args'], join(dir, 'values.yaml'))).toEqual({
      port: b64('5432'),
      user: b64('admin'),
      key: 'AAEC',
      cert: b64('PEM\n'),
      password: b64('from-args'),
    });
  });

  test('bad keys and values are refused with a hint, before anything is sent', () => {
    const refused = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        if (isSigilError(e)) return `${e.message} | ${e.hint ?? ''}`;
        throw e;
      }
      throw new Error('not refused');
    };
    expect(refused(() => secretContent(['pw=x'], undefined))).toMatch(/^key "pw" not valid \| keys are lowercase/);
    expect(refused(() => secretContent(['novalue'], undefined))).toMatch(/^expected "key=value", got "novalue"/);
    expect(refused(() => secretContent(['key#base64=!!'], undefined))).toMatch(/^base64 value for key "key" not valid/);
    expect(refused(() => secretContent([], '/nonexistent/values.yaml'))).toMatch(/cannot read secret values from \/nonexistent\/values.yaml/);
  });
});

describe('show-secret documents', () => {
  test('Juju\'s field order, times in RFC 3339, empty fields left out, content only when revealed', () => {
    const doc = secretDoc({ id: 'x', owner: '<model>', ownerKind: 'model', name: 'dbpass', label: '', description: 'the db', revision: 2, rotation: '', created: 0, updated: 60_000, access: [{ target: 'application-app', scope: 'model-u', role: 'view' }], content: { password: 'p' } });
    expect(Object.keys(doc)).toEqual(['revision', 'owner', 'description', 'name', 'created', 'updated', 'content', 'access']);
    expect(doc.updated).toBe('1970-01-01T00:01:00.000Z');
    expect(ago(0, 90_000)).toBe('1 minute ago');
    expect(ago(0, 5_000)).toBe('5 seconds ago');
  });
});
