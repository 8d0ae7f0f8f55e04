/**
 * Loads uWebSockets.js: the first of two npm copies whose native binary loads here, and refuses
 * the silent JS fallback.
 *
 *   uWebSockets.js (= @trufflesuite/uws-js-unofficial 20.30)  Node 16/18/20, glibc ≥ 2.36 (Debian 12)
 *   @btc-vision/uwebsockets.js 20.57                          Node 20/22/24/25, glibc ≥ 2.38 (Debian 13)
 *
 * So Node 20 on Debian 12 runs the first, Node 22/24 on Debian 13 (node:22-trixie) the second.
 * Both are tried, the first for this Node's major first (the 20.30 copy on Node ≤ 20, the 20.57
 * copy on Node ≥ 22, which spares a Node 22 user the first copy's fallback notice); the first
 * that loads natively serves. When the 20.30 copy cannot load its binary for this Node it
 * quietly returns a pure-JS server that is several times slower; the 20.57 copy throws. A
 * native addon's functions print as "[native code]"; the fallback's do not. UWS_USE_FALLBACK
 * (the 20.30 copy's own switch) asks for the fallback on purpose: then only that copy is tried.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type Uws = typeof import('uWebSockets.js');

export const UWS_COPIES = ['uWebSockets.js', '@btc-vision/uwebsockets.js'] as const;

/** The copies in the order tried on this Node. */
export function uwsOrder(nodeMajor = Number(process.versions.node.split('.')[0]), forceFallback = Boolean(process.env.UWS_USE_FALLBACK)): string[] {
  if (forceFallback) return [UWS_COPIES[0]];
  return nodeMajor >= 22 ? [UWS_COPIES[1], UWS_COPIES[0]] : [...UWS_COPIES];
}

export interface UwsLoad {
  uws: Uws;
  native: boolean;
  /** the package that loaded, with its version */
  copy: string;
  /** why each copy before it was passed over */
  skipped: string[];
}

const isNative = (uws: Uws) => Function.prototype.toString.call(uws.App).includes('[native code]');

export function loadUws(): UwsLoad {
  const require = createRequire(import.meta.url);
  const skipped: string[] = [];
  let fallback: { uws: Uws; copy: string } | undefined;
  for (const name of uwsOrder()) {
    let uws: Uws;
    try {
      uws = require(name) as Uws;
    } catch (e) {
      skipped.push(`${name}: ${String((e as Error).message).split('\n').filter(Boolean).pop()}`);
      continue;
    }
    const copy = `${name} ${version(require, name)}`;
    if (isNative(uws)) return { uws, native: true, copy, skipped };
    skipped.push(`${name}: no native binary for this Node (JS fallback)`);
    fallback ??= { uws, copy };
  }
  if (!fallback) throw new Error(`no uWebSockets.js copy loads here: ${skipped.join('; ')}`);
  return { ...fallback, native: false, skipped };
}

/** The copy's version from its package.json (next to its main file; its exports may hide it). */
function version(require: NodeJS.Require, name: string): string {
  try {
    let dir = dirname(require.resolve(name));
    while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '(version unknown)';
  }
}

export const FALLBACK_MESSAGE =
  'uWebSockets.js could not load its native binary for this Node.js ' +
  `(${process.version}, ABI ${process.versions.modules}, ${process.platform}-${process.arch}) and fell back to its slow ` +
  'JS server. holoserve refuses to run that way: use Node 20 on glibc ≥ 2.36 (Debian 12), or Node 20/22/24 on ' +
  'glibc ≥ 2.38 (Debian 13; the Dockerfile pins a tested image), or set ' +
  'HOLOSERVE_ALLOW_UWS_FALLBACK=1 to accept the fallback knowingly.';
