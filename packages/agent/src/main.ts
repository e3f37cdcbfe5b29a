import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MachineAgent, type AgentConfig } from './machine-agent.ts';

/** Composition root of the machine agent: `agent.mjs <agent.json>`. */
const path = process.argv[2];
if (!path) {
  process.stderr.write('usage: agent.mjs <agent.json>\n');
  process.exit(2);
}
const raw = JSON.parse(readFileSync(path, 'utf8')) as Omit<AgentConfig, 'toolBinary'>;
const config: AgentConfig = { ...raw, configPath: path, toolBinary: join(dirname(fileURLToPath(import.meta.url)), 'sigil-hook-tool') };
const abort = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => abort.abort());
await new MachineAgent(config).run(abort.signal);
process.exit(0);
