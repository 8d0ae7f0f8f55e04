/**
 * The uWebSockets.js seam (src/server/uws.ts): which copy is tried first on which Node, and
 * that this process gets a native one, the copy the table in uws.ts names for its Node major.
 */
import { describe, expect, it } from 'vitest';
import { loadUws, uwsOrder, UWS_COPIES } from '../../src/server/uws.js';

describe('uWebSockets.js copies', () => {
  it('Node ≤ 20 tries the 20.30 copy first, Node ≥ 22 the 20.57 copy; UWS_USE_FALLBACK only the 20.30 copy', () => {
    expect(uwsOrder(20, false)).toEqual(['uWebSockets.js', '@btc-vision/uwebsockets.js']);
    expect(uwsOrder(22, false)).toEqual(['@btc-vision/uwebsockets.js', 'uWebSockets.js']);
    expect(uwsOrder(24, false)).toEqual(['@btc-vision/uwebsockets.js', 'uWebSockets.js']);
    expect(uwsOrder(24, true)).toEqual(['uWebSockets.js']);
    expect([...UWS_COPIES].sort()).toEqual(uwsOrder(20, false).sort());
  });

  it('this Node loads a native copy: the 20.30 one on Node 20, the 20.57 one on Node 22/24', () => {
    const l = loadUws();
    expect(l.native).toBe(true);
    const major = Number(process.versions.node.split('.')[0]);
    expect(l.copy).toMatch(major >= 22 ? /^@btc-vision\/uwebsockets\.js 20\.57\.0$/ : /^uWebSockets\.js 20\.30\.0-unofficial\.0$/);
    expect(typeof l.uws.App).toBe('function');
  });
});
