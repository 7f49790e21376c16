// `trainyard watch ID`: one line per epoch from the job's event stream and, on a
// terminal, a progress bar redrawn from GET /v1/jobs/{id} (the worker updates
// progress at most every 2 s, so the bar asks no more often than that).
import type { TrainyardClient, StreamedEvent } from '../client/api-client.js';
import type { EpochEventData, Job } from '../client/types.js';
import { bar, duration, num } from './format.js';

const EPOCH_COLUMNS = ['train_loss', 'train_accuracy', 'val_loss', 'val_accuracy'];

export function epochLine(data: EpochEventData, epochs: number | undefined): string {
  const parts = [`epoch ${data.epoch}${epochs ? `/${epochs}` : ''}`];
  for (const name of EPOCH_COLUMNS) if (name in data.metrics) parts.push(`${name} ${num(data.metrics[name])}`);
  const sps = data.metrics.samples_per_second;
  if (typeof sps === 'number') parts.push(`${Math.round(sps)} samples/s`);
  if (data.decision) parts.push(`early stopping: ${data.decision}`);
  return parts.join('  ');
}

function progressLine(job: Job): string {
  const p = job.progress;
  if (!p) return `${job.status}`;
  const epochs = p.epochs ?? 0;
  const within = p.batch && p.batchesPerEpoch ? (p.batch - 1) / p.batchesPerEpoch : 0;
  const fraction = epochs ? (p.epoch - 1 + within) / epochs : 0;
  const sps = typeof p.samplesPerSecond === 'number' ? `  ${Math.round(p.samplesPerSecond)} samples/s` : '';
  const eta = typeof p.etaSeconds === 'number' ? `  ETA ${duration(p.etaSeconds)}` : '';
  return `${bar(fraction)} epoch ${p.epoch}/${epochs || '?'}${p.batch ? ` batch ${p.batch}/${p.batchesPerEpoch ?? '?'}` : ''}${sps}${eta}`;
}

export interface WatchOutcome {
  status: string;
  job: Job;
}

export async function watchJob(client: TrainyardClient, id: string, out: NodeJS.WriteStream, err: NodeJS.WriteStream): Promise<WatchOutcome> {
  let job = await client.getJob(id);
  const epochs = (job.spec as { training?: { epochs?: number } } | null)?.training?.epochs;
  const tty = err.isTTY === true;
  let barShown = false;
  const clearBar = () => {
    if (barShown) err.write('\r\x1b[2K');
    barShown = false;
  };
  const drawBar = () => {
    if (!tty || ['succeeded', 'failed', 'cancelled', 'pruned'].includes(job.status)) return;
    clearBar();
    err.write(progressLine(job));
    barShown = true;
  };
  out.write(`watching job ${job.id} (${job.name}): ${job.status}\n`);
  const timer = tty
    ? setInterval(() => {
        client.getJob(id).then((j) => { job = j; drawBar(); }, () => {});
      }, 2000)
    : undefined;
  const onEvent = (e: StreamedEvent) => {
    clearBar();
    if (e.type === 'epoch') out.write(`${epochLine(e.data.data as EpochEventData, epochs)}\n`);
    else if (e.type !== 'queued') out.write(`${e.type}${e.data.message ? `: ${e.data.message}` : ''}\n`);
    drawBar();
  };
  try {
    await client.followEvents(id, onEvent, {
      onReconnect: (last) => {
        clearBar();
        err.write(`event stream interrupted; reconnecting after event ${last ?? '(none)'}\n`);
      },
    });
  } finally {
    if (timer) clearInterval(timer);
    clearBar();
  }
  job = await client.getJob(id);
  const r = job.result;
  if (job.status === 'succeeded' && r) {
    const best = r.best ? `; best epoch ${r.best.epoch}: ${Object.entries(r.best.metrics).filter(([k]) => k.startsWith('val_') || k.startsWith('train_')).map(([k, v]) => `${k} ${num(v)}`).join(', ')}` : '';
    out.write(`succeeded after ${r.epochs} epochs${r.stoppedEarly && r.stopDecision ? ` (stopped early: ${r.stopDecision.reason})` : ''}${best}\n`);
  } else if (job.status === 'failed') {
    err.write(`job failed: ${job.error?.code ?? ''} ${job.error?.message ?? ''}\n`);
  }
  if (job.diagnosis) out.write(`diagnosis: ${job.diagnosis.verdict} — ${job.diagnosis.summary}\n`);
  return { status: job.status, job };
}
