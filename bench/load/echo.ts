/**
 * The environment's floor for a lone request (issue #8): a bare uWebSockets.js echo server (the
 * same copy holoserve loads, no holoserve code), in its own process, answered on loopback with
 * the same pacing and the same frames as the lone phases. What a lone request costs beyond it
 * is holoserve's; the floor itself is the machine's (thread wake-ups on an idle VM, cold caches).
 * Run as a script, it is the echo server: it prints its port and echoes every message.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { loadUws } from '../../src/server/uws.js';
import { newHist, now, sleep } from './util.js';
import { percentiles, type Percentiles } from './driver.js';

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { uws } = loadUws();
  const app = uws.App().ws('/*', { maxPayloadLength: 64 * 1024 * 1024, message: (ws, m, isBinary) => { ws.send(m, isBinary); } });
  app.listen('127.0.0.1', 0, (s) => {
    if (!s) process.exit(1);
    console.log(`echo on ${uws.us_socket_local_port(s)}`);
  });
}

/** Lone round trips (one at a time, pauseMs apart) of each frame against a fresh bare echo server. */
export async function echoFloor(frames: Record<string, Uint8Array>, samples: number, pauseMs: number): Promise<Record<string, Percentiles>> {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((res, rej) => {
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => { out += d; const m = /echo on (\d+)/.exec(out); if (m) res(Number(m[1])); });
      proc.once('exit', (c) => rej(new Error(`echo server exited with ${c}`)));
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false, generateMask: (m: Buffer) => { m.fill(0); } });
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    let done: () => void = () => {};
    ws.on('message', () => done());
    const out: Record<string, Percentiles> = {};
    for (const [name, frame] of Object.entries(frames)) {
      const h = newHist();
      for (let i = 0; i < samples + 20; i++) {
        const t0 = now();
        await new Promise<void>((r) => { done = r; ws.send(frame); });
        if (i >= 20) h.recordValue(Math.max(1, Math.round((now() - t0) * 1000)));
        await sleep(pauseMs);
      }
      out[name] = percentiles(h);
    }
    ws.close();
    return out;
  } finally {
    proc.kill();
  }
}
