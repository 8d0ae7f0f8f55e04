/**
 * elevated-epsilon (SEED §12): bind/unbind synthetic orthogonal vectors with unitary roles and
 * with non-unitary (Gaussian) keys at the live knobs, on worker 0, and fail when any recovery's
 * relative error exceeds the truth budget's epsilon_total (worker/drill.ts 'drill.epsilon').
 * Fails, for example, with unbindBeta = 5 (exact: every bin floored, â = a/5) or wienerSnr = 2.
 */
import { HoloError } from '../../errors.js';
import type { Drill } from './drill.js';

export const elevatedEpsilon: Drill = async (d) => {
  const o = await d.dispatcher.submitTo(0, { op: 'drill.epsilon', kind: 'hrr', route: 'any', params: {} });
  if (!o.ok) throw new HoloError(o.code, o.message);
  return { scenario: 'elevated-epsilon', pass: o.result.pass as boolean, ...o.result };
};
