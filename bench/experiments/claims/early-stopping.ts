// Early stopping on an overfitting setup: where it stops vs where validation loss was lowest.
import { lineChart } from '../svg.js';
import { budgetOf, curve, loadSpec, scaled } from '../specs.js';
import type { Claim } from '../types.js';

export const earlyStopping: Claim = {
  id: 'early-stopping',
  claim: 'On an overfitting setup, early stopping (patience p) stops p epochs after the validation-loss minimum and restores the weights of that minimum.',
  specs: ['examples/experiments/early-stopping.json'],
  async run(ctx) {
    const base = scaled(loadSpec(ctx, 'early-stopping.json'), ctx.level, { epochs: 40 });
    if (ctx.level === 'quick') base.earlyStopping.patience = 1;
    const r = await ctx.service.run(base);
    const val = r.metrics.val_loss ?? [];
    const minEpoch = val.reduce((b, p) => (p.value < b.value ? p : b), val[0]).epoch;
    const result = r.job.result as { stoppedEarly?: boolean; epochs?: number; best?: { epoch: number } | null } | null;
    const stoppedAt = result?.epochs ?? val.at(-1)!.epoch;
    const patience = base.earlyStopping.patience;
    const held = result?.stoppedEarly === true && stoppedAt === minEpoch + patience && result?.best?.epoch === minEpoch;
    return {
      held, jobs: [r.id], budget: budgetOf(base),
      numbers: { patience, val_loss_min_epoch: minEpoch, stopped_at_epoch: stoppedAt, stopped_early: result?.stoppedEarly ?? false, restored_epoch: result?.best?.epoch ?? null },
      plots: [{ file: 'early-stopping.svg', caption: `train and validation loss; validation minimum at epoch ${minEpoch}, stopped after epoch ${stoppedAt}`, svg: lineChart([{ name: 'train_loss', points: curve(r.metrics.train_loss) }, { name: 'val_loss', points: curve(val) }], { title: 'early stopping', x: 'epoch', y: 'loss' }) }],
      summary: `validation loss was lowest at epoch ${minEpoch}; the run ${result?.stoppedEarly ? `stopped after epoch ${stoppedAt}` : `did not stop early (${stoppedAt} epochs)`} with patience ${patience}, restoring epoch ${result?.best?.epoch ?? '—'}.`,
    };
  },
};
