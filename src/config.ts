/**
 * The configuration's door for the rest of the server: the settings are defined in
 * src/knobs/table.ts (one table) and loaded by src/knobs/load.ts (flags > knobs.json > env >
 * file > defaults). Kept so rooms import `Config` from one short path.
 */
import { load, type Sources } from './knobs/load.js';
import type { Config } from './knobs/table.js';

export type { Config, Knobs } from './knobs/table.js';
export { defaultPrewarmRoles } from './knobs/table.js';

/** Loads defaults ← file ← environment ← knobs.json ← overrides (as flags), then validates. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}, src: Sources = {}): Config {
  return load({ ...src, env, flags: { ...src.flags, ...overrides } }).cfg;
}

/** True for 127.0.0.0/8, ::1 and localhost: the addresses that need no auth. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
