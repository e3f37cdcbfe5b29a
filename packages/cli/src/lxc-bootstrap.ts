import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DIST } from './dist.ts';
import { LxcProvider, checkHost, lxcProviderRoot, ensureHostPackages, ensureImage, parseSubnet } from '@sigil/providers';
import { SigilError } from '@sigil/core';
import type { Ctx } from './context.ts';

/**
 * What `sigil bootstrap --provider lxc` does before the controller starts: host packages
 * (as root), the cached base image (built once, ~30-40 s), the controller's ssh key, and a
 * bridge name and subnet of its own.
 */
export async function prepareLxc(ctx: Ctx, dir: string, name: string, subnet: string): Promise<{ gateway: string; bridge: { name: string; subnet: string }; imagesDir: string; aptPool?: string }> {
  if (process.getuid?.() === 0) await ensureHostPackages((l: string) => ctx.info(l));
  await checkHost();
  // SIGIL_IMAGES shares one image cache between homes (test runs, several users of one host).
  const imagesDir = process.env.SIGIL_IMAGES || join(ctx.home.root, 'images');
  const t = Date.now();
  await ensureImage(imagesDir, { onProgress: (l: string) => ctx.info(`image: ${l}`) });
  ctx.info(`Base image ready (${((Date.now() - t) / 1000).toFixed(1)}s)`);
  mkdirSync(join(dir, 'ssh'), { recursive: true, mode: 0o700 });
  if (!existsSync(join(dir, 'ssh', 'id_ed25519'))) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `sigil-${name}`, '-f', join(dir, 'ssh', 'id_ed25519')]);
  const h = createHash('sha1').update(dir).digest();
  const cidr = subnet || `10.${200 + (h[0]! % 50)}.${h[1]!}.0/24`;
  const parsed = parseSubnet(cidr);
  // SIGIL_APT_POOL: where the host's controllers share the packages they fetched ('' for
  // nowhere); beside the image by default.
  const aptPool = process.env.SIGIL_APT_POOL;
  return { gateway: parsed.gateway, bridge: { name: `sgl-${h.toString('hex').slice(0, 8)}`, subnet: cidr }, imagesDir, ...(aptPool !== undefined ? { aptPool } : {}) };
}

/** Removes the controller's containers, bridge and apt cache, whether or not the controller still runs. */
export async function teardownLxc(dir: string): Promise<void> {
  const path = join(dir, 'controller.json');
  if (!existsSync(path)) return;
  const config = JSON.parse(readFileSync(path, 'utf8')) as { bridge?: { name: string; subnet: string }; imagesDir?: string; aptPool?: string; providerRoot?: string };
  if (!config.bridge) throw new SigilError('internal', `controller.json in ${dir} has no bridge`);
  const provider = new LxcProvider({
    root: lxcProviderRoot(dir, config),
    imagesDir: config.imagesDir ?? join(dir, 'images'),
    ...(config.aptPool !== undefined ? { aptPool: config.aptPool } : {}),
    bridge: config.bridge,
    agentEntry: join(DIST, 'agent.mjs'),
    authorizedKeys: '',
  });
  await provider.teardown();
}

/** `sigil image build`: (re)builds the cached base image; machines created later use it. */
export async function buildImage(ctx: Ctx, force: boolean): Promise<void> {
  if (process.getuid?.() === 0) await ensureHostPackages((l: string) => ctx.info(l));
  await checkHost();
  const r = await ensureImage(process.env.SIGIL_IMAGES || join(ctx.home.root, 'images'), { force, onProgress: (l: string) => ctx.info(`image: ${l}`) });
  ctx.out(r.built ? `Built ${r.rootfs} in ${(r.ms / 1000).toFixed(1)}s` : `Image ${r.rootfs} is up to date (use --force to rebuild)`);
}
