import { Type } from '@sinclair/typebox';
import { route } from '../contract.ts';
import {
  AuditPackagesRequest, AuditReport, AuditReportAnswer, AuditUnitSummary, CollectRequest, IndexAddRequest, IndexRemoveRequest, IndexedRelease, UnitInventory,
} from '../inventory.ts';

/**
 * Routes of the software inventory (issue 19): reading a model's inventory is read; asking
 * its agents to collect is write (it only reads the machines). The fingerprint index is
 * shared by every model: any user may list it, controller admins grow it.
 */
export const INVENTORY_ROUTES = {
  'GET /api/models/:model/inventory': route({ access: 'read', response: Type.Array(AuditUnitSummary) }),
  'GET /api/models/:model/inventory/units': route({
    access: 'read',
    // Comma-separated unit names; none means every unit with an inventory.
    query: Type.Object({ units: Type.Optional(Type.String()) }, { additionalProperties: false }),
    response: Type.Array(UnitInventory),
  }),
  'POST /api/models/:model/inventory/collect': route({
    access: 'write',
    body: CollectRequest,
    // The units asked, each with the number of its request.
    response: Type.Object({ units: Type.Array(Type.Object({ unit: Type.String(), request: Type.Integer({ minimum: 1 }) }, { additionalProperties: false })) }, { additionalProperties: false }),
  }),
  'GET /api/inventory/index': route({ access: 'login', response: Type.Array(IndexedRelease) }),
  'POST /api/inventory/index': route({ access: 'superuser', body: IndexAddRequest, response: IndexedRelease }),
  'POST /api/inventory/index/remove': route({
    access: 'superuser',
    body: IndexRemoveRequest,
    response: Type.Object({ removed: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
  }),
  // A unit's software inventory, collected on its machine.
  'POST /api/agent/audit': route({ access: 'agent', body: AuditReport, response: AuditReportAnswer }),
  'POST /api/agent/audit/packages': route({
    access: 'agent',
    body: AuditPackagesRequest,
    response: Type.Object({ added: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
  }),
} as const;
