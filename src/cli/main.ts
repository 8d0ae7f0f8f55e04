#!/usr/bin/env node
/**
 * `holoserve <subcommand> [args]`: the operator CLI. serve starts a server; the others talk to
 * a running one through its admin ops (--url, --token) and print JSON.
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from './command.js';
import { command as serve } from './commands/serve.js';
import { command as knobs } from './commands/knobs.js';
import { command as drill } from './commands/drill.js';
import { command as status } from './commands/status.js';
import { command as plan } from './commands/plan.js';
import { command as dimension } from './commands/dimension.js';
import { nearest } from '../knobs/load.js';

export const COMMANDS: Command[] = [serve, knobs, drill, status, plan, dimension];

export function usage(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: holoserve <command> [options]   (holoserve <command> --help for its options)',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(usage());
    return sub === undefined ? 2 : 0;
  }
  const c = COMMANDS.find((x) => x.name === sub);
  if (!c) {
    process.stderr.write(`holoserve: unknown command '${sub}' (did you mean '${nearest(sub, COMMANDS.map((x) => x.name))}'?)\n${usage()}`);
    return 2;
  }
  try {
    return await c.run(rest);
  } catch (e) {
    // node:util parseArgs rejects unknown flags and missing values the same way for every
    // subcommand: usage error, exit 2, the command's help (any other error is a bug: rethrown).
    if (!String((e as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) throw e;
    const help = typeof c.help === 'function' ? c.help() : c.help;
    process.stderr.write(`holoserve ${c.name}: ${(e as Error).message}\n${help.endsWith('\n') ? help : `${help}\n`}`);
    return 2;
  }
}

// realpath: an installed package runs this through the node_modules/.bin/holoserve symlink
const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(resolve(process.argv[1]))).href;
if (isMain) {
  const code = await main(process.argv.slice(2));
  if (code !== 0) process.exit(code);
}
