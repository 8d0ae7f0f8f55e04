/**
 * The live knobs of a running server: one object, changed only through `set` (the knobs op,
 * `holoserve knobs set`, a config reload), which validates every change with the table's one
 * validator before applying any (nothing half-applied), logs each change (who, old → new),
 * exports it (holoserve_knob{name}), persists the run-time changes in dataDir/knobs.json (a
 * restart keeps them), bumps the version and tells its listeners. Workers never see a knob
 * change mid-batch: every batch task carries the values it was dispatched with (snapshot()).
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { HoloError } from '../errors.js';
import { knobsFile, nearest, parse, problem, waterProblem } from './load.js';
import { BUDGET, LIVE_NAMES, NAMES, rangeText, spec, type Config, type Knobs } from './table.js';

export interface Change { name: string; old: unknown; new: unknown }

export class LiveKnobs {
  private frozen: Knobs;
  version = 0;
  private readonly listeners: ((k: Knobs, changes: Change[]) => void)[] = [];
  /** the knobs changed at run time (what knobs.json holds) */
  private readonly runtime: Partial<Record<string, unknown>>;

  constructor(cfg: Config, private readonly file: string, private readonly log: (fields: Record<string, unknown>, msg: string) => void, runtime: Record<string, unknown> = {}) {
    this.frozen = Object.freeze(pick(cfg));
    this.runtime = { ...runtime };
  }

  /** The current values (frozen: a batch keeps the set it was given). */
  snapshot(): Knobs {
    return this.frozen;
  }

  onChange(f: (k: Knobs, changes: Change[]) => void): void {
    this.listeners.push(f);
    f(this.frozen, []);
  }

  /**
   * Validates all of `changes` (values typed, or strings as on the command line), then applies
   * them at once. persist: record them in knobs.json (false for a reload, which clears it).
   * @throws HoloError bad_request naming the knob and its range; nothing is applied then
   */
  set(changes: Record<string, unknown>, who: string, persist = true): Change[] {
    const next: Record<string, unknown> = { ...this.frozen };
    for (const [k, raw] of Object.entries(changes)) {
      if (!LIVE_NAMES.includes(k as never)) {
        const hint = NAMES.includes(k as never) ? `'${k}' is restart-only (set it in the config and restart)` : `unknown knob '${k.slice(0, 64)}' (did you mean '${nearest(k, LIVE_NAMES)}'?)`;
        throw new HoloError('bad_request', hint);
      }
      let v = raw;
      if (typeof raw === 'string') {
        try { v = parse(k, raw, ''); } catch (e) { throw new HoloError('bad_request', (e as Error).message); }
      }
      const p = problem(k, v);
      if (p) throw new HoloError('bad_request', `knob ${k} ${p}`);
      next[k] = v;
    }
    const water = waterProblem(next as { lowWater: unknown; highWater: unknown });
    if (water) throw new HoloError('bad_request', `knob ${water}`);
    const done: Change[] = [];
    for (const k of Object.keys(changes)) {
      const old = (this.frozen as Record<string, unknown>)[k];
      if (old !== next[k]) done.push({ name: k, old, new: next[k] });
      if (persist) this.runtime[k] = next[k];
    }
    if (!persist) for (const k of Object.keys(this.runtime)) delete this.runtime[k];
    this.frozen = Object.freeze(next as Knobs);
    if (done.length > 0) this.version++;
    for (const c of done) this.log({ knob: c.name, old: c.old, new: c.new, by: who }, `knob ${c.name}: ${JSON.stringify(c.old)} → ${JSON.stringify(c.new)} (by ${who})`);
    this.save();
    for (const f of this.listeners) f(this.frozen, done);
    return done;
  }

  /** knobs.json: the run-time layer (removed when empty, e.g. after a reload). */
  private save(): void {
    if (Object.keys(this.runtime).length === 0) {
      rmSync(this.file, { force: true });
      return;
    }
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.runtime, null, 2) + '\n');
    renameSync(tmp, this.file);
  }

  /** What the knobs op answers: every live knob, the truth budget by its own names, where kept. */
  describe(): Record<string, unknown> {
    const budget: Record<string, unknown> = {};
    for (const [k, b] of BUDGET) budget[b] = (this.frozen as Record<string, unknown>)[k];
    const ranges: Record<string, string> = {};
    for (const k of LIVE_NAMES) ranges[k] = rangeText(spec(k));
    return { knobs: { ...this.frozen }, budget, version: this.version, persistedIn: this.file, ranges };
  }
}

export function pick(cfg: Config): Knobs {
  const k: Record<string, unknown> = {};
  for (const n of LIVE_NAMES) k[n] = cfg[n];
  return k as Knobs;
}

export { knobsFile };
