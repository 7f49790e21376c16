// SGD, Momentum, Adagrad, RMSProp, Adam on the same net: loss vs epoch.
import { lineChart } from '../svg.js';
import { budgetOf, curve, last, loadSpec, round, scaled } from '../specs.js';
import type { Claim } from '../types.js';

/** each rule at a learning rate usual for it (PyTorch-style defaults for the adaptive ones) */
const RULES = [
  { type: 'sgd', learningRate: 0.01 },
  { type: 'momentum', learningRate: 0.01 },
  { type: 'adagrad', learningRate: 0.01 },
  { type: 'rmsprop', learningRate: 0.001 },
  { type: 'adam', learningRate: 0.001 },
];

export const optimizers: Claim = {
  id: 'optimizers',
  claim: 'On the same net and budget, Momentum and the adaptive rules (Adagrad, RMSProp, Adam) reach a lower training loss than vanilla SGD.',
  specs: ['examples/experiments/optimizers.json'],
  async run(ctx) {
    const base = scaled(loadSpec(ctx, 'optimizers.json'), ctx.level, { limit: 3000, epochs: 5 });
    const jobs: string[] = [], lines = [], final: Record<string, number> = {};
    for (const rule of RULES) {
      const s = structuredClone(base);
      s.name = `optimizers-${rule.type}`;
      s.optimizer = rule;
      const r = await ctx.service.run(s);
      jobs.push(r.id);
      final[rule.type] = round(last(r.metrics.train_loss));
      lines.push({ name: `${rule.type} (lr ${rule.learningRate})`, points: curve(r.metrics.train_loss) });
    }
    const others = ['momentum', 'adagrad', 'rmsprop', 'adam'];
    const held = others.every((o) => final[o] < final.sgd);
    return {
      held, jobs, budget: budgetOf(base), numbers: { final_train_loss: final, learning_rates: Object.fromEntries(RULES.map((r) => [r.type, r.learningRate])) },
      plots: [{ file: 'optimizers.svg', caption: 'train_loss per epoch', svg: lineChart(lines, { title: 'training loss by optimizer', x: 'epoch', y: 'train_loss', logY: true }) }],
      summary: `final train_loss: ${Object.entries(final).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    };
  },
};
