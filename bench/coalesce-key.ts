/**
 * Coalescing key cost at 32 KiB (one D = 8192 vector), interleaved A B A B in one run: the
 * sampled bucket key (coalesceKey, FNV-1a of 64 words) against the full key (requestHash,
 * xxHash64 in WASM over every byte), plus a full memcmp for scale.
 * Run: npm run build && node dist/bench/coalesce-key.js
 */
import { coalesceKey, requestHash } from '../src/batch/coalescer.js';
import type { Parsed } from '../src/protocol/ops.js';
import { rng } from './seeded.js';

const r = rng(3);
const a = Float32Array.from({ length: 8192 }, () => r() - 0.5);
const a2 = a.slice();
const p: Parsed = { op: 'bind', kind: 'hrr', route: 'any', params: { a, role: 'agent' } };
const fns: Record<string, () => unknown> = {
  'sampled key (coalesceKey)': () => coalesceKey(p, 0),
  'xxh64 full key (requestHash)': () => requestHash(p),
  'memcmp 32 KiB (Buffer.equals)': () => Buffer.from(a.buffer).equals(Buffer.from(a2.buffer)),
};
function timeUs(f: () => unknown, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  return Number(process.hrtime.bigint() - t0) / n / 1000;
}
const res: Record<string, number[]> = {};
for (const f of Object.values(fns)) for (let i = 0; i < 5000; i++) f();
for (let rep = 0; rep < 30; rep++) for (const [k, f] of Object.entries(fns)) (res[k] ??= []).push(timeUs(f, 1000));
for (const [k, xs] of Object.entries(res)) console.log(`${k}: ${[...xs].sort((x, y) => x - y)[xs.length >> 1].toFixed(3)} µs (median of 30 × 1000)`);
