import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureHostLimits } from './host.ts';

describe('ensureHostLimits', () => {
  it('raises the inotify limits below their least, leaves higher ones, and says what it changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigil-procsys-'));
    try {
      mkdirSync(join(dir, 'fs', 'inotify'), { recursive: true });
      writeFileSync(join(dir, 'fs/inotify/max_user_instances'), '128\n');
      writeFileSync(join(dir, 'fs/inotify/max_user_watches'), '1048576\n');
      const lines: string[] = [];
      await ensureHostLimits((l) => lines.push(l), dir);
      expect(readFileSync(join(dir, 'fs/inotify/max_user_instances'), 'utf8')).toBe('1024\n');
      expect(readFileSync(join(dir, 'fs/inotify/max_user_watches'), 'utf8')).toBe('1048576\n');
      expect(lines).toEqual(['raised fs.inotify.max_user_instances from 128 to 1024 (each LXC machine\'s systemd needs its share)']);
      await ensureHostLimits((l) => lines.push(l), dir);
      expect(lines).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
