/**
 * SEED §10's capacity rule of thumb, as arithmetic:
 *   concurrency = target RPS × average latency (s)           (Little's law: requests in service)
 *   workers     = ⌈concurrency⌉
 *   pods        = ⌈workers / workers per pod⌉                 (no headroom)
 *   pods (+headroom) = ⌈concurrency × safety factor / workers per pod⌉,  safety factor 1.3–1.5
 * The seed's example: 1200 RPS × 0.030 s = 36 → 36 workers → ⌈36/16⌉ = 3 pods of 8 cores with
 * 16 workers each, + headroom: ⌈36 × 1.5 / 16⌉ = ⌈3.375⌉ = 4 pods.
 */
export interface SeedPlan {
  rps: number;
  latencySeconds: number;
  workersPerPod: number;
  safety: number;
  concurrency: number;
  workers: number;
  podsNoHeadroom: number;
  pods: number;
}

export function seedPlan(rps: number, latencySeconds: number, workersPerPod: number, safety: number): SeedPlan {
  const concurrency = rps * latencySeconds;
  const workers = Math.ceil(concurrency - 1e-9);
  return {
    rps, latencySeconds, workersPerPod, safety, concurrency, workers,
    podsNoHeadroom: Math.ceil(workers / workersPerPod),
    pods: Math.ceil((concurrency * safety) / workersPerPod - 1e-9),
  };
}

/**
 * The same rule with measured CPU: a holoserve worker is one thread on one core, so the cores a
 * load needs are RPS × CPU seconds per request (the served cost: protocol, batching and the
 * kernel, every thread of the process), and a pod of C cores delivers C × e of them, e = the
 * parallel efficiency measured from 1 to N workers (speed-up / N).
 *   cores = RPS × Σ_op share_op · cpu_op;  workers = ⌈cores⌉
 *   pods (+headroom) = ⌈cores × safety / (cores per pod × e)⌉
 */
export interface MeasuredPlan {
  rps: number;
  cpuSecondsPerRequest: number;
  coresPerPod: number;
  efficiency: number;
  safety: number;
  cores: number;
  workers: number;
  podsNoHeadroom: number;
  pods: number;
}

export function measuredPlan(rps: number, cpuSecondsPerRequest: number, coresPerPod: number, efficiency: number, safety: number): MeasuredPlan {
  const cores = rps * cpuSecondsPerRequest;
  const perPod = coresPerPod * efficiency;
  return {
    rps, cpuSecondsPerRequest, coresPerPod, efficiency, safety, cores,
    workers: Math.ceil(cores - 1e-9),
    podsNoHeadroom: Math.ceil(cores / perPod - 1e-9),
    pods: Math.ceil((cores * safety) / perPod - 1e-9),
  };
}

/** `bind=0.5,recall=0.4,sinkhorn=0.1` → shares by op (they must sum to 1 ± 1e-6). */
export function parseMix(text: string, ops: readonly string[]): Map<string, number> {
  const mix = new Map<string, number>();
  for (const part of text.split(',')) {
    const m = /^\s*([a-z.]+)\s*=\s*([0-9.eE+-]+)\s*$/.exec(part);
    if (!m) throw new Error(`--mix: '${part}' is not op=share (e.g. bind=0.5,recall=0.4,sinkhorn=0.1)`);
    if (!ops.includes(m[1])) throw new Error(`--mix: op '${m[1]}' is not measurable (${ops.join(', ')})`);
    const share = Number(m[2]);
    if (!(share > 0 && share <= 1)) throw new Error(`--mix: share of ${m[1]} must be in (0, 1], got ${m[2]}`);
    mix.set(m[1], share);
  }
  const sum = [...mix.values()].reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-6) throw new Error(`--mix: shares sum to ${sum}, not 1`);
  return mix;
}
