// The tips' first figure: deeper sigmoid nets do worse on the *training* set; ReLU nets do not.
import { lineChart } from '../svg.js';
import { budgetOf, last, loadSpec, round, scaled } from '../specs.js';
import type { Claim } from '../types.js';

export const depth: Claim = {
  id: 'depth',
  claim: 'Deeper sigmoid networks get worse on the training set of MNIST (same budget: a failure to train, not overfitting); ReLU networks of the same depths train far better.',
  specs: ['examples/experiments/depth.json'],
  async run(ctx) {
    const base = scaled(loadSpec(ctx, 'depth.json'), ctx.level, { limit: 3000, epochs: 3 });
    const depths = ctx.level === 'quick' ? [1, 3] : ctx.level === 'moderate' ? [1, 3, 5, 7, 9] : [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const acc: Record<string, Array<[number, number]>> = { sigmoid: [], relu: [] };
    const jobs: string[] = [];
    for (const activation of ['sigmoid', 'relu'] as const) {
      for (const d of depths) {
        const s = structuredClone(base);
        s.name = `depth-${activation}-${d}`;
        s.model.layers = [...Array.from({ length: d }, () => ({ type: 'dense', units: base.model.layers[0].units, activation })), base.model.layers.at(-1)];
        const r = await ctx.service.run(s);
        jobs.push(r.id);
        acc[activation].push([d, last(r.metrics.train_accuracy)]);
      }
    }
    const deep = depths.at(-1)!;
    const sig1 = acc.sigmoid[0][1], sigD = acc.sigmoid.at(-1)![1], reluD = acc.relu.at(-1)![1];
    const held = sigD < sig1 - 0.05 && reluD > sigD + 0.05;
    return {
      held, jobs, budget: budgetOf(base),
      numbers: { depths, train_accuracy: Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, v.map(([, y]) => round(y))])) },
      plots: [{ file: 'depth.svg', caption: 'final-epoch training accuracy vs number of hidden layers', svg: lineChart(Object.entries(acc).map(([name, points]) => ({ name, points })), { title: 'MNIST training accuracy vs depth', x: 'hidden layers', y: 'train_accuracy' }) }],
      summary: `training accuracy, sigmoid: ${round(sig1, 3)} at depth 1 → ${round(sigD, 3)} at depth ${deep}; relu: ${round(acc.relu[0][1], 3)} → ${round(reluD, 3)}.` +
        (reluD < acc.relu[0][1] - 0.05 ? ` ReLU loses training accuracy with depth too at this budget, but far less than sigmoid.` : ''),
    };
  },
};
