import { Type } from '@sinclair/typebox';
import { Ok, route } from '../contract.ts';
import { AgentControllers, AgentStatusReport, CommitResult, GoalState, HookCommit, MachineViewDelta, OperationResult } from '../agent.ts';
import { CharmArchive } from '../charm.ts';
import { ActionLogSchema, LogLinesSchema, ScopeSchema, SettledSchema, UnitRefSchema, ViewQuerySchema } from '../agent-schemas.ts';

/**
 * Routes a machine agent calls, with its machine's own credential: each route checks that
 * the unit (or the operation's unit) it names lives on the caller's machine.
 */
export const AGENT_ROUTES = {
  // The machine's view, in hashed parts: those whose hash is in `known` come without a body.
  'GET /api/agent/view': route({ access: 'agent', query: ViewQuerySchema, response: MachineViewDelta }),
  // Every live replica, the answering one first: the agent moves to another when this one stops answering.
  'GET /api/agent/controllers': route({ access: 'agent', response: AgentControllers }),
  // A charm of a unit on the caller's machine: its archive as the controller stores it
  // (JSON text, sent as stored, so the answer check does not see it).
  'GET /api/agent/charms/:hash': route({ access: 'agent', response: CharmArchive }),
  'POST /api/agent/status': route({ access: 'agent', body: AgentStatusReport, response: Ok }),
  'POST /api/agent/commit': route({ access: 'agent', body: HookCommit, response: CommitResult }),
  'POST /api/agent/goal-state': route({ access: 'agent', body: UnitRefSchema, response: GoalState }),
  'POST /api/agent/scope': route({ access: 'agent', body: ScopeSchema, response: Ok }),
  'POST /api/agent/settled': route({ access: 'agent', body: SettledSchema, response: Ok }),
  'POST /api/agent/dead': route({ access: 'agent', body: UnitRefSchema, response: Ok }),
  // `claimed`: false when the operation was no longer pending (cancelled, or claimed before).
  'POST /api/agent/operations/:id/start': route({ access: 'agent', response: Type.Object({ ok: Type.Literal(true), claimed: Type.Boolean() }, { additionalProperties: false }) }),
  'POST /api/agent/operations/:id/finish': route({ access: 'agent', body: OperationResult, response: Ok }),
  'POST /api/agent/operations/:id/log': route({ access: 'agent', body: ActionLogSchema, response: Ok }),
  // Lines of entities not on the caller's machine are refused (counted, not stored).
  'POST /api/agent/logs': route({
    access: 'agent',
    body: LogLinesSchema,
    response: Type.Object({ ok: Type.Literal(true), accepted: Type.Integer({ minimum: 0 }), refused: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
  }),
  // A new credential for this machine, after an operator asked for one (rotate-agent-credential).
  'POST /api/agent/credential': route({ access: 'agent', response: Type.Object({ token: Type.String() }, { additionalProperties: false }) }),
  // An enlisted machine's agent, told its machine is going, says it is uninstalling itself.
  'POST /api/agent/uninstalled': route({ access: 'agent', response: Ok }),
} as const;
