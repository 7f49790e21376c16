// Early stopping with Keras's EarlyStopping semantics: watch one metric, call an epoch
// an improvement when it beats the best so far by more than minDelta
//   min mode: value < best − minDelta        max mode: value > best + minDelta
// and stop once `patience` epochs in a row brought no improvement. A NaN value is never
// an improvement (a diverged loss must not become "the best"). All of the state is in
// EarlyStoppingState, so a resumed job keeps counting patience where it left off.
import type { EarlyStoppingDecision, EarlyStoppingSpec, MonitorName } from './types.js';

/** The checkpointed state; `best` is null until a usable (non-NaN) value was seen. */
export interface EarlyStoppingState {
  monitor: MonitorName;
  mode: 'min' | 'max';
  best: number | null;
  /** 1-based epoch of `best`, 0 before there is one */
  bestEpoch: number;
  /** epochs since the last improvement */
  wait: number;
  /** epoch that decided 'stop', 0 while running */
  stoppedEpoch: number;
}

export class EarlyStopping {
  readonly options: EarlyStoppingSpec;
  private _best: number;
  private _bestEpoch = 0;
  private _wait = 0;
  private _stoppedEpoch = 0;

  constructor(options: EarlyStoppingSpec) {
    this.options = { ...options, minDelta: Math.abs(options.minDelta) };
    this._best = options.mode === 'min' ? Infinity : -Infinity;
  }

  /** best value so far (±Infinity before the first usable value) */
  get best(): number { return this._best; }
  /** 1-based epoch of the best value, 0 before there is one: the weights to restore */
  get bestEpoch(): number { return this._bestEpoch; }
  get wait(): number { return this._wait; }
  /** epoch that decided 'stop', 0 while training should go on */
  get stoppedEpoch(): number { return this._stoppedEpoch; }

  private isImprovement(value: number): boolean {
    const { mode, minDelta } = this.options;
    return mode === 'min' ? value < this._best - minDelta : value > this._best + minDelta;
  }

  /** Record one epoch's metrics (1-based epoch) and decide whether to go on. */
  update(epoch: number, metrics: Record<string, number>): EarlyStoppingDecision {
    const { monitor, patience, minDelta } = this.options;
    const value = metrics[monitor];
    if (value === undefined) {
      const have = Object.keys(metrics).sort().join(', ') || 'nothing';
      throw new Error(`early stopping monitors ${monitor}, but epoch ${epoch} reported ${have}` +
        (monitor.startsWith('val_') ? ' (is there a validation split?)' : ''));
    }

    const previousBest = this._best, previousBestEpoch = this._bestEpoch;
    this._wait += 1;
    if (this.isImprovement(value)) {
      this._best = value;
      this._bestEpoch = epoch;
      this._wait = 0;
      const reason = previousBestEpoch === 0
        ? `${monitor} ${fmt(value)} is the first value; it is the best so far`
        : `${monitor} ${fmt(value)} improved on the best ${fmt(previousBest)} (epoch ${previousBestEpoch})` +
          (minDelta > 0 ? ` by more than minDelta ${minDelta}` : '');
      return this.decision(epoch, value, 'improved', reason);
    }

    const noBest = this._bestEpoch === 0;
    const bestText = noBest ? 'no usable value yet' : `the best ${fmt(this._best)} (epoch ${this._bestEpoch})`;
    if (this._wait >= patience) {
      if (this._stoppedEpoch === 0) this._stoppedEpoch = epoch;
      const reason = noBest
        ? `${monitor} has had no usable value for ${plural(this._wait, 'epoch')} (patience ${patience}); stopping`
        : `${monitor} has not improved for ${plural(this._wait, 'epoch')} (patience ${patience}); stopping; ` +
          `best was ${fmt(this._best)} at epoch ${this._bestEpoch}` + (Number.isNaN(value) ? ` (latest value is NaN)` : '');
      return this.decision(epoch, value, 'stop', reason);
    }
    const head = Number.isNaN(value)
      ? `${monitor} is NaN, which counts as no improvement on ${bestText}`
      : `${monitor} ${fmt(value)} did not improve on ${bestText}` + (minDelta > 0 ? ` by more than minDelta ${minDelta}` : '');
    return this.decision(epoch, value, 'continue', `${head} for ${this._wait} of ${plural(patience, 'epoch')}`);
  }

  private decision(epoch: number, value: number, decision: EarlyStoppingDecision['decision'], reason: string): EarlyStoppingDecision {
    return {
      epoch, monitor: this.options.monitor, value,
      best: this._best, bestEpoch: this._bestEpoch, wait: this._wait,
      decision, reason,
    };
  }

  toJSON(): EarlyStoppingState {
    return {
      monitor: this.options.monitor,
      mode: this.options.mode,
      best: this._bestEpoch === 0 ? null : this._best,
      bestEpoch: this._bestEpoch,
      wait: this._wait,
      stoppedEpoch: this._stoppedEpoch,
    };
  }

  /** Continue from a checkpointed state; refuses state recorded for another monitor or mode. */
  static fromJSON(options: EarlyStoppingSpec, state: EarlyStoppingState): EarlyStopping {
    if (state.monitor !== options.monitor || state.mode !== options.mode) {
      throw new Error(`early-stopping state was recorded for ${state.monitor} (${state.mode}), ` +
        `but the spec monitors ${options.monitor} (${options.mode})`);
    }
    const es = new EarlyStopping(options);
    if (state.best !== null && state.bestEpoch > 0) {
      es._best = state.best;
      es._bestEpoch = state.bestEpoch;
    }
    es._wait = state.wait;
    es._stoppedEpoch = state.stoppedEpoch;
    return es;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** 4 decimals for everyday losses and accuracies, 4 significant digits for tiny or huge ones. */
function fmt(x: number): string {
  if (!Number.isFinite(x) || x === 0) return String(x);
  const a = Math.abs(x);
  return a >= 0.01 && a < 1e5 ? x.toFixed(4) : x.toPrecision(4);
}
