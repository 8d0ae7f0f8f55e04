/**
 * The rolling dimension increase on the main thread (SEED §11; docs/MEMORY.md "Changing D"):
 * the admin op `dimension {action: shadow | status | switch | rollback | finalize}`.
 *
 *   shadow D′   every worker opens a second engine and store at D′; each tenant is rebuilt
 *               there in the background (worker/dimension.ts rebuildChunk), a slice of at most
 *               chunkMs at a time, then the worker rests chunkMs·(1 − share)/share, so the
 *               rebuild takes at most `share` of each worker's time; writes are dual-written.
 *   status      coverage, unmovable items, and the quality at both D (measure): reconstruction
 *               cosine per record, its delta |cos_D′ − cos_D| (p50/p95/max), cleanup score and
 *               accuracy, recall margin and top-k agreement of replayed recent text recalls.
 *   switch      under the dispatcher's barrier (no batch in flight anywhere), every worker
 *               swaps served and other, the main thread swaps role table, vector arena,
 *               hello.dim and limits; the state file then says 'switched'.
 *   rollback    the same swap back (until finalize); the rollout is then 'shadow' again.
 *   finalize    the old D's engines, slabs and store directory are dropped.
 *
 *   coverage = (Σ_t min(processed_t, total_t) − unmovable) / Σ_t total_t   (1 when there is nothing)
 * with total_t the items + anchors of tenant t counted when its rebuild began; a tenant created
 * during the rollout is dual-written whole and counts only through its unmovable items.
 */
import { rmSync } from 'node:fs';
import { HoloError } from '../errors.js';
import type { Config } from '../config.js';
import { isSupportedDim, MAX_DIM, MIN_DIM } from '../kernels/check.js';
import type { ShardPool } from '../pool/pool.js';
import type { ShardMap } from '../pool/shard.js';
import type { Dispatcher } from '../batch/dispatcher.js';
import type { Metrics } from '../metrics/registry.js';
import { createRoleTableBuffer, RoleTable } from '../roles/table.js';
import type { ChunkResult, MeasureRaw } from '../worker/dimension.js';
import { dirFor, readDimensionState, storeDir, writeDimensionState, type Cursor, type DimensionState } from './state.js';
import { quality, type Quality } from './quality.js';

export interface RolloutSettings {
  /** largest share of a worker's time the rebuild may take, in (0, 1] */
  share: number;
  /** longest rebuild slice, ms */
  chunkMs: number;
  /** switch criterion: p95 of the reconstruction-cosine delta below this */
  maxDelta: number;
}

export const ROLLOUT_DEFAULTS: RolloutSettings = { share: 0.25, chunkMs: 20, maxDelta: 0.02 };

export interface DimensionHooks {
  cfg: Config;
  pool: ShardPool;
  shards: ShardMap;
  dispatcher: Dispatcher;
  /** the role table serving now */
  roles(): RoleTable;
  /** Makes D with this table the served one on the main thread (hello, limits, arena, dispatcher, role file). */
  serve(D: number, roles: RoleTable): Promise<void>;
  /** D′ for `shadowVector` (undefined: no rollout) */
  shadowDim(D: number | undefined): void;
  /** bytes the tenants may hold in memory, when budgeted (issue #10's memoryBudgetBytes) */
  memoryBudgetBytes?: number;
  metrics?: Metrics;
  log(msg: string): void;
}

interface Progress {
  worker: number;
  total: number;
  processed: number;
  cursor: Cursor | null;
}

export class DimensionController {
  state: DimensionState;
  settings: RolloutSettings = { ...ROLLOUT_DEFAULTS };
  private otherRoles: RoleTable | undefined;
  private progress = new Map<string, Progress>();
  private rebuild: Promise<void> | undefined;
  private stopRebuild = false;
  private rebuildStartMs = 0;
  private rebuildMs: number | undefined;
  private lastSwitch: { D: number; heldMs: number; atMs: number } | undefined;
  private busy = false;
  /** unmovable count as of the last look (status, switch), for the coverage gauge */
  private lastUnmovable = 0;

  constructor(private readonly h: DimensionHooks) {
    this.state = readDimensionState(h.cfg.dataDir, h.cfg.dim);
    if (this.state.settings) this.settings = { ...this.state.settings };
    const m = h.metrics;
    if (m) {
      m.dimension.set(this.state.served.D);
      // read at scrape time: 1 without a rollout, else the coverage formula with the last unmovable count
      m.dimensionCoverageOf = () => (this.state.other ? (this.complete() && this.lastUnmovable === 0 ? 1 : Math.min(this.coverage(this.lastUnmovable), 1 - Number.EPSILON)) : 1);
    }
  }

  /** After start-up: a rollout found in the store resumes (shadow: rebuild again; switched: re-check the old D). */
  resume(): Promise<void> {
    this.resumed = this.resumeNow();
    return this.resumed;
  }

  /** Settles when a resumed rollout has its tenant list (status and switch wait for it). */
  private resumed: Promise<void> = Promise.resolve();

  private async resumeNow(): Promise<void> {
    const o = this.state.other;
    if (!o) return;
    this.otherRoles = new RoleTable(createRoleTableBuffer(o.D, this.h.cfg.roleTableCapacity));
    this.h.shadowDim(o.D);
    this.h.log(`dimension rollout resumes: phase ${this.state.phase}, serving D=${this.state.served.D}, other D=${o.D}`);
    await this.startRebuild();
  }

  async handle(p: Record<string, unknown>): Promise<Record<string, unknown>> {
    const action = p.action as string;
    await this.resumed.catch(() => undefined); // a restarted rollout first knows its tenants again
    if (action === 'status') return this.status((p.sample as number | undefined) ?? 64);
    if (this.busy) throw new HoloError('bad_request', `a dimension ${action} cannot start while another dimension action runs`);
    this.busy = true;
    try {
      switch (action) {
        case 'shadow': return await this.shadow(p.dim as number, p);
        case 'switch': return await this.swap('switch', p.force as number | undefined);
        case 'rollback': return await this.swap('rollback', p.force as number | undefined);
        case 'finalize': return await this.finalize();
        default: throw new HoloError('bad_request', `unknown dimension action '${String(action).slice(0, 64)}'`);
      }
    } finally {
      this.busy = false;
    }
  }

  private async shadow(D: number, p: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.h.cfg.store !== 'lmdb') throw new HoloError('bad_request', `the dimension rollout runs on store = lmdb only (this server uses ${this.h.cfg.store})`);
    if (!isSupportedDim(D)) throw new HoloError('bad_dimension', `dim must be a power of two in [${MIN_DIM}, ${MAX_DIM}], got ${D}`);
    const s = this.state;
    if (s.phase !== 'serving') throw new HoloError('bad_request', `a rollout is already in phase '${s.phase}' (serving D=${s.served.D}, other D=${s.other!.D}): finalize or roll it back first`);
    if (D === s.served.D) throw new HoloError('bad_request', `D=${D} is already served`);
    if (this.h.cfg.maxFrameBytes < 4 * D + 1024) throw new HoloError('bad_request', `maxFrameBytes = ${this.h.cfg.maxFrameBytes} cannot carry a D=${D} vector (needs ≥ 4·D + 1024 = ${4 * D + 1024})`);
    const settings: RolloutSettings = {
      share: (p.share as number | undefined) ?? ROLLOUT_DEFAULTS.share,
      chunkMs: (p.chunkMs as number | undefined) ?? ROLLOUT_DEFAULTS.chunkMs,
      maxDelta: (p.maxDelta as number | undefined) ?? ROLLOUT_DEFAULTS.maxDelta,
    };
    // Memory: both slabs held. Served bytes + shadow bytes for every stored item and anchor.
    const tenants = await this.tenants();
    const counts = await this.counts(tenants);
    let units = 0;
    for (const c of counts.values()) units += c;
    const need = units * 4 * (s.served.D + D);
    const budget = this.h.memoryBudgetBytes;
    if (budget !== undefined && need > budget) {
      throw new HoloError('too_large', `the shadow at D=${D} needs ${need} bytes of tenant memory with the served D=${s.served.D} (${units} items and anchors × 4·(${s.served.D} + ${D}) B), the budget is ${budget} (memoryBudgetBytes): short by ${need - budget} bytes`);
    }
    const other = { D, dir: dirFor(D) };
    rmSync(storeDir(this.h.cfg.dataDir, other), { recursive: true, force: true }); // left by an abandoned rollout
    await this.h.pool.broadcast({ type: 'dimension.open', store: other });
    this.settings = settings;
    this.state = { phase: 'shadow', served: s.served, other, sinceMs: Date.now(), settings };
    writeDimensionState(this.h.cfg.dataDir, this.state);
    this.otherRoles = new RoleTable(createRoleTableBuffer(D, this.h.cfg.roleTableCapacity));
    this.h.shadowDim(D);
    this.h.log(`dimension shadow at D=${D}: rebuilding ${units} items and anchors of ${tenants.length} tenants (share ${settings.share})`);
    await this.startRebuild(tenants, counts);
    return { phase: 'shadow', served: s.served.D, other: D, tenants: tenants.length, units, bytesNeeded: need, share: settings.share };
  }

  private async tenants(): Promise<string[]> {
    return this.h.pool.run<string[]>(0, { type: 'recent', limit: 1 << 30 });
  }

  private async counts(tenants: string[]): Promise<Map<string, number>> {
    const c = await this.h.pool.run<{ items: number; anchors: number }[]>(0, { type: 'dimension.count', tenants });
    return new Map(tenants.map((t, i) => [t, c[i].items + c[i].anchors]));
  }

  private async startRebuild(tenants?: string[], counts?: Map<string, number>): Promise<void> {
    await this.stopRebuilding();
    tenants ??= await this.tenants();
    counts ??= await this.counts(tenants);
    this.progress = new Map(tenants.map((t) => [t, { worker: this.h.shards.worker(t), total: counts!.get(t)!, processed: 0, cursor: { kind: 'item' } }]));
    this.stopRebuild = false;
    this.rebuildStartMs = performance.now();
    this.rebuildMs = undefined;
    const perWorker = Array.from({ length: this.h.pool.size }, (_, w) => tenants!.filter((t) => this.progress.get(t)!.worker === w));
    this.rebuild = Promise.all(perWorker.map((ts, w) => this.rebuildWorker(w, ts)))
      .then(() => {
        if (!this.stopRebuild) {
          this.rebuildMs = performance.now() - this.rebuildStartMs;
          this.h.log(`dimension rebuild at D=${this.state.other?.D} done in ${(this.rebuildMs / 1000).toFixed(1)} s`);
        }
      })
      .catch((e: unknown) => this.h.log(`dimension rebuild failed: ${String(e)} (status shows the coverage reached; shadow again to retry)`));
  }

  private async rebuildWorker(w: number, tenants: string[]): Promise<void> {
    const { share, chunkMs } = this.settings;
    for (const t of tenants) {
      const p = this.progress.get(t)!;
      while (p.cursor && !this.stopRebuild) {
        const r = await this.h.pool.run<ChunkResult>(w, { type: 'dimension.rebuild', tenant: t, cursor: p.cursor, budgetMs: chunkMs });
        p.processed += r.processed;
        p.cursor = r.cursor;
        if (r.cursor === null) p.processed = Math.max(p.processed, p.total);
        // duty cycle: busy r.ms, then rest r.ms·(1 − share)/share
        const rest = (r.ms * (1 - share)) / share;
        if (rest > 0) await new Promise((res) => setTimeout(res, rest));
      }
      if (this.stopRebuild) return;
    }
  }

  private async stopRebuilding(): Promise<void> {
    this.stopRebuild = true;
    await this.rebuild;
    this.rebuild = undefined;
  }

  private async unmovable(): Promise<{ total: number; tenants: { tenant: string; count: number; some: string[] }[] }> {
    if (!this.state.other) return { total: 0, tenants: [] };
    const rs = await this.h.pool.broadcast<{ total: number; tenants: { tenant: string; count: number; some: string[] }[] }>({ type: 'dimension.unmovable' });
    return { total: rs.reduce((a, r) => a + r.total, 0), tenants: rs.flatMap((r) => r.tenants) };
  }

  coverage(unmovable: number): number {
    let total = 0, done = 0;
    for (const p of this.progress.values()) { total += p.total; done += Math.min(p.processed, p.total); }
    if (total === 0) return unmovable === 0 ? 1 : 0;
    return Math.max(0, (done - unmovable) / total);
  }

  private complete(): boolean {
    for (const p of this.progress.values()) if (p.cursor !== null) return false;
    return true;
  }

  async status(sample: number): Promise<Record<string, unknown>> {
    const s = this.state;
    const base: Record<string, unknown> = { phase: s.phase, served: s.served.D, since: s.sinceMs, lastSwitch: this.lastSwitch ?? null };
    if (!s.other) return { ...base, other: null, coverage: 1 };
    const un = await this.unmovable();
    this.lastUnmovable = un.total;
    const coverage = this.complete() ? (un.total === 0 ? 1 : this.coverage(un.total)) : Math.min(this.coverage(un.total), 1 - Number.EPSILON);
    let q: Quality | null = null;
    if (sample > 0) {
      const perWorker = Array.from({ length: this.h.pool.size }, () => [] as string[]);
      for (const [t, p] of this.progress) if (p.cursor === null) perWorker[p.worker].push(t);
      const max = Math.max(1, Math.ceil(sample / this.h.pool.size));
      const raws = await Promise.all(perWorker.map((ts, w) => this.h.pool.run<MeasureRaw>(w, { type: 'dimension.measure', tenants: ts, maxRecords: max, maxItems: 2048 })));
      q = quality(raws, [s.served.D, s.other.D]);
      const m = this.h.metrics;
      if (m && q.records > 0) {
        for (const k of ['p50', 'p95', 'max'] as const) m.dimensionDelta.set({ quantile: k }, q.delta[k]);
        m.dimensionCleanupScore.set({ side: 'served' }, q.served.cleanupScore.mean);
        m.dimensionCleanupScore.set({ side: 'other' }, q.other.cleanupScore.mean);
      }
      if (q.records > 0) {
        this.h.log(`dimension status D=${s.served.D}→${s.other.D}: ${q.records} records, delta p50 ${q.delta.p50.toFixed(4)} p95 ${q.delta.p95.toFixed(4)} max ${q.delta.max.toFixed(4)}, cleanup score ${q.served.cleanupScore.mean.toFixed(4)} → ${q.other.cleanupScore.mean.toFixed(4)}, margin min ${q.served.cleanupMargin.min.toFixed(4)} → ${q.other.cleanupMargin.min.toFixed(4)}`);
      }
    }
    const tenantsDone = [...this.progress.values()].filter((p) => p.cursor === null).length;
    const criteria = {
      coverage: coverage === 1,
      delta: q !== null && q.delta.count > 0 ? q.delta.p95 < this.settings.maxDelta : null,
      maxDelta: this.settings.maxDelta,
    };
    return {
      ...base, other: s.other.D, coverage, tenants: this.progress.size, tenantsDone,
      rebuildSeconds: this.rebuildMs !== undefined ? this.rebuildMs / 1000 : null,
      unmovable: un.total, unmovableTenants: un.tenants.slice(0, 64),
      quality: q, criteria, ready: criteria.coverage && criteria.delta !== false,
    };
  }

  private async swap(what: 'switch' | 'rollback', force: number | undefined): Promise<Record<string, unknown>> {
    const s = this.state;
    const want = what === 'switch' ? 'shadow' : 'switched';
    if (s.phase !== want) {
      throw new HoloError('bad_request', what === 'switch'
        ? (s.phase === 'serving' ? 'no rollout: start one with dimension shadow D' : `already switched to D=${s.served.D} (rollback or finalize)`)
        : (s.phase === 'serving' ? 'nothing to roll back: no rollout (finalized or never started)' : `phase is '${s.phase}': nothing switched to roll back`));
    }
    const un = await this.unmovable();
    if (!this.complete()) {
      const c = this.coverage(un.total);
      throw new HoloError('bad_request', `cannot ${what} to D=${s.other!.D}: the rebuild is not complete (coverage ${(c * 100).toFixed(1)} %, ${[...this.progress.values()].filter((p) => p.cursor !== null).length} tenants to go)`);
    }
    if (un.total > 0 && force !== un.total) {
      throw new HoloError('bad_request', `cannot ${what} to D=${s.other!.D}: ${un.total} raw-vector items/anchors have no vector there (no shadowVector; tenants: ${un.tenants.slice(0, 8).map((t) => `${t.tenant} ${t.count}`).join(', ')}); they would be lost. Pass force = ${un.total} to ${what} anyway`);
    }
    await this.stopRebuilding();
    const from = s.served, to = s.other!;
    const toRoles = this.otherRoles!;
    const fromRoles = this.h.roles();
    const { heldMs } = await this.h.dispatcher.barrier(async () => {
      await this.h.pool.broadcast({ type: 'dimension.swap', roleTable: toRoles.sab });
      this.state = { phase: what === 'switch' ? 'switched' : 'shadow', served: to, other: from, sinceMs: Date.now(), settings: this.settings };
      writeDimensionState(this.h.cfg.dataDir, this.state);
      await this.h.serve(to.D, toRoles);
    });
    this.otherRoles = fromRoles;
    this.h.shadowDim(from.D);
    this.lastSwitch = { D: to.D, heldMs, atMs: Date.now() };
    this.h.metrics?.dimension.set(to.D);
    // The old D was served until now: everything is there; keep the progress as complete.
    for (const p of this.progress.values()) { p.cursor = null; p.processed = p.total; }
    this.h.log(`dimension ${what}: serving D=${to.D} (was ${from.D}); batches held ${heldMs.toFixed(1)} ms`);
    return { phase: this.state.phase, served: to.D, other: from.D, heldMs };
  }

  private async finalize(): Promise<Record<string, unknown>> {
    const s = this.state;
    if (s.phase !== 'switched') throw new HoloError('bad_request', s.phase === 'shadow' ? `phase is 'shadow' (D=${s.other!.D} not served yet): switch first, or there is nothing to finalize` : 'no rollout to finalize');
    await this.stopRebuilding();
    const old = s.other!;
    await this.h.pool.broadcast({ type: 'dimension.drop' });
    this.state = { phase: 'serving', served: s.served, sinceMs: Date.now() };
    writeDimensionState(this.h.cfg.dataDir, this.state);
    this.otherRoles = undefined;
    this.progress.clear();
    this.h.shadowDim(undefined);
    // dataDir itself (the first D's directory) also holds other files: its LMDB files stay, unread.
    if (old.dir !== '') rmSync(storeDir(this.h.cfg.dataDir, old), { recursive: true, force: true });
    this.h.log(`dimension finalize: D=${old.D} dropped; serving D=${s.served.D}`);
    return { phase: 'serving', served: s.served.D, dropped: old.D, removedDir: old.dir !== '' };
  }

  async close(): Promise<void> {
    await this.stopRebuilding();
  }
}
