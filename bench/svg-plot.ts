/**
 * A tiny, dependency-free SVG line-plot writer for the load harness (bench/load/): panels
 * stacked vertically, each with linear or log axes, grid, tick labels, polylines and a legend.
 * Two helpers build the panels the harness draws: a latency percentile curve on a log x axis
 * of 1/(1−p) (so 90%, 99%, 99.9% … are evenly spaced, HdrHistogram's plot), and latency or
 * throughput over time.
 */

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];

export interface Series {
  name: string;
  /** [x, y] in data units; non-positive values are dropped on log axes */
  points: [number, number][];
  color?: string;
  dashed?: boolean;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  series: Series[];
  /** tick label for an x value (default: compact number) */
  xTick?: (x: number) => string;
  /** y range floor at zero on linear axes (default true) */
  yFromZero?: boolean;
}

const COLORS = PALETTE;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** 1.23k, 45.6, 0.012 … */
export function compact(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a >= 1) return `${+v.toPrecision(4)}`;
  return `${+v.toPrecision(2)}`;
}

function linearTicks(lo: number, hi: number, n = 5): number[] {
  if (hi <= lo) hi = lo + 1;
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const k0 = Math.floor(Math.log10(lo)), k1 = Math.ceil(Math.log10(hi));
  const mult = k1 - k0 <= 2 ? [1, 2, 5] : [1];
  for (let k = k0; k <= k1; k++) for (const m of mult) {
    const v = m * 10 ** k;
    if (v >= lo * 0.999 && v <= hi * 1.001) out.push(+v.toPrecision(12));
  }
  return out;
}

function range(vals: number[], log: boolean, fromZero: boolean): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of vals) { if (v < lo) lo = v; if (v > hi) hi = v; }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return log ? [1, 10] : [0, 1];
  if (log) {
    // widen to half decades so the curves never touch the frame
    lo = 10 ** (Math.floor(Math.log10(lo) * 2) / 2);
    hi = 10 ** (Math.ceil(Math.log10(hi) * 2) / 2);
    if (hi <= lo) hi = lo * 10;
    return [lo, hi];
  }
  if (fromZero) lo = Math.min(0, lo);
  if (hi === lo) hi = lo + 1;
  const pad = (hi - lo) * 0.05;
  return [fromZero && lo === 0 ? 0 : lo - pad, hi + pad];
}

function panelSvg(p: Panel, x0: number, y0: number, w: number, h: number): string {
  const left = 70, right = 20, top = 28, bottom = 42;
  const pw = w - left - right, ph = h - top - bottom;
  const series = p.series.map((s) => ({
    ...s,
    points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!p.xLog || x > 0) && (!p.yLog || y > 0)),
  }));
  const xs = series.flatMap((s) => s.points.map((q) => q[0]));
  const ys = series.flatMap((s) => s.points.map((q) => q[1]));
  const [xlo, xhi] = range(xs, !!p.xLog, false);
  const [ylo, yhi] = range(ys, !!p.yLog, p.yFromZero ?? true);
  const tx = (x: number) => x0 + left + (p.xLog ? (Math.log10(x) - Math.log10(xlo)) / (Math.log10(xhi) - Math.log10(xlo)) : (x - xlo) / (xhi - xlo)) * pw;
  const ty = (y: number) => y0 + top + ph - (p.yLog ? (Math.log10(y) - Math.log10(ylo)) / (Math.log10(yhi) - Math.log10(ylo)) : (y - ylo) / (yhi - ylo)) * ph;
  const out: string[] = [];
  out.push(`<text x="${x0 + left}" y="${y0 + 18}" font-size="14" font-weight="bold">${esc(p.title)}</text>`);
  out.push(`<rect x="${x0 + left}" y="${y0 + top}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  const xt = p.xLog ? logTicks(xlo, xhi) : linearTicks(xlo, xhi, 6);
  for (const v of xt) {
    const X = tx(v).toFixed(1);
    out.push(`<line x1="${X}" y1="${y0 + top}" x2="${X}" y2="${y0 + top + ph}" stroke="#ddd"/>`);
    out.push(`<text x="${X}" y="${y0 + top + ph + 15}" font-size="11" text-anchor="middle">${esc((p.xTick ?? compact)(v))}</text>`);
  }
  const yt = p.yLog ? logTicks(ylo, yhi) : linearTicks(ylo, yhi, 5);
  for (const v of yt) {
    const Y = ty(v).toFixed(1);
    out.push(`<line x1="${x0 + left}" y1="${Y}" x2="${x0 + left + pw}" y2="${Y}" stroke="#ddd"/>`);
    out.push(`<text x="${x0 + left - 6}" y="${Y}" font-size="11" text-anchor="end" dominant-baseline="middle">${esc(compact(v))}</text>`);
  }
  out.push(`<text x="${x0 + left + pw / 2}" y="${y0 + h - 8}" font-size="12" text-anchor="middle">${esc(p.xLabel)}</text>`);
  out.push(`<text x="${x0 + 16}" y="${y0 + top + ph / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 ${x0 + 16} ${y0 + top + ph / 2})">${esc(p.yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length];
    if (s.points.length > 0) {
      const d = s.points.map(([x, y]) => `${tx(x).toFixed(1)},${ty(y).toFixed(1)}`).join(' ');
      out.push(`<polyline points="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    }
  });
  // the legend on a translucent box so it stays readable over the curves
  const lw = 44 + 6.2 * Math.max(0, ...series.map((s) => s.name.length));
  out.push(`<rect x="${x0 + left + 4}" y="${y0 + top + 5}" width="${Math.min(pw - 8, lw)}" height="${series.length * 16 + 6}" fill="white" fill-opacity="0.85" stroke="#bbb"/>`);
  series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length];
    const ly = y0 + top + 16 + i * 16;
    out.push(`<line x1="${x0 + left + 10}" y1="${ly}" x2="${x0 + left + 34}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${x0 + left + 40}" y="${ly}" font-size="11" dominant-baseline="middle">${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

/** The whole SVG document: a title line, notes under it, then the panels stacked. */
export function svgPlot(title: string, panels: Panel[], opts: { width?: number; panelHeight?: number; notes?: string[] } = {}): string {
  const w = opts.width ?? 860, ph = opts.panelHeight ?? 320;
  const notes = opts.notes ?? [];
  const head = 30 + notes.length * 15;
  const h = head + panels.length * ph;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${esc(title)}</text>`,
    ...notes.map((n, i) => `<text x="10" y="${38 + i * 15}" font-size="11" fill="#333">${esc(n)}</text>`),
    ...panels.map((p, i) => panelSvg(p, 0, head + i * ph, w, ph)),
    '</svg>',
  ];
  return parts.join('\n') + '\n';
}

/** x tick label of a percentile axis: x = 1/(1−p) → "90%", "99.9%". */
export function percentileTick(x: number): string {
  const p = 100 * (1 - 1 / x);
  if (p <= 0) return '0%';
  return `${+p.toPrecision(Math.max(2, Math.ceil(Math.log10(x)) + 1))}%`;
}

/**
 * Points of a percentile curve on x = 1/(1−p): `at(percent)` gives the value at a percentile
 * (0..100); curves stop at the resolution of `count` samples (x ≤ count) and end at the max.
 */
export function percentileCurve(at: (percent: number) => number, count: number, max: number, perDecade = 16): [number, number][] {
  const pts: [number, number][] = [];
  if (count <= 0) return pts;
  const xmax = Math.max(1, Math.min(count, 1e6));
  for (let k = 0; ; k++) {
    const x = 10 ** (k / perDecade);
    if (x > xmax) break;
    pts.push([x, at(100 * (1 - 1 / x))]);
  }
  pts.push([Math.max(xmax, pts.length ? pts[pts.length - 1][0] : 1), max]);
  return pts;
}
