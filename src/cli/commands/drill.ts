/** `holoserve drill SCENARIO`: runs a failure drill on a running server; exit 1 when it fails. */
import { parseArgs } from 'node:util';
import { ADMIN_HELP, ADMIN_OPTIONS, adminRequest } from '../admin-client.js';
import type { Command } from '../command.js';

const HELP = `usage: holoserve drill SCENARIO [--inject] [--worker N] [--url URL] [--token TOKEN]
  scenarios: elevated-epsilon | role-cache-corruption | recall-latency-spike | worker-crash
  --inject     role-cache-corruption: first corrupt one role in memory and one in the role file
  --worker N   worker-crash: which worker exits
  Prints the report as JSON; exits 0 when it passes, 1 when it fails or cannot run.
${ADMIN_HELP}`;

export const command: Command = {
  name: 'drill',
  help: HELP,
  summary: 'run a failure drill (SEED §12) on a running server; exits 1 when it fails',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv, allowPositionals: true,
      options: { ...ADMIN_OPTIONS, inject: { type: 'boolean' }, worker: { type: 'string' } },
    });
    if (values.help) { process.stdout.write(HELP); return 0; }
    if (positionals.length !== 1) { process.stderr.write(HELP); return 2; }
    const params: Record<string, unknown> = { scenario: positionals[0] };
    if (values.inject) params.inject = true;
    if (values.worker !== undefined) params.worker = Number(values.worker);
    const r = await adminRequest(values, 'drill', params);
    return r?.pass === true ? 0 : 1;
  },
};
