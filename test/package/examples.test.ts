/**
 * A user's script inside the repo imports the package by name ('holoserve/client'): examples/
 * type-checks with `tsc -p examples` (no TS2209, "the project root is ambiguous", which a
 * tsconfig without rootDir meets on a self-reference), and the README's example runs against a
 * real server with the documented results.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quickstart } from '../../examples/quickstart.js';
import { cosine, encode } from '../../src/kernels/index.js';
import { ROOT, startServer, type Server } from '../server/harness.js';

describe('examples/ (scripts in the repo that import holoserve by name)', () => {
  let srv: Server;
  beforeAll(async () => { srv = await startServer({ HOLOSERVE_DIM: '1024', HOLOSERVE_WORKERS: '1' }); });
  afterAll(async () => { await srv?.stop(); });

  it('type-check with tsc -p examples', () => {
    let out = '';
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'examples'], { cwd: ROOT, encoding: 'utf8' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout);
    }
    expect(out).toBe('');
  });

  it("the README's example: unbind by a role inverts bind, recall finds the note", async () => {
    const r = await quickstart(srv.url);
    // a role is unitary, so exact unbind inverts bind up to float32 FFT rounding
    expect(r.unbindCosine).toBeGreaterThan(0.9999);
    expect(r.top).toBe('note-1');
    // the score is the cosine of the two texts' encodings; with one item the margin is top1
    const want = cosine(encode('the cat sat on the mat', 1024), encode('a cat on a mat', 1024));
    expect(Math.abs(r.score! - want)).toBeLessThan(1e-6);
    expect(r.margin).toBe(r.score);
  });
});
