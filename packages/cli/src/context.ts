import { createInterface } from 'node:readline/promises';
import { SigilError } from '@sigil/core';
import { Home } from './home.ts';
import { Client } from './client.ts';
import { formatOutput, type OutputFormat } from './render/output.ts';

/** What every command handler gets: where state lives, how to print, how to reach the controller. */
export class Ctx {
  readonly home = new Home();
  readonly tty = process.stdout.isTTY === true;

  out(text: string): void {
    process.stdout.write(text.endsWith('\n') || text === '' ? text : text + '\n');
  }

  /** Progress and notices go to stderr, so stdout stays parseable. */
  info(text: string): void {
    process.stderr.write(text + '\n');
  }

  client(model?: string): Client {
    return Client.open(this.home, model);
  }

  print(data: unknown, format: string | undefined, tabular: () => string): void {
    if (format === undefined || format === 'tabular') this.out(tabular());
    else if (format === 'json' || format === 'yaml') this.out(formatOutput(data, format as OutputFormat));
    else throw new SigilError('bad-request', `unknown format "${format}"`, 'use --format tabular, yaml or json');
  }

  /** Destructive commands ask first; without a terminal they need --yes (or Juju's --no-prompt). */
  async confirm(question: string, opts: { yes?: boolean; prompt?: boolean }): Promise<void> {
    if (opts.yes || opts.prompt === false) return;
    if (!process.stdin.isTTY) {
      throw new SigilError('bad-request', `refusing to ${question} without confirmation`, 'pass --yes (or --no-prompt) to confirm');
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question(`${question}? Continue [y/N]? `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) throw new SigilError('bad-request', 'aborted');
  }
}

export interface FormatOpt {
  format?: string;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
