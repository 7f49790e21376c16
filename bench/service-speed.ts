// The core's speed through the real service: the reference workload (or --workload
// wide|deep) submitted as a job over HTTP to a freshly started API + worker
// (bench/experiments/service.ts), its `samples_per_second` metric read back from
// /v1/jobs/:id/metrics, side by side with bench:core's own contender process
// (core-ours.js) on the same spec, alternating in time (bench, service, bench, …) so
// drift hits both. samples/s is over epochs 2–N, as in bench:core; the target
// is the service within 5% of the bench at each thread count.
//
//   npm run bench:service
//   node dist/bench/service-speed.js [--epochs 3] [--limit 60000] [--rounds 2] [--workload reference|wide|deep]
import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Service } from './experiments/service.js';
import {
  flags, intFlag, measuredRate, median, workloadHidden, workloadJobSpec, type ContenderResult, type EpochTiming,
} from './core-workload.js';

const f = flags();
const epochs = intFlag(f, 'epochs', 3);
const limit = f.has('limit') ? intFlag(f, 'limit', 60000) : undefined;
const rounds = intFlag(f, 'rounds', 2);
const hidden = workloadHidden(f);

function benchRun(threads: number): Promise<ContenderResult> {
  const args = [fileURLToPath(new URL('./core-ours.js', import.meta.url)), '--threads', String(threads), '--epochs', String(epochs),
    ...(limit ? ['--limit', String(limit)] : []), '--workload', f.get('workload') ?? 'reference'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`core-ours exited with ${code}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)) as ContenderResult);
    });
  });
}

async function serviceRun(service: Service, threads: number): Promise<{ id: string; timed: EpochTiming[] }> {
  const r = await service.run({ ...workloadJobSpec(hidden, threads, epochs, limit), name: `bench-service-${threads}t` });
  const sps = r.metrics.samples_per_second ?? [];
  const secs = r.metrics.epoch_seconds ?? [];
  // samples per epoch = samples_per_second × epoch_seconds (the job's own two metrics)
  const timed = sps.map((p, i) => ({ epoch: p.epoch, samples: p.value * secs[i].value, seconds: secs[i].value }));
  return { id: r.id, timed };
}

const load0 = os.loadavg();
console.log(`Workload: MNIST ${limit ?? 60000} × ${epochs} epochs, 784-${hidden.join('-')}-10 ReLU, Adam, batch 128; ${rounds} round(s); ` +
  `node ${process.version}, ${os.availableParallelism()} cores, load average ${load0.map((x) => x.toFixed(2)).join(' ')}`);
const service = await Service.start({ threads: 2 });
const rows: Array<{ threads: number; round: number; bench: number; service: number; job: string }> = [];
try {
  for (let round = 1; round <= rounds; round++) {
    for (const threads of [1, 2]) {
      process.stderr.write(`[round ${round}] bench, ${threads} thread(s)\n`);
      const b = measuredRate((await benchRun(threads)).epochsTimed).samplesPerSecond;
      process.stderr.write(`[round ${round}] service, ${threads} thread(s)\n`);
      const s = await serviceRun(service, threads);
      rows.push({ threads, round, bench: b, service: measuredRate(s.timed).samplesPerSecond, job: s.id });
    }
  }
} finally {
  await service.stop();
}
console.log('');
console.log('| threads | round | bench:core samples/s | service samples/s | service / bench | job |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.threads} | ${r.round} | ${Math.round(r.bench).toLocaleString('en-US')} | ${Math.round(r.service).toLocaleString('en-US')} | ` +
    `${(r.service / r.bench).toFixed(3)} | ${r.job} |`);
}
console.log('');
for (const threads of [1, 2]) {
  const ratios = rows.filter((r) => r.threads === threads).map((r) => r.service / r.bench);
  const m = median(ratios);
  console.log(`${threads} thread(s): service / bench = ${m.toFixed(3)} (median of ${ratios.length} round(s)); ` +
    `target within 5%: ${Math.abs(m - 1) <= 0.05 ? 'met' : 'missed'}`);
}
console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at end (1, 5, 15 min; the service's API, ` +
  'Postgres and Redis share the same cores, as they would in production on one machine).');
