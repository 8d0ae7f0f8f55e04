/** The control block shared by a shard worker and one scan helper thread (scan-helper.ts). */
export const IDLE = 0, JOB = 1, DONE = 2, QUIT = 3;
/** Int32 field offsets. */
export const F = { state: 0, slab: 1, rows: 2, D: 3, q: 4, m: 5, ts: 6, ti: 7, filled: 8 } as const;
export const CONTROL_BYTES = 64;
