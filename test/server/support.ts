/**
 * Helpers shared by the server tests (test/server/*.test.ts): msgpack codecs as the server
 * speaks them, a bare `ws` connection, /metrics scraping, seeded vectors and small comparisons.
 * Starting and stopping the server itself is test/server/harness.ts.
 */
import { Packr, Unpackr } from 'msgpackr';
import WebSocket from 'ws';
import { expect } from 'vitest';
import { HoloClientError } from '../../src/client/client.js';
import { rng } from '../../bench/seeded.js';

export { rng };

export const packr = new Packr({ useRecords: false, variableMapSize: true });
export const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** A seeded vector of n entries, each `draw(r)` for one uniform stream r (default: uniform in [-0.5, 0.5)). */
export function seededVec(seed: number, n: number, draw: (r: () => number) => number = (r) => r() - 0.5): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => draw(r));
}

/** A float32 vector's bits, for bit-for-bit comparison. */
export const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);

/** Largest |x[i] − y[i]|; the lengths must match. */
export function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/** A reply without its envelope (the client resolves with the whole map: id, ok, …result). */
export function body(r: object): Record<string, unknown> {
  const { id: _id, ok: _ok, ...rest } = r as Record<string, unknown>;
  return rest;
}

/** 'ok' if p resolves, else the HoloClientError's code it rejects with. */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof HoloClientError ? e.code : `not a HoloClientError: ${String(e)}`;
  }
}

/** The server's /metrics text (http: the server's http://host:port). */
export async function scrape(http: string): Promise<string> {
  const res = await fetch(`${http}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** Sum of a metric's samples whose labels contain every given label="value" (0 if none). */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

export type Reply = Record<string, unknown> & { id: number; ok: boolean; error?: { code: string; message: string } };

/** A bare `ws` connection: frames in, every reply frame collected in arrival order. */
export interface Raw {
  ws: WebSocket;
  replies: Reply[];
  closed: Promise<{ code: number; reason: string }>;
  send(obj: Record<string, unknown>): void;
  sendBytes(b: Uint8Array | string, binary?: boolean): void;
  until(n: number, ms?: number): Promise<Reply[]>;
  /** sends one frame and returns the one reply it gets */
  ask(frame: Record<string, unknown> | Uint8Array | string, binary?: boolean): Promise<Reply>;
}

export async function rawSocket(url: string): Promise<Raw> {
  const ws = new WebSocket(url, { maxPayload: 1 << 28 });
  const replies: Reply[] = [];
  let wake: (() => void) | undefined;
  ws.on('message', (d: Buffer) => { replies.push(unpackr.unpack(d) as Reply); wake?.(); });
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: String(reason) })));
  await new Promise<void>((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  const raw: Raw = {
    ws, replies, closed,
    send: (obj) => ws.send(packr.pack(obj)),
    sendBytes: (b, binary = true) => ws.send(b, { binary }),
    async until(n, ms = 30_000) {
      const deadline = Date.now() + ms;
      while (replies.length < n) {
        if (Date.now() > deadline) throw new Error(`got ${replies.length} of ${n} replies`);
        await new Promise<void>((r) => { wake = r; setTimeout(r, 50); });
      }
      return replies;
    },
    async ask(frame, binary = true) {
      const before = replies.length;
      if (frame instanceof Uint8Array || typeof frame === 'string') raw.sendBytes(frame, binary);
      else raw.send(frame);
      await raw.until(before + 1);
      await new Promise((r) => setTimeout(r, 30)); // exactly one reply: nothing else trails it
      expect(replies.length).toBe(before + 1);
      return replies[before];
    },
  };
  return raw;
}
