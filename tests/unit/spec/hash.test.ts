import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, specHash, validateJobSpec, type NormalizedJobSpec } from '../../../src/spec/index.js';

function normalized(input: unknown): NormalizedJobSpec {
  const result = validateJobSpec(input);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return result.spec;
}

const spec = {
  name: 'hash',
  dataset: { name: 'synthetic/blobs', validationSplit: 0.2 },
  model: { layers: [{ type: 'dense', units: 3, activation: 'softmax' }] },
  loss: 'cross-entropy',
  optimizer: { type: 'adam', learningRate: 0.01 },
  training: { epochs: 5, batchSize: 16, seed: 7 },
};

const reordered = {
  training: { seed: 7, batchSize: 16, epochs: 5 },
  optimizer: { learningRate: 0.01, type: 'adam' },
  loss: 'cross-entropy',
  model: { layers: [{ activation: 'softmax', units: 3, type: 'dense' }] },
  dataset: { validationSplit: 0.2, name: 'synthetic/blobs' },
  name: 'hash',
};

test('the hash is a sha256 hex digest', () => {
  assert.match(specHash(normalized(spec)), /^[0-9a-f]{64}$/);
});

test('the hash is stable under key order', () => {
  assert.equal(specHash(normalized(spec)), specHash(normalized(reordered)));
});

test('spelled-out defaults hash like omitted ones', () => {
  const explicit = { ...spec, optimizer: { type: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } };
  assert.equal(specHash(normalized(spec)), specHash(normalized(explicit)));
});

test('different specs hash differently', () => {
  const other = { ...spec, training: { ...spec.training, seed: 8 } };
  assert.notEqual(specHash(normalized(spec)), specHash(normalized(other)));
  const renamed = { ...spec, name: 'hash2' };
  assert.notEqual(specHash(normalized(spec)), specHash(normalized(renamed)));
});

test('canonical JSON sorts keys at every level and keeps array order', () => {
  assert.equal(canonicalJson({ b: [{ d: 1, c: 2 }, 3], a: 'x', u: undefined }), '{"a":"x","b":[{"c":2,"d":1},3]}');
});
