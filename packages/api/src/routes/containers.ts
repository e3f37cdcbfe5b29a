import { Type } from '@sinclair/typebox';
import { Ok, route } from '../contract.ts';
import { ContainerFailedSchema, ContainerProvisionedSchema, ContainerRefSchema } from '../agent-schemas.ts';

/**
 * Containers on machines (issue 13). A host's agent creates and destroys the LXC containers
 * placed on its machine; its credential speaks for its own containers only.
 */
export const CONTAINERS_ROUTES = {
  // The new container's credential, issued when its host's agent is about to create it.
  'POST /api/agent/containers/provision': route({ access: 'agent', body: ContainerRefSchema, response: Type.Object({ token: Type.String() }, { additionalProperties: false }) }),
  'POST /api/agent/containers/provisioned': route({ access: 'agent', body: ContainerProvisionedSchema, response: Ok }),
  'POST /api/agent/containers/failed': route({ access: 'agent', body: ContainerFailedSchema, response: Ok }),
  // The host's agent destroyed a dying container: it leaves the model.
  'POST /api/agent/containers/removed': route({ access: 'agent', body: ContainerRefSchema, response: Ok }),
} as const;
