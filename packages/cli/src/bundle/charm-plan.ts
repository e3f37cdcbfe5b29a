import { SigilError, checkApplicationName, parseContainerPlacement, validateConfigValues, type Charm, type ConfigValue } from '@sigil/core';
import { statusMachine, type ModelStatusDoc } from '@sigil/api';

/** What `sigil deploy CHARM` would do: the answer to `--dry-run`. */
export interface CharmDeployPlan {
  app: string;
  charm: string;
  /** The charm directory or archive as given on the command line. */
  path: string;
  subordinate: boolean;
  /** Where each unit goes, in order: `new` or a machine id. */
  placement: string[];
  /** The options given, typed as the charm declares them; the others keep their defaults. */
  config: Record<string, ConfigValue>;
  constraints: string;
}

export interface CharmDeployInput {
  app: string;
  charm: Charm;
  path: string;
  numUnits: number;
  /** Options as given (`--config` strings, or values from a YAML file). */
  config: Record<string, unknown>;
  constraints: string;
  to: string[];
}

/**
 * Plans a charm deploy against the model as it is, refusing what the controller would
 * refuse (a taken name, a bad option, a machine that is not there), and changes nothing.
 */
export function planCharmDeploy(d: CharmDeployInput, model: ModelStatusDoc): CharmDeployPlan {
  checkApplicationName(d.app);
  if (model.applications[d.app] !== undefined) {
    throw new SigilError('already-exists', `application "${d.app}" already exists`, `choose another name: \`sigil deploy ${d.path} ${d.app}-2\`, or scale it with \`sigil add-unit ${d.app}\``);
  }
  const config = validateConfigValues(d.charm.meta.name, d.charm.config, d.config);
  const n = d.charm.meta.subordinate ? 0 : d.numUnits;
  // As the controller places them: the last placement given repeats for the remaining units.
  const placement = Array.from({ length: n }, (_, i) => d.to[Math.min(i, d.to.length - 1)] ?? 'new');
  for (const m of new Set(placement)) {
    const container = parseContainerPlacement(m);
    if (container && statusMachine(model, container.parent) === undefined) {
      throw new SigilError('not-found', `machine "${container.parent}" not found for placement ${m}`, 'use an existing machine id from `sigil status`, or add one with `sigil add-machine`');
    }
    if (m !== 'new' && !container && statusMachine(model, m) === undefined) {
      throw new SigilError('not-found', `machine "${m}" not found for placement`, 'use an existing machine id from `sigil status`, or `--to new`');
    }
  }
  return { app: d.app, charm: d.charm.meta.name, path: d.path, subordinate: d.charm.meta.subordinate, placement, config, constraints: d.constraints };
}

/** Long or multi-line values are summarised, as in a bundle's plan. */
function shownValue(v: ConfigValue): string {
  if (typeof v !== 'string') return String(v);
  return v.length > 60 || v.includes('\n') ? `<${v.length} characters>` : JSON.stringify(v);
}

function placementText(p: CharmDeployPlan): string {
  if (p.subordinate) return "the machines of the units it is related to";
  if (p.placement.length === 0) return 'none (no units)';
  if (p.placement.every((m) => m === 'new')) return p.placement.length === 1 ? 'a new machine' : 'a new machine each';
  return p.placement.map((m, i) => `#${i + 1} ${m === 'new' ? 'a new machine' : parseContainerPlacement(m) ? `a new container on machine ${parseContainerPlacement(m)!.parent}` : `machine ${m}`}`).join(', ');
}

export function renderCharmPlan(p: CharmDeployPlan): string {
  const n = p.placement.length;
  const config = Object.entries(p.config).map(([k, v]) => `${k}=${shownValue(v)}`);
  const rows: [string, string][] = [
    ['application', p.app],
    ['charm', `${p.charm} (local, from ${p.path})`],
    ['units', p.subordinate ? 'none until related (a subordinate runs beside each unit of the application it is related to)' : String(n)],
    ['placement', placementText(p)],
    ['config', config.length ? `${config.join(', ')}; other options default` : 'charm defaults'],
    ['constraints', p.constraints || 'none'],
  ];
  return [`Dry run: deploying would add application "${p.app}"; nothing was changed.`, ...rows.map(([k, v]) => `  ${`${k}:`.padEnd(13)}${v}`), 'Run the same command without --dry-run to deploy.'].join('\n');
}
