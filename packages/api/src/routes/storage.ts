import { Type } from '@sinclair/typebox';
import { Ok, route } from '../contract.ts';
import {
  AgentStorageReport, ResourceContent, ResourceDoc, ResourceFetchRequest, ResourceUploadRequest, StorageAddRequest, StorageAttachRequest, StorageIdsRequest,
  StorageInstanceDoc, StoragePoolDoc,
} from '../storage.ts';

/**
 * Routes of storage and resources (issue 20): changing them changes the model, as deploying
 * does. A unit's agent reports its storage and fetches its own application's resource content.
 */
export const STORAGE_ROUTES = {
  'GET /api/models/:model/storage': route({ access: 'read', response: Type.Object({ storage: Type.Array(StorageInstanceDoc) }, { additionalProperties: false }) }),
  'GET /api/models/:model/storage-pools': route({ access: 'read', response: Type.Object({ pools: Type.Array(StoragePoolDoc) }, { additionalProperties: false }) }),
  // The ids of the instances added.
  'POST /api/models/:model/storage/add': route({ access: 'write', body: StorageAddRequest, response: Type.Object({ ids: Type.Array(Type.String()) }, { additionalProperties: false }) }),
  'POST /api/models/:model/storage/attach': route({ access: 'write', body: StorageAttachRequest, response: Ok }),
  'POST /api/models/:model/storage/detach': route({ access: 'write', body: StorageIdsRequest, response: Ok }),
  'POST /api/models/:model/storage/remove': route({ access: 'write', body: StorageIdsRequest, response: Ok }),
  'GET /api/models/:model/applications/:app/resources': route({ access: 'read', response: Type.Object({ resources: Type.Array(ResourceDoc) }, { additionalProperties: false }) }),
  'POST /api/models/:model/applications/:app/resources': route({ access: 'write', body: ResourceUploadRequest, response: ResourceDoc }),
  // A unit's storage reports, and its own application's resource content.
  'POST /api/agent/storage': route({ access: 'agent', body: AgentStorageReport, response: Ok }),
  'POST /api/agent/resources': route({ access: 'agent', body: ResourceFetchRequest, response: ResourceContent }),
} as const;
