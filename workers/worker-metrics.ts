// A worker process's Prometheus metrics (DESIGN.md "Prometheus"), served on
// WORKER_METRICS_PORT by metrics-server.ts. One registry per instance, so tests can
// run several workers in one process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly jobs: Counter<'outcome'>;
  private readonly epochSeconds: Histogram;
  private readonly samplesPerSecond: Gauge;

  /** busySlots: jobs training right now, read at scrape time */
  constructor(busySlots: () => number) {
    collectDefaultMetrics({ register: this.registry, prefix: 'trainyard_worker_' });
    this.jobs = new Counter({
      name: 'trainyard_worker_jobs_total',
      help: 'Training attempts this worker ended, by outcome (succeeded, failed, cancelled, requeued, retrying, lock-lost, duplicate)',
      labelNames: ['outcome'] as const,
      registers: [this.registry],
    });
    this.epochSeconds = new Histogram({
      name: 'trainyard_worker_epoch_seconds',
      help: 'Wall-clock seconds per trained epoch',
      // tiny synthetic jobs take milliseconds, MNIST epochs seconds to minutes
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [this.registry],
    });
    this.samplesPerSecond = new Gauge({
      name: 'trainyard_worker_samples_per_second',
      help: 'Training samples per second of the last epoch this worker finished',
      registers: [this.registry],
    });
    new Gauge({
      name: 'trainyard_worker_busy_slots',
      help: 'Jobs this worker is training right now (at most WORKER_CONCURRENCY)',
      registers: [this.registry],
      collect() {
        this.set(busySlots());
      },
    });
  }

  jobEnded(outcome: string): void {
    this.jobs.inc({ outcome });
  }

  epochDone(seconds: number | undefined, samplesPerSecond: number | undefined): void {
    if (seconds !== undefined && Number.isFinite(seconds)) this.epochSeconds.observe(seconds);
    if (samplesPerSecond !== undefined && Number.isFinite(samplesPerSecond)) this.samplesPerSecond.set(samplesPerSecond);
  }
}
