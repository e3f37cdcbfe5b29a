import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PgConnection } from './bridge.ts';
import { postgresBin } from './cluster.ts';

/** pg_dump / pg_restore: Debian's server binaries where installed, else the ones on PATH. */
function tool(name: 'pg_dump' | 'pg_restore'): string {
  const bin = postgresBin();
  return bin && existsSync(join(bin, name)) ? join(bin, name) : name;
}

/**
 * Runs pg_dump or pg_restore against the store: the URL (which never holds the password) on
 * the command line, the password in the child's environment only.
 */
export function runPgTool(name: 'pg_dump' | 'pg_restore', args: string[], connection: PgConnection): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...(connection.password === undefined ? {} : { PGPASSWORD: connection.password }) };
    const child = spawn(tool(name), [...args, '--dbname', connection.url], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on('error', (e) => reject(new Error(`${name} could not run (${e.message}); install Debian's postgresql-client`)));
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${name} failed (exit ${code}): ${err.trim()}`))));
  });
}
