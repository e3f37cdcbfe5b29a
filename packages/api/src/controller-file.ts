import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { SigilError } from '@sigil/core';

/**
 * `controller.json`, the controller's configuration in its directory: written by `sigil
 * bootstrap` (and `enable-ha`, `migrate-agents`, `restore-backup`), read by the controller
 * process at start and by the CLI on the controller's host. One schema for both sides; the
 * controller refuses to start on a file that does not match it, saying where.
 */
const Address = Type.String({ minLength: 1, maxLength: 253 });

/** A replica `enable-ha --to` placed on another host (decision 0041). */
export const AwayReplica = Type.Object({
  /** USER@HOST:PORT, as ssh reaches it. */
  target: Type.String({ minLength: 1 }),
  address: Address,
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  init: Type.Union([Type.Literal('systemd'), Type.Literal('supervised')]),
  /** How the CLI reaches it again (stop, remove): paths only, never a key itself. */
  privateKey: Type.Optional(Type.String()),
  knownHosts: Type.Optional(Type.String()),
});
export type AwayReplica = Static<typeof AwayReplica>;

export const ControllerFile = Type.Object({
  name: Type.String({ minLength: 1 }),
  provider: Type.Union([Type.Literal('local-process'), Type.Literal('lxc')]),
  /** Where the API listens (the bridge's gateway for lxc, loopback for local-process; the host's address for a replica elsewhere). */
  host: Address,
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  adminTokenHash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  /** local-process: the second octet of its machines' loopback addresses. */
  octet: Type.Integer({ minimum: 0, maximum: 255 }),
  /** lxc: the bridge Sigil owns for this controller's machines; the controller listens on its gateway. */
  bridge: Type.Optional(Type.Object({ name: Type.String({ minLength: 1, maxLength: 15 }), subnet: Type.String({ minLength: 1 }) })),
  /** lxc: where base images are cached (shared by controllers under one SIGIL_HOME). */
  imagesDir: Type.Optional(Type.String()),
  /** lxc: where the host's controllers share the apt packages they fetched ('' for nowhere; beside the image by default). */
  aptPool: Type.Optional(Type.String()),
  /**
   * `bootstrap --api-address`: more addresses of this host where the API answers (on the same
   * port), for machines on other hosts (enlisted over ssh). The first is the one they are given.
   */
  apiAddresses: Type.Optional(Type.Array(Address)),
  /** `sigil migrate-agents --to`: where machines dial the controller, when not at host:port; new machines are given it too. */
  agentUrl: Type.Optional(Type.String({ minLength: 1 })),
  /** local-process: where the machines' directories are, when not in this directory (a controller restored elsewhere). */
  machinesRoot: Type.Optional(Type.String()),
  /** lxc: the provider's directory (containers, apt cache), likewise for a restored controller. */
  providerRoot: Type.Optional(Type.String()),
  /** `bootstrap --store`: the model lives in this PostgreSQL database (postgresql://USER@HOST[:PORT]/DB, no password), not in state.db. */
  store: Type.Optional(Type.Object({ url: Type.String({ minLength: 1 }) })),
  /** `sigil enable-ha -n N` (PostgreSQL stores only): the ports of replicas 1…N−1, sharing the store. */
  replicaPorts: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }))),
  /** On the controller's host: the replicas placed on other hosts, by replica number. */
  awayReplicas: Type.Optional(Type.Record(Type.String({ pattern: '^[1-9][0-9]*$' }), AwayReplica, { additionalProperties: false })),
  /**
   * In a replica's own directory on another host: the host where the provider's machines
   * are. That replica acts on leases only while no replica there is alive.
   */
  away: Type.Optional(Type.Object({ home: Address })),
});
export type ControllerFile = Static<typeof ControllerFile>;

/** controller.json's text, checked against the schema: a damaged or foreign file is refused, naming the first fault. */
export function parseControllerFile(text: string, where: string): ControllerFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new SigilError('internal', `${where} is not JSON: ${(e as Error).message}`, 'restore the controller directory from a backup (`sigil restore-backup`)');
  }
  if (Value.Check(ControllerFile, doc)) return doc;
  const first = Value.Errors(ControllerFile, doc).First();
  throw new SigilError('internal', `${where} does not describe a controller: ${first ? `${first.path || '/'} ${first.message}` : 'unexpected content'}`, 'restore the controller directory from a backup (`sigil restore-backup`), or bootstrap a new controller');
}
