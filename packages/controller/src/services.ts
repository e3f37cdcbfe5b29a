import type { ControllerReplica } from '@sigil/api';
import { dirname } from 'node:path';
import type { LogLine } from '@sigil/api';
import { machineTag, unitTag } from '@sigil/core';
import type { Store } from './store/store.ts';
import type { Logger } from './logger.ts';
import { Reads } from './state/rows.ts';
import { Models } from './domain/models.ts';
import { Charms } from './domain/charms.ts';
import { Applications } from './domain/applications.ts';
import { Units } from './domain/units.ts';
import { Machines } from './domain/machines.ts';
import { Relations } from './domain/relations.ts';
import { Offers } from './domain/offers.ts';
import { RemoteOffers } from './domain/remote-offers.ts';
import { Operations } from './domain/operations.ts';
import { AgentFacade } from './domain/agent.ts';
import { PresenceTracker } from './apiserver/presence.ts';
import type { AgentMigration } from './domain/agent-migration.ts';
import { LogHub } from './apiserver/loghub.ts';
import { LogRepository } from './state/logs.ts';
import { SshKeys } from './domain/ssh-keys.ts';
import { Secrets } from './domain/secrets-service.ts';
import { UserRepository } from './state/users.ts';
import { AuditRepository } from './state/audit.ts';
import { Authenticator } from './apiserver/auth.ts';
import { GuiLoginCodes } from './apiserver/gui-session.ts';
import { RelationChaos } from './domain/chaos.ts';
import type { ChaosProxies } from './workers/chaos.ts';
import { Rollouts } from './domain/rollouts.ts';
import type { OperationEventNotice } from '@sigil/api';
import { Inventory } from './domain/inventory/service.ts';
import { StorageService } from './domain/storage.ts';
import { Resources } from './domain/resources.ts';
import { ControllerBackups } from './domain/controller-backup.ts';
import { BackupStore } from './domain/backup-store.ts';
import type { UnitBackups } from './domain/unit-backups.ts';
import { ScheduleRepository } from './state/schedules.ts';
import { Notifications, type NotifyEvent } from './state/notifications.ts';
import { SecretCipher } from './state/secrets-crypto.ts';
import { NotifyWorker } from './workers/notify.ts';

const MAX_LOG_LINE = 16 * 1024;

/** Everything the API edge needs, wired once by main.ts. */
export class Services {
  readonly reads: Reads;
  readonly models: Models;
  readonly charms: Charms;
  readonly applications: Applications;
  readonly units: Units;
  readonly machines: Machines;
  readonly relations: Relations;
  readonly offers: Offers;
  /** Offers across controllers: credentials, consumed remote offers, the exchanges of their relations. */
  readonly remoteOffers: RemoteOffers;
  readonly operations: Operations;
  readonly agent: AgentFacade;
  readonly sshKeys: SshKeys;
  readonly presence = new PresenceTracker();
  readonly logs = new LogHub();
  readonly logRecords: LogRepository;
  /** Juju secrets: content encrypted with the key in the controller's directory, and the scrubber for agent output. */
  readonly secrets: Secrets;
  /** Users, their model access and session tokens; the audit trail; the one authoriser (issue 12). */
  readonly users: UserRepository;
  readonly audit: AuditRepository;
  readonly auth: Authenticator;
  /** One-time GUI login codes that `sigil gui` prints (tests replace it to move its clock). */
  guiLogins = new GuiLoginCodes();
  /** The controller's CA certificate (PEM), served at /api/ca for `sigil register` to check against its fingerprint (set by main.ts). */
  caCert = '';
  /** Relation chaos (issue 17): what is recorded, and the proxies this controller runs (set by main.ts). */
  readonly chaos: RelationChaos;
  chaosProxies: ChaosProxies | undefined;
  /** Rolling refreshes (issue 18). */
  readonly rollouts: Rollouts;
  /** The software inventory of units and the fingerprint index (issue 19). */
  readonly inventory: Inventory;
  /** Storage instances and charm resources (issue 20). */
  readonly storage: StorageService;
  readonly resources: Resources;
  /** Removes a detached storage instance's data where the provider keeps it (set by main.ts). */
  destroyStorage: (model: string, id: string) => Promise<void> = async () => {};
  /** Controller backups (issue 18): snapshots of this controller's directory and database. */
  readonly controllerBackups: ControllerBackups;
  /** The backup store for artifacts copied off units, and the schedules that fill it. */
  readonly backupStore: BackupStore;
  readonly schedules: ScheduleRepository;
  /** Runs schedules and unit restores; needs the provider, so main.ts sets it. */
  unitBackups: UnitBackups | undefined;
  /** `sigil migrate-agents`: needs the provider, so main.ts sets it. */
  agentMigration: AgentMigration | undefined;
  /** Notification targets and their queue; the worker delivers (started by main.ts). */
  readonly notifications: Notifications;
  readonly notifyWorker: NotifyWorker;
  /** Where the exposer published a unit's ports on the host (set by main.ts). */
  publishedPorts: (model: string, unit: string) => string[] = () => [];
  /**
   * Where machines on other hosts reach the API (`bootstrap --api-address`), as URLs, first
   * the preferred one; empty when the controller listens only where its own machines are
   * (set by main.ts).
   */
  apiUrls: string[] = [];
  /** The controller's apt cache at each api address (parallel to apiUrls), for enlisted hosts that cannot reach a mirror. */
  aptCacheUrls: string[] = [];
  /** The controller processes serving this store (replicas), alive at their last heartbeat (set by main.ts). */
  controllers: () => ControllerReplica[] = () => [];
  /** This process's replica id (`r0` without replicas). */
  replicaId = 'r0';
  private readonly controllerListeners = new Set<() => void>();

  /** Called when the replicas alive (or their addresses) change; returns the unsubscribe. */
  onControllersChange(l: () => void): () => void {
    this.controllerListeners.add(l);
    return () => this.controllerListeners.delete(l);
  }

  /** The replica set changed (main.ts, after a membership round saw it). */
  controllersChanged(): void {
    for (const l of this.controllerListeners) l();
  }

  constructor(
    readonly store: Store,
    readonly log: Logger,
    readonly controllerName: string,
    readonly adminTokenHash: string,
    readonly logPath: string,
    /** Nudges the workers (they also run on every committed change). */
    /** Wakes the workers that read presence: a machine's agent came or went (that machine), or a route committed. */
    readonly wake: (machine?: { model: string; id: string }) => void,
    readonly provider = 'local-process',
  ) {
    this.reads = new Reads(store);
    this.models = new Models(store);
    this.charms = new Charms(store);
    this.applications = new Applications(store);
    this.units = new Units(store);
    this.machines = new Machines(store);
    this.relations = new Relations(store);
    this.offers = new Offers(store);
    this.chaos = new RelationChaos(store);
    this.inventory = new Inventory(store);
    this.operations = new Operations(store);
    this.agent = new AgentFacade(store);
    this.rollouts = new Rollouts(store);
    this.sshKeys = new SshKeys(store);
    this.storage = new StorageService(store);
    this.resources = new Resources(store);
    this.logRecords = new LogRepository(store);
    // The controller's directory is where its log lives; the secrets key file sits beside it.
    this.secrets = Secrets.forDirectory(store, dirname(logPath));
    this.users = new UserRepository(store);
    this.controllerBackups = new ControllerBackups(store, dirname(logPath), controllerName, provider);
    this.backupStore = new BackupStore(store, dirname(logPath));
    this.schedules = new ScheduleRepository(store);
    this.notifications = new Notifications(store, SecretCipher.forDirectory(dirname(logPath)), controllerName, () => this.notifyWorker.wake());
    this.notifyWorker = new NotifyWorker(this.notifications, log);
    this.audit = new AuditRepository(store);
    this.remoteOffers = new RemoteOffers(store, SecretCipher.forDirectory(dirname(logPath)));
    this.auth = new Authenticator(this.users, this.machines, (token) => this.remoteOffers.principal(token));
    // The bootstrap admin, and the token `sigil bootstrap` stored for it (taken in once).
    this.users.seedBootstrapAdmin(adminTokenHash);
  }

  /**
   * Log lines from a machine's agent, kept only for the entities that agent speaks for: the
   * machine itself and the units on it. Lines claiming any other entity are dropped and the
   * attempt is logged under the machine, so a machine cannot write into another unit's log.
   */
  appendMachineLogs(model: string, machine: string, lines: LogLine[]): { accepted: number; refused: number } {
    // Only this machine's units are read (by index): a log flush costs the machine, not the model.
    const units = this.reads.unitsOn(model, machine).map((u) => u.name);
    const own = new Set([machineTag(machine), ...units.map(unitTag)]);
    // A line is kept whole up to 16K characters: enough for any stack trace, and a hook
    // printing megabytes on one line cannot grow the store by megabytes per line.
    const accepted = lines.filter((l) => own.has(l.entity)).map((l) => (l.message.length > MAX_LOG_LINE ? { ...l, message: `${l.message.slice(0, MAX_LOG_LINE)}… (${l.message.length - MAX_LOG_LINE} more characters cut)` } : l));
    const refused = lines.length - accepted.length;
    const kept = [...accepted];
    if (refused > 0) {
      const claimed = [...new Set(lines.filter((l) => !own.has(l.entity)).map((l) => JSON.stringify(l.entity.slice(0, 64))))].slice(0, 5);
      kept.push({ entity: machineTag(machine), level: 'WARNING', module: 'sigil.controller', message: `refused ${refused} log lines for entities not on machine ${machine}: ${claimed.join(', ')}`, at: Date.now() });
      this.log.warn('agent log lines refused', { model, machine, refused, entities: claimed });
    }
    // Agents scrub secret values from hook output; the controller does it again here, with
    // the values of the secrets this machine's units can read.
    this.appendLogs(model, kept.map((l) => ({ ...l, message: this.secrets.scrub(model, units, l.message) })));
    return { accepted: accepted.length, refused };
  }

  /**
   * Tells the notification targets about an event (deploy, refresh, unit error, machine
   * lost, backup, drill). Only queues: it never blocks or fails the caller's operation.
   */
  notify(e: NotifyEvent): void {
    this.notifications.notify(e);
  }

  /** A roll-out's event (`sigil refresh --batch`), told to the notification targets. */
  notifyRollout(e: OperationEventNotice): void {
    const outcome = { 'refresh-started': 'started', 'refresh-finished': 'ok', 'refresh-halted': 'halted', 'refresh-rolled-back': 'rolled back' }[e.event];
    this.notify({ kind: e.event, model: e.model, subject: e.application, outcome, detail: `${e.from} → ${e.to}: ${e.message}`, by: e.by });
  }

  /** Stores log lines, then hands them to live `debug-log` streams. */
  appendLogs(model: string, lines: LogLine[]): void {
    for (const r of this.logRecords.append(model, lines)) this.logs.publish(r);
  }
}
