/**
 * recall.many (docs/PROTOCOL.md): one request, many recalls. Each part was checked as a recall
 * (protocol/ops.ts) and is submitted on its own, so it joins its tenant's worker's memory queue
 * like any recall: parts on different workers run in parallel, parts on one worker share its
 * batches (and their one store load), identical parts coalesce. The reply keeps query order;
 * a part that fails carries its error in place, and the others stand.
 */
import type { Outcome } from '../pool/messages.js';
import type { Parsed } from '../protocol/ops.js';
import { toWire } from '../protocol/results.js';

export interface Submitter {
  submit(parsed: Parsed): Promise<Outcome>;
}

/** Submits every part, waits for all, and merges: {results: [recall result | {error: {code, message}}]}. */
export async function fanOut(dispatcher: Submitter, parts: readonly Parsed[]): Promise<Outcome> {
  const outcomes = await Promise.all(parts.map((p) => dispatcher.submit(p)));
  return {
    ok: true,
    result: { results: outcomes.map((o) => (o.ok ? toWire(o.result) : { error: { code: o.code, message: o.message } })) },
  };
}
