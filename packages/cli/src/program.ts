import { Command } from 'commander';
import type { Ctx } from './context.ts';

/** What a command module exports: it adds its commands to the program. */
export type Register = (program: Command, ctx: Ctx) => void;

interface CommandModule {
  /** The top-level commands the module registers, aliases included. */
  readonly names: readonly string[];
  readonly load: () => Promise<Register>;
}

/**
 * Which module registers which top-level commands, in the order `sigil --help` lists them.
 * A run loads only the module of the command it runs (`sigil status` needs none of the
 * bundle planner, the YAML schema checks or the ssh enlister); `program.test.ts` checks this
 * table against what each module really registers.
 */
export const COMMAND_MODULES: readonly CommandModule[] = [
  { names: ['bootstrap', 'image', 'start-controller', 'controllers', 'destroy-controller', 'models', 'add-model', 'switch', 'model-config', 'destroy-model'], load: async () => (await import('./commands/controller.ts')).registerController },
  { names: ['enable-ha', 'show-controller'], load: async () => (await import('./commands/ha.ts')).registerHa },
  { names: ['deploy'], load: async () => (await import('./commands/deploy.ts')).registerDeploy },
  { names: ['refresh', 'upgrade-charm'], load: async () => (await import('./commands/refresh.ts')).registerRefresh },
  { names: ['drill'], load: async () => (await import('./commands/drill.ts')).registerDrill },
  { names: ['integrate', 'relate', 'add-relation', 'remove-relation', 'config', 'add-unit', 'remove-unit', 'remove-application', 'expose', 'unexpose', 'resolve', 'resolved', 'add-machine', 'remove-machine'], load: async () => (await import('./commands/app.ts')).registerApp },
  { names: ['machines', 'show-unit', 'status'], load: async () => (await import('./commands/status.ts')).registerStatus },
  { names: ['show-status-log'], load: async () => (await import('./commands/status-log.ts')).registerStatusLog },
  { names: ['exec', 'run'], load: async () => (await import('./commands/exec.ts')).registerExec },
  { names: ['debug-log'], load: async () => (await import('./commands/debug-log.ts')).registerDebugLog },
  { names: ['wait'], load: async () => (await import('./commands/wait.ts')).registerWait },
  { names: ['diff', 'diff-bundle', 'export-bundle'], load: async () => (await import('./commands/bundle.ts')).registerBundle },
  { names: ['ssh', 'scp'], load: async () => (await import('./commands/ssh.ts')).registerSsh },
  { names: ['debug-hooks', 'debug-hook', 'debug-code'], load: async () => (await import('./commands/debug-hooks.ts')).registerDebugHooks },
  { names: ['charm'], load: async () => (await import('./commands/charm.ts')).registerCharm },
  { names: ['gui'], load: async () => (await import('./commands/gui.ts')).registerGui },
  { names: ['chaos'], load: async () => (await import('./commands/chaos.ts')).registerChaos },
  { names: ['storage', 'list-storage', 'storage-pools', 'list-storage-pools', 'add-storage', 'attach-storage', 'detach-storage', 'remove-storage', 'resources', 'list-resources', 'attach-resource'], load: async () => (await import('./commands/storage.ts')).registerStorage },
  { names: ['offer', 'find-offers', 'show-offer', 'consume', 'remove-offer', 'remove-saas'], load: async () => (await import('./commands/offers.ts')).registerOffers },
  { names: ['add-secret', 'secrets', 'list-secrets', 'show-secret', 'update-secret', 'remove-secret', 'grant-secret', 'revoke-secret'], load: async () => (await import('./commands/secrets.ts')).registerSecrets },
  { names: ['add-ssh-key', 'import-ssh-key', 'remove-ssh-key', 'ssh-keys', 'list-ssh-keys', 'rotate-agent-credential'], load: async () => (await import('./commands/ssh-keys.ts')).registerSshKeys },
  { names: ['add-user', 'register', 'login', 'logout', 'whoami', 'users', 'list-users', 'remove-user', 'disable-user', 'enable-user', 'change-user-password', 'grant', 'revoke', 'audit-log', 'controller-config', 'unregister'], load: async () => (await import('./commands/users.ts')).registerUsers },
  { names: ['spec'], load: async () => (await import('./commands/spec.ts')).registerSpec },
  { names: ['collect', 'collect-info'], load: async () => (await import('./commands/collect.ts')).registerCollect },
  { names: ['audit'], load: async () => (await import('./commands/audit.ts')).registerAudit },
  // `charm publish` joins the `charm` command of charm.ts.
  { names: ['charms', 'charm'], load: async () => (await import('./commands/charms.ts')).registerCharms },
  { names: ['show-application'], load: async () => (await import('./commands/show-application.ts')).registerShowApplication },
  { names: ['create-backup', 'backups', 'restore-backup'], load: async () => (await import('./commands/controller-backup.ts')).registerControllerBackup },
  { names: ['migrate-agents'], load: async () => (await import('./commands/migrate-agents.ts')).registerMigrateAgents },
  { names: ['schedule', 'backup-store', 'restore-unit'], load: async () => (await import('./commands/schedule.ts')).registerSchedule },
  { names: ['notify'], load: async () => (await import('./commands/notify.ts')).registerNotify },
];

/** The program with no commands yet: its name, version and parsing rules. */
export function newProgram(): Command {
  return new Command('sigil')
    .description('Sigil: deploy, relate, scale and operate applications from Juju charms')
    .version('0.1.0')
    .exitOverride()
    .showSuggestionAfterError()
    // Options after a command's positionals may belong to a remote command (ssh, exec, scp).
    .enablePositionalOptions();
}

/**
 * The command tree for one run. Given the command-line words after `sigil`, only the modules
 * registering the command they name are loaded; `--version` alone loads none. Anything else
 * (no command, `help`, a misspelt command that needs suggestions) gets the whole tree, as
 * tests do when they pass no words.
 */
export async function buildProgram(ctx: Ctx, words?: readonly string[]): Promise<Command> {
  const program = newProgram();
  const first = words?.find((w) => !w.startsWith('-'));
  const versionOnly = words !== undefined && first === undefined && words.some((w) => w === '-V' || w === '--version');
  const wanted = versionOnly ? [] : COMMAND_MODULES.filter((m) => first !== undefined && m.names.includes(first));
  const modules = versionOnly || wanted.length > 0 ? wanted : COMMAND_MODULES;
  for (const register of await Promise.all(modules.map((m) => m.load()))) register(program, ctx);
  return program;
}
