/**
 * Received vectors live in a shared-memory pool while their request is in flight
 * (src/protocol/arena.ts). Every path must give them back: answered, coalesced, lingering,
 * refused after parsing, failed parsing. A leak shows as holoserve_pooled_vectors_held > 0 once
 * the server is idle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, connect, type HoloClient } from '../../src/client/client.js';
import { startServer, type Server } from './harness.js';
import { metric, scrape } from './support.js';
import { scrape } from './support.js';

const D = 256;
let s: Server;
let c: HoloClient;

async function held(): Promise<number> {
  const m = /^holoserve_pooled_vectors_held (\S+)$/m.exec(await scrape(s.http));
  if (!m) throw new Error('metric holoserve_pooled_vectors_held missing');
  return Number(m[1]);
}

function vec(seed: number): Float32Array {
  return Float32Array.from({ length: D }, (_, i) => Math.sin(seed * 7.1 + i * 0.37));
}

beforeAll(async () => {
  s = await startServer({ HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2', HOLOSERVE_COALESCE_LINGER_MS: '20' });
  c = await connect(s.url);
});
afterAll(async () => {
  c?.close();
  await s?.stop();
});

describe('the received-vector pool', () => {
  it('holds nothing once every kind of request has been answered', async () => {
    const a = vec(1), b = vec(2);
    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) jobs.push(c.bind(a, b)); // coalesced and lingering
    for (let i = 0; i < 40; i++) jobs.push(c.bind(vec(10 + i), { role: 'agent' })); // distinct
    for (let i = 0; i < 20; i++) jobs.push(c.remember('t', `k${i}`, vec(100 + i))); // memory kind
    jobs.push(c.recall('t', vec(100), 3));
    jobs.push(c.request('bind', { a: bin(a), b: new Uint8Array(12) }).catch((e: Error) => e)); // 'a' taken, 'b' bad
    jobs.push(c.request('unbind', { c: bin(a), b: bin(b), mode: 'nope' }).catch((e: Error) => e)); // bad after vectors
    jobs.push(c.request('bundle', { vectors: [bin(a), bin(new Float32Array(D))] }).catch((e: Error) => e)); // worker error
    const during = held();
    await Promise.all(jobs);
    expect(await during).toBeGreaterThanOrEqual(0);
    await new Promise((r) => setTimeout(r, 100)); // past the 20 ms linger
    expect(await held()).toBe(0);
    // and the pool still serves correct values afterwards (no view handed out twice)
    const x = vec(7);
    const [r1, r2] = await Promise.all([c.bind(x, { role: 'agent' }), c.bind(vec(8), { role: 'agent' })]);
    const again = await c.bind(x, { role: 'agent' });
    expect(Array.from(again)).toEqual(Array.from(r1));
    expect(Array.from(r2)).not.toEqual(Array.from(r1));
  });
});
