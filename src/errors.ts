/**
 * Every error code holoserve puts on the wire, in one table (docs/PROTOCOL.md lists the same).
 * A client's mistake gets its own code; only our own bug is `internal`.
 */
export const ERROR_CODES = {
  bad_request: 'the frame or a field is malformed (type, NaN/Inf, missing field, bad encoding)',
  bad_dimension: 'a vector or array has the wrong length, or D is not a supported power of two',
  too_large: 'a frame, array or problem size exceeds a configured limit',
  unknown_op: 'the op is not one this server implements',
  not_found: 'a named object (graph, tenant item, anchor) does not exist',
  overloaded: 'too many requests in flight (connection credits or server queue)',
  unauthorized: 'the connection may not use this tenant, or did not authenticate',
  unavailable: 'the server is not ready yet or is shutting down, or its shared store (Redis) is unreachable: retry',
  moved: 'the tenant is served by another holoserve process: the message is its URL (clients reconnect there and retry)',
  internal: 'a bug or a crashed worker: the request was not completed',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The one error class: a stable `code` and a human message. */
export class HoloError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'HoloError';
    this.code = code;
  }
}

/** The budgets of docs/OPERATIONS.md "Budgets": a metric label each (bounded). */
export type Budget = 'frame_bytes' | 'graph_bytes' | 'graph_worker_bytes' | 'reply_bytes' | 'heat_work' | 'sinkhorn_work' | 'tenant_rate';

/** A refusal because a budget was hit: its code (too_large, overloaded) and which budget. */
export class BudgetError extends HoloError {
  readonly budget: Budget;
  constructor(code: ErrorCode, budget: Budget, message: string) {
    super(code, message);
    this.budget = budget;
  }
}

export function isHoloError(e: unknown): e is HoloError {
  return e instanceof HoloError;
}

/**
 * A bug's log line, bounded: the error's name, its message cut to 200 characters and the top
 * five frames of its stack. Never the whole error object: a message may quote client data
 * (a 3 MB field), and an unbounded log line per bad frame is itself a denial of service.
 */
export function describeBug(e: unknown): string {
  if (!(e instanceof Error)) return `non-Error thrown: ${String(e).slice(0, 200)}`;
  const frames = (e.stack ?? '').split('\n').filter((l) => l.trimStart().startsWith('at ')).slice(0, 5).map((l) => l.trim().slice(0, 200));
  return `${e.name}: ${e.message.slice(0, 200)}${e.message.length > 200 ? '…' : ''}${frames.length ? ' | ' + frames.join(' | ') : ''}`;
}
