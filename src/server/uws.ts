/**
 * Loads uWebSockets.js and refuses its silent fallback. The npm build
 * (@trufflesuite/uws-js-unofficial 20.30) ships native binaries for Node 16/18/20 and, when the
 * binary for this Node cannot load, quietly returns a pure-JS server that is several times
 * slower. A native addon's functions print as "[native code]"; the fallback's do not.
 */
import { createRequire } from 'node:module';

type Uws = typeof import('uWebSockets.js');

export interface UwsLoad {
  uws: Uws;
  native: boolean;
}

export function loadUws(): UwsLoad {
  const require = createRequire(import.meta.url);
  const uws = require('uWebSockets.js') as Uws;
  const native = Function.prototype.toString.call(uws.App).includes('[native code]');
  return { uws, native };
}

export const FALLBACK_MESSAGE =
  'uWebSockets.js could not load its native binary for this Node.js ' +
  `(${process.version}, ABI ${process.versions.modules}, ${process.platform}-${process.arch}) and fell back to its slow ` +
  'JS server. holoserve refuses to run that way: use Node 20 (the Dockerfile pins it), or set ' +
  'HOLOSERVE_ALLOW_UWS_FALLBACK=1 to accept the fallback knowingly.';
