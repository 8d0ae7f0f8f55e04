/**
 * The adaptive batcher's rules (src/batch/batcher.ts), on fake timers so "no wait" and "after
 * the window" are exact: an idle worker gets a lone request on the next turn, not after the
 * window; requests arriving while it is busy go together in the next batch; no batch exceeds
 * batchMax; a busy worker still gets a request once it has waited windowMs.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Batcher, type BatcherOptions } from '../../src/batch/batcher.js';

interface Sent { worker: number; kind: string; entries: number[]; done: () => void }

function harness(opts: Partial<BatcherOptions> = {}) {
  const sent: Sent[] = [];
  const b = new Batcher<number>({ workers: 2, windowMs: 5, batchMax: 64, pipeline: 1, ...opts }, (worker, kind, entries) =>
    new Promise<void>((done) => { sent.push({ worker, kind, entries: [...entries], done }); }));
  return { b, sent };
}

/** Lets settled dispatch promises run their .finally (microtasks), then fires due timers. */
async function settle(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

describe('Batcher', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('sends a lone request to an idle worker on the next turn, without the window', async () => {
    const { b, sent } = harness({ windowMs: 1000 });
    b.push(0, 'hrr', 1);
    expect(sent).toHaveLength(0); // not synchronously: frames read together go together
    await settle(0);
    expect(sent).toEqual([expect.objectContaining({ worker: 0, kind: 'hrr', entries: [1] })]);
    expect(b.queued).toBe(0);
    expect(b.busy(0)).toBe(1);
  });

  it('sends what arrived in one turn as one batch', async () => {
    const { b, sent } = harness();
    for (let i = 0; i < 10; i++) b.push(1, 'hrr', i);
    await settle(0);
    expect(sent.map((s) => s.entries)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
    expect(sent[0].worker).toBe(1);
  });

  it('batches requests that arrive while the worker is busy, and sends them when it answers', async () => {
    const { b, sent } = harness({ windowMs: 1000 });
    b.push(0, 'hrr', 0);
    await settle(0);
    expect(sent).toHaveLength(1);
    for (let i = 1; i <= 5; i++) { b.push(0, 'hrr', i); await settle(0); }
    expect(sent).toHaveLength(1); // busy (pipeline 1), window not yet over
    expect(b.queued).toBe(5);
    sent[0].done();
    await settle(0);
    expect(sent.map((s) => s.entries)).toEqual([[0], [1, 2, 3, 4, 5]]);
    expect(b.busy(0)).toBe(1);
  });

  it('keeps up to `pipeline` batches in flight before queueing', async () => {
    const { b, sent } = harness({ pipeline: 2, windowMs: 1000 });
    b.push(0, 'hrr', 0);
    await settle(0);
    b.push(0, 'hrr', 1);
    await settle(0);
    b.push(0, 'hrr', 2);
    await settle(0);
    expect(sent.map((s) => s.entries)).toEqual([[0], [1]]);
    sent[1].done();
    await settle(0);
    expect(sent.map((s) => s.entries)).toEqual([[0], [1], [2]]);
  });

  it('splits at batchMax, in order, and sends a full queue at once even when busy', async () => {
    const { b, sent } = harness({ batchMax: 4, windowMs: 1000 });
    for (let i = 0; i < 10; i++) b.push(0, 'hrr', i);
    // Full batches leave synchronously, without waiting for a turn or the window.
    expect(sent.map((s) => s.entries)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    await settle(0);
    expect(sent.every((s) => s.entries.length <= 4)).toBe(true);
    // 8 and 9 wait: the worker is past its pipeline; the window (1 s) sends them.
    expect(b.queued).toBe(2);
    await settle(1000);
    expect(sent.map((s) => s.entries)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(b.queued).toBe(0);
  });

  it('splits a backlog at batchMax when the worker frees up', async () => {
    const { b, sent } = harness({ batchMax: 3, windowMs: 1000, pipeline: 1 });
    b.push(0, 'hrr', 0);
    await settle(0);
    for (let i = 1; i <= 2; i++) b.push(0, 'hrr', i); // 2 < batchMax: they wait
    sent[0].done();
    await settle(0);
    expect(sent.map((s) => s.entries)).toEqual([[0], [1, 2]]);
    for (let i = 3; i <= 9; i++) b.push(0, 'hrr', i); // 3,4,5 and 6,7,8 leave as full batches
    expect(sent.map((s) => s.entries.length)).toEqual([1, 2, 3, 3]);
    expect(sent.flatMap((s) => s.entries)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('fires the window timer for a busy worker after exactly windowMs', async () => {
    const { b, sent } = harness({ windowMs: 5 });
    b.push(0, 'hrr', 0);
    await settle(0);
    b.push(0, 'hrr', 1); // worker busy: waits for company up to 5 ms
    await settle(4);
    expect(sent).toHaveLength(1);
    b.push(0, 'hrr', 2);
    await settle(1);
    expect(sent.map((s) => s.entries)).toEqual([[0], [1, 2]]);
    expect(b.busy(0)).toBe(2); // the window sends past the pipeline
  });

  it('keeps kinds and workers in separate queues', async () => {
    const { b, sent } = harness();
    b.push(0, 'hrr', 1);
    b.push(0, 'ot', 2);
    b.push(1, 'hrr', 3);
    await settle(0);
    // worker 0 has pipeline 1: its second kind waits for the first batch or the window
    expect(sent.map((s) => [s.worker, s.kind, s.entries])).toEqual([[0, 'hrr', [1]], [1, 'hrr', [3]]]);
    await settle(5);
    expect(sent.map((s) => [s.worker, s.kind, s.entries])).toContainEqual([0, 'ot', [2]]);
  });
});
