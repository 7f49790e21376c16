// The diagnosis benchmark (npm run bench:diagnosis): trains every labelled scenario in
// examples/diagnosis/*.json ({ "expect": { verdict, cause?, severity? }, "spec": <job spec> })
// with the core directly (one thread, no services) and prints a confusion matrix of
// expected × diagnosed verdicts, then each scenario's verdict, cause and findings.
//   BENCH_ONLY=a,b    run only these scenarios (file names without .json)
//   BENCH_DUMP=file   also write every scenario's epoch history as JSON (for tuning rules)
// Exits 1 when a scenario is diagnosed wrong, so CI can hold the line.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { train } from '../src/core/trainer.js';
import type { Diagnosis, EpochMetrics } from '../src/core/diagnosis.js';
import { loadDataset } from '../src/data/load.js';
import { formatProblems, specHash, toTrainSpec, validateJobSpec } from '../src/spec/index.js';

interface Expect { verdict: string; cause?: string; severity?: string }
interface Scenario { name: string; expect: Expect; spec: unknown }

const DIR = join(process.cwd(), 'examples', 'diagnosis');
const only = process.env.BENCH_ONLY?.split(',').filter(Boolean);

function scenarios(): Scenario[] {
  return readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()
    .map((f) => ({ name: f.slice(0, -'.json'.length), ...(JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Omit<Scenario, 'name'>) }))
    .filter((s) => !only || only.includes(s.name));
}

/** The label a diagnosis earns: verdict, plus cause / severity where the scenario names one. */
function matches(d: Diagnosis, e: Expect): boolean {
  return d.verdict === e.verdict && (e.cause === undefined || d.cause === e.cause) &&
    (e.severity === undefined || d.severity === e.severity);
}

const label = (verdict: string, cause?: string | null, severity?: string | null) =>
  verdict + (cause ? `/${cause}` : '') + (severity ? `/${severity}` : '');

async function main(): Promise<void> {
  const rows: Array<{ s: Scenario; d: Diagnosis; seconds: number; history: EpochMetrics[] }> = [];
  const load0 = loadavg()[0]!;
  for (const s of scenarios()) {
    const v = validateJobSpec(s.spec);
    if (!v.ok) throw new Error(`${s.name}: invalid spec\n${formatProblems(v.problems)}`);
    const data = loadDataset(v.spec.dataset);
    const history: EpochMetrics[] = [];
    const t0 = performance.now();
    const result = await train({
      spec: toTrainSpec(v.spec), data, specHash: specHash(v.spec),
      hooks: { onEpochEnd: (e) => { history.push({ epoch: e.epoch, metrics: e.metrics }); } },
    });
    const seconds = (performance.now() - t0) / 1000;
    rows.push({ s, d: result.diagnosis, seconds, history });
    const ok = matches(result.diagnosis, s.expect);
    process.stdout.write(`${ok ? 'ok  ' : 'MISS'} ${s.name.padEnd(24)} ${seconds.toFixed(1).padStart(5)} s  ` +
      `expected ${label(s.expect.verdict, s.expect.cause, s.expect.severity)}, got ${label(result.diagnosis.verdict, result.diagnosis.cause, result.diagnosis.severity)}\n`);
  }

  // confusion matrix over verdicts (rows expected, columns diagnosed)
  const verdicts = [...new Set(rows.flatMap((r) => [r.s.expect.verdict, r.d.verdict]))].sort();
  const w = Math.max(...verdicts.map((x) => x.length)) + 2;
  const out: string[] = ['', 'confusion matrix (rows: expected verdict, columns: diagnosed verdict)'];
  out.push(''.padEnd(w) + verdicts.map((v) => v.padStart(w)).join(''));
  for (const e of verdicts) {
    out.push(e.padEnd(w) + verdicts.map((g) => String(rows.filter((r) => r.s.expect.verdict === e && r.d.verdict === g).length).padStart(w)).join(''));
  }
  const right = rows.filter((r) => matches(r.d, r.s.expect)).length;
  const verdictRight = rows.filter((r) => r.d.verdict === r.s.expect.verdict).length;
  const falseOverfit = rows.filter((r) => r.d.verdict === 'overfitting' && r.s.expect.verdict !== 'overfitting').length;
  out.push('', `verdict right: ${verdictRight}/${rows.length}; verdict + cause/severity right: ${right}/${rows.length}; ` +
    `false "overfitting": ${falseOverfit}`);
  out.push(`total training time ${rows.reduce((a, r) => a + r.seconds, 0).toFixed(1)} s on one thread; ` +
    `load average ${load0.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end (shared machine: times are noisy)`);

  out.push('', 'findings per scenario');
  for (const { s, d } of rows) {
    out.push(`${s.name}: ${label(d.verdict, d.cause, d.severity)} — ${d.summary}`);
    // the summary is the main finding's message: the others follow
    for (const f of d.findings.slice(1)) out.push(`    - [${f.kind}] ${f.message}`);
    for (const x of d.suggestions) out.push(`    → ${x}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  if (process.env.BENCH_DUMP) {
    writeFileSync(process.env.BENCH_DUMP, JSON.stringify(rows.map((r) => ({ name: r.s.name, expect: r.s.expect, history: r.history })), null, 1));
  }
  if (right !== rows.length) process.exitCode = 1;
}

await main();
