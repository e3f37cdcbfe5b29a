export { Charm, Context, eventFromEnv, type ActionEvent, type CharmEvent, type RelationEvent } from './charm.ts';
export { DataBag, Relation, RelationDataError, type BagValue } from './relation.ts';
export { type Status, type StatusMaker, type StatusValue, StatusError, StatusTextError, active, blocked, maintenance, waiting } from './status.ts';
export type { ActionName, CharmSpec, ConfigOf, EndpointName, ParamsOf } from './spec.ts';
export type { Backend, LogLevel, Port, StatusName } from './backend.ts';
export { HookToolError } from './agent-socket.ts';
export { CommandError, aptInstall, isActive, password, sh, systemctl, writeIfChanged, type RunOptions } from './host.ts';
