import { join } from 'node:path';
import type { LogLine, MachineView } from '@sigil/api';
import { unitTag } from '@sigil/core';
import type { AgentApi } from '../api-client.ts';
import type { MachineLock } from '../lock.ts';
import { collectUnit, reportBody } from './collect.ts';
import { DigestCache } from './digest-cache.ts';
import { packageFiles } from './dpkg.ts';

/** Installed packages whose files go to the controller's index in one request. */
const PACKAGES_PER_BATCH = 50;
/** In the agent's data directory: the digests of the files the inventory hashed, with the stat that vouches for each. */
const DIGESTS_FILE = 'inventory-digests';
/**
 * An inventory collection waits for this long without a hook on the machine: past the rest
 * of a deploy's hooks, and past the command an operator types once a deploy has settled
 * (the machines' CPU is shared with the controller and the CLI, and no priority inside a
 * container yields to them). A collection asked long after the last hook starts at once...
 */
const INVENTORY_QUIET_MS = 10_000;
/** ...but never longer than this. */
const INVENTORY_MAX_DEFER_MS = 120_000;
/** A failed collection is asked for again after this long (the view is read again). */
const RETRY_MS = 30_000;

export interface InventoryRunnerOptions {
  api: AgentApi;
  /** The machine's hook lock: collections wait for its hooks to pause. */
  lock: MachineLock;
  dataDir: string;
  /** The root the machine's files are read under (`/` on a machine of its own). */
  root: string;
  log: (level: LogLine['level'], message: string, entity: string) => void;
  /** Reads the machine's view again, so a failed collection is asked for again. */
  refetch: () => void;
}

/**
 * The machine's side of the software inventory (decision 0022): the collections the controller
 * asks for in the machine's view (`auditRequests`), one at a time, each once per request.
 */
export class InventoryRunner {
  private readonly taken = new Map<string, number>();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly o: InventoryRunnerOptions) {}

  /** Starts the collections the view asks for that were not taken yet. */
  sync(view: MachineView): void {
    for (const [unit, request] of Object.entries(view.machine.auditRequests ?? {})) {
      if ((this.taken.get(unit) ?? 0) >= request || !view.units.some((u) => u.name === unit)) continue;
      this.taken.set(unit, request);
      this.queue = this.queue.then(() => this.collect(unit, request));
    }
  }

  /**
   * Collects one unit's inventory and sends it. Collections run outside the hook lock (they
   * only read) and one at a time, so hashing never competes with itself for the disk. A
   * failure is logged and retried on a later view read.
   */
  private async collect(unit: string, request: number): Promise<void> {
    const unitDir = join(this.o.dataDir, 'agents', unitTag(unit));
    // Hashing the machine's files costs seconds of CPU: after a deploy's install hook it
    // would slow every hook that follows. It waits until the machine's hooks have paused.
    await this.o.lock.quiet(INVENTORY_QUIET_MS, INVENTORY_MAX_DEFER_MS);
    try {
      const root = this.o.root;
      const digests = await DigestCache.load(root, join(this.o.dataDir, DIGESTS_FILE));
      const report = await collectUnit({ unit, request, root, unitDir, charmDir: join(unitDir, 'charm'), md5: digests.md5 });
      await digests.save();
      const answer = await this.o.api.postJson('POST /api/agent/audit', reportBody(report));
      this.o.log('INFO', `inventory collected in ${report.ms} ms: ${report.packages.length} packages, ${report.changed.length} changed package files, ${report.language.length} language packages, ${report.files.length} files outside packages; ${digests.hashed} files read, ${digests.hits} known unchanged; ${report.skipped.count} skipped`, unitTag(unit));
      // The installed packages the controller's index lacks: their files, a batch at a time.
      let indexed = 0;
      for (let i = 0; i < answer.indexWanted.length; i += PACKAGES_PER_BATCH) {
        const packages = await packageFiles(root, answer.indexWanted.slice(i, i + PACKAGES_PER_BATCH));
        if (packages.length > 0) indexed += (await this.o.api.call('POST /api/agent/audit/packages', { body: { unit, packages } })).added;
      }
      if (indexed > 0) this.o.log('INFO', `added ${indexed} installed packages to the controller's fingerprint index`, unitTag(unit));
    } catch (e) {
      this.taken.delete(unit);
      this.o.log('WARNING', `cannot collect the inventory: ${(e as Error).message}`, unitTag(unit));
      setTimeout(() => this.o.refetch(), RETRY_MS).unref();
    }
  }
}
