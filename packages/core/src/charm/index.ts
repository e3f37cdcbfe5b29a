export type { ActionSpec, Charm, CharmFiles, CharmMeta, ConfigOption, ConfigType, ConfigValue, EndpointSpec, Role } from './types.ts';
export { parseCharm } from './charm.ts';
export { isReservedName, parseMetadata } from './metadata.ts';
export { coerceConfigValue, effectiveConfig, parseConfigYaml, validateConfigValues } from './config.ts';
export { parseActionsYaml, validateActionParams } from './actions.ts';
export { charmEndpoints, inferRelation, relationKey, type AppEndpoints, type EndpointRef } from './endpoints.ts';
export {
  MAX_ARCHIVE_PATH, archiveCharmFiles, checkArchiveEntries, checkArchiveLink, checkArchivePath, findArchiveFile, quoteArchivePath, type ArchiveEntryRef,
} from './archive-paths.ts';
export {
  humanizeIMiB, humanizeMiB, parseSizeMiB, parseStorageDirective, splitStorageArg, type ResourceSpec, type StorageDirective, type StorageSpec,
} from './storage.ts';
export { COLLECT_INFO_FILE, verifyCollectInfo, type CharmProvenance } from './collect-info.ts';
