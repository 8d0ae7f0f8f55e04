/**
 * Bearer tokens: `Authorization: Bearer <token>` on the WebSocket upgrade. Tokens are
 * configured as salted hashes, sha256 = SHA-256(salt ‖ token) in hex, each mapped to the
 * tenants it may use ('*' for all). Required when the server listens off loopback or any token
 * is configured; otherwise every connection may use every tenant.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';
import { isLoopback } from '../config.js';

/** null = every tenant */
export type Grant = ReadonlySet<string> | null;

export function authRequired(cfg: Config): boolean {
  return !isLoopback(cfg.host) || cfg.tokens.length > 0;
}

export function hashToken(salt: string, token: string): string {
  return createHash('sha256').update(salt).update(token).digest('hex');
}

/** The grant for an Authorization header value, or undefined when it does not authenticate. */
export function authenticate(cfg: Config, header: string): Grant | undefined {
  if (!authRequired(cfg)) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return undefined;
  for (const t of cfg.tokens) {
    const got = Buffer.from(hashToken(t.salt, m[1]), 'hex');
    const want = Buffer.from(t.sha256, 'hex');
    if (got.length === want.length && timingSafeEqual(got, want)) {
      return t.tenants.includes('*') ? null : new Set(t.tenants);
    }
  }
  return undefined;
}

export function allows(grant: Grant, tenant: string): boolean {
  return grant === null || grant.has(tenant);
}
