import { describe, expect, it } from 'vitest';
import { formatDuration } from './duration.ts';

describe('formatDuration', () => {
  it.each([
    [250, '250ms'],
    [1_500, '1.5s'],
    [9_960, '10.0s'],
    [42_400, '42s'],
    [59_600, '1m'],
    [119_600, '2m'],
    [78_000, '1m18s'],
    [3_725_000, '62m5s'],
  ])('%d ms is %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});
