/**
 * The few terminal colours Juju's tabular output uses (cmd/output/output.go), as ANSI SGR
 * foreground codes written the way juju/ansiterm writes them. Whether to colour at all is
 * the caller's decision (a TTY on stdout, or a --color flag); nothing here looks at the
 * terminal.
 */

export type Colour = 'green' | 'yellow' | 'red' | 'cyan';

const SGR: Record<Colour, string> = {
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  cyan: '\x1b[36m',
};
const RESET = '\x1b[0m';

// Juju's good / busy / bad sets (reference §5.1); statuses outside them stay uncoloured,
// as `waiting` does in Juju.
const STATUS_COLOURS: Record<string, Colour> = {
  active: 'green',
  running: 'green',
  idle: 'green',
  started: 'green',
  executing: 'green',
  attaching: 'green',
  attached: 'green',
  allocating: 'yellow',
  lost: 'yellow',
  maintenance: 'yellow',
  pending: 'yellow',
  rebooting: 'yellow',
  stopped: 'yellow',
  unknown: 'yellow',
  detaching: 'yellow',
  detached: 'yellow',
  blocked: 'red',
  down: 'red',
  error: 'red',
  failed: 'red',
  terminated: 'red',
};

// cmd/juju/crossmodel RelationStatusColor, plus `error`, which Juju leaves uncoloured.
const RELATION_COLOURS: Record<string, Colour> = {
  joined: 'green',
  suspended: 'yellow',
  broken: 'red',
  error: 'red',
};

export function statusColour(status: string): Colour | undefined {
  return STATUS_COLOURS[status];
}

export function relationStatusColour(status: string): Colour | undefined {
  return RELATION_COLOURS[status];
}

/** Wraps non-empty text in the colour's escape codes; empty text stays empty. */
export function paint(text: string, colour: Colour): string {
  return text === '' ? text : SGR[colour] + text + RESET;
}

// CSI sequences only: that is all this module (and Juju) ever emits.
const ANSI_RE = /\x1b\[[0-9;]*[A-Za-z]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI_RE, '');
}

/** Width on screen: code points, ignoring escape codes (as juju/ansiterm's tabwriter counts). */
export function visibleWidth(text: string): number {
  let n = 0;
  for (const _ of stripAnsi(text)) n++;
  return n;
}
