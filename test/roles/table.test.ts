/**
 * The shared role table's index (LRU by use, pins while a batch is in flight) and its file
 * (checksummed, so a corrupt or foreign file is reported, never loaded).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { role } from '../../src/kernels/hrr/role.js';
import { loadRoleFile, saveRoleFile } from '../../src/roles/file.js';
import { createRoleTableBuffer, RoleTable, RoleTableView, roleTableBytes } from '../../src/roles/table.js';

const D = 256;

function table(capacity: number): RoleTable {
  return new RoleTable(createRoleTableBuffer(D, capacity));
}

/** Fills every slot that refs name with the token's role (vector) and a marker spectrum. */
function fill(t: RoleTable, refs: { token: string; slot: number }[]): void {
  for (const r of refs) {
    t.view.vector(r.slot).set(role(r.token, D, 0));
    t.view.spectrum(r.slot).fill(r.slot + 0.5);
    t.view.publish(r.slot);
  }
}

describe('RoleTable', () => {
  it('lays out header, state and slots as documented', () => {
    const sab = createRoleTableBuffer(D, 3);
    expect(sab.byteLength).toBe(roleTableBytes(D, 3));
    expect(roleTableBytes(D, 3)).toBe((4 + 3) * 4 + 3 * 2 * D * 4);
    const v = new RoleTableView(sab);
    expect([v.D, v.capacity, v.data.length]).toEqual([D, 3, 3 * 2 * D]);
    expect(v.vector(1).byteOffset - v.spectrum(1).byteOffset).toBe(D * 4);
  });

  it('marks unready slots compute = true and ready ones false; a hit keeps its slot', () => {
    const t = table(4);
    const r1 = t.acquire(['a', 'b']);
    expect(r1.map((r) => r.compute)).toEqual([true, true]);
    fill(t, r1);
    t.release(r1);
    const r2 = t.acquire(['b', 'a']);
    expect(r2.map((r) => r.compute)).toEqual([false, false]);
    expect(r2.map((r) => r.slot)).toEqual([r1[1].slot, r1[0].slot]);
    t.release(r2);
    expect(t.hits).toBe(2);
    expect(t.misses).toBe(2);
  });

  it('evicts the least recently used unpinned token', () => {
    const t = table(3);
    for (const tok of ['a', 'b', 'c']) { const r = t.acquire([tok]); fill(t, r); t.release(r); }
    t.release(t.acquire(['a'])); // a is now the most recent: b is the LRU
    const d = t.acquire(['d']);
    expect(d[0].compute).toBe(true);
    t.release(d);
    expect(t.peek('b')).toBeUndefined();
    expect(t.peek('a')).toBeDefined();
    expect(t.peek('c')).toBeDefined();
    expect(t.evictions).toBe(1);
    // the evicted slot was cleared: whoever gets it must compute
    expect(t.view.isReady(d[0].slot)).toBe(false);
  });

  it('never evicts a pinned slot, and is overloaded when every slot is pinned', () => {
    const t = table(3);
    const pinned = t.acquire(['keep']);
    fill(t, pinned);
    for (let i = 0; i < 50; i++) {
      const r = t.acquire([`churn-${i}`]);
      expect(r[0].slot).not.toBe(pinned[0].slot);
      t.release(r);
    }
    expect(t.peek('keep')).toBe(pinned[0].slot);
    expect(t.view.isReady(pinned[0].slot)).toBe(true);

    const more = t.acquire(['x', 'y']); // with 'keep': all three slots pinned
    expect(() => t.acquire(['z'])).toThrow(expect.objectContaining({ code: 'overloaded' }));
    t.release(more);
    t.release(pinned);
    expect(() => t.release(t.acquire(['z']))).not.toThrow();
  });

  it('pins a token once per mention and frees it after as many releases', () => {
    const t = table(2);
    const a1 = t.acquire(['a']);
    const a2 = t.acquire(['a']);
    t.release(a1);
    const b = t.acquire(['b']);
    expect(() => t.acquire(['c'])).toThrow(expect.objectContaining({ code: 'overloaded' })); // a still pinned by a2
    t.release(a2);
    t.release(b);
    expect(() => t.release(t.acquire(['c']))).not.toThrow();
  });

  it('leaks no pin when an acquire fails part-way', () => {
    const t = table(2);
    const held = t.acquire(['a', 'b']);
    // 'a' is found (and would be pinned), then 'c' finds no free slot: the call fails...
    expect(() => t.acquire(['a', 'c'])).toThrow(expect.objectContaining({ code: 'overloaded' }));
    t.release(held);
    // ...and after the batch holding a and b is done, both slots must be usable again.
    expect(() => t.release(t.acquire(['x', 'y']))).not.toThrow();
  });

  it('purge forgets every unpinned role and keeps the pinned ones', () => {
    const t = table(4);
    const all = t.acquire(['a', 'b', 'c']);
    fill(t, all);
    t.release(all.slice(1));
    expect(t.purge()).toBe(2);
    expect(t.peek('a')).toBe(all[0].slot);
    expect(t.peek('b')).toBeUndefined();
    expect(t.view.isReady(all[1].slot)).toBe(false);
    expect(t.size).toBe(1);
    t.release(all.slice(0, 1));
  });

  it('lists ready entries least recently used first', () => {
    const t = table(4);
    for (const tok of ['a', 'b', 'c']) { const r = t.acquire([tok]); fill(t, r); t.release(r); }
    t.release(t.acquire(['a']));
    t.release(t.acquire(['unready'])); // not computed: not listed
    expect([...t.readyEntries()].map((e) => e.token)).toEqual(['b', 'c', 'a']);
  });
});

describe('role file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'holoserve-rolefile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const meta = { D, seed: 7, layout: 'test-layout' };

  function saved(name: string, tokens: string[]): { path: string; t: RoleTable } {
    const t = table(8);
    const refs = t.acquire(tokens);
    fill(t, refs);
    t.release(refs);
    const path = join(dir, name);
    expect(saveRoleFile(path, t, meta)).toBe(tokens.length);
    return { path, t };
  }

  it('round-trips tokens and both halves of every slot bit for bit', () => {
    const tokens = ['agent', 'verb', 'pos:0', 'ünïcödé', '🙂'];
    const { path, t } = saved('ok.bin', tokens);
    const u = table(8);
    expect(loadRoleFile(path, u, meta)).toEqual({ loaded: tokens.length });
    expect([...u.readyEntries()].map((e) => e.token)).toEqual(tokens);
    for (const tok of tokens) {
      const a = t.peek(tok)!, b = u.peek(tok)!;
      const bits = (v: RoleTableView, s: number) => new Uint32Array(v.data.slice(s * 2 * D, (s + 1) * 2 * D).buffer);
      expect(bits(u.view, b)).toEqual(bits(t.view, a));
      expect(u.view.vector(b)).toEqual(role(tok, D, 0));
    }
  });

  it('loads at most capacity roles from a bigger file', () => {
    const { path } = saved('big.bin', ['a', 'b', 'c', 'd', 'e']);
    const u = table(3);
    expect(loadRoleFile(path, u, meta)).toEqual({ loaded: 3 });
    expect(u.size).toBe(3);
  });

  it('reports a flipped byte anywhere as a checksum mismatch and loads nothing', () => {
    const { path } = saved('flip.bin', ['a', 'b']);
    const good = readFileSync(path);
    for (const at of [0, 9, 40, Math.floor(good.length / 2), good.length - 33, good.length - 1]) {
      const bad = Buffer.from(good);
      bad[at] ^= 0x01;
      writeFileSync(path, bad);
      const u = table(4);
      const r = loadRoleFile(path, u, meta);
      expect(r.loaded).toBe(0);
      expect('problem' in r && r.problem).toMatch(/checksum mismatch/);
      expect(u.size).toBe(0);
    }
  });

  it('reports missing, truncated and foreign files', () => {
    const u = table(4);
    expect(loadRoleFile(join(dir, 'absent.bin'), u, meta)).toEqual({ loaded: 0, problem: 'no file' });
    const { path } = saved('meta.bin', ['a']);
    writeFileSync(join(dir, 'short.bin'), readFileSync(path).subarray(0, 20));
    expect(loadRoleFile(join(dir, 'short.bin'), u, meta)).toMatchObject({ loaded: 0, problem: 'truncated' });
    for (const other of [{ ...meta, D: 512 }, { ...meta, seed: 8 }, { ...meta, layout: 'other' }]) {
      const r = loadRoleFile(path, u, other);
      expect(r.loaded).toBe(0);
      expect('problem' in r && r.problem).toMatch(/made for D=256 seed=7 layout=test-layout/);
    }
    expect(u.size).toBe(0);
  });
});
