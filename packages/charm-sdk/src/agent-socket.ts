/**
 * Hook tools in process: the same requests the C client (`sigil-hook-tool`) sends to the
 * agent's socket, over one connection held for the whole dispatch. A tool call costs a
 * round trip on a unix socket instead of a process spawn. The wire format is described in
 * packages/agent/src/hook-tools/server.ts.
 */
import { type Socket, createConnection } from 'node:net';

const PROTOCOL = 'SIGIL-HOOK-TOOL/1';

export class HookToolError extends Error {
  constructor(
    readonly tool: string,
    readonly code: number,
    readonly stderr: string,
  ) {
    super(`${tool} failed (exit ${code}): ${stderr.trim().replace(/^ERROR /, '')}`);
    this.name = 'HookToolError';
  }
}

interface Pending {
  resolve(reply: { kind: string; code: number; stdout: string; stderr: string }): void;
  reject(err: Error): void;
}

export class AgentSocket {
  private socket: Socket | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private readonly pending: Pending[] = [];

  constructor(
    private readonly address: string,
    private readonly contextId: string,
    private readonly cwd: string,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): AgentSocket {
    const address = env.JUJU_AGENT_SOCKET_ADDRESS;
    const context = env.JUJU_CONTEXT_ID;
    if (!address || !context) {
      throw new Error('JUJU_AGENT_SOCKET_ADDRESS and JUJU_CONTEXT_ID are not set: a charm runs under the agent (hook, action or `sigil exec`); in tests use @sigil/charm-sdk/testing');
    }
    return new AgentSocket(address, context, process.cwd());
  }

  /** Runs one hook tool; resolves with its stdout, rejects with HookToolError on failure. */
  async call(tool: string, args: readonly string[], stdin?: string): Promise<string> {
    let reply = await this.request(tool, args, stdin);
    if (reply.kind === 'I') reply = await this.request(tool, args, stdin ?? '');
    if (reply.code !== 0) throw new HookToolError(tool, reply.code, reply.stderr);
    return reply.stdout;
  }

  close(): void {
    this.socket?.end();
    this.socket = undefined;
  }

  private connect(): Socket {
    if (this.socket) return this.socket;
    const path = this.address.startsWith('@') ? '\0' + this.address.slice(1) : this.address;
    const socket = createConnection(path);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    const fail = (err: Error) => {
      this.socket = undefined;
      for (const p of this.pending.splice(0)) p.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the agent closed the hook tool connection')));
    socket.unref();
    this.socket = socket;
    return socket;
  }

  private request(tool: string, args: readonly string[], stdin: string | undefined) {
    const head = [PROTOCOL, stdin === undefined ? '0' : '1', this.contextId, this.cwd, tool, String(args.length), ...args];
    const payload = Buffer.concat([Buffer.from(head.map((f) => f + '\0').join(''), 'utf8'), Buffer.from(stdin ?? '', 'utf8')]);
    const frame = Buffer.alloc(4);
    frame.writeUInt32BE(payload.length, 0);
    return new Promise<{ kind: string; code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const socket = this.connect();
      socket.ref();
      this.pending.push({
        resolve: (r) => {
          if (this.pending.length === 0) socket.unref();
          resolve(r);
        },
        reject,
      });
      socket.write(Buffer.concat([frame, payload]));
    });
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const length = this.buffered.readUInt32BE(0);
      if (this.buffered.length < 4 + length) return;
      const body = this.buffered.subarray(4, 4 + length);
      this.buffered = this.buffered.subarray(4 + length);
      const outLength = body.readUInt32BE(5);
      const reply = {
        kind: body.toString('latin1', 0, 1),
        code: body.readInt32BE(1),
        stdout: body.toString('utf8', 9, 9 + outLength),
        stderr: body.toString('utf8', 9 + outLength),
      };
      this.pending.shift()?.resolve(reply);
    }
  }
}
