/**
 * Handlers of heat, graph.put and graph.delete (docs/PROTOCOL.md "heat"). Stored graphs are
 * scoped: the key is (scope, id), scope = the tenant named in the request or the token of the
 * connection that sent it (server/connection.ts sets it), so one token never reads, runs or
 * deletes another's graph. Per worker, at most graphsPerWorker graphs and graphBytesPerWorker
 * bytes (graphKeptBytes each) are kept; least recently used leave first (counted in obs).
 */
import { BudgetError, HoloError } from '../errors.js';
import { buildGraph, graphKeptBytes, type Graph } from '../kernels/graph/csr.js';
import { heatMulti } from '../kernels/graph/heat.js';
import type { ExecContext } from './context.js';
import type { Handler } from './hrr.js';
import { heatK, heatReport } from './budget.js';

type P = Record<string, unknown>;

function build(ctx: ExecContext, p: P): Graph {
  return buildGraph(p.n as number, p.src as Uint32Array, p.dst as Uint32Array, p.weight as Float64Array | null, {
    maxNodes: ctx.cfg.graphMaxNodes, maxEdges: ctx.cfg.graphMaxEdges,
  });
}

/** The stored graph's key: [scope, id] as JSON (both may hold any character), as connection.ts routes it. */
function key(p: P): string {
  return JSON.stringify([(p.scope as string | undefined) ?? '', p.graph as string]);
}

/**
 * One result per t; a list of bins when t was a list, one bin when it was a number; K and the
 * Chebyshev truncation bound reached (worker/budget.ts). Refused before running when the work
 * K·(nnz + n·|t|) exceeds heatMaxWork.
 */
function run(ctx: ExecContext, g: Graph, p: P): Record<string, unknown> {
  const t = p.t as number | number[];
  const ts = Array.isArray(t) ? t : [t];
  const K = heatK(ctx.knobs, ts, p.K as number | undefined);
  const work = K * (g.nnz + g.n * ts.length);
  if (work > ctx.cfg.heatMaxWork) {
    throw new BudgetError('too_large', 'heat_work', `heat work K·(nnz + n·|t|) = ${work} exceeds ${ctx.cfg.heatMaxWork} (setting heatMaxWork)`);
  }
  const ys = heatMulti(g, p.signal as Float64Array, ts, { K });
  return { result: Array.isArray(t) ? ys : ys[0], ...heatReport(ctx.knobs, ts, K, Array.isArray(t)) };
}

function keptBytes(graphs: Map<string, Graph>): number {
  let b = 0;
  for (const g of graphs.values()) b += graphKeptBytes(g);
  return b;
}

export const GRAPH_HANDLERS: Record<string, Handler> = {
  heat: (ctx, p) => {
    if (p.graph === undefined) return run(ctx, build(ctx, p), p);
    const id = key(p);
    const g = ctx.graphs.get(id);
    if (!g) throw new HoloError('not_found', `no graph '${p.graph as string}' in this scope: send graph.put first (graphs are kept per worker, LRU)`);
    ctx.graphs.delete(id);
    ctx.graphs.set(id, g); // most recently used last
    return run(ctx, g, p);
  },
  'graph.put': (ctx, p) => {
    const g = build(ctx, p);
    const bytes = graphKeptBytes(g);
    if (bytes > ctx.cfg.graphBytesPerWorker) {
      throw new BudgetError('too_large', 'graph_worker_bytes', `graph keeps ${bytes} bytes (20·n + 24·nnz), more than graphBytesPerWorker = ${ctx.cfg.graphBytesPerWorker}`);
    }
    const id = key(p);
    ctx.graphs.delete(id);
    let held = keptBytes(ctx.graphs);
    while (ctx.graphs.size > 0 && (ctx.graphs.size >= ctx.cfg.graphsPerWorker || held + bytes > ctx.cfg.graphBytesPerWorker)) {
      const [oldId, old] = ctx.graphs.entries().next().value as [string, Graph];
      ctx.graphs.delete(oldId);
      held -= graphKeptBytes(old);
      ctx.obs.graphEvictions++;
    }
    ctx.graphs.set(id, g);
    return { graph: p.graph, n: g.n, nnz: g.nnz, bytes };
  },
  'graph.delete': (ctx, p) => ({ removed: ctx.graphs.delete(key(p)) }),
};
