/**
 * The process's logger (pino): one JSON object per line on stdout,
 *   {"level":"info","time":"2026-…Z","pid":…,"msg":"ready on ws://…","port":7878,…}
 * with `thread` added in shard workers (each thread has its own logger on the same fd; a line
 * is one write(2), whole up to PIPE_BUF). Nothing is logged per request at the default level.
 *
 *   LOG_LEVEL    fatal | error | warn | info (default) | debug | trace | silent
 *   LOG_FORMAT   json | pretty (default: pretty when stdout is a terminal, else json)
 *
 * Workers read both from the environment they inherit, so configureLog writes them there
 * before the pool starts. Pretty is a dozen lines of ours below, not pino-pretty (which would
 * add a dependency tree to every install for a view only a human at a terminal uses).
 */
import { isatty } from 'node:tty';
import { isMainThread, threadId } from 'node:worker_threads';
import { pino, type DestinationStream, type Level } from 'pino';

export type LogFormat = 'json' | 'pretty';
const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function envFormat(): LogFormat {
  const f = process.env.LOG_FORMAT;
  if (f === 'json' || f === 'pretty') return f;
  return isatty(1) ? 'pretty' : 'json';
}

const badLevel = process.env.LOG_LEVEL !== undefined && !LEVELS.includes(process.env.LOG_LEVEL.toLowerCase());

function envLevel(): Level | 'silent' {
  const l = process.env.LOG_LEVEL?.toLowerCase();
  return l !== undefined && !badLevel ? (l as Level) : 'info';
}

const stdout = pino.destination({ fd: 1, sync: true });
let format = envFormat();

const COLOR: Record<string, string> = { fatal: '\x1b[41m', error: '\x1b[31m', warn: '\x1b[33m', info: '\x1b[32m', debug: '\x1b[90m', trace: '\x1b[90m' };
const OMIT = new Set(['level', 'time', 'pid', 'msg']);

/** One JSON line → `12:00:00.123 INFO  msg key=value …` (colored on a terminal). */
export function prettyLine(line: string, color = isatty(1)): string {
  const o = JSON.parse(line) as Record<string, unknown>;
  const level = String(o.level);
  const tag = level.toUpperCase().padEnd(5);
  const msg = String(o.msg ?? '');
  // fields the message already shows (the ready line's url, port, …) are not repeated
  const fields = Object.entries(o).filter(([k, v]) => !OMIT.has(k) && !(typeof v !== 'object' && msg.includes(String(v))))
    .map(([k, v]) => (k === 'err' && typeof v === 'object' && v !== null && 'stack' in v ? `\n${String(v.stack)}` : ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`));
  const time = typeof o.time === 'string' ? o.time.slice(11, 23) : '';
  return `${time} ${color ? `${COLOR[level] ?? ''}${tag}\x1b[0m` : tag} ${msg}${fields.join('')}\n`;
}

const out: DestinationStream = {
  write(line: string) {
    if (format === 'json') stdout.write(line);
    else stdout.write(prettyLine(line));
  },
};

export const log = pino({
  level: envLevel(),
  base: isMainThread ? { pid: process.pid } : { pid: process.pid, thread: threadId },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
}, out);
if (badLevel && isMainThread) log.warn(`LOG_LEVEL=${process.env.LOG_LEVEL} is not one of ${LEVELS.join(', ')}: logging at info`);

/** Sets the format and level here and, through the environment, in workers started later. */
export function configureLog(o: { format?: LogFormat; level?: string }): void {
  if (o.format) {
    format = o.format;
    process.env.LOG_FORMAT = o.format;
  }
  if (o.level !== undefined) {
    if (!LEVELS.includes(o.level)) throw new Error(`log level must be one of ${LEVELS.join(', ')}, got ${o.level}`);
    log.level = o.level;
    process.env.LOG_LEVEL = o.level;
  }
}
