import { Type, type Static } from '@sinclair/typebox';
import { Ok, route } from '../contract.ts';
import { ControllerReplica, OperationDoc, ProxySettings } from '../agent.ts';
import { BundleStateDoc } from '../bundle.ts';
import { CharmSchema, CharmUpload } from '../charm.ts';
import {
  ActionRequest, AddMachinesRequest, AddUnitsRequest, AnnotationsRequest, ConfigRequest, ConstraintsRequest, DeployRequest, EnlistMachineRequest, EnlistMachineResponse,
  ExecRequest, ExposeRequest, ModelConfigRequest, ModelRequest, NamesRequest, RefreshRequest, RelateRequest, ResolveRequest,
} from '../requests.ts';
import { ModelStatusDoc, StatusHistoryEntry, WaitReport } from '../status.ts';
import { ModelRole } from './users.ts';

/** The controller as a client sees it (`GET /api/controller`). */
export const ControllerInfo = Type.Object({
  name: Type.String(),
  /** The store's revision. */
  revision: Type.Integer({ minimum: 0 }),
  /** The models the caller holds a role on (a superuser: all of them). */
  models: Type.Array(Type.String()),
  /** Where hosts elsewhere reach the controller (`bootstrap --api-address`); empty when nowhere. */
  apiUrls: Type.Array(Type.String()),
  /** The controller's apt cache at each api address (parallel to apiUrls). */
  aptCacheUrls: Type.Array(Type.String()),
  /** Every controller process serving the store (`sigil enable-ha`). */
  controllers: Type.Array(ControllerReplica),
  /** The id of the replica that answered. */
  replica: Type.String(),
}, { additionalProperties: false });
export type ControllerInfo = Static<typeof ControllerInfo>;

/** A model's configuration (`sigil model-config`): Juju's keys, with the model's values or the defaults. */
export const ModelConfig = Type.Object({
  ...ProxySettings.properties,
  'update-status-hook-interval': Type.String(),
  'automatically-retry-hooks': Type.Boolean(),
  /** Limits that keep one model from starving the controller (each error names its key). */
  'max-units-per-call': Type.Integer({ minimum: 1 }),
  'max-relation-bag-size': Type.String(),
  'max-config-value-size': Type.String(),
  'max-charm-state-size': Type.String(),
  /** Juju's names: the model log is pruned past this size and age. */
  'logs-max-size': Type.String(),
  'logs-max-age': Type.String(),
  /** How often each unit's software inventory is collected again (issue 19); `0` turns the schedule off. */
  'audit-interval': Type.String(),
}, { additionalProperties: false });
export type ModelConfig = Static<typeof ModelConfig>;

const modelInfoFields = {
  name: Type.String(),
  uuid: Type.String(),
  /** alive, or dying while it is destroyed. */
  life: Type.String(),
  config: ModelConfig,
  machines: Type.Integer({ minimum: 0 }),
  applications: Type.Integer({ minimum: 0 }),
  units: Type.Integer({ minimum: 0 }),
};

/** A model and how much it holds. */
export const ModelInfo = Type.Object(modelInfoFields, { additionalProperties: false });
export type ModelInfo = Static<typeof ModelInfo>;

/** A model as `sigil models` lists it: with the caller's role on it (`admin` for a superuser). */
export const ModelListEntry = Type.Object({ ...modelInfoFields, access: ModelRole }, { additionalProperties: false });
export type ModelListEntry = Static<typeof ModelListEntry>;

/** A charm uploaded to a model (`sigil deploy ./dir`): the URL to deploy it by. */
export const UploadedCharm = Type.Object({
  url: Type.String(),
  name: Type.String(),
  revision: Type.Integer({ minimum: 0 }),
  charm: CharmSchema,
}, { additionalProperties: false });
export type UploadedCharm = Static<typeof UploadedCharm>;

const ConfigValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

/** An application's configuration (`sigil config APP`), in Juju's shape: each option of its charm with its value and where the value comes from. */
export const ApplicationConfig = Type.Object({
  application: Type.String(),
  charm: Type.String(),
  settings: Type.Record(Type.String(), Type.Object({
    default: Type.Optional(ConfigValue),
    description: Type.String(),
    source: Type.Union([Type.Literal('default'), Type.Literal('user'), Type.Literal('unset')]),
    type: Type.String(),
    value: Type.Optional(ConfigValue),
  }, { additionalProperties: false })),
}, { additionalProperties: false });
export type ApplicationConfig = Static<typeof ApplicationConfig>;

/** One unit's relation bag as show-unit shows it: whether the unit is in the relation's scope, and its data. */
const ShowUnitBag = Type.Object({ 'in-scope': Type.Boolean(), data: Type.Record(Type.String(), Type.String()) }, { additionalProperties: false });

/**
 * `sigil show-unit`: a unit and every relation bag it can see, in Juju's show-unit shape
 * (relation-info with application-data, local-unit and related-units), by unit name.
 */
export const ShowUnitDoc = Type.Record(Type.String(), Type.Object({
  'workload-version': Type.Optional(Type.String()),
  machine: Type.Optional(Type.String()),
  principal: Type.Optional(Type.String()),
  'opened-ports': Type.Array(Type.String()),
  'public-address': Type.Optional(Type.String()),
  charm: Type.String(),
  leader: Type.Boolean(),
  life: Type.String(),
  'workload-status': Type.Object({ current: Type.String(), message: Type.String() }, { additionalProperties: false }),
  /** `data`: what the agent reported with its status (a hook error's output). */
  'juju-status': Type.Object({ current: Type.String(), message: Type.String(), data: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: false }),
  'relation-info': Type.Array(Type.Object({
    'relation-id': Type.Integer(),
    endpoint: Type.String(),
    'related-endpoint': Type.String(),
    'application-data': Type.Record(Type.String(), Type.String()),
    /** The unit's own application's bag: seen by its leader, and by every unit of a peer relation. */
    'local-application-data': Type.Optional(Type.Record(Type.String(), Type.String())),
    'local-unit': ShowUnitBag,
    'related-units': Type.Record(Type.String(), ShowUnitBag),
  }, { additionalProperties: false })),
}, { additionalProperties: false }));
export type ShowUnitDoc = Static<typeof ShowUnitDoc>;

/** A relation `sigil integrate` made. */
export const RelationCreated = Type.Object({
  id: Type.Integer(),
  key: Type.String(),
  endpoints: Type.Array(Type.Object({
    app: Type.String(),
    name: Type.String(),
    role: Type.Union([Type.Literal('provider'), Type.Literal('requirer'), Type.Literal('peer')]),
    interface: Type.String(),
    scope: Type.Union([Type.Literal('global'), Type.Literal('container')]),
  }, { additionalProperties: false })),
}, { additionalProperties: false });
export type RelationCreated = Static<typeof RelationCreated>;

/**
 * Routes of the client area (packages/controller/src/apiserver/client-routes.ts): models,
 * status, applications, units, relations, machines, charms, actions and exec, and the
 * controller itself.
 */
export const CLIENT_ROUTES = {
  'GET /api/health': route({ access: 'public', response: Type.Object({ ok: Type.Literal(true), revision: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }) }),
  'GET /api/controller': route({ access: 'login', response: ControllerInfo }),
  'POST /api/controller/destroy': route({ access: 'superuser', response: Ok }),
  'GET /api/models': route({ access: 'login', response: Type.Array(ModelListEntry) }),
  'POST /api/models': route({ access: 'superuser', body: ModelRequest, response: ModelInfo }),
  'DELETE /api/models/:model': route({ access: 'admin', response: Ok }),
  'GET /api/models/:model/config': route({ access: 'read', response: ModelConfig }),
  'POST /api/models/:model/config': route({ access: 'admin', body: ModelConfigRequest, response: ModelConfig }),
  'GET /api/models/:model/wait': route({
    access: 'read',
    // Comma-separated application names; none: the whole model.
    query: Type.Object({ apps: Type.Optional(Type.String()) }),
    response: WaitReport,
  }),
  'GET /api/models/:model/status': route({ access: 'read', response: ModelStatusDoc }),
  'GET /api/models/:model/unit': route({ access: 'read', query: Type.Object({ name: Type.Optional(Type.String()) }), response: ShowUnitDoc }),
  'GET /api/models/:model/status-history': route({
    access: 'read',
    // Checked by the route as Juju's show-status-log checks its arguments (type defaults to unit, n to 20).
    query: Type.Object({ entity: Type.Optional(Type.String()), type: Type.Optional(Type.String()), n: Type.Optional(Type.String()) }),
    response: Type.Array(StatusHistoryEntry),
  }),
  'GET /api/models/:model/bundle-state': route({ access: 'read', response: BundleStateDoc }),
  'POST /api/models/:model/applications/:app/annotations': route({ access: 'write', body: AnnotationsRequest, response: Ok }),
  'POST /api/models/:model/applications/:app/constraints': route({ access: 'write', body: ConstraintsRequest, response: Ok }),
  'POST /api/models/:model/charms': route({ access: 'write', body: CharmUpload, response: UploadedCharm }),
  'POST /api/models/:model/applications': route({
    access: 'write',
    body: DeployRequest,
    response: Type.Object({ name: Type.String(), units: Type.Array(Type.String()) }, { additionalProperties: false }),
  }),
  'DELETE /api/models/:model/applications/:app': route({ access: 'write', query: Type.Object({ destroyStorage: Type.Optional(Type.Boolean()) }), response: Ok }),
  'GET /api/models/:model/applications/:app/config': route({ access: 'read', response: ApplicationConfig }),
  'POST /api/models/:model/applications/:app/config': route({ access: 'write', body: ConfigRequest, response: ApplicationConfig }),
  'POST /api/models/:model/applications/:app/refresh': route({ access: 'write', body: RefreshRequest, response: Ok }),
  'POST /api/models/:model/applications/:app/expose': route({ access: 'write', body: ExposeRequest, response: Ok }),
  'POST /api/models/:model/applications/:app/units': route({
    access: 'write',
    body: AddUnitsRequest,
    response: Type.Object({ units: Type.Array(Type.String()) }, { additionalProperties: false }),
  }),
  'POST /api/models/:model/units/remove': route({ access: 'write', body: NamesRequest, response: Ok }),
  'POST /api/models/:model/resolve': route({ access: 'write', body: ResolveRequest, response: Ok }),
  'POST /api/models/:model/relations': route({ access: 'write', body: RelateRequest, response: RelationCreated }),
  'POST /api/models/:model/relations/remove': route({ access: 'write', body: RelateRequest, response: Ok }),
  'POST /api/models/:model/actions': route({ access: 'write', body: ActionRequest, response: OperationDoc }),
  // Juju's `exec` runs arbitrary commands as root on the units: model admins only.
  'POST /api/models/:model/exec': route({ access: 'admin', body: ExecRequest, response: Type.Array(OperationDoc) }),
  'GET /api/models/:model/operations/:id': route({ access: 'read', response: OperationDoc }),
  'POST /api/models/:model/machines': route({
    access: 'write',
    body: AddMachinesRequest,
    response: Type.Object({ machines: Type.Array(Type.String()) }, { additionalProperties: false }),
  }),
  'POST /api/models/:model/machines/remove': route({ access: 'write', body: NamesRequest, response: Ok }),
  // Enlisting a host over ssh hands the caller the new machine's agent credential (to be
  // written on the host): model admins only.
  'POST /api/models/:model/machines/enlist': route({ access: 'admin', body: EnlistMachineRequest, response: EnlistMachineResponse }),
} as const;
