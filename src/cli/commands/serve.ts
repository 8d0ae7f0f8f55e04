/** `holoserve serve`: starts the server (config from HOLOSERVE_CONFIG and the environment). */
import type { Command } from '../command.js';
import { runServer } from '../../main.js';

export const command: Command = {
  name: 'serve',
  summary: 'start the server (127.0.0.1:7878 by default; config from HOLOSERVE_CONFIG and HOLOSERVE_* variables)',
  async run(argv) {
    if (argv.length > 0) {
      process.stderr.write(`holoserve serve: unexpected argument ${argv[0]}\n`);
      return 2;
    }
    return runServer();
  },
};
