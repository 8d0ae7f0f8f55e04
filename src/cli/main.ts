#!/usr/bin/env node
/**
 * `holoserve <sub> ...`: dispatches to src/cli/commands/<sub>.ts. With no subcommand it serves.
 */
import type { Command } from './command.js';
import { command as serve } from './commands/serve.js';

const COMMANDS: Command[] = [serve];

function help(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return ['usage: holoserve <command> [args]', '', ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`), ''].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [sub = 'serve', ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(help());
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === sub);
  if (!cmd) {
    process.stderr.write(`holoserve: unknown command ${sub}\n${help()}`);
    return 2;
  }
  return cmd.run(rest);
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`holoserve: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
