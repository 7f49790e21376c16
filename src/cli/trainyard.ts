#!/usr/bin/env node
// `trainyard`: the command-line client of a Trainyard service (package.json "bin").
// Talks to TRAINYARD_URL (default http://127.0.0.1:3000) with TRAINYARD_API_KEY as
// `Authorization: Bearer` when it is set. Exit status: 0 ok, 1 an error, a job that
// failed or was cancelled, or a sweep that did not succeed, 2 a usage error.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiRequestError, ConnectionError, TrainyardClient } from '../client/api-client.js';
import type { JobStatus } from '../client/types.js';
import { age, num, table } from './format.js';
import { watchJob } from './watch.js';
import { SWEEP_USAGE, runSweep } from './sweep.js';

const USAGE = `usage: trainyard <command> [options]

  submit SPEC.json [--watch] [--idempotency-key KEY]   submit a job (prints its id)
  list [--status STATUS] [--limit N] [--cursor C]        jobs, newest first
  status ID [--json]                                     a job's status, progress, result, diagnosis
  watch ID                                               live progress and one line per epoch; exits 1 unless it succeeds
  metrics ID --name NAME [--name …] [--csv] [--max-points N]   a metric history (table, or CSV)
  cancel ID                                              cancel a queued or running job
  download ID [--best] -o FILE                           the job's final (or best) weights as .safetensors
${SWEEP_USAGE}

environment: TRAINYARD_URL (default http://127.0.0.1:3000), TRAINYARD_API_KEY`;

class UsageError extends Error {}

const out = process.stdout;
const err = process.stderr;

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      watch: { type: 'boolean' },
      'idempotency-key': { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      json: { type: 'boolean' },
      name: { type: 'string', multiple: true },
      csv: { type: 'boolean' },
      'max-points': { type: 'string' },
      best: { type: 'boolean' },
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected ${what}`);
  return positionals[0]!;
}

function positiveInt(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1) throw new UsageError(`${flag} must be a whole number ≥ 1`);
  return Number(raw);
}

/** exit status of a finished job for `watch` and `submit --watch` */
function exitFor(status: string): number {
  return status === 'succeeded' || status === 'pruned' ? 0 : 1;
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    out.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  const { values, positionals } = parse(rest);
  const client = new TrainyardClient({
    baseUrl: process.env.TRAINYARD_URL || 'http://127.0.0.1:3000',
    apiKey: process.env.TRAINYARD_API_KEY || null,
  });

  switch (command) {
    case 'submit': {
      const file = one(positionals, 'a spec file: trainyard submit spec.json');
      let spec: unknown;
      try {
        spec = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
      }
      // a key per submission: a retry after a dropped answer gets the same job back
      const job = await client.submitJob(spec, values['idempotency-key'] ?? randomUUID());
      out.write(`${job.id}\n`);
      err.write(`submitted job ${job.id} (${job.name}): ${job.status}\n`);
      if (!values.watch) return 0;
      return exitFor((await watchJob(client, job.id, out, err)).status);
    }
    case 'list': {
      const status = values.status as JobStatus | undefined;
      const page = await client.listJobs({ status, limit: positiveInt(values.limit, '--limit'), cursor: values.cursor });
      const rows = page.items.map((j) => {
        const p = j.progress;
        const bestVal = j.best ? (j.best.metrics.val_accuracy ?? j.best.metrics.val_loss ?? j.best.metrics.train_loss) : undefined;
        return [
          j.id, j.name, j.status,
          p ? `${p.epoch}/${p.epochs ?? j.specSummary.epochs}` : `0/${j.specSummary.epochs}`,
          p && typeof p.samplesPerSecond === 'number' ? String(Math.round(p.samplesPerSecond)) : '-',
          j.best ? `${num(bestVal)} @${j.best.epoch}` : '-',
          age(j.createdAt),
        ];
      });
      out.write(`${table(['ID', 'NAME', 'STATUS', 'EPOCH', 'SAMPLES/S', 'BEST', 'AGE'], rows)}\n`);
      if (page.nextCursor) err.write(`more: trainyard list --cursor ${page.nextCursor}\n`);
      return 0;
    }
    case 'status': {
      const job = await client.getJob(one(positionals, 'a job id: trainyard status ID'));
      if (values.json) {
        out.write(`${JSON.stringify(job, null, 2)}\n`);
        return 0;
      }
      const lines = [`${job.id}  ${job.name}`, `status     ${job.status}${job.cancelRequested ? ' (cancel requested)' : ''}, attempt ${job.attempt}`];
      lines.push(`created    ${job.createdAt}${job.startedAt ? `, started ${job.startedAt}` : ''}${job.finishedAt ? `, finished ${job.finishedAt}` : ''}`);
      const p = job.progress;
      if (p) lines.push(`progress   epoch ${p.epoch}/${p.epochs ?? '?'}, step ${p.step}${typeof p.samplesPerSecond === 'number' ? `, ${Math.round(p.samplesPerSecond)} samples/s` : ''}`);
      if (job.result) {
        const r = job.result;
        lines.push(`result     ${r.epochs} epochs${r.stoppedEarly ? ', stopped early' : ''}`);
        if (r.best) lines.push(`best       epoch ${r.best.epoch}: ${Object.entries(r.best.metrics).map(([k, v]) => `${k} ${num(v)}`).join(', ')}`);
        if (r.stopDecision) lines.push(`stopped    ${r.stopDecision.reason}`);
      }
      if (job.error) lines.push(`error      ${job.error.code}: ${job.error.message}`);
      if (job.diagnosis) {
        lines.push(`diagnosis  ${job.diagnosis.verdict}: ${job.diagnosis.summary}`);
        for (const s of job.diagnosis.suggestions) lines.push(`  - ${s}`);
      }
      out.write(`${lines.join('\n')}\n`);
      return 0;
    }
    case 'watch':
      return exitFor((await watchJob(client, one(positionals, 'a job id: trainyard watch ID'), out, err)).status);
    case 'metrics': {
      const id = one(positionals, 'a job id: trainyard metrics ID --name val_loss');
      const names = values.name ?? [];
      if (names.length === 0) throw new UsageError('name at least one metric: --name val_loss');
      const query = { name: names, maxPoints: positiveInt(values['max-points'], '--max-points') };
      if (values.csv) {
        out.write(await client.metricsCsv(id, query));
        return 0;
      }
      const history = await client.metrics(id, { ...query, limit: query.maxPoints ? undefined : 10_000 });
      for (const s of history.series) {
        out.write(`${s.name}${s.downsampled ? ' (downsampled)' : ''}\n`);
        out.write(`${table(['STEP', 'EPOCH', 'VALUE'], s.points.map((pt) => [String(pt.step), String(pt.epoch), num(pt.value)]))}\n`);
      }
      if (history.nextCursor) err.write('more points than one page; use --csv for the whole history\n');
      return 0;
    }
    case 'cancel': {
      const job = await client.cancelJob(one(positionals, 'a job id: trainyard cancel ID'));
      out.write(job.status === 'cancelled' ? `job ${job.id} cancelled\n` : `job ${job.id} is stopping (within one batch)\n`);
      return 0;
    }
    case 'download': {
      const id = one(positionals, 'a job id: trainyard download ID -o model.safetensors');
      if (!values.output) throw new UsageError('say where to write the weights: -o model.safetensors');
      const { items } = await client.checkpoints(id);
      const chosen = values.best
        ? items.find((c) => c.best)
        : items.find((c) => c.kind === 'final') ?? [...items].sort((a, b) => (b.step ?? 0) - (a.step ?? 0))[0];
      if (!chosen) {
        err.write(`error: job ${id} has no ${values.best ? 'best ' : ''}checkpoint${values.best ? ' (the best epoch\'s weights were not kept)' : ' yet'}\n`);
        return 1;
      }
      const bytes = await client.downloadCheckpoint(chosen.id);
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== chosen.sha256) {
        err.write(`error: checkpoint ${chosen.id} arrived with sha256 ${sha}, the service says ${chosen.sha256}; nothing written\n`);
        return 1;
      }
      writeFileSync(values.output, bytes);
      out.write(`wrote ${values.output}: checkpoint ${chosen.id} (${chosen.kind}${chosen.epoch !== null ? `, epoch ${chosen.epoch}` : ''}${chosen.best ? ', best' : ''}), ${bytes.length} bytes, sha256 ${sha}\n`);
      return 0;
    }
    case 'sweep':
      return runSweep(client, {
        positionals, watch: values.watch, json: values.json, limit: positiveInt(values.limit, '--limit'), cursor: values.cursor,
      }, { out, err, usage: (message) => { throw new UsageError(message); } });
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

function explain(e: unknown): number {
  if (e instanceof UsageError || (e as { code?: string })?.code?.startsWith?.('ERR_PARSE_ARGS')) {
    err.write(`error: ${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (e instanceof ConnectionError) {
    err.write(
      `error: ${e.message}\n` +
      '  Is the service running? Start it in a Trainyard checkout with `npm start` (API and one worker; needs Postgres and Redis),\n' +
      '  or point TRAINYARD_URL at the service, e.g. TRAINYARD_URL=http://trainyard.internal:3000\n',
    );
    return 1;
  }
  if (e instanceof ApiRequestError) {
    err.write(`error: ${e.message} (${e.status} ${e.code})\n`);
    for (const d of e.details) err.write(`  ${d.pointer || '/'}: ${d.message}\n`);
    if (e.status === 401) err.write('  set TRAINYARD_API_KEY to an API key of this service\n');
    return 1;
  }
  err.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  return 1;
}

run(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e) => { process.exitCode = explain(e); },
);
