#!/usr/bin/env node
/**
 * `holoserve <sub> ...`: dispatches to src/cli/commands/<sub>.ts. (Minimal dispatcher; the
 * serve/knobs/drill/status commands join COMMANDS on their branch.)
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from './command.js';
import { command as dimension } from './commands/dimension.js';
import { command as plan } from './commands/plan.js';

const COMMANDS: Command[] = [plan, dimension];

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(`usage: holoserve <command> [options]  (holoserve <command> --help)\n\n${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}\n`);
    return sub === undefined ? 2 : 0;
  }
  const c = COMMANDS.find((x) => x.name === sub);
  if (!c) {
    process.stderr.write(`holoserve: unknown command '${sub}' (commands: ${COMMANDS.map((x) => x.name).join(', ')})\n`);
    return 2;
  }
  return c.run(rest);
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    process.stderr.write(`holoserve: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
