// A job's per-epoch metrics as one table (epoch → name → value), filled from the
// metrics API and then from each live epoch event (the same numbers: merging twice
// changes nothing).
import type { MetricHistory, StoredValue } from '../client/types.js';
import { toNumber } from '../client/types.js';

export class EpochTable {
  readonly rows = new Map<number, Map<string, number>>();

  addHistory(history: MetricHistory): void {
    for (const s of history.series) for (const p of s.points) this.set(p.epoch, s.name, p.value);
  }

  addEpoch(epoch: number, metrics: Record<string, StoredValue>): void {
    for (const [name, v] of Object.entries(metrics)) this.set(epoch, name, v);
  }

  private set(epoch: number, name: string, v: StoredValue): void {
    let row = this.rows.get(epoch);
    if (!row) this.rows.set(epoch, (row = new Map()));
    row.set(name, toNumber(v));
  }

  get epochs(): number[] {
    return [...this.rows.keys()].sort((a, b) => a - b);
  }

  /** the column for `name`, null where an epoch has no value (a gap in the line) */
  column(name: string): (number | null)[] {
    return this.epochs.map((e) => {
      const v = this.rows.get(e)!.get(name);
      return v === undefined || !Number.isFinite(v) ? null : v;
    });
  }

  has(name: string): boolean {
    for (const row of this.rows.values()) if (row.has(name)) return true;
    return false;
  }

  /** layer indices i of `prefix/<i>` names, ascending */
  layers(prefix: string): number[] {
    const found = new Set<number>();
    for (const row of this.rows.values()) for (const name of row.keys()) {
      if (name.startsWith(`${prefix}/`)) found.add(Number(name.slice(prefix.length + 1)));
    }
    return [...found].filter(Number.isInteger).sort((a, b) => a - b);
  }
}

/** Epoch metrics the job page reads (per-layer names are added from metrics/names). */
export const EPOCH_METRICS = ['train_loss', 'val_loss', 'train_accuracy', 'val_accuracy', 'learning_rate', 'samples_per_second', 'epoch_seconds'];
