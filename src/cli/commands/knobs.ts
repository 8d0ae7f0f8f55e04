/** `holoserve knobs [get | set NAME=VALUE ... | reload]`: the live knobs of a running server. */
import { parseArgs } from 'node:util';
import { ADMIN_HELP, ADMIN_OPTIONS, adminRequest } from '../admin-client.js';
import type { Command } from '../command.js';

const HELP = `usage: holoserve knobs [get | set NAME=VALUE ... | reload] [--url URL] [--token TOKEN]
  get      (default) every live knob, the truth budget, the ranges, where they are kept
  set      change knobs at once, validated together (a bad value changes nothing); kept across restarts
  reload   re-read the config file (as SIGHUP does): the live knobs take its values
${ADMIN_HELP}`;

export const command: Command = {
  name: 'knobs',
  help: HELP,
  summary: 'read or change the live knobs and the truth budget of a running server, or reload its config',
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, options: ADMIN_OPTIONS, allowPositionals: true });
    if (values.help) { process.stdout.write(HELP); return 0; }
    const [action = 'get', ...rest] = positionals;
    if (action === 'get' && rest.length === 0) return (await adminRequest(values, 'knobs', {})) ? 0 : 1;
    if (action === 'reload' && rest.length === 0) return (await adminRequest(values, 'knobs', { reload: true })) ? 0 : 1;
    if (action === 'set' && rest.length > 0) {
      const set: Record<string, string> = {};
      for (const a of rest) {
        const i = a.indexOf('=');
        if (i <= 0) { process.stderr.write(`holoserve: '${a}' is not NAME=VALUE\n`); return 2; }
        set[a.slice(0, i)] = a.slice(i + 1); // strings: the server parses them by the knob table
      }
      return (await adminRequest(values, 'knobs', { set })) ? 0 : 1;
    }
    process.stderr.write(HELP);
    return 2;
  },
};
