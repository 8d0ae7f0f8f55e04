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
import { BudgetError, describeBug, HoloError, isHoloError, type ErrorCode } from '../errors.js';
import type { Dispatcher } from '../batch/dispatcher.js';
import { fanOut } from '../batch/fanout.js';
import type { Metrics } from '../metrics/registry.js';
import { asNumber, decodeFrame, encodeError, encodeOk, frameId, type Frame } from '../protocol/codec.js';
import { OP_NAMES, parseRequest, type Limits, type Parsed } from '../protocol/ops.js';
import { toWire } from '../protocol/results.js';
import { uwsBackpressureBytes } from './app.js';
import { allows, type Grant } from './auth.js';
import { log } from '../log.js';

export interface ConnState {
  id: number;
  grant: Grant;
  inflight: number;
  closed: boolean;
  /** tenants named in the current one-second window (setting tenantsPerConnectionPerSecond) */
  tenants?: { start: number; names: Set<string> };
}

export interface ServerState {
  ready: boolean;
  draining: boolean;
  /** Ownership across processes (cluster/membership.ts): another process's URL for its tenants, null for ours. */
  ownerOf?: (tenant: string) => string | null;
}

export class FrameHandler {
  /** uWS's per-socket send bound (app.ts sets maxBackpressure to it) */
  private readonly uwsLimit: number;

  constructor(
    private readonly cfg: Config,
    private readonly limits: Limits,
    private readonly dispatcher: Dispatcher,
    private readonly metrics: Metrics,
    private readonly state: ServerState,
    private readonly hello: () => Record<string, unknown>,
    /** admin ops (knobs, drill, status), answered on the main thread */
    private readonly inline: (p: Parsed) => Promise<Record<string, unknown>>,
  ) {
    this.uwsLimit = uwsBackpressureBytes(cfg);
  }

  onMessage(ws: WebSocket<ConnState>, conn: ConnState, message: ArrayBuffer, isBinary: boolean): void {
    const t0 = performance.now();
    this.metrics.pendingBytesIn += message.byteLength;
    let frame: Frame | undefined;
    let op = 'invalid';
    try {
      if (message.byteLength > this.cfg.maxFrameBytes) {
        // docs/PROTOCOL.md: an oversized frame closes the connection with 1009 and a reason. The
        // whole frame has been read (uWS's own limit is 2 × maxFrameBytes), so the close frame
        // reaches the client before the TCP close instead of being lost to a reset.
        this.metrics.budgetRefusals.inc({ budget: 'frame_bytes' });
        this.metrics.requests.inc({ op: 'invalid', outcome: 'too_large' });
        conn.closed = true;
        ws.end(1009, `frame of ${message.byteLength} bytes exceeds maxFrameBytes = ${this.cfg.maxFrameBytes}`);
        return;
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
        for (const p of parsed.parts ?? []) this.limits.arena?.release(p.params);
        throw e;
      }
    } catch (e) {
      const code: ErrorCode = isHoloError(e) ? e.code : 'internal';
      if (e instanceof BudgetError) this.metrics.budgetRefusals.inc({ budget: e.budget });
      if (!isHoloError(e)) {
        this.metrics.internalErrors.inc({ op: isKnownOp(op) ? op : 'invalid' });
        log.error({ op: isKnownOp(op) ? op : 'invalid', bug: describeBug(e) }, 'frame handler bug');
      }
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
    if (parsed.kind === 'inline' && !conn.grant.admin) {
      throw new HoloError('unauthorized', `op '${parsed.op}' needs a token with admin: true`);
    }
    const tenant = parsed.route === 'tenant' ? parsed.routeKey! : parsed.params.tenant as string | undefined;
    if (tenant !== undefined) {
      if (!allows(conn.grant, tenant)) throw new HoloError('unauthorized', `this connection may not use tenant '${tenant}'`);
      this.countTenant(conn, tenant);
    }
    if (parsed.kind === 'graph' && parsed.params.graph !== undefined) {
      // A stored graph belongs to the tenant the request names, else to the connection's token.
      const scope = tenant !== undefined ? `tenant:${tenant}` : conn.grant.scope;
      parsed.params.scope = scope;
      parsed.routeKey = JSON.stringify([scope, parsed.params.graph]);
    }
    for (const p of parsed.parts ?? []) {
      if (!allows(conn.grant, p.routeKey!)) throw new HoloError('unauthorized', `this connection may not use tenant '${p.routeKey}'`);
    }
    const owner = parsed.route === 'tenant' ? this.state.ownerOf?.(parsed.routeKey!) : null;
    if (owner) throw new HoloError('moved', owner); // the message is the owner's URL (Redis Cluster's MOVED)
    conn.inflight++;
    const outcome = parsed.parts !== undefined ? fanOut(this.dispatcher, parsed.parts) : parsed.kind === 'inline'
      ? this.inline(parsed).then(
        (result) => ({ ok: true as const, result }),
        (e: unknown) => {
          if (isHoloError(e)) return { ok: false as const, code: e.code, message: e.message };
          this.metrics.internalErrors.inc({ op: parsed.op });
          log.error({ bug: describeBug(e) }, 'admin op bug');
          return { ok: false as const, code: 'internal' as const, message: 'internal error (logged by the server)' };
        })
      : this.dispatcher.submit(parsed);
    outcome.then((o) => {
      conn.inflight--;
      this.reply(ws, conn, id, op, t0, o);
    });
  }

  /** Distinct tenants per connection per second: a new name past the budget is `overloaded`. */
  private countTenant(conn: ConnState, name: string): void {
    const now = performance.now();
    let w = conn.tenants;
    if (!w || now - w.start >= 1000) w = conn.tenants = { start: now, names: new Set() };
    if (w.names.has(name)) return;
    if (w.names.size >= this.cfg.tenantsPerConnectionPerSecond) {
      throw new BudgetError('overloaded', 'tenant_rate', `this connection named ${w.names.size} tenants in the last second, limit ${this.cfg.tenantsPerConnectionPerSecond} (setting tenantsPerConnectionPerSecond): retry shortly`);
    }
    w.names.add(name);
  }

  private reply(
    ws: WebSocket<ConnState>, conn: ConnState, id: number, op: string, t0: number,
    o: { ok: true; result: Record<string, unknown> } | { ok: false; code: ErrorCode; message: string },
  ): void {
    const label = isKnownOp(op) ? op : 'invalid';
    if (conn.closed) {
      this.metrics.answered(label, o.ok ? 'ok' : o.code);
      this.metrics.dropped.inc();
      return;
    }
    let buf: Uint8Array;
    let outcome: string = o.ok ? 'ok' : o.code;
    try {
      buf = o.ok ? encodeOk(id, toWire(o.result)) : encodeError(id, o.code, o.message);
    } catch (e) {
      this.metrics.internalErrors.inc({ op: label });
      log.error({ op: label, bug: describeBug(e) }, 'could not encode a reply');
      buf = encodeError(id, 'internal', 'could not encode the result');
      outcome = 'internal';
    }
    if (buf.byteLength > this.cfg.maxFrameBytes) {
      // The ops whose reply size is known from the request (heat, sinkhorn) were refused before
      // computing (ops.ts); this catches the rest (a recall of many large payloads), so that no
      // reply is larger than the frames the client was promised.
      this.metrics.budgetRefusals.inc({ budget: 'reply_bytes' });
      buf = encodeError(id, 'too_large', `the reply would be ${buf.byteLength} bytes, more than maxFrameBytes = ${this.cfg.maxFrameBytes}: ask for less (k, t)`);
      outcome = 'too_large';
    }
    this.metrics.answered(label, outcome);
    // A reply that would take the send buffer past uWS's maxBackpressure would be dropped, and a
    // lost reply breaks the one-reply-per-frame promise: close with 1013 instead, while the
    // buffer is still under that bound, so that uWS queues the close frame behind the replies
    // already owed and the client reads them, then 1013 and its reason, before the TCP close.
    if (ws.getBufferedAmount() + buf.byteLength > this.uwsLimit) {
      this.metrics.dropped.inc();
      conn.closed = true;
      ws.end(1013, `replies not read: ${ws.getBufferedAmount()} bytes unsent, past the connection's backpressure budget`);
      return;
    }
    let sent = 0;
    ws.cork(() => { sent = ws.send(buf, true); });
    this.metrics.pendingBytesOut += buf.byteLength;
    this.metrics.latencyOf(label).observe((performance.now() - t0) / 1000);
    if (sent === 2) {
      // uWS dropped it anyway: close likewise.
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
