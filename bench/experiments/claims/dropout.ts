// Dropout helps a net that overfits and hurts one that already underfits.
import { lineChart } from '../svg.js';
import { budgetOf, curve, last, loadSpec, round, scaled } from '../specs.js';
import type { Claim } from '../types.js';

export const dropout: Claim = {
  id: 'dropout',
  claim: 'Dropout lowers training accuracy and raises validation accuracy on a net that overfits, and makes a net that already underfits worse.',
  specs: ['examples/experiments/dropout.json'],
  async run(ctx) {
    const base = scaled(loadSpec(ctx, 'dropout.json'), ctx.level, { limit: 2000, epochs: 12 });
    const out = base.model.layers.at(-1), width = base.model.layers[0].units;
    const nets = {
      // 2×512 ReLU (the spec's width) on a few hundred samples: overfits
      big: (p: number) => [{ type: 'dense', units: width, activation: 'relu' }, ...(p ? [{ type: 'dropout', rate: p }] : []), { type: 'dense', units: width, activation: 'relu' }, ...(p ? [{ type: 'dropout', rate: p }] : []), out],
      // 4 ReLU units: underfits
      tiny: (p: number) => [{ type: 'dense', units: 4, activation: 'relu' }, ...(p ? [{ type: 'dropout', rate: p }] : []), out],
    };
    const jobs: string[] = [], lines = [], n: Record<string, { train_accuracy: number; val_accuracy: number }> = {};
    for (const [net, layers] of Object.entries(nets)) {
      for (const p of [0, 0.5]) {
        const s = structuredClone(base);
        s.name = `dropout-${net}-${p}`;
        s.model.layers = layers(p);
        const r = await ctx.service.run(s);
        jobs.push(r.id);
        const key = `${net}${p ? '+dropout' : ''}`;
        n[key] = { train_accuracy: round(last(r.metrics.train_accuracy)), val_accuracy: round(last(r.metrics.val_accuracy)) };
        lines.push({ name: `${key} val`, points: curve(r.metrics.val_accuracy) });
      }
    }
    const helps = n['big+dropout'].train_accuracy < n.big.train_accuracy && n['big+dropout'].val_accuracy > n.big.val_accuracy;
    const hurts = n['tiny+dropout'].val_accuracy < n.tiny.val_accuracy;
    // one standard error of a validation accuracy near p on nVal samples: √(p(1 − p)/nVal)
    const nVal = Math.round((base.dataset.limit ?? 60000) * base.dataset.validationSplit);
    const p = n.big.val_accuracy, se = Math.sqrt((p * (1 - p)) / nVal);
    const gain = n['big+dropout'].val_accuracy - n.big.val_accuracy;
    const noisy = Math.abs(gain) < 2 * se;
    return {
      held: helps && hurts, jobs, budget: budgetOf(base),
      note: noisy ? `the validation gain on the overfitting net (${round(gain)}) is within 2 standard errors (${round(2 * se)}) of ${nVal} validation samples: at this budget it is not significant` : undefined,
      numbers: { ...n, overfitting_net_helped: helps, underfitting_net_hurt: hurts, validation_samples: nVal, val_accuracy_standard_error: round(se) },
      plots: [{ file: 'dropout.svg', caption: 'validation accuracy per epoch, with and without dropout 0.5', svg: lineChart(lines, { title: 'dropout on an overfitting and an underfitting net', x: 'epoch', y: 'val_accuracy' }) }],
      summary: `2×${width} net: train ${n.big.train_accuracy} → ${n['big+dropout'].train_accuracy}, val ${n.big.val_accuracy} → ${n['big+dropout'].val_accuracy} with dropout; 4-unit net: val ${n.tiny.val_accuracy} → ${n['tiny+dropout'].val_accuracy}.`,
    };
  },
};
