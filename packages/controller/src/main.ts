import { spawn } from 'node:child_process';
import { listenOnApiAddresses, offerAptCache } from './api-addresses.ts';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AwayProvider, LocalProcessProvider, LxcProvider, lxcProviderRoot, type Provider } from '@sigil/providers';
import { openStoreDb, restoreStoreDump, storeConnection } from './store/open.ts';
import { Store } from './store/store.ts';
import { createLogger } from './logger.ts';
import { Services } from './services.ts';
import { buildServer } from './apiserver/server.ts';
import { AddressRepository } from './state/addresses.ts';
import { Reconciler, WANTS, modelNames, perModel } from './workers/reconciler.ts';
import { absentMachineKeys, allMachineKeys, machineKeysOf, presenceKeys, provisionMachine } from './workers/provisioner.ts';
import { allApplicationKeys, leadership, leadershipKeysOf, leadershipKeysOn } from './workers/leadership.ts';
import { ensureSubordinates } from './workers/subordinates.ts';
import { cleanup } from './workers/cleanup.ts';
import { RemoteRelationsWorker } from './workers/remote-relations.ts';
import { reapOperations } from './workers/operations.ts';
import { pruneLogs } from './workers/logs.ts';
import { scheduleInventory } from './workers/inventory.ts';
import { Exposer } from './workers/exposer.ts';
import { ChaosProxies } from './workers/chaos.ts';
import { RolloutWorker } from './workers/rollout.ts';
import { Models } from './domain/models.ts';
import type { WorkerContext } from './workers/context.ts';
import { UnitBackups } from './domain/unit-backups.ts';
import { AgentMigration } from './domain/agent-migration.ts';
import { runSchedules } from './workers/schedules.ts';
import { unitTag } from '@sigil/core';
import { parseControllerFile, replicaFile, type ControllerFile } from '@sigil/api';
import { CONTROLLER_LEASE, ReplicaMembership, modelLease } from './workers/replicas.ts';
import { ReplicaRepository } from './state/replicas.ts';


const args = process.argv.slice(2);
const dir = args[args.indexOf('--dir') + 1];
if (!dir || args.indexOf('--dir') < 0) {
  process.stderr.write('usage: controller.mjs --dir <controller-dir> [--replica N] [--serve]\n');
  process.exit(2);
}
/** Which replica this process is (0: the one bootstrap made); its files carry the number. */
const replica = args.includes('--replica') ? Number(args[args.indexOf('--replica') + 1]) : 0;
if (!Number.isInteger(replica) || replica < 0) {
  process.stderr.write('--replica takes a whole number\n');
  process.exit(2);
}

if (args.includes('--check-store')) await checkStore(dir);
else if (args.includes('--serve')) await serve(dir);
else supervise(dir);

/**
 * `sigil bootstrap --store` asks this before starting anything: can the store be reached with
 * the credentials given, and does it hold this schema version (it is created on first use)?
 * The reason goes to stderr, the exit status says whether it worked.
 */
async function checkStore(dir: string): Promise<void> {
  // Bootstrap's check writes only the store's part (before anything else is made).
  const config = JSON.parse(readFileSync(join(dir, 'controller.json'), 'utf8')) as Pick<ControllerFile, 'store'>;
  try {
    (await openStoreDb(dir, config.store)).close();
    process.exit(0);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  }
}

/**
 * The supervisor restarts the controller whenever it exits (a crash, SIGKILL, OOM, or a
 * clean exit after a signal sent to it rather than to the supervisor), as systemd's
 * Restart=always would. Only the supervisor decides that the controller stays down: it
 * exits when told to (SIGTERM or SIGINT, from `sigil destroy-controller`), after the
 * controller has stopped.
 */
function supervise(dir: string): void {
  let child: ReturnType<typeof spawn> | undefined;
  let stopping = false;
  let delay = 50;
  let restart: NodeJS.Timeout | undefined;
  writeFileSync(join(dir, replicaFile('supervisor.pid', replica)), String(process.pid));
  const start = () => {
    restart = undefined;
    const started = Date.now();
    // SIGIL_CPU_PROFILE_DIR: the serving process writes a V8 CPU profile there when it exits
    // (bench/scale PROFILE=1; Node refuses --cpu-prof in NODE_OPTIONS).
    const profile = process.env.SIGIL_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SIGIL_CPU_PROFILE_DIR}`] : [];
    child = spawn(process.execPath, [...profile, fileURLToPath(import.meta.url), '--dir', dir, '--replica', String(replica), '--serve'], { stdio: 'inherit' });
    child.on('exit', (code, sig) => {
      if (stopping) process.exit(0);
      delay = Date.now() - started > 10_000 ? 100 : Math.min(delay * 2, 5000);
      process.stderr.write(JSON.stringify({ level: 50, msg: 'controller exited; restarting', code, signal: sig, delayMs: delay }) + '\n');
      restart = setTimeout(start, delay);
    });
  };
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      stopping = true;
      // Told to stop between two runs: no new run starts, and there is nothing to wait for.
      clearTimeout(restart);
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      else process.exit(0);
    });
  }
  start();
}

async function serve(dir: string): Promise<void> {
  const stored = parseControllerFile(readFileSync(join(dir, 'controller.json'), 'utf8'), join(dir, 'controller.json'));
  if (replica > 0 && !stored.store) {
    process.stderr.write('replicas share a PostgreSQL store; this controller keeps its model in SQLite\n');
    process.exit(2);
  }
  const port = replica === 0 ? stored.port : stored.replicaPorts?.[replica - 1];
  if (port === undefined) {
    process.stderr.write(`replica ${replica} has no port in controller.json; run \`sigil enable-ha\` again\n`);
    process.exit(2);
  }
  const config: ControllerFile = { ...stored, port };
  const log = createLogger(process.env.SIGIL_LOG_LEVEL ?? 'info');
  if (replica === 0) await restoreStoreDump(dir, config.store, (msg, f) => log.info(msg, f));
  const store = new Store(await openStoreDb(dir, config.store));
  // Other controller processes on the same PostgreSQL store: hear their commits.
  const follower = config.store ? new (await import('./store/pg/follow.ts')).ChangeFollower(store, storeConnection(dir, config.store), (msg, f) => log.warn(msg, f)) : undefined;
  if (!new Models(store).get('default') && new Models(store).list().length === 0) new Models(store).add('default');

  const machinesRoot = config.machinesRoot ?? join(dir, 'machines');
  mkdirSync(machinesRoot, { recursive: true });
  const agentEntry = join(dirname(fileURLToPath(import.meta.url)), 'agent.mjs');
  let provider: Provider;
  let providerAptCache: string | undefined;
  if (config.away) {
    provider = new AwayProvider(config.provider, config.away.home);
  } else if (config.provider === 'lxc') {
    const lxc = new LxcProvider({
      root: lxcProviderRoot(dir, config),
      imagesDir: config.imagesDir ?? join(dir, 'images'),
      ...(config.aptPool !== undefined ? { aptPool: config.aptPool } : {}),
      bridge: config.bridge!,
      agentEntry,
      authorizedKeys: readFileSync(join(dir, 'ssh', 'id_ed25519.pub'), 'utf8'),
      onProgress: (line) => log.info('provider progress', { line }),
      log: (msg, fields) => log.info(msg, fields),
    });
    // The bridge must exist before the controller can listen on its address.
    await lxc.prepare();
    provider = lxc;
    providerAptCache = lxc.aptCache.url;
  } else {
    provider = new LocalProcessProvider({
      root: machinesRoot,
      agentEntry,
      octet: config.octet,
      allocateIndex: () => new AddressRepository(store).next(),
    });
  }
  // Written by `sigil bootstrap`: the controller serves HTTPS only, and hands its CA to
  // every machine it provisions so agents verify it as the CLI does.
  const tls = { key: readFileSync(join(dir, 'tls', 'server.key'), 'utf8'), cert: readFileSync(join(dir, 'tls', 'server.crt'), 'utf8') };
  const caCert = readFileSync(join(dir, 'tls', 'ca.crt'), 'utf8');
  const ownUrl = `https://${config.host}:${config.port}`;
  const controllerUrl = (replica === 0 ? config.agentUrl : undefined) ?? ownUrl;

  const abort = new AbortController();
  let reconciler: Reconciler | undefined;
  // Explicit wake-ups (an agent connecting or leaving, a route after its commit) concern the
  // workers that read presence; commits wake the workers that want their changes (below).
  const wake = (machine?: { model: string; id: string }) => {
    reconciler?.wake(['operations']);
    if (!machine) return;
    reconciler?.wakeKeys('provisioner', presenceKeys(ctx, machine.model, machine.id));
    reconciler?.wakeKeys('leadership', leadershipKeysOn(ctx, machine.model, machine.id));
  };
  const svc = new Services(store, log, config.name, config.adminTokenHash, join(dir, 'controller.log'), wake, config.provider);
  // `sigil restore-backup` leaves the hash of its client's new admin session: taken in once.
  const restored = join(dir, 'restore-admin.sha256');
  if (existsSync(restored)) {
    svc.users.adoptRestoredAdminToken(readFileSync(restored, 'utf8').trim());
    rmSync(restored);
    log.info('controller restored from a backup', { revision: store.revision() });
  }
  const ctx: WorkerContext = { store, provider, controllerUrl, caCert, log, ensuredAtStart: new Set(), diagnosing: new Set(), repointing: new Set(), connected: (m, id) => svc.presence.connected(m, id), awayMs: (m, id) => svc.presence.awayMs(m, id), seen: (m, id) => svc.presence.seen(m, id) };
  svc.agentMigration = new AgentMigration({
    store,
    provider,
    presence: svc.presence,
    caCert,
    repointing: ctx.repointing,
    setAgentUrl: (url) => {
      ctx.controllerUrl = url;
      const current = parseControllerFile(readFileSync(join(dir, 'controller.json'), 'utf8'), join(dir, 'controller.json'));
      const own = `https://${config.host}:${config.port}`;
      const next: ControllerFile = { ...current, agentUrl: url };
      if (url === own) delete next.agentUrl;
      writeFileSync(join(dir, 'controller.json.new'), JSON.stringify(next, null, 2), { mode: 0o600 });
      renameSync(join(dir, 'controller.json.new'), join(dir, 'controller.json'));
    },
  });
  const exposer = new Exposer();
  svc.publishedPorts = (model, unit) => exposer.ports(model, unit);
  svc.caCert = caCert;
  svc.destroyStorage = async (model, id) => provider.destroyStorage?.(model, id);
  // Chaos proxies listen where the machines reach the controller (the bridge for LXC).
  const chaos = new ChaosProxies(config.host, config.bridge?.name);
  svc.chaosProxies = chaos;
  const unitBackups = new UnitBackups({
    store,
    provider,
    backupStore: svc.backupStore,
    dir,
    log: (model, unit, level, message) => svc.appendLogs(model, [{ entity: unitTag(unit), level, module: 'sigil.schedule', message, at: Date.now() }]),
    notify: (e) => svc.notify(e),
  });
  svc.unitBackups = unitBackups;
  // Replicas sharing a PostgreSQL store: each acts only on the leases it holds.
  const membership = config.store ? new ReplicaMembership(store, {
    id: `r${replica}`,
    home: !config.away,
    url: ownUrl,
    agentUrl: controllerUrl,
    log,
    wanted: () => [CONTROLLER_LEASE, ...new Set([...modelNames(ctx), ...chaos.models(), ...exposer.models(ctx)].map(modelLease))],
    changed: () => svc.controllersChanged(),
    gained: (key) => (key === CONTROLLER_LEASE ? startOwnWork() : reconciler?.gained(key.slice('model/'.length))),
    lost: (key) => {
      if (key === CONTROLLER_LEASE) own?.abort();
      else void reconciler?.lost(key.slice('model/'.length));
    },
    presence: (rows) => {
      // A connection that could not be recorded (the store was away): the whole set, again.
      if (presenceDirty) {
        shared.replacePresence(`r${replica}`, svc.presence.localEntries());
        presenceDirty = false;
      }
      for (const m of svc.presence.setRemote(rows)) wake({ model: m.model, id: m.machine });
    },
  }) : undefined;
  const shared = new ReplicaRepository(store);
  let presenceDirty = false;
  if (membership) {
    // Status on any replica shows the ports the model's holder published.
    exposer.record = (model, rows) => shared.recordPublished(model, rows);
    svc.publishedPorts = (model, unit) => (membership.holds(modelLease(model)) ? exposer.ports(model, unit) : shared.published(model, unit));
    svc.presence.onLocal = (model, machine, event, at) => {
      try {
        if (event === 'connect') shared.connect(membership.id, model, machine, at);
        else if (event === 'reconnect') shared.reconnect(membership.id, model, machine, at);
        else shared.disconnect(membership.id, model, machine);
      } catch (e) {
        // The store is away: the first round that reaches it records every connection again.
        presenceDirty = true;
        log.warn('cannot record an agent connection for the other replicas', { model, machine, error: (e as Error).message });
      }
    };
  }
  svc.controllers = () => membership
    ? membership.alive().map((r) => ({ id: r.id, url: r.url, agentUrl: r.agentUrl, alive: true, home: r.home }))
    : [{ id: 'r0', url: ownUrl, agentUrl: controllerUrl, alive: true, home: true }];
  svc.replicaId = membership?.id ?? 'r0';
  if (membership) ctx.controllerUrls = () => [...new Set([ctx.controllerUrl, ...membership.alive().map((r) => r.agentUrl)])];
  const rollouts = new RolloutWorker((e) => svc.notifyRollout(e));
  // Every worker is keyed: by machine, by application, or by model.
  reconciler = new Reconciler(ctx, [], 2000, [
    // Where the controller restarts dead agents (local-process), it looks at every machine
    // without its agent on the tick: an agent that dies before it ever connects announces nothing.
    { name: 'provisioner', keysOf: machineKeysOf, all: provider.restartsDeadAgents ? absentMachineKeys : allMachineKeys, process: provisionMachine, resyncMs: provider.restartsDeadAgents ? 2_000 : 30_000, concurrency: 16, timeoutMs: 5 * 60_000 },
    perModel('cleanup', WANTS.cleanup, cleanup),
    perModel('subordinates', WANTS.subordinates, ensureSubordinates),
    // A replica on another host publishes nothing: the machines' addresses mean nothing there.
    perModel('exposer', WANTS.exposer, (c, model) => (config.away ? undefined : exposer.reconcile(c, model)), { all: (c) => exposer.models(c), release: (_c, model) => exposer.release(model) }),
    // A destroyed model's proxies still close: its name stays a key while a proxy is open.
    // With replicas: proxies open on the replica that served `chaos add`; the model's owner
    // opens what is missing, and every replica keeps the ones it has in step (faults, removal).
    perModel('chaos', WANTS.chaos, (c, model) => chaos.reconcile(c, model), {
      all: (c) => [...new Set([...modelNames(c), ...chaos.models()])],
      unowned: (c, model) => (chaos.models().includes(model) ? chaos.reconcile(c, model, { open: false }) : undefined),
    }),
    // Stuck operations and roll-outs (their gates, their drains) move on with time too.
    perModel('operations', WANTS.operations, reapOperations, { resyncMs: 2_000 }),
    perModel('rollouts', WANTS.rollouts, (c, model) => rollouts.reconcile(c, model), { resyncMs: 2_000 }),
    perModel('logs', WANTS.logs, (c, model) => pruneLogs(c, model), { resyncMs: 60_000 }),
    perModel('inventory', WANTS.inventory, (c, model) => scheduleInventory(c, model), { resyncMs: 60_000 }),
    // Keyed by application; leases run out with time passing, which no change announces.
    { name: 'leadership', keysOf: leadershipKeysOf, all: allApplicationKeys, process: leadership(), resyncMs: 5_000, concurrency: 4, timeoutMs: 60_000 },
  ], membership && {
    holds: (model) => membership.holds(modelLease(model)),
    fence: (model) => membership.fence(modelLease(model)),
  });

  /**
   * The controller's own work (notifications, scheduled backups, log compaction) runs on one
   * replica: the holder of the controller lease (always this one without replicas).
   */
  let own: AbortController | undefined;
  abort.signal.addEventListener('abort', () => own?.abort());
  const startOwnWork = () => {
    own?.abort();
    const signal = (own = new AbortController()).signal;
    // A schedule claimed by a process that is gone runs again.
    const fence = membership?.fence(CONTROLLER_LEASE);
    store.fenced(fence, () => {
      svc.schedules.releaseAll();
      void svc.notifyWorker.run(signal);
      void new RemoteRelationsWorker(svc.remoteOffers, log).run(signal);
      void runSchedules(unitBackups, log, signal);
      const compact = setInterval(() => store.compact(), 60_000);
      signal.addEventListener('abort', () => clearInterval(compact));
    });
  };

  const app = buildServer(svc, tls);
  await app.listen({ host: config.host, port: config.port });
  listenOnApiAddresses(config, log, abort.signal);
  svc.apiUrls = (config.apiAddresses ?? []).map((a) => `https://${a}:${config.port}`);
  // Not awaited: starting a cache never holds up the API or the workers.
  void offerAptCache(config, providerAptCache, dir, log, abort.signal).then((urls) => (svc.aptCacheUrls = urls));
  writeFileSync(join(dir, replicaFile('controller.pid', replica)), String(process.pid));
  log.info('controller listening', { url: controllerUrl, apiUrls: svc.apiUrls, revision: store.revision() });

  store.subscribe((_rev, changes) => reconciler?.changed(changes));
  if (membership) {
    membership.start();
    membership.schedule(abort.signal);
  } else startOwnWork();
  reconciler.start(abort.signal);

  const shutdown = async () => {
    // Nothing may hold a stopping controller up (a stuck socket, a slow provider call).
    setTimeout(() => process.exit(0), 3000).unref();
    abort.abort();
    // Leases are given back at once: the other replicas take over without waiting them out.
    membership?.stop();
    await exposer.close();
    await chaos.close();
    app.server.closeAllConnections();
    await app.close();
    await follower?.stop();
    store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}
