// Vanishing gradients: per-layer gradient norms under sigmoid fall toward the input.
import { lineChart } from '../svg.js';
import { budgetOf, loadSpec, round, scaled } from '../specs.js';
import type { Claim } from '../types.js';

export const vanishing: Claim = {
  id: 'vanishing',
  claim: 'Under sigmoid the per-layer gradient norms fall toward the input by orders of magnitude; under ReLU they do not.',
  specs: ['examples/experiments/vanishing.json'],
  async run(ctx) {
    const base = scaled(loadSpec(ctx, 'vanishing.json'), ctx.level, { limit: 2000, epochs: 1 });
    const lines = [];
    const jobs: string[] = [];
    const ratios: Record<string, number> = {};
    const norms: Record<string, number[]> = {};
    for (const activation of ['sigmoid', 'relu'] as const) {
      const s = structuredClone(base);
      s.name = `vanishing-${activation}`;
      for (const l of s.model.layers.slice(0, -1)) l.activation = activation;
      const r = await ctx.service.run(s);
      jobs.push(r.id);
      // grad_norm/<i> of the first epoch: the mean L2 norm of layer i's weight gradient
      const g = s.model.layers.map((_: unknown, i: number) => r.metrics[`grad_norm/${i}`]?.[0]?.value ?? NaN);
      norms[activation] = g.map((v: number) => +v.toPrecision(3));
      ratios[activation] = g.at(-2) / g[0];
      lines.push({ name: activation, points: g.map((v: number, i: number): [number, number] => [i, v]) });
    }
    const held = ratios.sigmoid >= 100 && ratios.relu < 10;
    return {
      held, jobs, budget: budgetOf(base),
      numbers: { grad_norm_epoch1: norms, last_hidden_over_first: { sigmoid: round(ratios.sigmoid, 2), relu: round(ratios.relu, 2) } },
      plots: [{ file: 'vanishing.svg', caption: 'grad_norm/<i> in epoch 1, layer 0 = next to the input', svg: lineChart(lines, { title: 'per-layer gradient norm (epoch 1)', x: 'layer index (0 = input side)', y: 'grad_norm', logY: true }) }],
      summary: `the last hidden layer's gradient norm over the first layer's: sigmoid ${round(ratios.sigmoid, 1)}×, relu ${round(ratios.relu, 2)}×.`,
    };
  },
};
