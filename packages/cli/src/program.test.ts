import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Ctx } from './context.ts';
import { COMMAND_MODULES, buildProgram, newProgram } from './program.ts';

const COMMANDS_DIR = join(fileURLToPath(import.meta.url), '../commands');

/** Top-level command names and aliases, as commander knows them. */
const namesOf = (program: ReturnType<typeof newProgram>) => program.commands.flatMap((c) => [c.name(), ...c.aliases()]);

describe('the command table: a run loads only the module of its command', () => {
  it('names exactly the commands each module registers', async () => {
    for (const m of COMMAND_MODULES) {
      const program = newProgram();
      (await m.load())(program, new Ctx());
      expect(namesOf(program).sort(), m.names.join(' ')).toEqual([...m.names].sort());
    }
  });

  it('has every command module in it', async () => {
    const registering = readdirSync(COMMANDS_DIR)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .filter((f) => /^export function register\w+\(program: Command/m.test(readFileSync(join(COMMANDS_DIR, f), 'utf8')));
    const loaded = new Set(await Promise.all(COMMAND_MODULES.map((m) => m.load())));
    for (const f of registering) {
      const mod = (await import(join(COMMANDS_DIR, f))) as Record<string, unknown>;
      const registers = Object.entries(mod).filter(([k]) => k.startsWith('register')).map(([, v]) => v);
      expect(registers.some((r) => loaded.has(r as never)), `${f} registers commands but is not in COMMAND_MODULES`).toBe(true);
    }
    expect(registering.length).toBeGreaterThan(20);
  });

  it('builds only the named command, the whole tree for help or an unknown word, nothing for --version', async () => {
    const all = namesOf(await buildProgram(new Ctx()));
    expect(all).toEqual(expect.arrayContaining(['status', 'deploy', 'bootstrap', 'charm', 'charms']));
    expect(namesOf(await buildProgram(new Ctx(), ['status', '--format', 'json']))).toEqual(['machines', 'show-unit', 'status']);
    // An alias loads the module of the command it stands for; options before the command are skipped.
    expect(namesOf(await buildProgram(new Ctx(), ['-h', 'relate', 'a', 'b']))).toContain('integrate');
    // Both modules that add to `charm`.
    const charm = (await buildProgram(new Ctx(), ['charm', 'publish'])).commands.find((c) => c.name() === 'charm')!;
    expect(charm.commands.map((c) => c.name())).toEqual(expect.arrayContaining(['init', 'build', 'pack', 'publish']));
    expect(namesOf(await buildProgram(new Ctx(), ['help', 'status']))).toEqual(all);
    expect(namesOf(await buildProgram(new Ctx(), ['stauts']))).toEqual(all);
    expect(namesOf(await buildProgram(new Ctx(), []))).toEqual(all);
    expect(namesOf(await buildProgram(new Ctx(), ['--version']))).toEqual([]);
  });
});
