import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { SigilError, checkApplicationName } from '@sigil/core';
import type { Ctx } from '../context.ts';

export function registerCharm(program: Command, ctx: Ctx): void {
  const charm = program.command('charm').description('write, build and pack charms (TypeScript charms use @sigil/charm-sdk)');

  charm
    .command('init')
    .description('scaffold a TypeScript charm with a unit test')
    .argument('<name>', 'charm name (lowercase letters, digits and hyphens)')
    .option('--path <dir>', 'where to create it (default: ./<name>)')
    .action(async (name: string, o: { path?: string }) => {
      checkApplicationName(name);
      const dir = resolve(o.path ?? name);
      if (existsSync(join(dir, 'metadata.yaml'))) throw new SigilError('already-exists', `${dir} already has a charm`, 'choose another --path, or edit the charm that is there');
      const { sigilRoot } = await import('@sigil/charm-sdk/build');
      const root = sigilRoot();
      for (const [file, text] of Object.entries(scaffold(name, root, dir))) {
        mkdirSync(join(dir, file, '..'), { recursive: true });
        writeFileSync(join(dir, file), text, { mode: file === 'dispatch' ? 0o755 : 0o644 });
      }
      const { buildCharm } = await import('@sigil/charm-sdk/build');
      buildCharm(dir);
      const rel = relative(process.cwd(), dir) || '.';
      const vitest = `${relative(process.cwd(), join(root, 'node_modules', '.bin', 'vitest')) || 'vitest'} run --root ${rel}`;
      ctx.out(`Created charm "${name}" in ${rel}\n  src/charm.ts       handlers (typed from metadata.yaml, config.yaml, actions.yaml)\n  src/charm.test.ts  a test with the charm test kit: ${vitest}\nNext: sigil deploy ${rel}`);
    });

  charm
    .command('build')
    .description('regenerate src/charm.gen.ts from the YAML and bundle src/charm.ts into dist/charm.mjs')
    .argument('[dir]', 'charm directory', '.')
    .action(async (dir: string) => {
      const { buildCharm, isSdkCharm } = await import('@sigil/charm-sdk/build');
      if (!isSdkCharm(dir)) throw new SigilError('invalid-charm', `${dir} has no src/charm.ts`, 'only TypeScript charms are built; a charm with hooks/ or dispatch deploys as it is');
      const { output } = buildCharm(dir);
      ctx.out(`Built ${relative(process.cwd(), output)}`);
    });

  charm
    .command('pack')
    .description('build (if TypeScript) and pack a charm directory into a deployable .charm archive')
    .argument('[dir]', 'charm directory', '.')
    .option('-o, --output <file>', 'archive to write (default: ./<name>.charm)')
    .action(async (dir: string, o: { output?: string }) => {
      const { packCharm } = await import('../charm-dir.ts');
      const packed = packCharm(dir, o.output);
      ctx.out(`Packed "${packed.charm.meta.name}" (${packed.files} files) into ${relative(process.cwd(), packed.file)}\nDeploy it with: sigil deploy ${relative(process.cwd(), packed.file)}`);
    });
}

function scaffold(name: string, root: string, dir: string): Record<string, string> {
  const inside = !relative(root, dir).startsWith('..');
  const sdk = join(root, 'packages', 'charm-sdk', 'src');
  const files: Record<string, string> = {
    'metadata.yaml': `name: ${name}\nsummary: ${name}, a Sigil charm\ndescription: |\n  Describe what ${name} runs and how to relate to it.\nprovides:\n  website:\n    interface: http\n`,
    'config.yaml': `options:\n  port:\n    type: int\n    default: 8080\n    description: TCP port the service listens on.\n  greeting:\n    type: string\n    default: hello\n    description: What the service says.\n`,
    'actions.yaml': `greet:\n  description: Return the greeting for a name.\n  params:\n    name:\n      type: string\n      description: Who to greet.\n  required: [name]\n`,
    dispatch: `#!/bin/sh\n# Juju runs this for every hook and action; the TypeScript bundle decides what to do.\nexec "\${SIGIL_NODE:-node}" --enable-source-maps "$JUJU_CHARM_DIR/dist/charm.mjs"\n`,
    'README.md': `# ${name}\n\nA TypeScript charm. Edit \`src/charm.ts\`; \`sigil charm build\` regenerates \`src/charm.gen.ts\` from the YAML files and bundles the charm; \`sigil deploy .\` builds and deploys it.\n`,
    'src/charm.ts': `import { Charm, StatusError, active, blocked } from '@sigil/charm-sdk';
import { spec } from './charm.gen.ts';

/** Build the charm from its handlers; tests call this too. */
export function build() {
  const charm = new Charm(spec);

  charm.on.configChanged(async (ctx) => {
    const port = ctx.config.port;
    if (port < 1024 || port > 65535) throw new StatusError(blocked(\`port \${port} is out of range; use 1024-65535\`));
    await ctx.setPorts([port]);
    await ctx.setStatus(active(\`\${ctx.config.greeting} on port \${port}\`));
  });

  charm.on.relationJoined('website', async (ctx, event) => {
    await event.relation.local.update({ hostname: await ctx.address(), port: ctx.config.port });
  });

  charm.on.action('greet', async (ctx, event) => {
    await event.set({ message: \`\${ctx.config.greeting}, \${event.params.name}\` });
  });

  return charm;
}

export default build();
`,
    'src/charm.test.ts': `import { expect, test } from 'vitest';
import { event, run, state } from '@sigil/charm-sdk/testing';
import { spec } from './charm.gen.ts';
import { build } from './charm.ts';

test('config-changed opens the port and reports active', async () => {
  const out = await run(build(), event.configChanged(), state(spec, { config: { port: 9000 } }));
  expect(out.ports).toEqual([{ port: 9000, protocol: 'tcp' }]);
  expect(out.unitStatus).toEqual({ name: 'active', message: 'hello on port 9000' });
});

test('a port out of range blocks the unit and leaves the ports alone', async () => {
  const out = await run(build(), event.configChanged(), state(spec, { config: { port: 80 }, ports: [{ port: 8080, protocol: 'tcp' }] }));
  expect(out.unitStatus?.name).toBe('blocked');
  expect(out.ports).toEqual([{ port: 8080, protocol: 'tcp' }]);
});

test('website relation gets hostname and port', async () => {
  const s = state(spec, { relations: [{ endpoint: 'website', remoteUnits: { 'haproxy/0': {} }, remoteApp: 'haproxy' }] });
  const out = await run(build(), event.relationJoined(s.relations[0]!, 'haproxy/0'), s);
  expect(out.relations[0]!.localUnitData).toEqual({ hostname: '10.0.0.10', port: '8080' });
});

test('greet action', async () => {
  const out = await run(build(), event.action('greet', { name: 'Ada' }), state(spec));
  expect(out.action?.results).toEqual({ message: 'hello, Ada' });
});
`,
    '.gitignore': 'dist/\n*.charm\n',
  };
  if (!inside) {
    // Outside the Sigil tree the editor and tsc find the SDK through paths.
    files['tsconfig.json'] = JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'bundler',
          strict: true,
          noEmit: true,
          allowImportingTsExtensions: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
          paths: { '@sigil/charm-sdk': [join(sdk, 'index.ts')], '@sigil/charm-sdk/testing': [join(sdk, 'testing.ts')] },
        },
        include: ['src'],
      },
      null,
      2,
    ) + '\n';
  }
  // The charm's own tests, wherever it lives: `vitest run --root <dir>` with Sigil's vitest.
  const alias = inside ? {} : { '@sigil/charm-sdk/testing': join(sdk, 'testing.ts'), '@sigil/charm-sdk': join(sdk, 'index.ts') };
  files['vitest.config.mjs'] = `// Run the tests with Sigil's vitest: ${join(root, 'node_modules', '.bin', 'vitest')} run --root <this dir>\nexport default ${JSON.stringify({ resolve: { alias }, test: { include: ['src/**/*.test.ts'] } }, null, 2)};\n`;
  return files;
}
