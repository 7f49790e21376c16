// Maxout with 2 pieces can represent ReLU (max(w·x + b, 0)), and matches ReLU on MNIST.
import { decodeSafetensors } from '../../../src/core/safetensors.js';
import { lineChart } from '../svg.js';
import { budgetOf, curve, last, loadSpec, round, scaled } from '../specs.js';
import type { Claim } from '../types.js';

/** the target unit: relu(1.5·x − 0.5) on x ∈ [−2, 2] */
const TARGET = { w: 1.5, b: -0.5 };

export const maxout: Claim = {
  id: 'maxout',
  claim: 'A 2-piece Maxout unit learns a ReLU unit (one piece becomes the ReLU\'s line, the other ≈ 0), and a Maxout net matches a ReLU net on MNIST.',
  specs: ['examples/experiments/maxout.json'],
  async run(ctx) {
    const xs = Array.from({ length: 201 }, (_, i) => -2 + i * 0.02);
    const fit = {
      name: 'maxout-fits-relu',
      dataset: { name: 'inline', features: xs.map((x) => [x]), labels: xs.map((x) => [Math.max(0, TARGET.w * x + TARGET.b)]) },
      // the last layer must be dense: a linear 1→1 output a·m + c on top of the maxout unit m
      model: { layers: [{ type: 'maxout', units: 1, pieces: 2 }, { type: 'dense', units: 1, activation: 'linear' }] },
      loss: 'mse',
      optimizer: { type: 'adam', learningRate: 0.02 },
      training: { epochs: ctx.level === 'quick' ? 20 : 200, batchSize: 32, seed: 3 },
    };
    const f = await ctx.service.run(fit);
    const ck = (await ctx.service.checkpoints(f.id)).reduce((a, b) => (b.epoch > a.epoch ? b : a));
    const t = decodeSafetensors(await ctx.service.download(ck.id)).tensors;
    const W = t.get('layers.0.weight')!.data as Float32Array, B = t.get('layers.0.bias')!.data as Float32Array;
    const a = (t.get('layers.1.weight')!.data as Float32Array)[0], c = (t.get('layers.1.bias')!.data as Float32Array)[0];
    // the pieces as the output sees them, a·(w·x + b) + c (a max of them while a > 0)
    const pieces = [0, 1].map((k) => ({ w: round(a * W[k], 3), b: round(a * B[k] + c, 3) }));
    const mse = last(f.metrics.train_loss);

    const base = scaled(loadSpec(ctx, 'maxout.json'), ctx.level, { limit: 3000, epochs: 4 });
    const relu = structuredClone(base);
    relu.name = 'maxout-vs-relu-relu';
    relu.model.layers[0] = { type: 'dense', units: base.model.layers[0].units, activation: 'relu' };
    const m = await ctx.service.run(base), r = await ctx.service.run(relu);
    const accM = last(m.metrics.val_accuracy), accR = last(r.metrics.val_accuracy);
    const held = a > 0 && mse < 1e-3 && accM >= accR - 0.01;
    return {
      held, jobs: [f.id, m.id, r.id], budget: `fit: 201 inline points, ${fit.training.epochs} epochs; MNIST: ${budgetOf(base)}`,
      numbers: { target: TARGET, learned_pieces: pieces, output_scale_positive: a > 0, fit_mse: +mse.toPrecision(3), val_accuracy: { maxout: round(accM), relu: round(accR) } },
      plots: [
        { file: 'maxout-fit.svg', caption: 'the target ReLU unit and the two learned maxout pieces', svg: lineChart([
          { name: 'target relu', points: xs.map((x): [number, number] => [x, Math.max(0, TARGET.w * x + TARGET.b)]) },
          ...pieces.map((p, k) => ({ name: `piece ${k}: ${p.w}x${p.b >= 0 ? '+' : ''}${p.b}`, points: xs.map((x): [number, number] => [x, p.w * x + p.b]) })),
        ], { title: 'maxout (2 pieces) fitted to a ReLU unit', x: 'x', y: 'output' }) },
        { file: 'maxout-mnist.svg', caption: 'MNIST validation accuracy per epoch', svg: lineChart([{ name: 'maxout 2 pieces', points: curve(m.metrics.val_accuracy) }, { name: 'relu', points: curve(r.metrics.val_accuracy) }], { title: 'maxout vs relu on MNIST', x: 'epoch', y: 'val_accuracy' }) },
      ],
      summary: `learned pieces ${pieces.map((p) => `${p.w}·x ${p.b >= 0 ? '+' : '−'} ${Math.abs(p.b)}`).join(' and ')} (target 1.5·x − 0.5 and 0), fit MSE ${mse.toPrecision(3)}; MNIST val accuracy maxout ${round(accM)} vs relu ${round(accR)}.`,
    };
  },
};
