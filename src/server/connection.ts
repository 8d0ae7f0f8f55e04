/**
 * One WebSocket connection's frame handling: decode, check, credit, submit, reply. Each frame
 * gets exactly one reply frame (an error frame with id 0 if its id could not be read); an error
 * in one frame never closes the socket or disturbs its other requests (Hono's one catch at the
 * edge). Flow control is by credits: at most maxInflightPerConnection requests in flight, and
 * none accepted while the reply buffer is past maxBackpressureBytes (uWS 20.30 cannot pause a
 * socket), so a slow reader cannot make the server buffer without bound.
 */
import type { WebSocket } from 'uWebSockets.js';
import type { Config } from '../config.js';
import { HoloError, isHoloError, type ErrorCode } from '../errors.js';
import type { Dispatcher } from '../batch/dispatcher.js';
import type { Metrics } from '../metrics/registry.js';
import { asNumber, decodeFrame, encodeError, encodeOk, frameId, type Frame } from '../protocol/codec.js';
import { OP_NAMES, parseRequest, type Limits, type Parsed } from '../protocol/ops.js';
import { toWire } from '../protocol/results.js';
import { allows, type Grant } from './auth.js';
import { log } from '../log.js';

export interface ConnState {
  id: number;
  grant: Grant;
  inflight: number;
  closed: boolean;
}

export interface ServerState {
  ready: boolean;
  draining: boolean;
}

export class FrameHandler {
  constructor(
    private readonly cfg: Config,
    private readonly limits: Limits,
    private readonly dispatcher: Dispatcher,
    private readonly metrics: Metrics,
    private readonly state: ServerState,
    private readonly hello: () => Record<string, unknown>,
    /** admin ops (knobs, drill), answered on the main thread */
    private readonly inline: (p: Parsed) => Promise<Record<string, unknown>>,
  ) {}

  onMessage(ws: WebSocket<ConnState>, conn: ConnState, message: ArrayBuffer, isBinary: boolean): void {
    const t0 = performance.now();
    this.metrics.bytesIn.inc(message.byteLength);
    let frame: Frame | undefined;
    let op = 'invalid';
    try {
      if (message.byteLength > this.cfg.maxFrameBytes) {
        throw new HoloError('too_large', `frame is ${message.byteLength} bytes, limit ${this.cfg.maxFrameBytes} (setting maxFrameBytes)`);
      }
      if (!isBinary) throw new HoloError('bad_request', 'frames must be binary (msgpack), not text');
      frame = decodeFrame(new Uint8Array(message));
      const id = asNumber(frame.id);
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > Number.MAX_SAFE_INTEGER) {
        throw new HoloError('bad_request', "field 'id' must be an unsigned integer");
      }
      if (typeof frame.op === 'string' && frame.op.length <= 64) op = frame.op;
      if (conn.inflight >= this.cfg.maxInflightPerConnection) {
        throw new HoloError('overloaded', `more than ${this.cfg.maxInflightPerConnection} requests in flight on this connection: wait for replies`);
      }
      if (ws.getBufferedAmount() > this.cfg.maxBackpressureBytes) {
        throw new HoloError('overloaded', 'replies are not being read fast enough: wait for replies before sending more');
      }
      const parsed = parseRequest(frame, this.limits);
      op = parsed.op;
      try {
        this.admit(ws, conn, id, op, t0, parsed);
      } catch (e) {
        this.limits.arena?.release(parsed.params); // refused before queueing: its vectors go back
        throw e;
      }
    } catch (e) {
      const code: ErrorCode = isHoloError(e) ? e.code : 'internal';
      if (!isHoloError(e)) log.error({ err: e }, 'frame handler bug');
      const msg = isHoloError(e) ? e.message : 'internal error (logged by the server)';
      this.reply(ws, conn, frameId(frame), op, t0, { ok: false, code, message: msg });
    }
  }

  /** Answers hello at once, or checks state and grant and hands the request on. */
  private admit(ws: WebSocket<ConnState>, conn: ConnState, id: number, op: string, t0: number, parsed: Parsed): void {
    if (parsed.op === 'hello') {
      this.reply(ws, conn, id, op, t0, { ok: true, result: this.hello() });
      return;
    }
    if (this.state.draining) throw new HoloError('unavailable', 'server is shutting down');
    if (!this.state.ready) throw new HoloError('unavailable', 'server is still prewarming: retry shortly (GET /readyz)');
    if (parsed.route === 'tenant' && !allows(conn.grant, parsed.routeKey!)) {
      throw new HoloError('unauthorized', `this connection may not use tenant '${parsed.routeKey}'`);
    }
    conn.inflight++;
    const outcome = parsed.kind === 'inline'
      ? this.inline(parsed).then(
        (result) => ({ ok: true as const, result }),
        (e: unknown) => (isHoloError(e) ? { ok: false as const, code: e.code, message: e.message } : { ok: false as const, code: 'internal' as const, message: String(e) }))
      : this.dispatcher.submit(parsed);
    outcome.then((o) => {
      conn.inflight--;
      this.reply(ws, conn, id, op, t0, o);
    });
  }

  private reply(
    ws: WebSocket<ConnState>, conn: ConnState, id: number, op: string, t0: number,
    o: { ok: true; result: Record<string, unknown> } | { ok: false; code: ErrorCode; message: string },
  ): void {
    const label = isKnownOp(op) ? op : 'invalid';
    this.metrics.requests.inc({ op: label, outcome: o.ok ? 'ok' : o.code });
    if (conn.closed) {
      this.metrics.dropped.inc();
      return;
    }
    let buf: Uint8Array;
    try {
      buf = o.ok ? encodeOk(id, toWire(o.result)) : encodeError(id, o.code, o.message);
    } catch (e) {
      log.error({ err: e }, 'could not encode a reply');
      buf = encodeError(id, 'internal', 'could not encode the result');
    }
    let sent = 0;
    ws.cork(() => { sent = ws.send(buf, true); });
    this.metrics.bytesOut.inc(buf.byteLength);
    this.metrics.latency.observe({ op: label }, (performance.now() - t0) / 1000);
    if (sent === 2) {
      // uWS dropped it (past its own maxBackpressure): a lost reply breaks the protocol's
      // one-reply-per-frame promise, so close and let the client reconnect and retry.
      this.metrics.dropped.inc();
      conn.closed = true;
      ws.end(1013, 'reply dropped: connection too far behind');
    }
  }
}

const KNOWN_OPS = new Set(OP_NAMES);
/** Metric labels stay bounded: an op the table does not know is counted as 'invalid'. */
function isKnownOp(op: string): boolean {
  return KNOWN_OPS.has(op);
}
