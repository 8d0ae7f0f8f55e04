/**
 * The uWebSockets.js front end: WebSocket endpoint /v1 (binary msgpack frames, see
 * connection.ts) and three HTTP routes: GET /healthz (alive), GET /readyz (200 only after
 * prewarm, 503 before and while draining), GET /metrics (Prometheus text format); plain HTTP
 * on /v1 is answered 426 Upgrade Required. It listens before the prewarm starts and until the
 * drain ends (main.ts), so both states are observable.
 * uWS defaults are wrong for this protocol (16 KiB max payload closes the socket on a 32 KiB
 * vector; 64 KiB maxBackpressure drops replies), so both are set from the config.
 */
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics/registry.js';
import { authenticate, authRequired, OPEN_GRANT } from './auth.js';
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
    // Frames up to 2× the limit are read whole and closed with 1009 and a reason (connection.ts);
    // past that uWS cuts the TCP connection at once (the client may see 1006), which bounds what
    // one frame can make us buffer.
    maxPayloadLength: cfg.maxFrameBytes * 2,
    // uWS drops (send() = 2) past this. The app stops taking requests at maxBackpressureBytes,
    // and at most maxInflightPerConnection replies are owed then, so this leaves room for all of
    // them at the size of a vector or a full Sinkhorn plan. Only heat replies can be larger;
    // a reply that still does not fit closes the connection (connection.ts), never vanishes.
    maxBackpressure: uwsBackpressureBytes(cfg),
    closeOnBackpressureLimit: 0,
    idleTimeout: cfg.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    // Native uWS: every upgrade passes here. Until ready (prewarming) and while draining it is
    // refused with 503 and the reason; with tokens configured it needs a valid bearer token.
    // Without tokens (loopback) a connection gets every tenant (OPEN_GRANT). uWS's JS fallback
    // runs no upgrade hooks: open() below closes early sockets instead.
    upgrade: load.native ? (res, req, context) => {
      if (!state.ready || state.draining) {
        res.writeStatus('503 Service Unavailable').writeHeader('Retry-After', '1').writeHeader('Content-Type', 'text/plain')
          .end(state.draining ? 'draining: the server is shutting down\n' : 'prewarming: not ready yet, retry when GET /readyz answers 200\n');
        return;
      }
      // Without tokens (loopback) authenticate() gives OPEN_GRANT; with tokens, the token's grant.
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
      if (data.id === undefined) Object.assign(data, { id: nextId++, grant: OPEN_GRANT, inflight: 0, closed: false } satisfies ConnState);
      states.set(ws, data);
      sockets.add(ws);
      metrics.connections.inc();
      if (!load.native && (!state.ready || state.draining)) ws.end(1013, state.draining ? 'draining' : 'prewarming: not ready yet');
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
  app.get('/metrics', (res, req) => {
    // Off loopback (or with tokens configured) the metrics need a token too (setting metricsToken).
    if (cfg.metricsToken && authRequired(cfg) && authenticate(cfg, req.getHeader('authorization')) === undefined) {
      res.writeStatus('401 Unauthorized').writeHeader('WWW-Authenticate', 'Bearer').end('unauthorized: send Authorization: Bearer <token>\n');
      return;
    }
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
