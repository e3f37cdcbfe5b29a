import { debugPaths, debugSessionTarget, encodeDebugArgs, type DebugArgs } from '@sigil/core';

/** The client script's exit status when the machine has no tmux (nothing was written then). */
export const NO_TMUX = 86;
/** … and when it has no flock (util-linux). */
export const NO_FLOCK = 87;

/** `'…'` for bash, any byte allowed. */
function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * The script `debug-hooks` runs on the unit's machine (Juju's debug client, in Sigil's
 * words): it checks for tmux before it writes anything, takes the unit's entry lock (a
 * second client attaches to the session already there), writes the arguments the agent
 * reads, holds the exit lock while the operator is attached, creates the session named
 * after the unit and attaches to it. Whatever ends the attachment (the operator detaching,
 * the session killed, the connection dropped) kills the session, so the unit's hooks run
 * normally again.
 */
export function debugClientScript(root: string, unit: string, args: DebugArgs): string {
  const p = debugPaths(root, unit);
  const tmux = ['tmux', ...p.tmux].map(q).join(' ');
  const target = q(debugSessionTarget(unit));
  return `#!/bin/bash
command -v tmux >/dev/null 2>&1 || exit ${NO_TMUX}
command -v flock >/dev/null 2>&1 || exit ${NO_FLOCK}
unset TMUX TMUX_PANE
mkdir -p ${q(p.tmp)} || exit 1
(
  if ! flock -n 8; then
    echo "Found an existing debug session for ${unit}, attaching to it" >&2
    exec ${tmux} attach-session -t ${target}
  fi
  (
    exec 8>&-
    printf '%s' ${q(encodeDebugArgs(args))} > ${q(p.args)}
    flock -n 9 || exit 1
    end_session() { ${tmux} kill-session -t ${target} 2>/dev/null; }
    trap end_session EXIT
    (
      exec 9>&-
      start=${q(root === '/' ? '/var/lib/sigil' : root)}
      [ -d "$start" ] || start="$HOME"
      ${tmux} has-session -t ${target} 2>/dev/null || ${tmux} new-session -d -s ${q(unit)} -c "$start" || exit 1
      ${tmux} attach-session -t ${target}
    )
  ) 9>${q(p.exitLock)}
) 8>>${q(p.args)}
`;
}

/**
 * How the script is started over ssh: sent base64-encoded as Juju sends it, so no quoting
 * can break it, and run from memory (no temporary file left on the machine).
 */
export function remoteCommand(script: string): string {
  const b64 = Buffer.from(script, 'utf8').toString('base64');
  return `S=$(echo ${b64} | base64 -d) && exec /bin/bash -c "$S"`;
}
