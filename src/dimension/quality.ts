/**
 * The rollout's quality numbers (SEED §11 step 2), pooled over workers from worker/dimension.ts
 * `measure`: per D, the reconstruction cosine of role–filler records (mean over a record's
 * slots of cosine(unbind(record, r(slot)), filler)), HRR_CLEANUP_SCORE of those unbinds
 * against the tenant's anchors and how often the right filler wins, RECALL_MARGIN_TOP12 of
 * replayed recent text recalls, the top-k agreement between the two D, and the distribution
 * of delta = |recon_D′ − recon_D| per record. Quantiles are nearest-rank on the sorted values.
 */
import type { MeasureRaw } from '../worker/dimension.js';

export interface Dist {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  max: number;
  min: number;
}

export interface PerD {
  D: number;
  recon: Dist;
  cleanupScore: Dist;
  cleanupMargin: Dist;
  /** share of text-filler slots whose cleanup found the anchor made from that text */
  cleanupAccuracy: number | null;
  recallMargin: Dist;
}

export interface Quality {
  records: number;
  served: PerD;
  other: PerD;
  delta: Dist;
  topkAgreement: Dist;
  /** share of replayed recalls whose first hit is the same at both D */
  top1Agreement: number | null;
  replayed: number;
}

/** count, mean, nearest-rank p50/p95, min, max (zeros when empty). */
export function dist(xs: readonly number[]): Dist {
  if (xs.length === 0) return { count: 0, mean: 0, p50: 0, p95: 0, max: 0, min: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const rank = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return { count: s.length, mean: s.reduce((a, b) => a + b, 0) / s.length, p50: rank(0.5), p95: rank(0.95), max: s[s.length - 1], min: s[0] };
}

export function quality(raws: readonly MeasureRaw[], dims: [number, number]): Quality {
  const cat = <T>(f: (r: MeasureRaw) => T[]) => raws.flatMap(f);
  const recon = [cat((r) => r.recon[0]), cat((r) => r.recon[1])];
  const total = raws.reduce((a, r) => a + r.cleanupTotal, 0);
  const per = (i: 0 | 1): PerD => ({
    D: dims[i],
    recon: dist(recon[i]),
    cleanupScore: dist(cat((r) => r.cleanupScore[i])),
    cleanupMargin: dist(cat((r) => r.cleanupMargin[i])),
    cleanupAccuracy: total > 0 ? raws.reduce((a, r) => a + r.cleanupCorrect[i], 0) / total : null,
    recallMargin: dist(cat((r) => r.recallMargin[i])),
  });
  const agreement = cat((r) => r.agreement);
  return {
    records: recon[0].length,
    served: per(0),
    other: per(1),
    delta: dist(recon[0].map((x, j) => Math.abs(recon[1][j] - x))),
    topkAgreement: dist(agreement),
    top1Agreement: agreement.length ? cat((r) => r.agreementTop1).reduce((a, b) => a + b, 0) / agreement.length : null,
    replayed: agreement.length,
  };
}
