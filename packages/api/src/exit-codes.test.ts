import { describe, expect, it } from 'vitest';
import { ERROR_EXIT_CODES, EXIT, exitCodeOf } from './exit-codes.ts';

describe('exit codes', () => {
  it('keeps Juju\'s 1 for a failed command, and gives what a script may act on its own code', () => {
    expect(exitCodeOf('invalid-config')).toBe(EXIT.failed);
    expect(exitCodeOf('conflict')).toBe(EXIT.failed);
    expect(exitCodeOf('internal')).toBe(1);
    expect(exitCodeOf('not-found')).toBe(3);
    expect(exitCodeOf('unauthorized')).toBe(4);
    expect(exitCodeOf('forbidden')).toBe(4);
    expect(exitCodeOf('unavailable')).toBe(5);
    expect(exitCodeOf('timeout')).toBe(5);
    // 2 is the command line's own (commander), never an API error's.
    expect(Object.values(ERROR_EXIT_CODES)).not.toContain(EXIT.usage);
  });
});
