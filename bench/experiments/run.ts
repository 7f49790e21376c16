// `npm run experiments [-- --quick | --moderate] [--only <id>] [--out <dir>]`: runs the
// claims of issue 14 as ordinary jobs against a freshly started service and writes the
// report (report.ts). Default: the full budget of examples/experiments.
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { depth } from './claims/depth.js';
import { dropoutPaper } from './claims/dropout-paper.js';
import { dropout } from './claims/dropout.js';
import { earlyStopping } from './claims/early-stopping.js';
import { fashionMnist } from './claims/fashion-mnist.js';
import { l1L2 } from './claims/l1-l2.js';
import { maxout } from './claims/maxout.js';
import { optimizers } from './claims/optimizers.js';
import { vanishing } from './claims/vanishing.js';
import { weightScaling } from './claims/weight-scaling.js';
import { readEarlier, writeReport } from './report.js';
import { Service } from './service.js';
import type { Claim, ClaimResult, Level } from './types.js';

export const CLAIMS: Claim[] = [depth, vanishing, maxout, optimizers, earlyStopping, l1L2, dropout, weightScaling, dropoutPaper, fashionMnist];

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export async function runExperiments(argv: string[]): Promise<Array<{ claim: Claim; result: ClaimResult }>> {
  const { values } = parseArgs({ args: argv, options: {
    quick: { type: 'boolean', default: false }, moderate: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true }, out: { type: 'string' }, threads: { type: 'string' },
    'keep-database': { type: 'boolean', default: false },
  } });
  const level: Level = values.quick ? 'quick' : values.moderate ? 'moderate' : 'full';
  const only = values.only ?? [];
  const unknown = only.filter((id) => !CLAIMS.some((c) => c.id === id));
  if (unknown.length) throw new Error(`unknown claim id ${unknown.join(', ')}; known: ${CLAIMS.map((c) => c.id).join(', ')}`);
  const selected = only.length ? CLAIMS.filter((c) => only.includes(c.id)) : CLAIMS;
  const started = new Date(), load = loadavg();
  const service = await Service.start({ threads: Number(values.threads ?? 2) });
  const done: Array<{ claim: Claim; result: ClaimResult }> = [];
  try {
    for (const claim of selected) {
      const t0 = Date.now();
      process.stderr.write(`experiments: ${claim.id} (${level})…\n`);
      let result: ClaimResult;
      try {
        result = await claim.run({ service, level, examples: `${ROOT}examples/experiments` });
      } catch (err) {
        result = { held: null, numbers: {}, jobs: [], plots: [], budget: '—', summary: 'the experiment failed.', note: `failed: ${(err as Error).message}` };
      }
      process.stderr.write(`experiments: ${claim.id}: ${result.held} in ${((Date.now() - t0) / 1000).toFixed(0)} s — ${result.summary}\n`);
      done.push({ claim, result });
    }
  } finally {
    await service.stop(values['keep-database']);
  }
  // --only: the claims not run now stay in the report as they were
  const outDir = values.out ?? `${ROOT}docs`;
  const earlier = only.length ? readEarlier(outDir) : new Map<string, ClaimResult>();
  const merged = CLAIMS.flatMap((claim) => {
    const now = done.find((d) => d.claim === claim);
    if (now) return [{ claim, result: { ...now.result, level } }];
    const kept = earlier.get(claim.id);
    return kept ? [{ claim, result: kept }] : [];
  });
  const command = ['npm run experiments', ...(argv.length ? ['--', ...argv.filter((a, i) => a !== '--out' && argv[i - 1] !== '--out')] : [])].join(' ');
  writeReport(outDir, merged, { level, command, started: started.toISOString(), minutes: (Date.now() - started.getTime()) / 60000, loadAverage: load, only, database: values['keep-database'] ? service.dbName : null });
  return done;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runExperiments(process.argv.slice(2)).then((r) => {
    const failed = r.filter((x) => x.result.note?.startsWith('failed'));
    process.exitCode = failed.length ? 1 : 0;
  }, (err) => { process.stderr.write(`${(err as Error).stack}\n`); process.exitCode = 1; });
}
