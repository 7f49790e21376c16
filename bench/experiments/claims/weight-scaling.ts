// The weight-scaling rule vs the Monte-Carlo ensemble of thinned networks.
import { lineChart } from '../svg.js';
import { budgetOf, loadSpec, round, scaled } from '../specs.js';
import type { Claim } from '../types.js';

export const weightScaling: Claim = {
  id: 'weight-scaling',
  claim: 'Weight scaling equals the ensemble of thinned networks for a linear net and approximates it for a nonlinear one: MC-ensemble test accuracy approaches the weight-scaling accuracy as samples grow.',
  specs: ['examples/experiments/weight-scaling.json'],
  async run(ctx) {
    const base = scaled(loadSpec(ctx, 'weight-scaling.json'), ctx.level, { limit: 2000, epochs: 3 });
    const samples = ctx.level === 'quick' ? [1, 4] : ctx.level === 'moderate' ? [1, 4, 16] : [1, 2, 4, 8, 16, 32, 64];
    const jobs: string[] = [], lines = [], numbers: Record<string, Record<string, number>> = {};
    for (const activation of ['linear', 'relu'] as const) {
      const acc: Record<string, number> = {};
      const run = async (inference: object, key: string) => {
        const s = structuredClone(base);
        s.name = `weight-scaling-${activation}-${key}`;
        s.model.layers[1].activation = activation;
        Object.assign(s.model, inference);
        // same seed → the same training, bit for bit; only the test-time inference differs
        const r = await ctx.service.run(s);
        jobs.push(r.id);
        acc[key] = (r.job.result as { testMetrics: { test_accuracy: number } }).testMetrics.test_accuracy;
      };
      await run({ dropoutInference: 'weight-scaling' }, 'weight-scaling');
      for (const k of samples) await run({ dropoutInference: 'mc-ensemble', mcSamples: k }, `mc-${k}`);
      numbers[activation] = Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, round(v)]));
      lines.push({ name: `${activation}: mc-ensemble`, points: samples.map((k): [number, number] => [k, acc[`mc-${k}`]]) });
      lines.push({ name: `${activation}: weight scaling`, points: samples.map((k): [number, number] => [k, acc['weight-scaling']]) });
    }
    const gap = (a: string) => Math.abs(numbers[a][`mc-${samples.at(-1)}`] - numbers[a]['weight-scaling']);
    const held = gap('linear') <= 0.005 && gap('relu') <= 0.02;
    return {
      held, jobs, budget: `${budgetOf(base)}; mcSamples ${samples.join(', ')}`, numbers: { test_accuracy: numbers, gap_at_most_samples: { linear: round(gap('linear')), relu: round(gap('relu')) } },
      plots: [{ file: 'weight-scaling.svg', caption: 'test accuracy of the MC ensemble vs number of sampled thinned nets; flat lines: weight scaling', svg: lineChart(lines, { title: 'MC ensemble vs weight scaling', x: 'mcSamples', y: 'test_accuracy' }) }],
      summary: `with ${samples.at(-1)} samples the MC ensemble is ${round(gap('linear'))} from weight scaling for the linear net and ${round(gap('relu'))} for the ReLU net. (The output softmax makes even the "linear" net nonlinear at the very end; exactness holds for its logits.)`,
    };
  },
};
