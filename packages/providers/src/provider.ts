/**
 * A provider creates, starts, stops and destroys machines and reports their addresses.
 * The controller's provisioner is the only caller; it is level-based, so every method is
 * idempotent: calling create for a machine that exists, or destroy for one that is gone,
 * is not an error.
 */
export interface MachineSpec {
  model: string;
  id: string;
  constraints: string;
  /** Where the agent reaches the controller, and the credential issued for this machine only. */
  controllerUrl: string;
  /** Every controller replica's address, `controllerUrl` first: where the agent goes when that one stops answering. */
  controllerUrls?: string[];
  /** The controller's CA (PEM): the only certificate the agent trusts for it. */
  caCert: string;
  token: string;
}

/** Where a machine's agent dials the controller, and the CA it trusts for it (`sigil migrate-agents`). */
export interface AgentAddress {
  controllerUrl: string;
  caCert: string;
}

/**
 * Patches an agent's JSON config in place from the JSON object on stdin (its own keys only:
 * the credential is never sent), written whole to a temporary file (0600) and renamed over
 * it. For \`node -e\` on a machine, with the config's path as its argument. An enlisted host's
 * apt cache (the controller's, at its api address) follows the controller to its new address.
 */
export const PATCH_AGENT_CONFIG_JS = "const fs=require('fs');const p=process.argv[1];const c=JSON.parse(fs.readFileSync(p,'utf8'));const q=JSON.parse(fs.readFileSync(0,'utf8'));Object.assign(c,q);if(c.aptCache&&q.controllerUrl){const u=new URL(c.aptCache);u.hostname=new URL(q.controllerUrl).hostname;c.aptCache=u.href.replace(/\\/$/,'')}fs.writeFileSync(p+'.new',JSON.stringify(c,null,2)+'\\n',{mode:0o600});fs.renameSync(p+'.new',p)";

export interface Instance {
  instanceId: string;
  address: string;
  hostname: string;
}

export interface Provider {
  readonly name: string;
  /**
   * Whether the controller restarts a machine's agent whenever it is found down (true for
   * local-process, where the agent process stands in for the machine's init), or only
   * when the controller starts, e.g. after a host reboot (LXC: a machine stopped outside
   * Sigil stays down and shows as such, as in Juju).
   */
  readonly restartsDeadAgents: boolean;
  create(spec: MachineSpec): Promise<Instance>;
  /** Brings a machine's agent back if it died (a host reboot, a killed process). */
  ensureRunning(model: string, id: string): Promise<void>;
  stop(model: string, id: string): Promise<void>;
  destroy(model: string, id: string): Promise<void>;
  /** Removes what the provider set up on the host (bridges, caches), once no machine is left. */
  teardown?(): Promise<void>;
  /**
   * Removes the data of a detached storage instance kept outside any machine (local-process
   * keeps filesystems beside the machines so they outlive them). Providers whose storage
   * lives on the machine leave it to go with the machine.
   */
  destroyStorage?(model: string, id: string): Promise<void>;
  /**
   * Rewrites the machine's agent config to dial the controller at another address (and trust
   * the CA given), then restarts the agent: \`sigil migrate-agents\` after a restore at a new
   * address. Throws when the machine's agent cannot be reached through the provider.
   */
  repointAgent(model: string, id: string, to: AgentAddress): Promise<void>;
  /**
   * Why a machine's agent may not be connecting, in one short line (the machine's state, the
   * agent service's, the agent's last words): what the controller shows in the machine's
   * status and its log when an agent stays away. Bounded in time; never throws.
   */
  diagnose(model: string, id: string): Promise<string>;
  /** Runs a command on the machine (outside any hook context). */
  exec(model: string, id: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /**
   * The host command that runs argv on the machine with its stdin and stdout streamed (for
   * copying files off and onto it with tar). `root` is set when the machine's files are the
   * host's own (local-process): paths on the machine must then stay under it.
   */
  streamCommand(model: string, id: string, argv: string[]): Promise<{ cmd: string; args: string[]; cwd?: string; root?: string }>;
}

/**
 * An agent's last lines of output, short enough for a status message: its JSON records as
 * `msg: error`, the newest last. The agent writes no secret to its output.
 */
export function lastWords(output: string, lines = 2): string {
  const tail = output.split('\n').map((l) => l.trim()).filter(Boolean).slice(-lines).map((l) => {
    try {
      const r = JSON.parse(l) as { msg?: unknown; message?: unknown; error?: unknown };
      const msg = String(r.msg ?? r.message ?? l);
      return r.error === undefined ? msg : `${msg}: ${String(r.error)}`;
    } catch {
      return l;
    }
  });
  const text = tail.join(' | ');
  return tail.length === 0 ? 'the agent printed nothing' : `agent output: ${text.length > 240 ? text.slice(0, 239) + '…' : text}`;
}
