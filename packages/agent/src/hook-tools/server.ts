/**
 * The agent end of the hook tools: a unix socket server that runs tool invocations sent
 * by the C client (packages/agent/native/hook-tool.c) against the hook context they name.
 *
 * Wire format (all integers big-endian). Each message is a frame:
 *
 *     u32 payload length | payload
 *
 * Request payload, NUL-separated fields, then raw stdin bytes:
 *
 *     "SIGIL-HOOK-TOOL/1" \0 stdin-flag \0 context-id \0 cwd \0 command \0
 *     argc \0 arg[0] \0 ... arg[argc-1] \0 [stdin bytes]
 *
 *   stdin-flag is "1" when the stdin bytes follow (possibly none), "0" when stdin was not
 *   sent; argc is decimal. Arguments cannot contain NUL (they come from argv).
 *
 * Response payload:
 *
 *     u8 kind | i32 exit code | u32 stdout length | stdout bytes | stderr bytes
 *
 *   kind 'R' is a result; kind 'I' means "this tool needs stdin, none supplied" (Juju's
 *   ErrNoStdin): the client reads all of its stdin and sends the request again, with
 *   stdin-flag "1", on the same connection. A connection may carry several requests.
 */
import { lstat, mkdir, readlink, symlink, unlink } from 'node:fs/promises';
import { type Server, type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import type { HookToolEnv, ToolResult } from './context.ts';
import { HOOK_TOOL_NAMES, runHookTool } from './tools.ts';

export { HOOK_TOOL_NAMES } from './tools.ts';

const PROTOCOL = 'SIGIL-HOOK-TOOL/1';
const MAX_FRAME = 64 * 1024 * 1024;
const NOT_IN_HOOK_HINT = 'hook tools work only while a hook, an action or `sigil exec` is running';

export class HookToolServer {
  private readonly contexts = new Map<string, HookToolEnv>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;

  /**
   * @param socketAddress a filesystem path, or `@name` for a Linux abstract socket (the
   *   form Juju uses and the one that leaves nothing to clean up).
   */
  constructor(private readonly socketAddress: string) {}

  /** Starts listening; resolves once the socket accepts connections. */
  async start(): Promise<void> {
    if (this.server !== undefined) return;
    const path = this.socketAddress.startsWith('@') ? '\0' + this.socketAddress.slice(1) : this.socketAddress;
    if (!path.startsWith('\0')) await removeStaleSocket(path);
    const server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  /** Makes the tools work for `contextId` until `unregister`; the env is used as is. */
  register(contextId: string, env: HookToolEnv): void {
    this.contexts.set(contextId, env);
  }

  unregister(contextId: string): void {
    this.contexts.delete(contextId);
  }

  /** Stops accepting connections, drops open ones and resolves once the socket is closed. */
  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4) {
        const length = buffered.readUInt32BE(0);
        if (length > MAX_FRAME) {
          socket.destroy();
          return;
        }
        if (buffered.length < 4 + length) break;
        const payload = buffered.subarray(4, 4 + length);
        buffered = buffered.subarray(4 + length);
        // The client sends its next request only after this answer, so answers stay in order.
        const answer = this.handle(payload);
        if (answer instanceof Promise) void answer.then((r) => socket.write(encodeResponse(r)));
        else socket.write(encodeResponse(answer));
      }
    });
  }

  private handle(payload: Buffer): ToolResult | { needStdin: true } | Promise<ToolResult> {
    const request = decodeRequest(payload);
    if (typeof request === 'string') return { code: 1, stdout: '', stderr: `ERROR bad request: ${request}\n` };
    const env = this.contexts.get(request.contextId);
    if (env === undefined) {
      return {
        code: 1,
        stdout: '',
        stderr: `ERROR bad request: unknown context id ${JSON.stringify(request.contextId)} (${NOT_IN_HOOK_HINT})\n`,
      };
    }
    try {
      return runHookTool(env, request.command, request.args, request.stdin, request.cwd);
    } catch (err) {
      return { code: 1, stdout: '', stderr: `ERROR ${err instanceof Error ? err.message : String(err)}\n` };
    }
  }
}

interface Request {
  contextId: string;
  cwd: string;
  command: string;
  args: string[];
  stdin: Buffer | undefined;
}

/** Parses a request payload; returns a description of what is wrong if it is malformed. */
export function decodeRequest(payload: Buffer): Request | string {
  let pos = 0;
  const field = (): string | undefined => {
    const end = payload.indexOf(0, pos);
    if (end < 0) return undefined;
    const s = payload.toString('utf8', pos, end);
    pos = end + 1;
    return s;
  };
  if (field() !== PROTOCOL) return `unsupported protocol (expected ${PROTOCOL})`;
  const stdinFlag = field();
  const contextId = field();
  const cwd = field();
  const command = field();
  const argc = Number(field());
  if (contextId === undefined || cwd === undefined || command === undefined || !Number.isInteger(argc) || argc < 0) {
    return 'malformed request';
  }
  const args: string[] = [];
  for (let i = 0; i < argc; i++) {
    const a = field();
    if (a === undefined) return 'malformed request';
    args.push(a);
  }
  if (command === '') return 'command not specified';
  const stdin = stdinFlag === '1' ? Buffer.from(payload.subarray(pos)) : undefined;
  return { contextId, cwd, command, args, stdin };
}

/** Builds a request frame (used by tests and tools written in Node). */
export function encodeRequest(r: Request): Buffer {
  const head = [PROTOCOL, r.stdin === undefined ? '0' : '1', r.contextId, r.cwd, r.command, String(r.args.length), ...r.args];
  const payload = Buffer.concat([Buffer.from(head.map((f) => f + '\0').join(''), 'utf8'), r.stdin ?? Buffer.alloc(0)]);
  const frame = Buffer.alloc(4);
  frame.writeUInt32BE(payload.length, 0);
  return Buffer.concat([frame, payload]);
}

function encodeResponse(r: ToolResult | { needStdin: true }): Buffer {
  const result = 'needStdin' in r ? { code: 0, stdout: '', stderr: '' } : r;
  const stdout = Buffer.from(result.stdout, 'utf8');
  const stderr = Buffer.from(result.stderr, 'utf8');
  const head = Buffer.alloc(4 + 1 + 4 + 4);
  head.writeUInt32BE(1 + 4 + 4 + stdout.length + stderr.length, 0);
  head.write('needStdin' in r ? 'I' : 'R', 4, 'latin1');
  head.writeInt32BE(result.code, 5);
  head.writeUInt32BE(stdout.length, 9);
  return Buffer.concat([head, stdout, stderr]);
}

async function removeStaleSocket(path: string): Promise<void> {
  try {
    if ((await lstat(path)).isSocket()) await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Creates `dir` with one symlink per hook tool pointing at `binary`. Idempotent: links
 * that already point at `binary` are left alone, anything else under a tool's name is
 * replaced.
 */
export async function installToolLinks(dir: string, binary: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(
    HOOK_TOOL_NAMES.map(async (name) => {
      const link = join(dir, name);
      try {
        if ((await readlink(link)) === binary) return;
        await unlink(link);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EINVAL') await unlink(link);
        else if (code !== 'ENOENT') throw err;
      }
      await symlink(binary, link);
    }),
  );
}
