/**
 * Outcomes → wire fields (docs/PROTOCOL.md "Arrays"): typed arrays become bins of their bytes
 * (little-endian on every supported host), lists of them lists of bins, and stored msgpack
 * payloads are decoded back into the values the client sent.
 */
import { Unpackr } from 'msgpackr';
import { isPlainValue } from './scan.js';
import { bytes } from './vectors.js';

const payloadUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });

function wire(v: unknown): unknown {
  if (v instanceof Float32Array || v instanceof Float64Array || v instanceof Uint32Array) return bytes(v);
  if (Array.isArray(v)) return v.map(wire);
  return v;
}

export function toWire(result: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(result)) {
    if (k === 'hits' && Array.isArray(v)) {
      out.hits = v.map((h: Record<string, unknown>) => {
        const { payload, ...rest } = h;
        if (!(payload instanceof Uint8Array)) return rest;
        // Written before the decode profile existed, a payload may hold extension types: it is
        // left out (payloadDropped) rather than sent in a reply no stock decoder can read.
        return isPlainValue(payload) ? { ...rest, payload: payloadUnpackr.unpack(payload) } : { ...rest, payloadDropped: true };
      });
    } else if (v !== undefined) {
      out[k] = wire(v);
    }
  }
  return out;
}
