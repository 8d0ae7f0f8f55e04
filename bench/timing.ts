/**
 * Timing helpers shared by every benchmark: medians after warm-up, never means, because this
 * machine is shared and noisy. Each row is measured in the same run as the rows it is compared to.
 */
import { performance } from 'node:perf_hooks';

export interface Row {
  /** kernel and variant, e.g. "bind", "bind (fft.js)", "sinkhorn 64x64" */
  name: string;
  /** problem size in words, e.g. "D=8192" or "n=m=64, eps=0.05·max C" */
  size: string;
  /** median microseconds per call */
  medianUs: number;
  /** 10th and 90th percentile microseconds per call */
  p10Us: number;
  p90Us: number;
  /** extra numbers (ratios, iterations) keyed by name */
  extra?: Record<string, number | string>;
}

/**
 * Runs fn in `reps` timed samples after `warmup` untimed calls; each sample times `inner`
 * consecutive calls (so that very short kernels are not dominated by timer resolution).
 */
export function measure(
  name: string,
  size: string,
  fn: () => void,
  opts: { warmup?: number; reps?: number; inner?: number; budgetMs?: number } = {},
): Row {
  const warmup = opts.warmup ?? 50;
  const inner = opts.inner ?? 1;
  const budgetMs = opts.budgetMs ?? 1500;
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  const maxReps = opts.reps ?? 200;
  const t0 = performance.now();
  while (samples.length < maxReps && (samples.length < 15 || performance.now() - t0 < budgetMs)) {
    const s = performance.now();
    for (let j = 0; j < inner; j++) fn();
    samples.push(((performance.now() - s) * 1000) / inner);
  }
  samples.sort((x, y) => x - y);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  return { name, size, medianUs: q(0.5), p10Us: q(0.1), p90Us: q(0.9) };
}
