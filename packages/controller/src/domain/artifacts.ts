import { spawn } from 'node:child_process';
import { mkdirSync, realpathSync } from 'node:fs';
import { dirname, basename, isAbsolute, relative, posix } from 'node:path';
import { SigilError } from '@sigil/core';
import type { Provider } from '@sigil/providers';

/**
 * Moving an action's artifact (a file or directory a unit's action wrote) between a machine
 * and the controller's host, as a tar stream: `tar -c` on the machine piped into `tar -x` on
 * the host, and back. Only a clean absolute path is accepted; on local-process machines,
 * whose files are the host's, the path must also stay inside the machine's directory.
 */
export function checkArtifactPath(path: string): string {
  if (typeof path !== 'string' || !isAbsolute(path) || path.length > 1024 || posix.normalize(path) !== path || path === '/' || /[\0\n]/.test(path)) {
    throw new SigilError('bad-request', `the action's result "path" (${JSON.stringify(String(path).slice(0, 200))}) is not a clean absolute path`, 'the action must set path=<absolute file or directory> (as the postgresql charm\'s backup does)');
  }
  return path;
}

function contained(root: string, path: string): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new SigilError('not-found', `${path} does not exist on the machine`, 'check what the action returned');
  }
  const rel = relative(realpathSync(root), real);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new SigilError('forbidden', `${path} is outside the machine's directory`, 'a local-process machine may only hand over its own files');
  return real;
}

function pipe(from: { cmd: string; args: string[]; cwd?: string | undefined }, to: { cmd: string; args: string[]; cwd?: string | undefined }): Promise<void> {
  return new Promise((resolve, reject) => {
    const a = spawn(from.cmd, from.args, { cwd: from.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const b = spawn(to.cmd, to.args, { cwd: to.cwd, stdio: ['pipe', 'ignore', 'pipe'] });
    let errA = '';
    let errB = '';
    a.stderr.on('data', (d: Buffer) => (errA = (errA + d.toString()).slice(-2000)));
    b.stderr.on('data', (d: Buffer) => (errB = (errB + d.toString()).slice(-2000)));
    a.stdout.pipe(b.stdin);
    b.stdin.on('error', () => {});
    let left = 2;
    let codeA = 0;
    let codeB = 0;
    const done = () => {
      if (--left > 0) return;
      if (codeA !== 0 || codeB !== 0) reject(new SigilError('internal', `copy failed: ${(errA || errB).trim().split('\n').pop() ?? `exit ${codeA}/${codeB}`}`));
      else resolve();
    };
    a.on('error', reject);
    b.on('error', reject);
    a.on('close', (c) => {
      codeA = c ?? 1;
      done();
    });
    b.on('close', (c) => {
      codeB = c ?? 1;
      done();
    });
  });
}

/** Copies `path` (file or directory) off the machine into `destDir`, as `destDir/<basename>`. */
export async function copyOffMachine(provider: Provider, model: string, machine: string, path: string, destDir: string): Promise<string> {
  checkArtifactPath(path);
  const probe = await provider.streamCommand(model, machine, ['true']);
  const real = probe.root !== undefined ? contained(probe.root, path) : path;
  const src = await provider.streamCommand(model, machine, ['tar', '-C', dirname(real), '-cf', '-', basename(real)]);
  mkdirSync(destDir, { recursive: true, mode: 0o700 });
  await pipe(src, { cmd: 'tar', args: ['-xf', '-', '-C', destDir, '--no-same-owner', '--no-same-permissions'] });
  return `${destDir}/${basename(real)}`;
}

/** Copies `srcDir/<name>` from the host onto the machine under `destParent` (made if missing). */
export async function copyOntoMachine(provider: Provider, model: string, machine: string, srcDir: string, name: string, destParent: string): Promise<string> {
  checkArtifactPath(destParent);
  const probe = await provider.streamCommand(model, machine, ['true']);
  const dest = probe.root !== undefined ? `${probe.root}${destParent}` : destParent;
  const mk = await provider.streamCommand(model, machine, ['mkdir', '-p', dest]);
  await pipe({ cmd: 'true', args: [] }, mk);
  const sink = await provider.streamCommand(model, machine, ['tar', '-xf', '-', '-C', dest]);
  await pipe({ cmd: 'tar', args: ['-C', srcDir, '-cf', '-', name] }, sink);
  return `${dest}/${name}`;
}
