/** `holoserve status`: readiness, workers, tenants loaded, caches and truth-budget use, as JSON. */
import { parseArgs } from 'node:util';
import { ADMIN_HELP, ADMIN_OPTIONS, adminRequest, urlOf } from '../admin-client.js';
import type { Command } from '../command.js';

const HELP = `usage: holoserve status [--url URL] [--token TOKEN]
  Asks GET /readyz; when ready, the admin op status (workers, tenants loaded, caches, budget use).
  Exits 0 when ready, 1 otherwise.
${ADMIN_HELP}`;

export const command: Command = {
  name: 'status',
  help: HELP,
  summary: 'readiness, workers, tenants loaded, caches and truth-budget use of a running server',
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: ADMIN_OPTIONS });
    if (values.help) { process.stdout.write(HELP); return 0; }
    const http = urlOf(values).replace(/^ws/, 'http').replace(/\/v1\/?$/, '');
    let ready: { status: number; text: string };
    try {
      const r = await fetch(`${http}/readyz`);
      ready = { status: r.status, text: (await r.text()).trim() };
    } catch (e) {
      process.stdout.write(JSON.stringify({ ready: false, reason: `unreachable: ${(e as Error).message}` }, null, 2) + '\n');
      return 1;
    }
    if (ready.status !== 200) {
      process.stdout.write(JSON.stringify({ ready: false, reason: ready.text }, null, 2) + '\n');
      return 1;
    }
    return (await adminRequest(values, 'status', {})) ? 0 : 1;
  },
};
