import { describe, expect, it } from 'vitest';
import { SigilError } from '@sigil/core';
import { parseManifest, splitWords } from './manifest.ts';

const ENV = { MOJO_SERIES: 'bookworm', EMPTY: '', NAME: 'web app', MOJO_DEPLOY_TIMEOUT: undefined };

function line(text: string) {
  const ls = parseManifest(text, 'manifest', ENV);
  expect(ls).toHaveLength(1);
  const { phase, options, env, args } = ls[0]!;
  return { phase, options, env, args };
}

function refused(text: string, env: Record<string, string | undefined> = ENV): SigilError {
  try {
    parseManifest(text, 'manifest', env);
  } catch (e) {
    expect(e).toBeInstanceOf(SigilError);
    return e as SigilError;
  }
  throw new Error(`accepted: ${text}`);
}

describe('Mojo manifest grammar', () => {
  it.each([
    // Lines as real Mojo specs write them.
    ['collect config=collect-next', { phase: 'collect', options: { config: 'collect-next' }, env: {}, args: [] }],
    ['bundle config=bundle.yaml local=deploy-secrets', { phase: 'bundle', options: { config: 'bundle.yaml', local: 'deploy-secrets' }, env: {}, args: [] }],
    ["verify config=check_juju.py MACHINES='a b'", { phase: 'verify', options: { config: 'check_juju.py' }, env: { MACHINES: 'a b' }, args: [] }],
    ['script config=network_setup.py lxc=False', { phase: 'script', options: { config: 'network_setup.py', lxc: 'False' }, env: {}, args: [] }],
    ['deploy timeout=${MOJO_DEPLOY_TIMEOUT:-5400} config=full.yaml wait=False', { phase: 'deploy', options: { timeout: '5400', config: 'full.yaml', wait: 'False' }, env: {}, args: [] }],
    ['bundle config=${MOJO_SERIES}-bundle.yaml', { phase: 'bundle', options: { config: 'bookworm-bundle.yaml' }, env: {}, args: [] }],
    ['sleep config=180', { phase: 'sleep', options: { config: '180' }, env: {}, args: [] }],
    ['juju-check-wait', { phase: 'juju-check-wait', options: {}, env: {}, args: [] }],
    ['verify', { phase: 'verify', options: {}, env: {}, args: [] }],
    ['stop-on devel', { phase: 'stop-on', options: {}, env: {}, args: ['devel'] }],
    ['  script   config=x.sh   # trailing comment', { phase: 'script', options: { config: 'x.sh' }, env: {}, args: [] }],
    ['verify config=v.sh MSG="hello ${NAME}" RAW=\'${NAME}\'', { phase: 'verify', options: { config: 'v.sh' }, env: { MSG: 'hello web app', RAW: '${NAME}' }, args: [] }],
    ['verify config=v.sh X=${EMPTY:-fallback} Y=${EMPTY} Z=a\\ b', { phase: 'verify', options: { config: 'v.sh' }, env: { X: 'fallback', Y: '', Z: 'a b' }, args: [] }],
    ['verify config=v.sh URL=http://h/#frag', { phase: 'verify', options: { config: 'v.sh' }, env: { URL: 'http://h/#frag' }, args: [] }],
    ['verify config=v.sh Q="say \\"hi\\" for \\$5"', { phase: 'verify', options: { config: 'v.sh' }, env: { Q: 'say "hi" for $5' }, args: [] }],
    ['wait timeout=${T:-5m 30s}', { phase: 'wait', options: { timeout: '5m 30s' }, env: {}, args: [] }],
  ])('%s', (text, want) => {
    expect(line(text)).toEqual(want);
  });

  it('skips comments and blank lines and keeps line numbers', () => {
    const ls = parseManifest('# Collect the charm branches\ncollect config=collect\n\n   # indented\nbundle config=b.yaml\n', 'devel/manifest', {});
    expect(ls.map((l) => `${l.file}:${l.line} ${l.phase}`)).toEqual(['devel/manifest:2 collect', 'devel/manifest:5 bundle']);
  });

  it.each([
    ['build config=generate_certs.py', 'manifest:1: phase "build" is not supported', 'script'],
    ['nagios-check', 'phase "nagios-check" is not supported', 'verify'],
    ['deploy-all config=x', 'manifest:1: unknown phase "deploy-all"', 'phases are collect, secrets'],
    ['collect config=a config=b', 'option "config" is given twice', 'once'],
    ['deploy config=full.yaml target=trusty-icehouse', 'deploy has no option "target"', 'deploy takes config=, local='],
    ['bundle config=b.yaml MACHINES=3', 'bundle takes no environment variables (MACHINES=…)', 'script'],
    ['secrets now', '"now" is not key=value', 'key=value'],
    ["verify config='check.sh", 'unterminated single quote', 'close the quote'],
    ['verify config="check.sh', 'unterminated double quote', 'close the quote'],
    ['bundle config=${BUNDLE}', 'variable BUNDLE is not set', '${BUNDLE:-value}'],
    ['bundle config=${BUNDLE', 'unterminated "${"', '${NAME:-default}'],
    ['bundle config=${1x}', 'is not a variable reference', '${NAME}'],
    ['stop-on', 'stop-on needs a stage pattern', 'stop-on devel'],
    ['stop-on a b', '"b" is not key=value', 'stop-on'],
  ])('refuses %j', (text, message, hint) => {
    const e = refused(`# first line\n${text}`);
    expect(e.message).toMatch(/^manifest:2: /);
    expect(e.message).toContain(message.replace('manifest:1: ', ''));
    expect(e.hint).toContain(hint);
  });

  it('splits words like a shell for these lines', () => {
    expect(splitWords(`a 'b c'd "e\${N}" \\#x #rest`, { N: '1' }, 'f', 1)).toEqual(['a', 'b cd', 'e1', '#x']);
  });
});
