import type { Provider } from '@sigil/providers';
import type { Store } from '../store/store.ts';
import type { Logger } from '../logger.ts';

export interface WorkerContext {
  store: Store;
  provider: Provider;
  controllerUrl: string;
  /** Every live replica's agent address, this one's first (one, without replicas): given to new machines. */
  controllerUrls?: () => string[];
  /** The controller's CA (PEM), given to every machine so its agent verifies the controller. */
  caCert: string;
  log: Logger;
  /** Machines this controller process has already brought up once (after a host reboot, say). */
  ensuredAtStart: Set<string>;
  /** Machines whose agent's absence the provider is being asked about now. */
  diagnosing: Set<string>;
  /**
   * Machines (`model/id`) whose agent `migrate-agents` is re-pointing now: the provisioner
   * leaves them alone, or it could start the stopped agent again on its old address beside
   * the re-pointed one.
   */
  repointing: Set<string>;
  /** Machines whose agents are connected now. */
  connected(model: string, machine: string): boolean;
  /** How long a machine's agent has been disconnected (0 while connected). */
  awayMs(model: string, machine: string): number;
  /** Whether a machine's agent has connected at all since the controller started. */
  seen(model: string, machine: string): boolean;
}

/** A level-based reconciler: reads desired and actual state and converges, whatever woke it. */
export type Reconcile = (ctx: WorkerContext) => Promise<void> | void;
