import { describe, expect, it } from 'vitest';
import { API } from './routes/index.ts';
import { paramsSchema } from './contract.ts';
import { pathParams, requestIn, requestOf, safeToRepeat, splitKey, wireRequest } from './wire.ts';
import { ROUTE_ACCESS } from './access.ts';

describe('the API contract', () => {
  it('fills path parameters as one encoded segment each, and leaves out undefined query values', () => {
    expect(wireRequest('GET /api/models/:model/applications/:app/config', { params: { model: 'a b', app: 'x/../y' } }))
      .toEqual({ method: 'GET', path: '/api/models/a%20b/applications/x%2F..%2Fy/config', body: undefined });
    expect(wireRequest('GET /api/models/:model/status-history', { params: { model: 'm' }, query: { entity: 'u/0', n: 5, type: undefined } }).path)
      .toBe('/api/models/m/status-history?entity=u%2F0&n=5');
  });

  it('refuses a call that leaves a path parameter out or empty, naming it', () => {
    expect(() => wireRequest('GET /api/backups/:name', { params: {} })).toThrow('GET /api/backups/:name: no value for :name');
    expect(() => wireRequest('GET /api/backups/:name', { params: { name: '' } })).toThrow(':name');
  });

  it('types and builds a call from its key', () => {
    expect(requestOf('GET /api/backups/:name', { params: { name: 'b.tar.gz' } })).toEqual({ method: 'GET', path: '/api/backups/b.tar.gz', body: undefined });
    expect(requestOf('POST /api/controller/migrate-agents', { body: { url: 'https://10.0.0.1:17070' } }).body).toEqual({ url: 'https://10.0.0.1:17070' });
    // `:model` comes from the caller's model unless the input names one.
    expect(requestIn('prod', 'GET /api/backups').path).toBe('/api/backups');
  });

  it('derives each route\'s params schema from its path', () => {
    expect(pathParams('/api/models/:model/machines/:id/rotate-credential')).toEqual(['model', 'id']);
    expect(paramsSchema('/api/backups')).toBeUndefined();
    expect(paramsSchema('/api/backups/:name')).toMatchObject({ required: ['name'], additionalProperties: false });
    expect(splitKey('POST /api/x')).toEqual({ method: 'POST', path: '/api/x' });
    expect(safeToRepeat('GET /api/backups')).toBe(true);
    expect(safeToRepeat('POST /api/backups')).toBe(false);
  });

  it('every route is a method and a path, with a known role and a response schema', () => {
    const roles = new Set(['public', 'agent', 'login', 'superuser', 'read', 'write', 'admin', 'offer']);
    for (const [key, spec] of Object.entries(API)) {
      expect(key).toMatch(/^(GET|POST|DELETE) \/(api|gui)(\/[a-z0-9*:-]+)*$/);
      for (const role of [spec.access].flat()) expect(roles.has(role), `${key}: ${role}`).toBe(true);
      expect(spec.response, key).toBeTypeOf('object');
    }
    // The streams are not HTTP routes; the access table holds both.
    expect(Object.keys(ROUTE_ACCESS)).toHaveLength(Object.keys(API).length + 3);
  });
});
