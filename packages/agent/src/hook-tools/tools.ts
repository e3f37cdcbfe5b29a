/**
 * Runs one hook-tool invocation against a hook context, the way juju/cmd's `cmd.Main`
 * runs a jujuc command: parse flags, validate arguments (usage errors exit 2), run
 * (errors exit 1, printed `ERROR <message>`), then print the result in the requested
 * format to stdout or to the `-o` file. Pure over the context except for `--file`
 * (read) and `-o` (written), which are resolved against the hook's working directory.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isSigilError } from '@sigil/core';
import { type FlagSpec, helpText, parseArgs, usageLine } from './args.ts';
import { actionFail, actionGet, actionLog, actionSet } from './action.ts';
import type { HookToolEnv, ToolResult } from './context.ts';
import { type OutputFormat, formatOutput, outputFlags } from './format.ts';
import { isLeader, leaderGet, leaderSet } from './leader.ts';
import { closePort, openPort, openedPorts } from './ports.ts';
import { relationGet, relationIds, relationList, relationSet } from './relation.ts';
import { NEED_STDIN, type ToolCall, type ToolSpec, fileError } from './spec.ts';
import { stateDelete, stateGet, stateSet } from './state.ts';
import { SECRET_TOOLS } from './secrets.ts';
import { STORAGE_TOOLS } from './storage.ts';
import { applicationVersionSet, statusGet, statusSet } from './status.ts';
import { configGet, jujuLog, networkGet, unitGet } from './unit.ts';
import { addMetric, credentialGet, goalState, jujuReboot, relationModelGet } from './model-tools.ts';
import type { GoValue } from './govalue.ts';

const TOOLS: ReadonlyMap<string, ToolSpec> = new Map(
  [
    actionFail,
    actionGet,
    actionLog,
    actionSet,
    applicationVersionSet,
    closePort,
    configGet,
    isLeader,
    jujuLog,
    leaderGet,
    leaderSet,
    networkGet,
    openPort,
    openedPorts,
    relationGet,
    relationIds,
    relationList,
    relationSet,
    stateDelete,
    stateGet,
    stateSet,
    statusGet,
    statusSet,
    unitGet,
    ...SECRET_TOOLS,
    addMetric,
    credentialGet,
    goalState,
    jujuReboot,
    relationModelGet,
    ...STORAGE_TOOLS,
  ].map((t) => [t.name, t]),
);

/** Every tool name the agent serves, sorted; one symlink per name goes on the hook's PATH. */
export const HOOK_TOOL_NAMES: readonly string[] = [...TOOLS.keys()].sort();

/** Runs one invocation; a tool that asks the controller (goal-state) answers with a promise. */
export function runHookTool(
  env: HookToolEnv,
  command: string,
  args: readonly string[],
  stdin: Buffer | undefined,
  cwd: string = process.cwd(),
): ToolResult | { needStdin: true } | Promise<ToolResult> {
  const spec = TOOLS.get(command);
  if (spec === undefined) {
    return { code: 1, stdout: '', stderr: `ERROR bad request: unknown command: ${command}\n` };
  }
  const flags: FlagSpec[] = [...spec.flags(env), ...(spec.output ? outputFlags(spec.formats) : [])];
  let warnings = '';
  const failed = (err: unknown): ToolResult => {
    if (!isSigilError(err)) {
      const message = err instanceof Error ? err.message : String(err);
      return { code: 1, stdout: '', stderr: `${warnings}ERROR ${message}\n` };
    }
    const hint = err.hint === undefined ? '' : ` (${err.hint})`;
    if (err.code !== 'invalid-params') return { code: 1, stdout: '', stderr: `${warnings}ERROR ${err.message}${hint}\n` };
    const usage = usageLine(spec.name, spec.args, flags);
    return { code: 2, stdout: '', stderr: `${warnings}ERROR ${err.message}${hint}\n${usage}\n` };
  };
  try {
    const parsed = parseArgs(flags, args);
    if (parsed.help) return { code: 0, stdout: helpText(spec.name, spec.args, spec.purpose, flags), stderr: '' };
    const call: ToolCall = {
      env,
      args: parsed.positional,
      parsed,
      // Without --format, 'smart' even where the flag's default says yaml (secret-get): as the tools
      // printed before: a key's value bare (a charm compares it as text), maps as YAML.
      format: (parsed.strings.get('format') ?? 'smart') as OutputFormat,
      stdin,
      cwd,
      warn: (text) => {
        warnings += text;
      },
    };
    const print = (value: GoValue | undefined): ToolResult => {
      if (spec.printsLine === true && typeof value === 'string') return { code: 0, stdout: value + '\n', stderr: warnings };
      if (value === undefined || !spec.output) return { code: 0, stdout: '', stderr: warnings };
      const text = formatOutput(value, call.format);
      const outPath = parsed.strings.get('o');
      if (outPath === undefined || outPath === '') return { code: 0, stdout: text, stderr: warnings };
      const abs = resolve(cwd, outPath);
      try {
        writeFileSync(abs, text);
      } catch (err) {
        throw fileError('open', abs, err);
      }
      return { code: 0, stdout: '', stderr: warnings };
    };
    const value = spec.run(call);
    if (value === NEED_STDIN) return { needStdin: true };
    if (value instanceof Promise) return value.then(print).catch(failed);
    return print(value);
  } catch (err) {
    return failed(err);
  }
}
