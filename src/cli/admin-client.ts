/** The client side of the CLI's admin subcommands: --url, --token, one request, JSON out. */
import { connect, HoloClientError, type HoloClient } from '../client/client.js';

export const ADMIN_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const ADMIN_HELP = `  --url URL      server WebSocket URL (default $HOLOSERVE_URL or ws://127.0.0.1:7878/v1)
  --token TOKEN  bearer token (default $HOLOSERVE_TOKEN); admin ops need an admin token once tokens are configured
`;

export function urlOf(v: { url?: string }): string {
  return v.url ?? process.env.HOLOSERVE_URL ?? 'ws://127.0.0.1:7878/v1';
}

/** A client for --url/--token (no reconnect), or undefined after printing why it could not connect. */
export async function adminConnect(v: { url?: string; token?: string }, timeoutMs: number): Promise<HoloClient | undefined> {
  const url = urlOf(v);
  const token = v.token ?? process.env.HOLOSERVE_TOKEN;
  try {
    return await connect(url, { reconnect: false, timeoutMs, ...(token ? { token } : {}) });
  } catch (e) {
    process.stderr.write(`holoserve: cannot connect to ${url}: ${(e as Error).message}\n`);
    return undefined;
  }
}

/** One admin request; prints the result (or the error) as JSON. Resolves to the result, or undefined on error. */
export async function adminRequest(v: { url?: string; token?: string }, op: string, params: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
  const client = await adminConnect(v, 120_000);
  if (!client) return undefined;
  try {
    const r = await client.request(op, params);
    const { id: _id, ok: _ok, ...result } = r;
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return result;
  } catch (e) {
    const code = e instanceof HoloClientError ? e.code : undefined;
    process.stderr.write(`holoserve: ${op} failed${code ? ` (${code})` : ''}: ${(e as Error).message}\n`);
    return undefined;
  } finally {
    client.close();
  }
}
