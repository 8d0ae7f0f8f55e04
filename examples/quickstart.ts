/**
 * The README's example, type-checked by `npx tsc -p examples` (test/package/examples.test.ts)
 * and run against a real server by that test (vitest resolves the self-reference to dist/).
 */
import { connect } from 'holoserve/client';
import { cosine } from 'holoserve';

export async function quickstart(url: string): Promise<{ unbindCosine: number; top: string | undefined; score: number | undefined; margin: number }> {
  const c = await connect(url);
  try {
    const a = await c.encode('the cat sat on the mat');
    const s = await c.bind(a, { role: 'subject' }); // a ⊛ role('subject')
    const back = await c.unbind(s, { role: 'subject' }); // ≈ a (exact for unitary roles)
    await c.remember('alice', 'note-1', 'the cat sat on the mat', { payload: { source: 'chat' } });
    const { hits, margin } = await c.recall('alice', 'a cat on a mat', 5);
    return { unbindCosine: cosine(a, back.vector), top: hits[0]?.key, score: hits[0]?.score, margin };
  } finally {
    c.close();
  }
}
