// Weight initialisation, drawn from the counter-based RNG keyed by (seed, layer, index)
// so a model is the same whatever order its tensors are filled in.
//   he (Kaiming normal)      std = √(2 / fan_in)          — ReLU family, maxout, ELU
//   xavier/glorot (normal)   std = √(2 / (fan_in + fan_out)) — sigmoid, tanh, softmax, linear
//   lecun (normal)           std = √(1 / fan_in)
// Biases start at 0, PReLU slopes at their initial alpha.
import { Stream, normal } from './rng.js';
import type { Activation, InitScheme } from './types.js';

export type ResolvedInit = 'he' | 'xavier' | 'lecun';

export function resolveInit(scheme: InitScheme, activation: Activation | 'maxout'): ResolvedInit {
  if (scheme !== 'auto') return scheme === 'glorot' ? 'xavier' : scheme;
  switch (activation) {
    case 'relu': case 'leaky-relu': case 'prelu': case 'elu': case 'maxout': return 'he';
    default: return 'xavier';
  }
}

// W (fanOut, fanIn)
export function initWeights(W: Float32Array, fanOut: number, fanIn: number, scheme: ResolvedInit, seed: number, layer: number): void {
  const std = scheme === 'he' ? Math.sqrt(2 / fanIn) : scheme === 'lecun' ? Math.sqrt(1 / fanIn) : Math.sqrt(2 / (fanIn + fanOut));
  for (let i = 0; i < fanOut * fanIn; i++) W[i] = std * normal(seed, Stream.init, layer, 0, i);
}
