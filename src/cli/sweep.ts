// `trainyard sweep …`: submit, list, status, watch, cancel (DESIGN.md "Sweeps").
// The sweep API has no event stream: `watch` asks for the sweep, its trials and its
// decisions every 2 s (a trial's epoch takes longer than that) and prints what is new.
import { readFileSync } from 'node:fs';
import type { TrainyardClient } from '../client/api-client.js';
import type { Sweep, SweepDecision, Trial } from '../client/types.js';
import { age, num, table } from './format.js';

export const WATCH_INTERVAL_MS = 2_000;
const TRIAL_STATUSES = ['running', 'queued', 'succeeded', 'pruned', 'failed', 'cancelled'] as const;
const TERMINAL = ['succeeded', 'pruned', 'failed', 'cancelled'];

export interface SweepArgs {
  positionals: string[];
  watch?: boolean;
  json?: boolean;
  limit?: number;
  cursor?: string;
}

export interface Output {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** a wrong command line (exit 2) */
  usage(message: string): never;
}

export const SWEEP_USAGE = `  sweep submit SWEEP.json [--watch]                    start a sweep (prints its id)
  sweep list [--limit N] [--cursor C]                    sweeps, newest first
  sweep status ID [--json]                               counts, the best trial and every trial, best first
  sweep watch ID                                         one line per pruner decision and trial end; exits 1 unless the sweep succeeds
  sweep cancel ID                                        cancel a sweep and its queued and running trials`;

export function countsText(c: Sweep['counts']): string {
  const parts = TRIAL_STATUSES.filter((s) => c[s] > 0).map((s) => `${c[s]} ${s}`);
  return parts.length ? parts.join(', ') : 'no trials yet';
}

function ended(c: Sweep['counts']): number {
  return c.succeeded + c.pruned + c.failed + c.cancelled;
}

function paramsText(params: Record<string, unknown>): string {
  return Object.entries(params).map(([p, v]) => `${p}=${typeof v === 'number' ? num(v) : typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
}

function bestText(s: Sweep, trials?: Trial[]): string {
  if (!s.best) return 'none yet';
  const t = trials?.find((x) => x.jobId === s.best!.jobId);
  return `${t ? `trial #${t.index} ` : ''}job ${s.best.jobId}: ${s.objective.metric} ${num(s.best.value)} at epoch ${s.best.epoch} (${paramsText(s.best.params)})`;
}

function decisionLine(d: SweepDecision, index: number | undefined): string {
  const who = index === undefined ? `job ${d.jobId.slice(0, 8)}` : `trial #${index}`;
  return `${who}  epoch ${d.epoch}${d.rung !== null ? ` (rung ${d.rung})` : ''}  ${d.decision.toUpperCase()}  ${num(d.value)} vs ${num(d.threshold)}: ${d.reason}`;
}

function trialEndLine(s: Sweep, t: Trial): string {
  const what = t.value === null ? 'no objective value' : `best ${s.objective.metric} ${num(t.value)} at epoch ${t.epoch}`;
  return `trial #${t.index} ${t.status} after ${t.epochsTrained} epoch${t.epochsTrained === 1 ? '' : 's'}: ${what}  (${paramsText(t.params)})`;
}

/** exit status of a sweep that has ended */
export function exitForSweep(status: string): number {
  return status === 'succeeded' ? 0 : 1;
}

export async function watchSweep(client: TrainyardClient, id: string, io: Pick<Output, 'out' | 'err'>, intervalMs = WATCH_INTERVAL_MS): Promise<Sweep> {
  const printed = new Set<string>();
  const endedTrials = new Set<string>();
  let sweep = await client.getSweep(id);
  io.out.write(`watching sweep ${sweep.id} (${sweep.name}): ${sweep.status}, ${sweep.maxTrials} trials, objective ${sweep.objective.metric} (${sweep.objective.mode}), pruner ${sweep.pruner.type}\n`);
  for (;;) {
    // the sweep first: when it says ended, the trials read after it have all ended
    sweep = await client.getSweep(id);
    const [trials, decisions] = await Promise.all([client.allSweepTrials(id), client.sweepDecisions(id)]);
    const indexOf = new Map(trials.map((t) => [t.jobId, t.index]));
    for (const d of decisions.items) {
      const key = `${d.jobId}:${d.epoch}`;
      if (printed.has(key)) continue;
      printed.add(key);
      io.out.write(`${decisionLine(d, indexOf.get(d.jobId))}\n`);
    }
    for (const t of [...trials].sort((a, b) => a.index - b.index)) {
      if (!TERMINAL.includes(t.status) || endedTrials.has(t.jobId)) continue;
      endedTrials.add(t.jobId);
      io.out.write(`${trialEndLine(sweep, t)}\n`);
    }
    if (sweep.status !== 'running') {
      io.out.write(`sweep ${sweep.status}: ${ended(sweep.counts)}/${sweep.maxTrials} trials (${countsText(sweep.counts)}); best ${bestText(sweep, trials)}\n`);
      if (sweep.status === 'failed') io.err.write(`sweep ${sweep.id} failed: no trial succeeded or was pruned\n`);
      return sweep;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function runSweep(client: TrainyardClient, args: SweepArgs, io: Output): Promise<number> {
  const [sub, ...rest] = args.positionals;
  const one = (what: string) => {
    if (rest.length !== 1) io.usage(`expected ${what}`);
    return rest[0]!;
  };
  switch (sub) {
    case 'submit': {
      const file = one('a sweep file: trainyard sweep submit sweep.json');
      let body: unknown;
      try {
        body = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        io.usage(`cannot read ${file}: ${(e as Error).message}`);
      }
      const sweep = await client.submitSweep(body);
      io.out.write(`${sweep.id}\n`);
      io.err.write(`submitted sweep ${sweep.id} (${sweep.name}): ${sweep.status}, ${sweep.maxTrials} trials, ${sweep.parallelism} at a time\n`);
      if (!args.watch) return 0;
      return exitForSweep((await watchSweep(client, sweep.id, io)).status);
    }
    case 'list': {
      if (rest.length) io.usage('sweep list takes no ids');
      const page = await client.listSweeps({ limit: args.limit, cursor: args.cursor });
      const rows = page.items.map((s) => [
        s.id, s.name, s.status, `${ended(s.counts)}/${s.maxTrials}`, countsText(s.counts),
        s.best ? `${s.objective.metric} ${num(s.best.value)} @${s.best.epoch}` : '-', age(s.createdAt),
      ]);
      io.out.write(`${table(['ID', 'NAME', 'STATUS', 'TRIALS', 'BY STATUS', 'BEST', 'AGE'], rows)}\n`);
      if (page.nextCursor) io.err.write(`more: trainyard sweep list --cursor ${page.nextCursor}\n`);
      return 0;
    }
    case 'status': {
      const id = one('a sweep id: trainyard sweep status ID');
      const sweep = await client.getSweep(id);
      const trials = await client.allSweepTrials(id, 'objective');
      if (args.json) {
        io.out.write(`${JSON.stringify({ ...sweep, trials }, null, 2)}\n`);
        return 0;
      }
      const pruner = sweep.pruner.type === 'none' ? 'none' : `${sweep.pruner.type} from epoch ${sweep.pruner.minEpochs}${sweep.pruner.type === 'asha' ? `, reduction factor ${sweep.pruner.reductionFactor}` : ''}`;
      const lines = [
        `${sweep.id}  ${sweep.name}`,
        `status     ${sweep.status}, ${ended(sweep.counts)}/${sweep.maxTrials} trials ended (${countsText(sweep.counts)})`,
        `search     ${sweep.method}, seed ${sweep.seed}, parallelism ${sweep.parallelism}, objective ${sweep.objective.metric} (${sweep.objective.mode}), pruner ${pruner}`,
        `created    ${sweep.createdAt}${sweep.finishedAt ? `, finished ${sweep.finishedAt}` : ''}`,
        `best       ${bestText(sweep, trials)}`,
        '',
      ];
      const pointers = Object.keys(sweep.parameters);
      const rows = trials.map((t) => [
        `${t.jobId === sweep.best?.jobId ? '*' : ' '}${t.index}`, t.status, num(t.value), t.epoch === null ? '-' : String(t.epoch), String(t.epochsTrained),
        ...pointers.map((p) => { const v = t.params[p]; return typeof v === 'number' ? num(v) : typeof v === 'string' ? v : JSON.stringify(v); }),
        t.jobId,
      ]);
      lines.push(table([' #', 'STATUS', sweep.objective.metric.toUpperCase(), 'EPOCH', 'TRAINED', ...pointers, 'JOB'], rows));
      io.out.write(`${lines.join('\n')}\n`);
      return 0;
    }
    case 'watch':
      return exitForSweep((await watchSweep(client, one('a sweep id: trainyard sweep watch ID'), io)).status);
    case 'cancel': {
      const sweep = await client.cancelSweep(one('a sweep id: trainyard sweep cancel ID'));
      io.out.write(`sweep ${sweep.id} cancelled; its running trials stop within one batch (${countsText(sweep.counts)})\n`);
      return 0;
    }
    default:
      io.usage(sub ? `unknown sweep command ${JSON.stringify(sub)}` : 'expected a sweep command: submit, list, status, watch or cancel');
  }
}
