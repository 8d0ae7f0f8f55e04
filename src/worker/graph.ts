/** Handlers of heat, graph.put and graph.delete (docs/PROTOCOL.md "heat"). */
import { HoloError } from '../errors.js';
import { buildGraph, type Graph } from '../kernels/graph/csr.js';
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

/**
 * One result per t; a list of bins when t was a list, one bin when it was a number; K and the
 * Chebyshev truncation bound reached (worker/budget.ts).
 */
function run(ctx: ExecContext, g: Graph, p: P): Record<string, unknown> {
  const t = p.t as number | number[];
  const ts = Array.isArray(t) ? t : [t];
  const K = heatK(ctx.knobs, ts, p.K as number | undefined);
  const ys = heatMulti(g, p.signal as Float64Array, ts, { K });
  return { result: Array.isArray(t) ? ys : ys[0], ...heatReport(ctx.knobs, ts, K, Array.isArray(t)) };
}

export const GRAPH_HANDLERS: Record<string, Handler> = {
  heat: (ctx, p) => {
    if (p.graph === undefined) return run(ctx, build(ctx, p), p);
    const id = p.graph as string;
    const g = ctx.graphs.get(id);
    if (!g) throw new HoloError('not_found', `no graph '${id}': send graph.put first (graphs are kept per worker, LRU)`);
    ctx.graphs.delete(id);
    ctx.graphs.set(id, g); // most recently used last
    return run(ctx, g, p);
  },
  'graph.put': (ctx, p) => {
    const g = build(ctx, p);
    const id = p.graph as string;
    ctx.graphs.delete(id);
    ctx.graphs.set(id, g);
    while (ctx.graphs.size > ctx.cfg.graphsPerWorker) ctx.graphs.delete(ctx.graphs.keys().next().value as string);
    return { graph: id, n: g.n, nnz: g.nnz };
  },
  'graph.delete': (ctx, p) => ({ removed: ctx.graphs.delete(p.graph as string) }),
};
