import { SigilError } from '../errors.ts';
import { parseActionsYaml } from './actions.ts';
import { parseConfigYaml } from './config.ts';
import { parseMetadata } from './metadata.ts';
import type { Charm, CharmFiles } from './types.ts';

/**
 * Reads a charm from the text of its files. Pure: the caller reads the directory or
 * archive. metadata.yaml is required; config.yaml and actions.yaml are optional, and a
 * charm without them has no options or actions. Every problem is an 'invalid-charm'
 * error naming the file, line and key.
 */
export function parseCharm(files: CharmFiles): Charm {
  if (files.metadata === undefined) {
    throw new SigilError(
      'invalid-charm',
      'charm has no metadata.yaml',
      'every charm needs a metadata.yaml with name, summary and description at its root (charmcraft pack generates it from charmcraft.yaml)',
    );
  }
  const meta = parseMetadata(files.metadata);
  const charm: Charm = {
    meta,
    config: files.config === undefined ? {} : parseConfigYaml(files.config),
    actions: files.actions === undefined ? {} : parseActionsYaml(meta.name, files.actions),
  };
  // The version file holds a free-form VCS id, shown as charm-version in status.
  const version = files.version?.trim();
  if (version) charm.version = version;
  return charm;
}
