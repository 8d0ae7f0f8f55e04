/**
 * `holoserve dimension shadow D | status | switch | rollback | finalize` — the rolling
 * dimension increase (docs/OPERATIONS.md "Changing D") through the admin op `dimension` of a
 * running server. Exit 0 on success; 1 when the server refused (its error is printed), or for
 * `status`, when the switch criteria do not hold; 2 on bad usage.
 */
import { parseArgs } from 'node:util';
import { HoloClientError } from '../../client/client.js';
import { ADMIN_HELP, ADMIN_OPTIONS, adminConnect } from '../admin-client.js';
import { numberFlag } from '../flags.js';
import type { Command } from '../command.js';

const HELP = `usage: holoserve dimension <action> [D] [options]
  shadow D        build D′ = D beside the served D (rebuild in the background, dual writes)
  status          coverage, unmovable items, quality at both D, switch criteria
  switch          serve D′ (atomic across workers); refuses until coverage is 100 %
  rollback        serve the old D again (until finalize)
  finalize        drop the old D and free its memory
options:
  --share S       shadow: largest share of worker time for the rebuild, (0, 1] (default 0.25)
  --chunk-ms M    shadow: longest rebuild slice, ms (default 20)
  --max-delta X   shadow: switch criterion on the p95 reconstruction delta (default 0.02)
  --sample N      status: records measured (default 64; 0 skips the measurement)
  --force N       switch/rollback with N raw-vector items that have no vector at the new D
  --json          print the server's reply as JSON
${ADMIN_HELP}`;

const ACTIONS = ['shadow', 'status', 'switch', 'rollback', 'finalize'] as const;
type Action = typeof ACTIONS[number];

/** Human lines for a status reply. */
export function formatStatus(r: Record<string, any>): string {
  const lines = [`phase ${r.phase}: serving D=${r.served}${r.other ? `, other D=${r.other}` : ''}`];
  if (r.other) {
    lines.push(`coverage ${(r.coverage * 100).toFixed(2)} % (${r.tenantsDone}/${r.tenants} tenants rebuilt${r.rebuildSeconds !== null ? ` in ${r.rebuildSeconds.toFixed(1)} s` : ''}), unmovable ${r.unmovable}`);
    const q = r.quality;
    if (q && q.records > 0) {
      const d = (x: Record<string, number>) => `p50 ${x.p50.toFixed(4)} p95 ${x.p95.toFixed(4)} max ${x.max.toFixed(4)}`;
      lines.push(`records measured ${q.records}: reconstruction delta ${d(q.delta)}`);
      for (const k of ['served', 'other'] as const) {
        const p = q[k];
        lines.push(`  D=${p.D}: reconstruction mean ${p.recon.mean.toFixed(4)}, cleanup score mean ${p.cleanupScore.mean.toFixed(4)} min ${p.cleanupScore.min.toFixed(4)}, margin min ${p.cleanupMargin.min.toFixed(4)}, accuracy ${p.cleanupAccuracy ?? '-'}, recall margin p50 ${p.recallMargin.p50.toFixed(4)}`);
      }
      if (q.replayed > 0) lines.push(`top-k agreement over ${q.replayed} replayed recalls: mean ${q.topkAgreement.mean.toFixed(3)}`);
    }
    lines.push(`switch criteria: coverage 100 % ${r.criteria.coverage ? 'yes' : 'no'}, delta p95 < ${r.criteria.maxDelta} ${r.criteria.delta === null ? 'not measured' : r.criteria.delta ? 'yes' : 'no'} → ${r.ready ? 'ready to switch' : 'not ready'}`);
  }
  if (r.lastSwitch) lines.push(`last switch to D=${r.lastSwitch.D}: batches held ${r.lastSwitch.heldMs.toFixed(1)} ms`);
  return lines.join('\n');
}

export const command: Command = {
  name: 'dimension',
  help: HELP,
  summary: 'roll the served HRR dimension: shadow D, status, switch, rollback, finalize',
  async run(argv) {
    const a = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        ...ADMIN_OPTIONS, share: { type: 'string' }, 'chunk-ms': { type: 'string' },
        'max-delta': { type: 'string' }, sample: { type: 'string' }, force: { type: 'string' }, json: { type: 'boolean' },
      },
    });
    if (a.values.help) { process.stdout.write(`${HELP}\n`); return 0; }
    const [action, dimArg] = a.positionals;
    if (!ACTIONS.includes(action as Action)) {
      process.stderr.write(`holoserve dimension: action must be one of ${ACTIONS.join(', ')}\n${HELP}\n`);
      return 2;
    }
    let opts: Record<string, number | undefined>;
    try {
      const dim = numberFlag('dim', dimArg);
      if (action === 'shadow' && dim === undefined) throw new Error('shadow needs the new D (e.g. holoserve dimension shadow 16384)');
      opts = {
        dim, share: numberFlag('share', a.values.share), chunkMs: numberFlag('chunk-ms', a.values['chunk-ms']),
        maxDelta: numberFlag('max-delta', a.values['max-delta']), sample: numberFlag('sample', a.values.sample), force: numberFlag('force', a.values.force),
      };
    } catch (e) {
      process.stderr.write(`holoserve dimension: ${(e as Error).message}\n`);
      return 2;
    }
    const c = await adminConnect(a.values, 600_000);
    if (!c) return 1;
    try {
      const r = await c.dimension(action as Action, opts);
      if (a.values.json) process.stdout.write(`${JSON.stringify(r, null, 1)}\n`);
      else if (action === 'status') process.stdout.write(`${formatStatus(r)}\n`);
      else process.stdout.write(`${action}: ${Object.entries(r).map(([k, v]) => `${k} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : String(v)}`).join(', ')}\n`);
      return action === 'status' && r.other !== null && !r.ready ? 1 : 0;
    } catch (e) {
      process.stderr.write(`holoserve dimension ${action}: ${e instanceof HoloClientError ? `${e.code}: ` : ''}${(e as Error).message}\n`);
      return 1;
    } finally {
      c.close();
    }
  },
};
