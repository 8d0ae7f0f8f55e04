/**
 * Settings from their sources, later wins: the table's defaults ← the JSON config file
 * (--config or HOLOSERVE_CONFIG) ← environment (HOLOSERVE_<UPPER_SNAKE>, plus HOST and PORT)
 * ← knobs.json in dataDir (live knobs changed at run time, restart keeps them) ← command-line
 * flags (--kebab-case). Everything is checked by the one validator below; an unknown name in
 * any source is an error naming the nearest valid one, and a file's errors name the file.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { envName, flagName, NAMES, rangeText, spec, TABLE, type Config, type KnobName } from './table.js';

/** HOLOSERVE_* variables that are not settings (read by the CLI or other rooms). */
export const EXTRA_ENV = new Set(['HOLOSERVE_CONFIG', 'HOLOSERVE_URL', 'HOLOSERVE_TOKEN', 'HOLOSERVE_FUZZ_FRAMES', 'HOLOSERVE_FUZZ_SEED']);

export class ConfigError extends Error {}

/** Levenshtein distance (two rows). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The candidate closest to `name` (case-insensitive edit distance). */
export function nearest(name: string, candidates: Iterable<string>): string {
  let best = '', bd = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bd) { bd = d; best = c; }
  }
  return best;
}

/** Why `v` is not a valid value of knob `name` ("must be ... got ..."), or undefined. */
export function problem(name: string, v: unknown): string | undefined {
  const s = spec(name);
  const got = `got ${typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'a list' : String(v)}`;
  switch (s.kind) {
    case 'int':
    case 'number': {
      const ok = typeof v === 'number' && Number.isFinite(v) && (s.kind === 'number' || Number.isInteger(v))
        && (s.minExclusive ? v > s.min! : v >= s.min!) && v <= s.max!;
      if (!ok) return `must be ${s.kind === 'int' ? 'an integer' : 'a number'} in ${rangeText(s)}, ${got}`;
      break;
    }
    case 'boolean':
      if (typeof v !== 'boolean') return `must be true or false, ${got}`;
      break;
    case 'enum':
      if (!s.values!.includes(v as string)) return `must be one of ${rangeText(s)}, ${got}`;
      break;
    case 'string':
      if (typeof v !== 'string') return `must be a string, ${got}`;
      break;
    case 'strings':
      if (!Array.isArray(v) || v.some((t) => typeof t !== 'string')) return `must be a list of strings, ${got}`;
      break;
    case 'json':
      if (name === 'tokens') {
        if (!Array.isArray(v) || v.some((t) => typeof t !== 'object' || t === null || typeof t.salt !== 'string' || !/^[0-9a-f]{64}$/.test(t.sha256) || !Array.isArray(t.tenants)
          || (t.admin !== undefined && typeof t.admin !== 'boolean'))) {
          return 'entries must be {salt: string, sha256: 64 hex chars, tenants: string[], admin?: boolean}';
        }
      }
      break;
  }
  return (s.check as ((x: unknown) => string | undefined) | undefined)?.(v);
}

/** Checks one value; throws ConfigError "config.NAME must be …" (prefixed with where it came from). */
export function check(name: string, v: unknown, where = ''): void {
  const p = problem(name, v);
  if (p) throw new ConfigError(`${where}config.${name} ${p}`);
}

/**
 * The one rule across live settings (checked at load and on every live change, live.ts):
 * eviction stops below where it starts. The message names the settings; callers prefix it.
 */
export function waterProblem(k: { lowWater: unknown; highWater: unknown }): string | undefined {
  return (k.lowWater as number) < (k.highWater as number) ? undefined : `lowWater must be < highWater, got ${String(k.lowWater)} ≥ ${String(k.highWater)}`;
}

/** Rules across settings; `where` names the sources of the settings involved. */
export function checkTogether(c: Config, where: (names: KnobName[]) => string = () => ''): void {
  const water = waterProblem(c);
  if (water) throw new ConfigError(`${where(['lowWater', 'highWater'])}config.${water}`);
  if (c.maxFrameBytes < 4 * c.dim + 1024) throw new ConfigError(`${where(['maxFrameBytes', 'dim'])}config.maxFrameBytes must be ≥ 4·dim + 1024 = ${4 * c.dim + 1024} (a vector and its reply must fit in a frame), got ${c.maxFrameBytes}`);
  if (c.graphMaxBytes > c.graphBytesPerWorker) throw new ConfigError(`${where(['graphMaxBytes', 'graphBytesPerWorker'])}config.graphMaxBytes must be ≤ config.graphBytesPerWorker (a graph must fit its worker), got ${c.graphMaxBytes} > ${c.graphBytesPerWorker}`);
  if (c.advertiseUrl !== '' && c.store !== 'redis') throw new ConfigError(`${where(['advertiseUrl', 'store'])}config.advertiseUrl (tenant ownership across processes) needs config.store 'redis', got ${JSON.stringify(c.store)}`);
  if (c.prewarmRoles.length > c.roleTableCapacity) throw new ConfigError(`${where(['prewarmRoles', 'roleTableCapacity'])}config.prewarmRoles has more roles than config.roleTableCapacity`);
}

/** Parses a string (env or flag) into the knob's type; throws naming the source. */
export function parse(name: string, raw: string, where: string): unknown {
  const s = spec(name);
  switch (s.kind) {
    case 'int':
    case 'number': {
      const v = raw.trim() === '' ? NaN : Number(raw);
      if (Number.isNaN(v)) throw new ConfigError(`${where}config.${name} must be a number in ${rangeText(s)}, got ${JSON.stringify(raw)}`);
      return v;
    }
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new ConfigError(`${where}config.${name} must be true or false, got ${JSON.stringify(raw)}`);
    case 'strings':
    case 'json':
      try {
        return JSON.parse(raw);
      } catch (e) {
        throw new ConfigError(`${where}config.${name} must be JSON (${(e as Error).message})`);
      }
    default:
      return raw;
  }
}

export interface Sources {
  /** the JSON config file (null: none) */
  file?: string | null;
  env?: NodeJS.ProcessEnv;
  /** command-line values, by knob name, already typed or as strings */
  flags?: Partial<Record<KnobName, unknown>>;
  /** read dataDir/knobs.json (default true) */
  persisted?: boolean;
}

export interface Loaded {
  cfg: Config;
  /** where each setting not at its default came from */
  origin: Partial<Record<KnobName, string>>;
  /** the config file read, if any */
  file: string | null;
}

/** The file live knobs changed at run time are kept in. */
export const knobsFile = (dataDir: string): string => join(dataDir, 'knobs.json');

function readJson(path: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${what} ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${what} ${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${what} ${path}: must hold a JSON object of settings`);
  return v as Record<string, unknown>;
}

/** Loads and validates the configuration from every source. */
export function load(src: Sources = {}): Loaded {
  const env = src.env ?? process.env;
  const set: Partial<Record<KnobName, unknown>> = {};
  const origin: Partial<Record<KnobName, string>> = {};
  const file = src.file !== undefined ? src.file : (env.HOLOSERVE_CONFIG || null);

  if (file) {
    const where = `config file ${file}: `;
    for (const [k, v] of Object.entries(readJson(file, 'config file'))) {
      if (!(k in TABLE)) throw new ConfigError(`${where}unknown setting '${k}' (did you mean '${nearest(k, NAMES)}'?)`);
      check(k, v, where);
      set[k as KnobName] = v;
      origin[k as KnobName] = `config file ${file}`;
    }
  }

  const byEnv = new Map<string, KnobName>();
  for (const n of NAMES) {
    byEnv.set(envName(n), n);
    for (const a of spec(n).envAliases ?? []) byEnv.set(a, n);
  }
  for (const [k, raw] of Object.entries(env)) {
    if (raw === undefined) continue;
    const n = byEnv.get(k);
    if (n === undefined) {
      if (k.startsWith('HOLOSERVE_') && !EXTRA_ENV.has(k)) {
        throw new ConfigError(`environment: unknown variable ${k} (did you mean ${nearest(k, [...byEnv.keys()].filter((e) => e.startsWith('HOLOSERVE_')).concat([...EXTRA_ENV]))}?)`);
      }
      continue;
    }
    if ((k === 'HOST' || k === 'PORT') && raw === '') continue;
    const where = `environment ${k}: `;
    const v = parse(n, raw, where);
    check(n, v, where);
    set[n] = v;
    origin[n] = `env ${k}`;
  }

  // dataDir is known now (flags may still move it): the live knobs kept at run time.
  const flags = src.flags ?? {};
  for (const [k, v] of Object.entries(flags)) {
    if (!(k in TABLE)) throw new ConfigError(`unknown flag --${flagName(k)} (did you mean --${flagName(nearest(k, NAMES))}?)`);
  }
  const dataDir = (flags.dataDir ?? set.dataDir ?? TABLE.dataDir.default) as string;
  const kept = knobsFile(dataDir);
  if ((src.persisted ?? true) && existsSync(kept)) {
    const where = `${kept}: `;
    for (const [k, v] of Object.entries(readJson(kept, 'live knobs file'))) {
      if (!(k in TABLE) || !spec(k).live) throw new ConfigError(`${where}'${k}' is not a live knob (did you mean '${nearest(k, NAMES.filter((n) => spec(n).live))}'?)`);
      check(k, v, where);
      set[k as KnobName] = v;
      origin[k as KnobName] = kept;
    }
  }

  for (const [k, raw] of Object.entries(flags)) {
    const where = `flag --${flagName(k)}: `;
    const v = typeof raw === 'string' ? parse(k, raw, where) : raw; // parse keeps string and enum values as they are
    check(k, v, where);
    set[k as KnobName] = v;
    origin[k as KnobName] = `flag --${flagName(k)}`;
  }

  const cfg: Record<string, unknown> = {};
  for (const n of NAMES) {
    const d = spec(n).default;
    cfg[n] = n in set ? set[n] : typeof d === 'function' ? (d as (c: Record<string, unknown>) => unknown)(cfg) : d;
  }
  checkTogether(cfg as Config, (names) => {
    const from = [...new Set(names.map((n) => origin[n]).filter((o) => o !== undefined))];
    return from.length > 0 ? `${from.join(', ')}: ` : '';
  });
  return { cfg: cfg as Config, origin, file };
}
