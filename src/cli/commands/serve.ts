/**
 * `holoserve serve [--config FILE] [--log-format json|pretty] [--<setting> VALUE ...]`: starts the server. Every setting of
 * the knob table is a flag (--batch-window-ms 2); flags > dataDir/knobs.json > env > file >
 * defaults. SIGTERM/SIGINT drain and exit 0; SIGHUP reloads the live knobs from the file.
 */
import { parseArgs } from 'node:util';
import { ConfigError, load, nearest, type Loaded } from '../../knobs/load.js';
import { flagName, NAMES, rangeText, spec, type Config, type KnobName } from '../../knobs/table.js';
import type { Command } from '../command.js';
import { configureLog, log, type LogFormat } from '../../log.js';

type Opt = { type: 'string' | 'boolean'; short?: string };

function options(): Record<string, Opt> {
  const o: Record<string, Opt> = { config: { type: 'string' }, 'log-format': { type: 'string' }, help: { type: 'boolean', short: 'h' } };
  for (const n of NAMES) {
    const bool = spec(n).kind === 'boolean';
    o[flagName(n)] = { type: bool ? 'boolean' : 'string' };
    if (bool) o[`no-${flagName(n)}`] = { type: 'boolean' }; // --no-rerank sets false
  }
  return o;
}

function help(): string {
  const lines = ['usage: holoserve serve [--config FILE] [--log-format json|pretty] [--<setting> VALUE ...]', '',
    'Starts the server. Sources, later wins: defaults < --config FILE (or $HOLOSERVE_CONFIG) < HOLOSERVE_* env',
    '< <dataDir>/knobs.json (live knobs changed at run time) < flags. Boolean flags take no value',
    '(--rerank sets true, --no-rerank false).', '',
    'Logs: JSON lines on stdout; LOG_LEVEL (fatal|error|warn|info|debug|trace|silent, default info) and',
    'LOG_FORMAT (json|pretty; default pretty on a terminal, else json) from the environment.', '',
    '  --config FILE                 JSON object of settings',
    '  --log-format json|pretty      log line format (overrides LOG_FORMAT)'];
  for (const n of NAMES) {
    const s = spec(n);
    const d = s.defaultDoc ?? JSON.stringify(s.default);
    lines.push(`  --${flagName(n)}${s.kind === 'boolean' ? '' : ' V'}`.padEnd(32) + `${s.doc} [${rangeText(s)}; default ${d}${s.unit ? `; ${s.unit}` : ''}${s.live ? '; live' : ''}]`);
  }
  return lines.join('\n') + '\n';
}

/** argv → { file, flags } by the knob table; unknown flags name the nearest valid one. */
export function parseServeArgs(argv: string[]): { file?: string; logFormat?: LogFormat; flags: Partial<Record<KnobName, unknown>>; help: boolean } {
  const opts = options();
  const { tokens } = parseArgs({ args: argv, options: opts, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens ?? []) {
    if (t.kind === 'positional') throw new ConfigError(`unexpected argument '${t.value}' (settings are flags: --name value)`);
    if (t.kind === 'option' && !(t.name in opts)) throw new ConfigError(`unknown flag --${t.name} (did you mean --${nearest(t.name, Object.keys(opts))}?)`);
  }
  const { values } = parseArgs({ args: argv, options: opts, strict: true, allowPositionals: false });
  const flags: Partial<Record<KnobName, unknown>> = {};
  for (const n of NAMES) {
    const v = values[flagName(n)];
    if (v !== undefined) flags[n] = v;
    if (values[`no-${flagName(n)}`] === true) flags[n] = false;
  }
  const logFormat = values['log-format'] as string | undefined;
  if (logFormat !== undefined && logFormat !== 'json' && logFormat !== 'pretty') throw new ConfigError(`--log-format must be json or pretty, got ${logFormat}`);
  return { file: values.config as string | undefined, logFormat, flags, help: values.help === true };
}

type StartFn = typeof import('../../main.js').start;

/** Runs `serve` with main.ts's start (passed in: main.ts runs this when it is the entry). */
export async function serveWith(start: StartFn, argv: string[]): Promise<number> {
    let loaded: Loaded;
    let reread: () => Config;
    try {
      const a = parseServeArgs(argv);
      if (a.help) { process.stdout.write(help()); return 0; }
      if (a.logFormat) configureLog({ format: a.logFormat });
      reread = () => load({ file: a.file, flags: a.flags, persisted: false }).cfg;
      loaded = load({ file: a.file, flags: a.flags });
    } catch (e) {
      process.stderr.write(`holoserve: bad configuration: ${(e as Error).message}\n`);
      return 2;
    }
    const persisted: Record<string, unknown> = {};
    for (const [k, o] of Object.entries(loaded.origin)) if (o?.endsWith('knobs.json')) persisted[k] = loaded.cfg[k as KnobName];
    if (Object.keys(persisted).length > 0) log.info({ knobs: persisted }, `live knobs kept from the last run (${Object.keys(persisted).join(', ')})`);
    // The handlers go in before start() can print "ready": a SIGTERM right after the ready line
    // (or during start-up) must drain and exit 0, not meet the default action and kill the process.
    const started = start(loaded.cfg, { reload: reread, persisted });
    const onSignal = (sig: string) => {
      log.info({ signal: sig }, `${sig}: shutting down`);
      started.then(({ stop }) => stop()).then(() => process.exit(0), (e: unknown) => { log.fatal({ err: e }, 'shutdown failed'); process.exit(1); });
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGHUP', () => {
      started.then(({ reload }) => reload('SIGHUP')).then(
        (r) => log.info({ changed: r.changed }, `SIGHUP: configuration reloaded (${(r.changed as unknown[]).length} knobs changed)`),
        (e: unknown) => log.error({ err: e }, `SIGHUP: ${(e as Error).message}`));
    });
    try {
      await started;
      return 0;
    } catch (e) {
      log.fatal({ err: e }, `failed to start: ${(e as Error).message}`);
      process.exit(1);
    }
}

export const command: Command = {
  name: 'serve',
  help,
  summary: 'start the server (every setting is a flag; see holoserve serve --help)',
  async run(argv) {
    const { start } = await import('../../main.js');
    return serveWith(start, argv);
  },
};

