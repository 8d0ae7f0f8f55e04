/**
 * Cost of the strict decode profile (src/protocol/scan.ts) on the served path's decode: per frame,
 * decodeFrame (scan + msgpackr) against msgpackr's unpack alone, interleaved A B A B in one run
 * (the ratio is taken pair by pair), for a 32 KiB bind frame (D = 8192) and a small frame.
 * Run: npm run build && node dist/bench/decode-profile.js
 */
import { Packr, Unpackr } from 'msgpackr';
import { decodeFrame } from '../src/protocol/codec.js';
import { scanFrame } from '../src/protocol/scan.js';
import { rng } from './seeded.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });
const r = rng(9);
const vec = Float32Array.from({ length: 8192 }, () => r() - 0.5);
const frames = {
  'bind D=8192 (32 KiB)': packr.pack({ id: 12345, op: 'bind', a: new Uint8Array(vec.buffer), role: 'agent' }),
  'recall text (small)': packr.pack({ id: 12345, op: 'recall', tenant: 'alice', text: 'the cat sat on the mat', k: 10 }),
  'remember with payload': packr.pack({ id: 7, op: 'remember', tenant: 'alice', key: 'note-1', text: 'hello', payload: { source: 'chat', tags: ['a', 'b'], n: 3, nested: { x: [1, 2, 3] } } }),
};

function timeUs(f: () => void, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  return Number(process.hrtime.bigint() - t0) / n / 1000;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

for (const [name, b] of Object.entries(frames)) {
  const plain = () => { unpackr.unpack(b); };
  const strict = () => { decodeFrame(b); };
  const scan = () => { scanFrame(b); };
  for (let i = 0; i < 20_000; i++) { plain(); strict(); scan(); }
  const a: number[] = [], s: number[] = [], sc: number[] = [], ratio: number[] = [];
  for (let rep = 0; rep < 40; rep++) {
    const x = timeUs(plain, 2000), y = timeUs(strict, 2000), z = timeUs(scan, 2000);
    a.push(x); s.push(y); sc.push(z); ratio.push(y / x);
  }
  console.log(`${name} (${b.length} B): msgpackr ${median(a).toFixed(3)} µs, decodeFrame ${median(s).toFixed(3)} µs, scan alone ${median(sc).toFixed(3)} µs, ratio ${median(ratio).toFixed(2)}`);
}
