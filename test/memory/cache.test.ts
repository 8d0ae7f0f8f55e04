import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LruCache, TtlCache, TTL_DEFAULTS } from '../../src/memory/cache.js';

describe('LruCache', () => {
  it('evicts the least recently used; get refreshes', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1).set('b', 2);
    expect(c.get('a')).toBe(1); // a is now most recent
    c.set('c', 3); // evicts b
    expect(c.has('b')).toBe(false);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
    expect({ hits: c.hits, misses: c.misses, evictions: c.evictions, size: c.size }).toEqual({ hits: 3, misses: 1, evictions: 1, size: 2 });
  });

  it('set on a held key refreshes it', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1).set('b', 2).set('a', 10).set('c', 3);
    expect([c.has('a'), c.has('b'), c.has('c')]).toEqual([true, false, true]);
    expect(c.get('a')).toBe(10);
  });

  it('pinned entries are never evicted and not counted against maxEntries', () => {
    const c = new LruCache<string, string>(2);
    c.pin('system', 'S');
    c.set('a', 'A').set('b', 'B').set('c', 'C');
    expect(c.get('system')).toBe('S');
    expect(c.has('a')).toBe(false);
    expect(c.size).toBe(3);
    expect(c.pinned).toBe(1);
    c.set('system', 'S2'); // keeps its pin
    expect(c.pinned).toBe(1);
    expect(c.get('system')).toBe('S2');
    // Unpinned, it joins the LRU as most recent and the least recent ('b') goes.
    expect(c.unpin('system')).toBe(true);
    expect(c.unpin('system')).toBe(false);
    expect([c.has('b'), c.has('c'), c.has('system')]).toEqual([false, true, true]);
    expect(c.delete('system')).toBe(true);
    c.pin('p', 'P');
    c.clear();
    expect(c.size).toBe(0);
  });

  it('matches a reference model of recency order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('get', 'set', 'delete'), fc.integer({ min: 0, max: 6 })), { maxLength: 200 }), (ops) => {
        const c = new LruCache<number, number>(3);
        let order: number[] = []; // least recent first
        for (const [op, k] of ops) {
          if (op === 'get') {
            const held = order.includes(k);
            expect(c.get(k)).toBe(held ? k : undefined);
            if (held) order = [...order.filter((x) => x !== k), k];
          } else if (op === 'set') {
            c.set(k, k);
            order = [...order.filter((x) => x !== k), k];
            if (order.length > 3) order.shift();
          } else {
            expect(c.delete(k)).toBe(order.includes(k));
            order = order.filter((x) => x !== k);
          }
          expect(c.size).toBe(order.length);
        }
      }),
      { seed: 7, numRuns: 40 },
    );
  });
});

describe('TtlCache', () => {
  it('defaults to a 1000 ms TTL', () => {
    expect(TTL_DEFAULTS.ttlMs).toBe(1000);
    expect(new TtlCache().ttlMs).toBe(1000);
  });

  it('serves an entry while now < setAt + ttlMs, then expires it', () => {
    const c = new TtlCache<string, number>({ ttlMs: 1000 });
    c.set('q', 1, 5000);
    expect(c.get('q', 5999)).toBe(1);
    expect(c.get('q', 6000)).toBeUndefined();
    expect(c.size).toBe(0);
    expect({ hits: c.hits, misses: c.misses, expirations: c.expirations }).toEqual({ hits: 1, misses: 1, expirations: 1 });
  });

  it('a re-set restarts the TTL; sweep drops the expired in order', () => {
    const c = new TtlCache<string, number>({ ttlMs: 100 });
    c.set('a', 1, 0).set('b', 2, 50).set('a', 3, 60);
    expect(c.sweep(120)).toBe(0); // b lives to 150, a to 160
    expect(c.sweep(155)).toBe(1);
    expect(c.get('a', 155)).toBe(3);
    expect(c.get('b', 155)).toBeUndefined();
  });

  it('invalidateGroup drops one tenant, invalidate takes a predicate', () => {
    const c = new TtlCache<string, number>();
    c.set('t1|q1', 1, 0, 't1').set('t1|q2', 2, 0, 't1').set('t2|q1', 3, 0, 't2').set('x', 4, 0);
    expect(c.invalidateGroup('t1')).toBe(2);
    expect(c.invalidateGroup('t1')).toBe(0);
    expect(c.get('t2|q1', 1)).toBe(3);
    expect(c.invalidate((k) => k.startsWith('t2|'))).toBe(1);
    expect(c.size).toBe(1);
    // A key moved to another group leaves the old one.
    c.set('k', 1, 0, 'g1').set('k', 2, 0, 'g2');
    expect(c.invalidateGroup('g1')).toBe(0);
    expect(c.invalidateGroup('g2')).toBe(1);
  });

  it('caps entries, dropping the oldest set; ttlMs 0 disables', () => {
    const c = new TtlCache<number, number>({ ttlMs: 1000, maxEntries: 2 });
    c.set(1, 1, 0).set(2, 2, 1).set(3, 3, 2);
    expect(c.get(1, 3)).toBeUndefined();
    expect(c.get(3, 3)).toBe(3);
    expect(c.evictions).toBe(1);
    const off = new TtlCache<number, number>({ ttlMs: 0 });
    off.set(1, 1, 0);
    expect(off.get(1, 0)).toBeUndefined();
    expect(off.size).toBe(0);
  });
});
