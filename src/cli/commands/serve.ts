/**
 * `holoserve serve [--log-format json|pretty]`: starts the server (config from HOLOSERVE_CONFIG
 * and the environment).
 */
import type { Command } from '../command.js';
import { configureLog } from '../../log.js';
import { runServer } from '../../main.js';

export const command: Command = {
  name: 'serve',
  summary: 'start the server (127.0.0.1:7878 by default; config from HOLOSERVE_CONFIG and HOLOSERVE_* variables)',
  async run(argv) {
    for (let i = 0; i < argv.length; i++) {
      const [flag, inline] = argv[i].split('=', 2);
      if (flag === '--log-format') {
        const v = inline ?? argv[++i];
        if (v !== 'json' && v !== 'pretty') {
          process.stderr.write(`holoserve serve: --log-format must be json or pretty, got ${v ?? 'nothing'}\n`);
          return 2;
        }
        configureLog({ format: v });
      } else {
        process.stderr.write(`holoserve serve: unknown argument ${argv[i]}\n`);
        return 2;
      }
    }
    return runServer();
  },
};
