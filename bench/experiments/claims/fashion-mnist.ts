// An MLP with dropout vs the Fashion-MNIST benchmark's MLPClassifier (~87–88%).
import { existsSync } from 'node:fs';
import { lineChart } from '../svg.js';
import { budgetOf, curve, loadSpec, round, scaled } from '../specs.js';
import type { Claim } from '../types.js';

const DIR = `${process.env.DATA_DIR ?? '/usr/share/datasets'}/fashion-mnist`;

export const fashionMnist: Claim = {
  id: 'fashion-mnist',
  claim: "An MLP with dropout beats the Fashion-MNIST benchmark's MLPClassifier results (~87–88% test accuracy): target ≥ 89.5%.",
  specs: ['examples/experiments/fashion-mnist.json'],
  async run(ctx) {
    const base = scaled(loadSpec(ctx, 'fashion-mnist.json'), ctx.level, { limit: 10000, epochs: 3 });
    if (!existsSync(DIR)) {
      return {
        held: null, jobs: [], plots: [], numbers: {}, budget: budgetOf(base),
        note: `skipped: ${DIR} is missing (install Debian's dataset-fashion-mnist: apt-get install dataset-fashion-mnist)`,
        summary: 'not run: Fashion-MNIST is not installed on this machine.',
      };
    }
    const r = await ctx.service.run(base);
    const acc = (r.job.result as { testMetrics: { test_accuracy: number } }).testMetrics.test_accuracy;
    const full = ctx.level === 'full';
    return {
      held: full ? acc >= 0.895 : null,
      note: full ? undefined : 'run at a reduced budget: no verdict',
      jobs: [r.id], budget: budgetOf(base), numbers: { test_accuracy: round(acc), target: 0.895, benchmark_mlp: [0.87, 0.88] },
      plots: [{ file: 'fashion-mnist.svg', caption: 'validation accuracy per epoch', svg: lineChart([{ name: 'val_accuracy', points: curve(r.metrics.val_accuracy) }], { title: 'Fashion-MNIST MLP with dropout', x: 'epoch', y: 'val_accuracy' }) }],
      summary: `test accuracy ${round(acc)} (benchmark MLPClassifier ~0.87–0.88, target ≥ 0.895).`,
    };
  },
};
