import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { SigilError, parseCharm } from '@sigil/core';
import { buildProgram } from '../program.ts';
import { Ctx } from '../context.ts';
import { checkDeployFlags } from './deploy.ts';
import { planCharmDeploy, renderCharmPlan } from '../bundle/charm-plan.ts';
import { statusDoc } from '../render/status-doc.fixture.ts';

const CHARMS = join(fileURLToPath(import.meta.url), '../../../../../tests/charms');

class Parsed extends Error {}

/** The deploy command as commander parsed `argv`, without running its action. */
async function parsed(argv: string[]): Promise<Command> {
  const program = await buildProgram(new Ctx());
  let cmd: Command | undefined;
  program.hook('preAction', (_root, action) => {
    cmd = action;
    throw new Parsed();
  });
  await program.parseAsync(['deploy', ...argv], { from: 'user' }).catch((e: unknown) => {
    if (!(e instanceof Parsed)) throw e;
  });
  return cmd!;
}

/** What `sigil deploy ARGV` says about its flags: undefined when they all apply, else the error and hint. */
async function flagError(argv: string[]): Promise<string | undefined> {
  const cmd = await parsed(argv);
  const [path, app] = cmd.args;
  try {
    checkDeployFlags(cmd, /\.ya?ml$/i.test(path!), app);
    return undefined;
  } catch (e) {
    if (!(e instanceof SigilError)) throw e;
    return `${e.message}\nhint: ${e.hint ?? ''}`;
  }
}

describe('deploy refuses flags that would be ignored', () => {
  it.each([
    [['./mycharm', '--overlay', 'o.yaml'], /^--overlay does not apply when deploying a charm\nhint: it is for bundles/],
    [['./mycharm', 'web', '--no-wait', '--no-progress'], /^--no-progress, --no-wait do not apply when deploying a charm\nhint: .*`sigil wait web`/],
    [['./mycharm', '--timeout', '5m'], /^--timeout does not apply when deploying a charm/],
    [['./mycharm', '--verbose'], /^--verbose does not apply when deploying a charm/],
    [['b.yaml', '-n', '3'], /^-n\/--num-units does not apply when deploying a bundle\nhint: .*--overlay FILE/],
    [['b.yaml', '--config', 'a=b', '--to', '0', '--constraints', 'mem=1G'], /^--config, --constraints, --to do not apply when deploying a bundle/],
    [['b.yaml', 'name'], /^an application name cannot be given with a bundle/],
    [['b.yaml', '--no-wait', '--timeout', '5m'], /^--timeout does not apply with --no-wait\nhint: /],
    [['b.yaml', '--no-wait', '--verbose', '--dry-run'], /^--verbose does not apply with --no-wait/],
  ])('sigil deploy %j', async (argv, error) => {
    expect(await flagError(argv)).toMatch(error);
  });

  it.each([
    [['./mycharm', 'web', '-n', '2', '--config', 'a=b', '--to', '0,new', '--constraints', 'mem=1G', '--dry-run', '-m', 'c:m']],
    [['./mycharm', '-n', '1']],
    [['b.yaml', '--overlay', 'o.yaml', '--no-progress', '--verbose', '--timeout', '5m', '--dry-run', '-m', 'c:m']],
    [['b.yaml', '--no-wait', '--overlay', 'o.yaml']],
    [['b.yml']],
  ])('sigil deploy %j takes every flag it is given', async (argv) => {
    expect(await flagError(argv)).toBeUndefined();
  });

  it('refuses units, placement and constraints for a subordinate, whose units follow its principal', async () => {
    for (const flags of [['-n', '2'], ['--to', '0'], ['--constraints', 'mem=1G']]) {
      const run = (await buildProgram(new Ctx())).parseAsync(['deploy', join(CHARMS, 'logger'), ...flags], { from: 'user' });
      await expect(run).rejects.toThrow(/^.* (does|do) not apply to subordinate application "logger"$/);
    }
  });
});

const source = parseCharm({
  metadata: 'name: source\nsummary: s\ndescription: d\nprovides:\n  output: {interface: token}\n',
  config: 'options:\n  token: {type: string, default: ""}\n  replicas: {type: int, default: 1}\n',
});

describe('deploy --dry-run of a charm', () => {
  const input = { app: 'src', charm: source, path: 'charms/source', numUnits: 2, config: {}, constraints: '', to: [] as string[] };

  it('plans application, charm, units, placement and config as the controller would apply them', () => {
    const p = planCharmDeploy({ ...input, numUnits: 3, config: { replicas: '4', token: 'x' }, constraints: 'mem=1G', to: ['0', 'new'] }, statusDoc());
    expect(p).toEqual({ app: 'src', charm: 'source', path: 'charms/source', subordinate: false, placement: ['0', 'new', 'new'], config: { replicas: 4, token: 'x' }, constraints: 'mem=1G' });
    expect(renderCharmPlan(p)).toBe([
      'Dry run: deploying would add application "src"; nothing was changed.',
      '  application: src',
      '  charm:       source (local, from charms/source)',
      '  units:       3',
      '  placement:   #1 machine 0, #2 a new machine, #3 a new machine',
      '  config:      replicas=4, token="x"; other options default',
      '  constraints: mem=1G',
      'Run the same command without --dry-run to deploy.',
    ].join('\n'));
  });

  it('says plainly when every unit gets a new machine and the config is the default', () => {
    const text = renderCharmPlan(planCharmDeploy(input, statusDoc()));
    expect(text).toContain('  placement:   a new machine each\n  config:      charm defaults\n  constraints: none');
  });

  it.each([
    [{ app: 'mysql' }, /^application "mysql" already exists$/],
    [{ app: 'Bad_Name' }, /^invalid application name "Bad_Name"$/],
    [{ config: { nope: '1' } }, /^unknown option "nope" for charm "source"$/],
    [{ config: { replicas: 'many' } }, /option "replicas" of charm "source": expected int/],
    [{ to: ['7'] }, /^machine "7" not found for placement$/],
  ])('refuses what the deploy would be refused for: %j', (change, error) => {
    expect(() => planCharmDeploy({ ...input, ...change }, statusDoc())).toThrow(error);
  });
});
