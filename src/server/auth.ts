/**
 * Bearer tokens: `Authorization: Bearer <token>` on the WebSocket upgrade (and on GET /metrics,
 * setting metricsToken). Tokens are configured as salted hashes, sha256 = SHA-256(salt ‖ token)
 * in hex, each mapped to the tenants it may use ('*' for all) and whether it may run the admin
 * ops (`admin: true`). Required when the server listens off loopback or any token is
 * configured; otherwise every connection may use every tenant, and the admin ops (when the
 * adminOps setting is on).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';
import { isLoopback } from '../config.js';

/** What a connection may do: its tenants (null = every tenant), the admin ops, and whose graphs it sees. */
export interface Grant {
  tenants: ReadonlySet<string> | null;
  admin: boolean;
  /** owner of the graphs it stores without naming a tenant: 'open', or 'token:' + 16 hex of the token's hash */
  scope: string;
}

/** Loopback without tokens: everything (admin ops still need the adminOps setting). */
export const OPEN_GRANT: Grant = { tenants: null, admin: true, scope: 'open' };

export function authRequired(cfg: Config): boolean {
  return !isLoopback(cfg.host) || cfg.tokens.length > 0;
}

export function hashToken(salt: string, token: string): string {
  return createHash('sha256').update(salt).update(token).digest('hex');
}

/** The grant for an Authorization header value, or undefined when it does not authenticate. */
export function authenticate(cfg: Config, header: string): Grant | undefined {
  if (!authRequired(cfg)) return OPEN_GRANT;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return undefined;
  for (const t of cfg.tokens) {
    const got = Buffer.from(hashToken(t.salt, m[1]), 'hex');
    const want = Buffer.from(t.sha256, 'hex');
    if (got.length === want.length && timingSafeEqual(got, want)) {
      return { tenants: t.tenants.includes('*') ? null : new Set(t.tenants), admin: t.admin === true, scope: `token:${t.sha256.slice(0, 16)}` };
    }
  }
  return undefined;
}

export function allows(grant: Grant, tenant: string): boolean {
  return grant.tenants === null || grant.tenants.has(tenant);
}
