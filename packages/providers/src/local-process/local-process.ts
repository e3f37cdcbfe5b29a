import { spawn, execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { lastWords, type AgentAddress, type Instance, type MachineSpec, type Provider } from '../provider.ts';
import { isAlive } from '../process.ts';

export interface LocalProcessOptions {
  /** Where machine directories live (inside the controller's data dir). */
  root: string;
  /** The agent bundle to run (dist/agent.mjs). */
  agentEntry: string;
  /** Second octet of this controller's 127.x addresses, so two controllers never share one. */
  octet: number;
  allocateIndex(model: string, id: string): number;
}

/**
 * A machine is a directory and an agent process on this host, with its own 127.x address.
 * No isolation: for fast tests and for simulating large models. Agents are detached so
 * they outlive a controller restart, as machines do.
 */
export class LocalProcessProvider implements Provider {
  readonly name = 'local-process';
  readonly restartsDeadAgents = true;

  constructor(private readonly o: LocalProcessOptions) {}

  dir(model: string, id: string): string {
    return join(this.o.root, model, id);
  }

  /** Where a model's storage lives: beside its machines, so it outlives them (detached storage). */
  storageDir(model: string): string {
    return join(this.o.root, model, '.storage');
  }

  async destroyStorage(model: string, id: string): Promise<void> {
    if (!/^[a-z][a-z0-9-]*\/\d+$/.test(id)) return;
    await rm(join(this.storageDir(model), id.replace('/', '-')), { recursive: true, force: true });
    await rm(join(this.storageDir(model), `${id.replace('/', '-')}.img`), { force: true });
  }

  async create(spec: MachineSpec): Promise<Instance> {
    const dir = this.dir(spec.model, spec.id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const n = this.o.allocateIndex(spec.model, spec.id);
    const address = `127.${this.o.octet}.${(n >> 8) & 255}.${(n & 255) || 1}`;
    const instance: Instance = { instanceId: `local-${spec.model}-${spec.id}`, address, hostname: hostname() };
    // The machine's root home is its own directory: the model's SSH keys land there, never
    // in the host's /root/.ssh.
    const authorizedKeysFile = join(dir, 'root', '.ssh', 'authorized_keys');
    await writeFile(join(dir, 'agent.json'), JSON.stringify({ ...spec, address, dataDir: dir, authorizedKeysFile, aptConfigDir: join(dir, 'etc', 'apt', 'apt.conf.d'), auditRoot: dir, storageDir: this.storageDir(spec.model) }, null, 2), { mode: 0o600 });
    await this.start(dir);
    return instance;
  }

  async ensureRunning(model: string, id: string): Promise<void> {
    const dir = this.dir(model, id);
    // A machine this provider never created (no agent.json) is not ours to start.
    const ours = await readFile(join(dir, 'agent.json')).then(() => true, () => false);
    if (ours && !(await this.alive(dir))) await this.start(dir);
  }

  async repointAgent(model: string, id: string, to: AgentAddress): Promise<void> {
    const dir = this.dir(model, id);
    const path = join(dir, 'agent.json');
    const config = JSON.parse(await readFile(path, 'utf8').catch(() => {
      throw new Error(`machine ${id} of model ${model} has no agent config in ${dir}`);
    })) as Record<string, unknown>;
    // Stopped first: the agent writes its config back when its credential rotates.
    await this.stop(model, id);
    await writeFile(`${path}.new`, JSON.stringify({ ...config, controllerUrl: to.controllerUrl, caCert: to.caCert }, null, 2), { mode: 0o600 });
    await rename(`${path}.new`, path);
    // An agent started meanwhile (the controller restarts dead agents) read the old address.
    await this.stop(model, id);
    await this.start(dir);
  }

  async stop(model: string, id: string): Promise<void> {
    const pid = await readPid(this.dir(model, id));
    if (pid === undefined) return;
    await killAndWait(pid);
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.stop(model, id);
    await rm(this.dir(model, id), { recursive: true, force: true });
  }

  streamCommand(model: string, id: string, argv: string[]): Promise<{ cmd: string; args: string[]; cwd: string; root: string }> {
    const dir = this.dir(model, id);
    return Promise.resolve({ cmd: argv[0]!, args: argv.slice(1), cwd: dir, root: dir });
  }

  async diagnose(model: string, id: string): Promise<string> {
    const dir = this.dir(model, id);
    const pid = await readPid(dir);
    const proc = pid === undefined ? 'no agent process was started' : isAlive(pid) ? `agent process ${pid} is running` : `agent process ${pid} has exited`;
    return `${proc}; ${lastWords(await readFile(join(dir, 'agent.log'), 'utf8').catch(() => ''))}`;
  }

  exec(model: string, id: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(argv[0]!, argv.slice(1), { cwd: this.dir(model, id) }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  }

  /** Starts the machine's agent unless one is running already (one agent per machine). */
  private async start(dir: string): Promise<void> {
    if (await this.alive(dir)) return;
    const log = await open(join(dir, 'agent.log'), 'a');
    const child = spawn(process.execPath, [this.o.agentEntry, join(dir, 'agent.json')], {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8' },
    });
    child.unref();
    await log.close();
    await writeFile(join(dir, 'agent.pid'), String(child.pid));
  }

  private async alive(dir: string): Promise<boolean> {
    const pid = await readPid(dir);
    return pid !== undefined && isAlive(pid);
  }
}

async function readPid(dir: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(join(dir, 'agent.pid'), 'utf8')).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** SIGTERM the process group, then SIGKILL whatever is left after 3 s. */
export async function killAndWait(pid: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  for (let i = 0; i < 30 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) signal('SIGKILL');
}
