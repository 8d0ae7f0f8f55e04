/** The SVG of a run: latency by percentile, latency and throughput per second. (bench/load/, docs/LOAD.md) */
import { PALETTE, percentileTick, svgPlot, type Panel, type Series } from '../svg-plot.js';
import { int } from './util.js';
import { PhaseResult } from './driver.js';
export function plot(phases: PhaseResult[], D: number, cores: number, la: number[], what: string): string {
  const curves: Series[] = [];
  const color = new Map(phases.map((p, i) => [p, PALETTE[i % PALETTE.length]]));
  for (const p of phases) {
    if (p.latencyUs.count === 0) continue;
    const name = p.name === p.op ? p.op : `${p.name} (${p.op})`;
    const label = p.mode === 'open' ? `${name} open loop @ ${int(p.rate!)}/s, from scheduled send` : `${name}${p.mode === 'closed' ? ` closed loop, ${int(p.throughput)}/s` : ', lone requests, idle server'}`;
    curves.push({ name: label, points: p.curve, color: color.get(p) });
    if (p.serviceCurve) curves.push({ name: `${p.name} service time (from actual send)`, points: p.serviceCurve, dashed: true, color: color.get(p) });
  }
  const panels: Panel[] = [{
    title: 'Latency by percentile', xLabel: 'percentile (log scale of 1/(1−p))', yLabel: 'latency, ms', xLog: true, yLog: true,
    series: curves, xTick: percentileTick,
  }];
  const timed = phases.filter((p) => p.timeline.length > 0 && p.op !== 'hello');
  if (timed.length) {
    panels.push({
      title: 'Latency over time (per second)', xLabel: 'seconds since the phase started', yLabel: 'latency, ms', yLog: true,
      series: timed.flatMap((p) => [
        { name: `${p.name} p50`, points: p.timeline.map((t) => [t.t, t.p50Ms] as [number, number]), color: color.get(p) },
        { name: `${p.name} p99`, points: p.timeline.map((t) => [t.t, t.p99Ms] as [number, number]), dashed: true, color: color.get(p) },
      ]),
    });
    panels.push({
      title: 'Replies per second', xLabel: 'seconds since the phase started', yLabel: 'replies/s',
      series: timed.map((p) => ({ name: p.name, points: p.timeline.map((t) => [t.t, t.rps] as [number, number]), color: color.get(p) })),
    });
  }
  return svgPlot(`holoserve load: ${what}, D=${D}`, panels, {
    notes: [`${new Date().toISOString()}; ${cores} cores shared by server and harness; load average at start ${la.map((x) => x.toFixed(2)).join(' ')}`],
  });
}
