/**
 * The uWebSockets.js front end: WebSocket endpoint /v1 (binary msgpack frames, see
 * connection.ts) and three HTTP routes: GET /healthz (alive), GET /readyz (200 only after
 * prewarm, 503 before and while draining), GET /metrics (Prometheus text format).
 * uWS defaults are wrong for this protocol (16 KiB max payload closes the socket on a 32 KiB
 * vector; 64 KiB maxBackpressure drops replies), so both are set from the config.
 */
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics/registry.js';
import { authenticate } from './auth.js';
import type { ConnState, FrameHandler, ServerState } from './connection.js';
import type { UwsLoad } from './uws.js';

export interface Listening {
  app: TemplatedApp;
  port: number;
  close(): void;
  /** closes every open WebSocket (after draining) */
  closeSockets(): void;
}

export function listen(load: UwsLoad, cfg: Config, handler: FrameHandler, metrics: Metrics, state: ServerState): Promise<Listening> {
  const { uws } = load;
  const sockets = new Set<import('uWebSockets.js').WebSocket<ConnState>>();
  let nextId = 1;
  const app = uws.App();
  app.ws<ConnState>('/v1', {
    compression: uws.DISABLED,
    // Frames up to 2× the limit are read and answered `too_large` (connection.ts); past that
    // uWS closes the socket (code 1009), which bounds what one frame can make us buffer.
    maxPayloadLength: cfg.maxFrameBytes * 2,
    // uWS drops (send() = 2) past this; the app stops taking requests at maxBackpressureBytes,
    // so replies already owed still fit: in flight ≤ maxInflightPerConnection replies.
    maxBackpressure: cfg.maxBackpressureBytes * 4,
    closeOnBackpressureLimit: 0,
    idleTimeout: cfg.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      const grant = authenticate(cfg, req.getHeader('authorization'));
      if (grant === undefined) {
        res.writeStatus('401 Unauthorized').writeHeader('WWW-Authenticate', 'Bearer').end('unauthorized: send Authorization: Bearer <token>');
        return;
      }
      const data: ConnState = { id: nextId++, grant, inflight: 0, closed: false };
      res.upgrade(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },
    open: (ws) => {
      sockets.add(ws);
      metrics.connections.inc();
    },
    message: (ws, message, isBinary) => handler.onMessage(ws, message, isBinary),
    close: (ws) => {
      ws.getUserData().closed = true;
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
