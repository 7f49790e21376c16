// L2 shrinks every weight; L1 drives many to (near) zero.
import { decodeSafetensors } from '../../../src/core/safetensors.js';
import { lineChart } from '../svg.js';
import { budgetOf, loadSpec, round, scaled } from '../specs.js';
import type { Claim } from '../types.js';

const TINY = 1e-3;

export const l1L2: Claim = {
  id: 'l1-l2',
  claim: 'L2 shrinks all weights (smaller norm); L1 drives many of them to (near) zero: a larger fraction of |w| < 1e-3.',
  specs: ['examples/experiments/l1-l2.json'],
  async run(ctx) {
    const base = scaled(loadSpec(ctx, 'l1-l2.json'), ctx.level, { limit: 3000, epochs: 5 });
    const variants = { none: { l1: 0, l2: 0 }, l2: { l1: 0, l2: 0.01 }, l1: { l1: 0.001, l2: 0 } };
    const jobs: string[] = [], lines = [], numbers: Record<string, Record<string, number>> = {};
    for (const [name, reg] of Object.entries(variants)) {
      const s = structuredClone(base);
      s.name = `l1-l2-${name}`;
      s.regularization = reg;
      const r = await ctx.service.run(s);
      jobs.push(r.id);
      const cks = await ctx.service.checkpoints(r.id);
      const lastCk = cks.reduce((a, b) => (b.epoch > a.epoch ? b : a));
      const w = decodeSafetensors(await ctx.service.download(lastCk.id)).tensors.get('layers.0.weight')!.data as Float32Array;
      let tiny = 0, sq = 0;
      for (const v of w) { if (Math.abs(v) < TINY) tiny++; sq += v * v; }
      numbers[name] = { tiny_fraction: round(tiny / w.length), weight_norm: round(Math.sqrt(sq)), val_accuracy: round(r.metrics.val_accuracy?.at(-1)?.value ?? NaN) };
      // histogram of log10|w| (layer 0)
      const bins = new Array(14).fill(0);
      for (const v of w) bins[Math.min(13, Math.max(0, Math.floor(Math.log10(Math.abs(v) + 1e-12) + 10)))]++;
      lines.push({ name, points: bins.map((c, i): [number, number] => [i - 10, c / w.length]) });
    }
    const held = numbers.l2.weight_norm < numbers.none.weight_norm && numbers.l1.tiny_fraction > numbers.l2.tiny_fraction && numbers.l1.tiny_fraction > numbers.none.tiny_fraction;
    return {
      held, jobs, budget: budgetOf(base), numbers: { layer0: numbers, strengths: variants },
      plots: [{ file: 'l1-l2.svg', caption: 'histogram of log10|w| of layer 0 (fraction of weights per decade)', svg: lineChart(lines, { title: 'layer-0 weights: log10|w|', x: 'log10 |w| (decade)', y: 'fraction of weights' }) }],
      summary: `fraction of |w| < 1e-3: none ${numbers.none.tiny_fraction}, L2 ${numbers.l2.tiny_fraction}, L1 ${numbers.l1.tiny_fraction}; ‖W₀‖: none ${numbers.none.weight_norm}, L2 ${numbers.l2.weight_norm}, L1 ${numbers.l1.weight_norm}.`,
    };
  },
};
