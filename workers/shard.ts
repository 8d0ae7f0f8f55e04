/** Piscina's worker file: the shard worker lives in src/worker/ (entry.ts); this is its door. */
export { default } from '../src/worker/entry.js';
