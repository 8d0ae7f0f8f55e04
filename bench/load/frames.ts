/** Request frames encoded once and patched per send (FramePool), and reading replies by their head. (bench/load/, docs/LOAD.md) */
import { Packr, Unpackr } from 'msgpackr';
import { bin } from '../../src/client/client.js';
import { Op } from './args.js';
import { gaussian, rng } from './util.js';
// ---------------------------------------------------------------------------------------------
// Frames

export const packr = new Packr({ useRecords: false, variableMapSize: true });
export const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
export const ID_PLACEHOLDER = 0xffffffff;
export const ID_MARK = Buffer.from([0xa2, 0x69, 0x64, 0xce, 0xff, 0xff, 0xff, 0xff]); // "id": uint32 0xffffffff
export const SEND_OPTS = { binary: true } as const;

export type Body = Record<string, unknown>;

/** Request bodies of one op, each with a typed array to vary per send (or none). */
export interface OpBodies {
  /** the op sent on the wire */
  wireOp: string;
  bodies: Body[];
  /** the field varied per send so that no two requests in flight are identical */
  vary?: string;
  varyKind?: 'f32' | 'f64';
}

/**
 * A ring of pre-encoded frames. take(id) patches a free frame's id (and one word of its varied
 * vector: the low mantissa bits of element 0, a per-frame use counter) and marks it busy until
 * ws has handed it to the kernel (its send callback, frees[k]); a frame is never rewritten while
 * queued. If every frame is busy, spare(id) sends a patched copy.
 */
export class FramePool {
  readonly frames: Buffer[];
  readonly frees: (() => void)[];
  private readonly busy: Uint8Array;
  private readonly uses: Uint32Array;
  private readonly idOff: number;
  private readonly varyOff: number;
  private cursor = 0;
  copies = 0;

  constructor(readonly ob: OpBodies) {
    this.frames = ob.bodies.map((b) => {
      if (Object.keys(b)[0] !== 'id' || b.id !== ID_PLACEHOLDER) throw new Error('frame bodies must start with the id placeholder');
      return Buffer.from(packr.pack(b)); // own copy: pack() may return a view of a reused buffer
    });
    const f0 = this.frames[0];
    const at = f0.indexOf(ID_MARK);
    if (at < 0) throw new Error('could not find the id in an encoded frame');
    this.idOff = at + 4;
    this.varyOff = -1;
    if (ob.vary) {
      const v = ob.bodies[0][ob.vary] as Uint8Array;
      this.varyOff = f0.indexOf(Buffer.from(v.buffer, v.byteOffset, 16));
      if (this.varyOff < 0) throw new Error(`could not find field '${ob.vary}' in an encoded frame`);
      for (let k = 1; k < this.frames.length; k++) {
        const w = ob.bodies[k][ob.vary] as Uint8Array;
        if (this.frames[k].indexOf(Buffer.from(w.buffer, w.byteOffset, 16)) !== this.varyOff) throw new Error('frames differ in layout');
      }
    }
    this.busy = new Uint8Array(this.frames.length);
    this.uses = new Uint32Array(this.frames.length);
    this.frees = this.frames.map((_, k) => () => { this.busy[k] = 0; });
  }

  get size(): number {
    return this.frames.length;
  }

  private patch(buf: Buffer, k: number, id: number): void {
    buf.writeUInt32BE(id >>> 0, this.idOff);
    if (this.varyOff < 0) return;
    const u = this.uses[k]++;
    if (this.ob.varyKind === 'f32') {
      // sign, exponent and the top mantissa bit kept: finite, same magnitude class
      const w = buf.readUInt32LE(this.varyOff);
      buf.writeUInt32LE(((w & 0xffc00000) | (u & 0x3fffff)) >>> 0, this.varyOff);
    } else {
      buf.writeUInt32LE(u >>> 0, this.varyOff); // low mantissa word of a float64
    }
  }

  /** A free frame's index, patched with id, or −1 when every frame is still being written. */
  take(id: number): number {
    const n = this.frames.length;
    for (let t = 0; t < n; t++) {
      const k = this.cursor;
      this.cursor = k + 1 === n ? 0 : k + 1;
      if (this.busy[k] === 0) {
        this.busy[k] = 1;
        this.patch(this.frames[k], k, id);
        return k;
      }
    }
    return -1;
  }

  spare(id: number): Buffer {
    const k = this.cursor;
    const b = Buffer.from(this.frames[k]);
    this.patch(b, k, id);
    this.copies++;
    return b;
  }

  /** The params of body k for the TS client (no id/op), with the varied word changed. */
  params(k: number): Body {
    const b = this.ob.bodies[k];
    const p: Body = {};
    for (const [key, v] of Object.entries(b)) if (key !== 'id' && key !== 'op') p[key] = v;
    if (this.ob.vary) {
      const v = b[this.ob.vary] as Uint8Array;
      const dv = new DataView(v.buffer, v.byteOffset, 8);
      const u = this.uses[k]++;
      if (this.ob.varyKind === 'f32') dv.setUint32(0, ((dv.getUint32(0, true) & 0xffc00000) | (u & 0x3fffff)) >>> 0, true);
      else dv.setUint32(0, u >>> 0, true);
    }
    return p;
  }
}

export const RECALL_TENANT = 'holoserve-load-recall';
export const HEAT_GRAPH = 'holoserve-load-heat';

/** `count` distinct request bodies of an op (vectors random, seeded). */
export function makeBodies(op: Op, D: number, count: number, seed: number, nodes: number): OpBodies {
  const u = rng(seed);
  const shared = gaussian(D, rng(seed ^ 0x5eed));
  const bodies: Body[] = [];
  const head = (wireOp: string) => ({ id: ID_PLACEHOLDER, op: wireOp });
  for (let k = 0; k < count; k++) {
    switch (op) {
      case 'hello': bodies.push(head('hello')); break;
      case 'bind': bodies.push({ ...head('bind'), a: bin(gaussian(D, u)), b: bin(shared) }); break;
      case 'bind-role': bodies.push({ ...head('bind'), a: bin(gaussian(D, u)), role: 'agent' }); break;
      case 'unbind': bodies.push({ ...head('unbind'), c: bin(gaussian(D, u)), b: bin(shared) }); break;
      case 'recall': bodies.push({ ...head('recall'), tenant: RECALL_TENANT, vector: bin(gaussian(D, u)), k: 10 }); break;
      case 'sinkhorn': {
        const cost = new Float64Array(64 * 64);
        for (let i = 0; i < cost.length; i++) cost[i] = u();
        bodies.push({ ...head('sinkhorn'), cost: bin(cost), n: 64, m: 64, epsilon: 0.05 });
        break;
      }
      case 'heat': {
        const signal = new Float64Array(nodes);
        for (let i = 0; i < nodes; i++) signal[i] = u() - 0.5;
        bodies.push({ ...head('heat'), graph: HEAT_GRAPH, signal: bin(signal), t: 1 });
        break;
      }
    }
  }
  const vary = ({ bind: 'a', 'bind-role': 'a', unbind: 'c', recall: 'vector', sinkhorn: 'cost', heat: 'signal', hello: undefined } as const)[op];
  const varyKind = op === 'sinkhorn' || op === 'heat' ? 'f64' : 'f32';
  return { wireOp: op === 'bind-role' ? 'bind' : op, bodies, vary, varyKind: vary ? varyKind : undefined };
}

/** Batch kind and metrics op label of an op (for /metrics). */
export function opLabels(op: Op): { kind?: string; label: string } {
  const kind = ({ bind: 'hrr', 'bind-role': 'hrr', unbind: 'hrr', recall: 'memory', sinkhorn: 'ot', heat: 'graph', hello: undefined } as const)[op];
  return { kind, label: op === 'bind-role' ? 'bind' : op };
}

// ---------------------------------------------------------------------------------------------
// Replies: the id and ok flag from the head of the frame ({id, ok, ...} as holoserve packs it)

export let headOk = false;

/** The reply's id (sets headOk), or −1 when the head is not laid out as expected. */
export function replyHead(b: Buffer): number {
  let i: number;
  const m = b[0];
  if ((m & 0xf0) === 0x80) i = 1;
  else if (m === 0xde) i = 3;
  else if (m === 0xdf) i = 5;
  else return -1;
  if (b[i] !== 0xa2 || b[i + 1] !== 0x69 || b[i + 2] !== 0x64) return -1;
  i += 3;
  const t = b[i];
  let id: number;
  if (t < 0x80) { id = t; i += 1; }
  else if (t === 0xcc) { id = b[i + 1]; i += 2; }
  else if (t === 0xcd) { id = (b[i + 1] << 8) | b[i + 2]; i += 3; }
  else if (t === 0xce) { id = b.readUInt32BE(i + 1); i += 5; }
  else return -1;
  if (b[i] !== 0xa2 || b[i + 1] !== 0x6f || b[i + 2] !== 0x6b) return -1;
  const v = b[i + 3];
  if (v === 0xc3) headOk = true;
  else if (v === 0xc2) headOk = false;
  else return -1;
  return id;
}

export function decodeReply(b: Buffer): { id: number; ok: boolean; code: string; message: string; msg: Record<string, unknown> } {
  try {
    const msg = unpackr.unpack(b) as Record<string, unknown>;
    const err = msg.error as { code?: string; message?: string } | undefined;
    return { id: typeof msg.id === 'number' ? msg.id : -1, ok: msg.ok === true, code: err?.code ?? (msg.ok === true ? '' : 'malformed_reply'), message: err?.message ?? '', msg };
  } catch (e) {
    return { id: -1, ok: false, code: 'undecodable_reply', message: (e as Error).message, msg: {} };
  }
}
