/**
 * The uWebSockets.js front end: WebSocket endpoint /v1 (binary msgpack frames, see
 * connection.ts) and three HTTP routes: GET /healthz (alive), GET /readyz (200 only after
 * prewarm, 503 before and while draining), GET /metrics (Prometheus text format); plain HTTP
 * on /v1 is answered 426 Upgrade Required.
 * uWS defaults are wrong for this protocol (16 KiB max payload closes the socket on a 32 KiB
 * vector; 64 KiB maxBackpressure drops replies), so both are set from the config.
 */
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics/registry.js';
import { authenticate, authRequired } from './auth.js';
import type { ConnState, FrameHandler, ServerState } from './connection.js';
import type { UwsLoad } from './uws.js';

export interface Listening {
  app: TemplatedApp;
  port: number;
  close(): void;
  /** closes every open WebSocket (after draining) */
  closeSockets(): void;
}

/** uWS's per-socket send buffer: the app's bound plus every reply that may be owed then. */
export function uwsBackpressureBytes(cfg: Config): number {
  const reply = Math.max(4 * cfg.dim, 8 * cfg.sinkhornMaxSize * cfg.sinkhornMaxSize) + 4096;
  return cfg.maxBackpressureBytes + cfg.maxInflightPerConnection * reply;
}

export function listen(load: UwsLoad, cfg: Config, handler: FrameHandler, metrics: Metrics, state: ServerState): Promise<Listening> {
  const { uws } = load;
  const sockets = new Set<import('uWebSockets.js').WebSocket<ConnState>>();
  const states = new WeakMap<import('uWebSockets.js').WebSocket<ConnState>, ConnState>();
  let nextId = 1;
  const app = uws.App();
  app.ws<ConnState>('/v1', {
    compression: uws.DISABLED,
    // Frames up to 2× the limit are read and answered `too_large` (connection.ts); past that
    // uWS closes the socket (code 1009), which bounds what one frame can make us buffer.
    maxPayloadLength: cfg.maxFrameBytes * 2,
    // uWS drops (send() = 2) past this. The app stops taking requests at maxBackpressureBytes,
    // and at most maxInflightPerConnection replies are owed then, so this leaves room for all of
    // them at the size of a vector or a full Sinkhorn plan. Only heat replies can be larger;
    // a reply that still does not fit closes the connection (connection.ts), never vanishes.
    maxBackpressure: uwsBackpressureBytes(cfg),
    closeOnBackpressureLimit: 0,
    idleTimeout: cfg.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    // The upgrade hook exists only when tokens are checked: without it every connection gets
    // every tenant (loopback, no tokens), and uWS's JS fallback cannot run upgrade hooks.
    upgrade: authRequired(cfg) ? (res, req, context) => {
      const grant = authenticate(cfg, req.getHeader('authorization'));
      if (grant === undefined) {
        res.writeStatus('401 Unauthorized').writeHeader('WWW-Authenticate', 'Bearer').end('unauthorized: send Authorization: Bearer <token>');
        return;
      }
      const data: ConnState = { id: nextId++, grant, inflight: 0, closed: false };
      res.upgrade(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    } : undefined,
    open: (ws) => {
      // Native uWS carries the upgrade's data; the JS fallback has no getUserData at all.
      const data = load.native ? ws.getUserData() : ({} as ConnState);
      if (data.id === undefined) Object.assign(data, { id: nextId++, grant: null, inflight: 0, closed: false } satisfies ConnState);
      states.set(ws, data);
      sockets.add(ws);
      metrics.connections.inc();
    },
    message: (ws, message, isBinary) => handler.onMessage(ws, states.get(ws)!, message, isBinary),
    close: (ws) => {
      const data = states.get(ws);
      if (data) data.closed = true;
      sockets.delete(ws);
      metrics.connections.dec();
    },
  });
  app.get('/healthz', (res) => { res.writeHeader('Content-Type', 'text/plain').end('ok\n'); });
  app.get('/readyz', (res) => {
    const ok = state.ready && !state.draining;
    res.writeStatus(ok ? '200 OK' : '503 Service Unavailable').writeHeader('Content-Type', 'text/plain')
      .end(ok ? 'ready\n' : state.draining ? 'draining\n' : 'prewarming\n');
  });
  app.get('/metrics', (res) => {
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    metrics.registry.metrics().then((text) => {
      if (aborted) return;
      res.cork(() => { res.writeHeader('Content-Type', metrics.registry.contentType).end(text); });
    }, (e: unknown) => {
      if (aborted) return;
      res.cork(() => { res.writeStatus('500 Internal Server Error').end(String(e)); });
    });
  });
  // /v1 without a WebSocket upgrade (a browser, curl): uWS yields such requests from the ws
  // route to the next matching handler, which says what to do instead of a bare 404.
  app.any('/v1', (res) => {
    res.writeStatus('426 Upgrade Required').writeHeader('Upgrade', 'websocket').writeHeader('Connection', 'Upgrade').writeHeader('Content-Type', 'text/plain')
      .end('/v1 is a WebSocket endpoint: open it with a WebSocket client (binary msgpack frames, docs/PROTOCOL.md), e.g. ws://HOST:PORT/v1\n');
  });
  app.any('/*', (res) => { res.writeStatus('404 Not Found').end('not found: use /v1 (WebSocket), /healthz, /readyz, /metrics\n'); });

  return new Promise((resolve, reject) => {
    app.listen(cfg.host, cfg.port, (ls: us_listen_socket | false) => {
      if (!ls) {
        reject(new Error(`could not listen on ${cfg.host}:${cfg.port} (in use or not permitted)`));
        return;
      }
      resolve({
        app,
        port: uws.us_socket_local_port(ls as unknown as import('uWebSockets.js').us_socket),
        close: () => uws.us_listen_socket_close(ls),
        closeSockets: () => { for (const ws of [...sockets]) ws.end(1001, 'server shutting down'); },
      });
    });
  });
}
