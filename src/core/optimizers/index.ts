// createOptimizer: the spec's optimizer block → an Optimizer over `size` parameters.
import type { OptimizerSpec } from '../types.js';
import type { Optimizer, StateAlloc } from './types.js';
import { SGD } from './sgd.js';
import { Momentum } from './momentum.js';
import { Adagrad } from './adagrad.js';
import { RMSprop } from './rmsprop.js';
import { Adam } from './adam.js';

export type { Optimizer, OptimizerType, StateAlloc } from './types.js';
export { SGD, Momentum, Adagrad, RMSprop, Adam };
export type { SGDOptions } from './sgd.js';
export type { MomentumOptions } from './momentum.js';
export type { AdagradOptions } from './adagrad.js';
export type { RMSpropOptions } from './rmsprop.js';
export type { AdamOptions } from './adam.js';

/**
 * `alloc` hands out the zero-filled state buffers (pass `heap.alloc.bind(heap)` to put
 * them in the run's shared memory; the default is ordinary memory).
 */
export function createOptimizer(
  spec: OptimizerSpec,
  size: number,
  alloc: StateAlloc = (n) => new Float32Array(n),
): Optimizer {
  switch (spec.type) {
    case 'sgd': return new SGD(spec);
    case 'momentum': return new Momentum(spec, size, alloc);
    case 'adagrad': return new Adagrad(spec, size, alloc);
    case 'rmsprop': return new RMSprop(spec, size, alloc);
    case 'adam': return new Adam(spec, size, alloc);
  }
}
