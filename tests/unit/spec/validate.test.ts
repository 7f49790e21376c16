import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateJobSpec, parseJobSpec, JobSpecError, parameterCount, didYouMean, type Problem } from '../../../src/spec/index.js';

/** The example spec of DESIGN.md, verbatim. */
function designExample(): any {
  return {
    name: 'mnist-relu-adam',
    dataset: { name: 'mnist', validationSplit: 0.1, limit: 60000 },
    model: {
      layers: [
        { type: 'dense', units: 256, activation: 'relu' },
        { type: 'dropout', rate: 0.2 },
        { type: 'maxout', units: 128, pieces: 2 },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
      init: 'he',
    },
    loss: 'cross-entropy',
    optimizer: { type: 'adam', learningRate: 0.001 },
    regularization: { l1: 0, l2: 0.0001 },
    training: { epochs: 20, batchSize: 128, shuffle: true, seed: 42, threads: 2 },
    earlyStopping: { monitor: 'val_loss', mode: 'min', patience: 3, minDelta: 0.0001, restoreBest: true },
    checkpoints: { everyEpochs: 1, keepLast: 3, keepBest: true },
  };
}

function problemsOf(spec: unknown): Problem[] {
  const result = validateJobSpec(spec);
  assert.equal(result.ok, false, 'expected the spec to be rejected');
  return result.ok ? [] : result.problems;
}

/** The one problem at `pointer`; fails when there is none or more than one. */
function problemAt(spec: unknown, pointer: string): Problem {
  const problems = problemsOf(spec);
  const found = problems.filter((p) => p.pointer === pointer);
  assert.equal(found.length, 1, `expected one problem at ${pointer}, got: ${JSON.stringify(problems, null, 1)}`);
  return found[0];
}

test('the DESIGN.md example spec is valid', () => {
  const result = validateJobSpec(designExample());
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
});

test('a minimal synthetic spec is valid', () => {
  const result = validateJobSpec({
    name: 'xor',
    dataset: { name: 'synthetic/xor' },
    model: { layers: [{ type: 'dense', units: 8, activation: 'tanh' }, { type: 'dense', units: 2, activation: 'softmax' }] },
    loss: 'cross-entropy',
    optimizer: { type: 'sgd', learningRate: 0.1 },
    training: { epochs: 10, batchSize: 32 },
  });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
});

test('a non-object spec is one problem at the root', () => {
  assert.deepEqual(problemsOf(null), [{ pointer: '', message: 'must be an object, not null' }]);
  assert.deepEqual(problemsOf([1]).map((p) => p.pointer), ['']);
});

// ---------------------------------------------------------------- shape

test('an unknown field is reported with a did-you-mean', () => {
  const spec = designExample();
  spec.optimizer = { type: 'adam', learningrate: 0.01 };
  const problems = problemsOf(spec);
  const unknown = problems.find((p) => p.pointer === '/optimizer/learningrate');
  assert.ok(unknown);
  assert.match(unknown.message, /unknown field 'learningrate'.*did you mean 'learningRate'\?/);
  assert.ok(problems.some((p) => p.pointer === '/optimizer/learningRate' && /missing/.test(p.message)));
});

test('unknown top-level field is reported', () => {
  const spec = designExample();
  spec.epochs = 5;
  assert.match(problemAt(spec, '/epochs').message, /unknown field 'epochs'/);
});

test('a field of another optimizer is unknown for the chosen type, without union noise', () => {
  const spec = designExample();
  spec.optimizer = { type: 'adam', learningRate: 0.01, momentum: 0.9 };
  const problems = problemsOf(spec);
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.equal(problems[0].pointer, '/optimizer/momentum');
  assert.match(problems[0].message, /unknown field 'momentum' for type 'adam'/);
});

test('a layer is checked against the branch its type names only', () => {
  const spec = designExample();
  spec.model.layers[2] = { type: 'maxout', units: 128, pieces: 1 };
  const problems = problemsOf(spec);
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.equal(problems[0].pointer, '/model/layers/2/pieces');
  assert.match(problems[0].message, /must be an integer between 2 and 64, not 1/);
});

test('an unknown layer type names the allowed types', () => {
  const spec = designExample();
  spec.model.layers[1] = { type: 'conv2d', filters: 3 };
  assert.match(problemAt(spec, '/model/layers/1/type').message, /must be one of 'dense', 'maxout', 'dropout', not "conv2d"/);
});

test('an unknown optimizer type is reported at /optimizer/type with a suggestion', () => {
  const spec = designExample();
  spec.optimizer = { type: 'adamw', learningRate: 0.1 };
  assert.match(problemAt(spec, '/optimizer/type').message, /did you mean 'adam'\?/);
});

test('numbers out of range name the bound and the value', () => {
  const spec = designExample();
  spec.model.layers[0].units = 0;
  spec.dataset.limit = 0;
  spec.model.layers[1].rate = 1;
  assert.equal(problemAt(spec, '/model/layers/0/units').message, 'must be an integer between 1 and 65536, not 0');
  assert.equal(problemAt(spec, '/dataset/limit').message, 'must be an integer ≥ 1, not 0');
  assert.equal(problemAt(spec, '/model/layers/1/rate').message, 'must be a number ≥ 0 and < 1, not 1');
});

test('schema limits: epochs, units, layers, threads', () => {
  const spec = designExample();
  spec.training.epochs = 10_001;
  spec.model.layers[0].units = 65_537;
  spec.training.threads = 65;
  assert.match(problemAt(spec, '/training/epochs').message, /≤ 10000|between 1 and 10000/);
  assert.match(problemAt(spec, '/model/layers/0/units').message, /65536/);
  assert.match(problemAt(spec, '/training/threads').message, /between 1 and 64, not 65/);

  const deep = designExample();
  deep.model.layers = Array.from({ length: 65 }, () => ({ type: 'dense', units: 10, activation: 'relu' }));
  assert.match(problemAt(deep, '/model/layers').message, /at most 64 items, not 65/);
  deep.model.layers = [];
  assert.match(problemAt(deep, '/model/layers').message, /at least 1 item/);
});

test('name length, dataset name typo, initialWeights uuid', () => {
  const spec = designExample();
  spec.name = 'x'.repeat(201);
  spec.dataset.name = 'fashion-mnst';
  spec.initialWeights = { checkpointId: 'not-a-uuid' };
  assert.match(problemAt(spec, '/name').message, /1 to 200 characters, not 201 characters/);
  assert.match(problemAt(spec, '/dataset/name').message, /did you mean 'fashion-mnist'\?/);
  assert.match(problemAt(spec, '/initialWeights/checkpointId').message, /must be a UUID/);
});

test('required fields are reported at their own pointer', () => {
  const spec = designExample();
  delete spec.training.epochs;
  delete spec.loss;
  assert.match(problemAt(spec, '/training/epochs').message, /required field 'epochs' is missing/);
  assert.match(problemAt(spec, '/loss').message, /required field 'loss' is missing/);
});

test('several shape problems at once are all listed', () => {
  const spec = designExample();
  spec.name = '';
  spec.model.layers[0].activation = 'Relu';
  spec.training.batchSize = 'big';
  spec.regularization.l2 = -1;
  spec.checkpoints.keepBest = 'yes';
  const pointers = problemsOf(spec).map((p) => p.pointer);
  assert.deepEqual(pointers.sort(), [
    '/checkpoints/keepBest', '/model/layers/0/activation', '/name', '/regularization/l2', '/training/batchSize',
  ]);
});

test('mixed inline labels are reported against the closest label form', () => {
  const spec = inlineSpec([[0, 0], [1, 1]], [0, [1]]);
  const problems = problemsOf(spec);
  assert.deepEqual(problems.map((p) => p.pointer), ['/dataset/labels/1']);
});

test('an enormous number of problems is capped with a summary', () => {
  const spec = inlineSpec(Array.from({ length: 500 }, () => ['a', 'b']), Array(500).fill(0));
  const problems = problemsOf(spec);
  assert.equal(problems.length, 100);
  assert.match(problems[99].message, /^and \d+ more problems$/);
});

// ---------------------------------------------------------------- semantics

test('softmax on a hidden layer is a problem', () => {
  const spec = designExample();
  spec.model.layers[0].activation = 'softmax';
  assert.match(problemAt(spec, '/model/layers/0/activation').message, /softmax is only allowed on the last layer/);
});

test('the last layer must be dense (not dropout or maxout)', () => {
  const spec = designExample();
  spec.model.layers.push({ type: 'dropout', rate: 0.5 });
  assert.match(problemAt(spec, '/model/layers/4/type').message, /the last layer must be dense, but layer 4 is a dropout layer/);

  const maxout = designExample();
  maxout.model.layers = [{ type: 'maxout', units: 10, pieces: 2 }];
  assert.match(problemAt(maxout, '/model/layers/0/type').message, /must be dense/);
});

test('input dropout (dropout as the first layer) is allowed', () => {
  const spec = designExample();
  spec.model.layers.unshift({ type: 'dropout', rate: 0.2 });
  assert.ok(validateJobSpec(spec).ok);
});

test('cross-entropy requires a softmax output', () => {
  const spec = designExample();
  spec.model.layers[3].activation = 'sigmoid';
  assert.match(problemAt(spec, '/model/layers/3/activation').message, /cross-entropy needs a softmax output, but the last layer's activation is sigmoid/);
  delete spec.model.layers[3].activation;
  assert.match(problemAt(spec, '/model/layers/3/activation').message, /activation is linear/);
});

test('mse with a softmax output is allowed', () => {
  const spec = designExample();
  spec.loss = 'mse';
  assert.ok(validateJobSpec(spec).ok);
});

test('output units must match the classes of the data set', () => {
  const spec = designExample();
  spec.model.layers[3].units = 7;
  assert.equal(problemAt(spec, '/model/layers/3/units').message, 'the last layer has 7 units but mnist has 10 classes');

  const spirals = designExample();
  spirals.dataset = { name: 'synthetic/spirals', classes: 4, validationSplit: 0.2 };
  assert.equal(problemAt(spirals, '/model/layers/3/units').message, 'the last layer has 10 units but synthetic/spirals has 4 classes');
});

test('regression output units must match the target width', () => {
  const spec = inlineSpec([[0], [1], [2]], [[0, 1], [1, 2], [2, 3]]);
  spec.model.layers = [{ type: 'dense', units: 3 }];
  spec.loss = 'mse';
  assert.equal(problemAt(spec, '/model/layers/0/units').message, 'the last layer has 3 units but the inline data has 2 target values per sample');

  spec.model.layers = [{ type: 'dense', units: 2 }];
  assert.ok(validateJobSpec(spec).ok);
});

test('cross-entropy on a regression data set is a problem', () => {
  const spec = designExample();
  spec.dataset = { name: 'synthetic/regression', validationSplit: 0.1 };
  spec.model.layers = [{ type: 'dense', units: 1, activation: 'softmax' }];
  assert.match(problemAt(spec, '/loss').message, /cross-entropy needs a classification data set/);
});

test('alpha on an activation without one is a problem', () => {
  const spec = designExample();
  spec.model.layers[0].alpha = 0.1;
  assert.match(problemAt(spec, '/model/layers/0/alpha').message, /alpha only applies to leaky-relu, prelu and elu, but layer 0 uses relu/);
  spec.model.layers[0].activation = 'leaky-relu';
  assert.ok(validateJobSpec(spec).ok);
});

test('batchSize larger than the training samples after limit and validationSplit', () => {
  const spec = designExample();
  spec.dataset.limit = 200;
  spec.dataset.validationSplit = 0.5;
  spec.training.batchSize = 128;
  assert.equal(
    problemAt(spec, '/training/batchSize').message,
    'batchSize is 128 but only 100 samples are left for training after limit 200 and validationSplit 0.5',
  );
  spec.training.batchSize = 100;
  assert.ok(validateJobSpec(spec).ok);
});

test('limit beyond the data set size', () => {
  const spec = designExample();
  spec.dataset.limit = 60_001;
  assert.equal(problemAt(spec, '/dataset/limit').message, 'limit is 60001 but mnist has only 60000 training samples');
});

test('monitoring val_* needs a validationSplit above 0', () => {
  const spec = designExample();
  delete spec.dataset.validationSplit;
  assert.match(problemAt(spec, '/earlyStopping/monitor').message, /val_loss, which needs a validation set/);

  spec.earlyStopping = {};
  assert.match(problemAt(spec, '/earlyStopping/monitor').message, /val_loss \(the default\)/);

  spec.earlyStopping = { monitor: 'train_loss' };
  assert.ok(validateJobSpec(spec).ok);
});

test('an explicit early-stopping mode must fit the monitor', () => {
  const spec = designExample();
  spec.earlyStopping = { monitor: 'val_accuracy', mode: 'min' };
  assert.match(problemAt(spec, '/earlyStopping/mode').message, /mode 'min' does not fit val_accuracy: accuracy should go up, so use 'max' or 'auto'/);
  spec.earlyStopping = { monitor: 'val_loss', mode: 'max' };
  assert.match(problemAt(spec, '/earlyStopping/mode').message, /use 'min' or 'auto'/);
  spec.earlyStopping = { monitor: 'val_accuracy', mode: 'auto' };
  assert.ok(validateJobSpec(spec).ok);
});

test('accuracy cannot be monitored on a regression data set', () => {
  const spec = inlineSpec([[0], [1], [2], [3]], [[0], [1], [2], [3]]);
  spec.loss = 'mse';
  spec.model.layers = [{ type: 'dense', units: 1 }];
  spec.earlyStopping = { monitor: 'train_accuracy' };
  assert.match(problemAt(spec, '/earlyStopping/monitor').message, /train_accuracy needs a classification data set/);
});

test('Nesterov momentum needs momentum above 0', () => {
  const spec = designExample();
  spec.optimizer = { type: 'momentum', learningRate: 0.1, momentum: 0, nesterov: true };
  assert.match(problemAt(spec, '/optimizer/nesterov').message, /needs a momentum above 0/);
});

test('the parameter count is limited to 50,000,000', () => {
  const spec = designExample();
  spec.model.layers = [
    { type: 'dense', units: 65_536, activation: 'relu' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ];
  // 784·65536 + 65536 + 65536·10 + 10 = 52,101,130
  assert.equal(problemAt(spec, '/model/layers').message, 'the model has 52,101,130 parameters, more than the limit of 50,000,000');
});

test('parameterCount follows dense, prelu, maxout and dropout', () => {
  const layers = [
    { type: 'dense', units: 4, activation: 'prelu' },
    { type: 'dropout', rate: 0.5 },
    { type: 'maxout', units: 3, pieces: 2 },
    { type: 'dense', units: 2 },
  ] as const;
  // dense+prelu: 5·4+4+4 = 28; maxout: 4·3·2+3·2 = 30; dense: 3·2+2 = 8
  assert.equal(parameterCount([...layers], 5), 66);
});

test('inline data: rows of one length, one label per sample, integer labels are classes', () => {
  const ragged = inlineSpec([[0, 1], [1], [1, 1]], [0, 1, 1]);
  assert.match(problemAt(ragged, '/dataset/features/1').message, /sample 1 has 1 features but sample 0 has 2/);

  const counts = inlineSpec([[0, 1], [1, 0], [1, 1]], [0, 1]);
  assert.match(problemAt(counts, '/dataset/labels').message, /2 labels but 3 feature rows/);

  const empty = inlineSpec([], []);
  assert.match(problemAt(empty, '/dataset/features').message, /features is empty/);

  const missing = inlineSpec([[0]], [0]);
  delete missing.dataset.labels;
  assert.match(problemAt(missing, '/dataset/labels').message, /needs 'labels'/);

  const classes = inlineSpec([[0], [1], [2]], [0, 2, 1]);
  classes.model.layers = [{ type: 'dense', units: 2, activation: 'softmax' }];
  assert.equal(problemAt(classes, '/model/layers/0/units').message, 'the last layer has 2 units but the inline data has 3 classes');
});

test('dataset fields that do not apply to the data set are problems', () => {
  const spec = designExample();
  spec.dataset.n = 500;
  spec.dataset.features = [[1]];
  assert.match(problemAt(spec, '/dataset/n').message, /only applies to synthetic data sets, not mnist/);
  assert.match(problemAt(spec, '/dataset/features').message, /only applies to the inline data set/);

  const xor = designExample();
  xor.dataset = { name: 'synthetic/xor', classes: 3, validationSplit: 0.1 };
  xor.model.layers[3].units = 2;
  assert.match(problemAt(xor, '/dataset/classes').message, /always has 2 classes/);
});

test('several semantic problems at once are all listed', () => {
  const spec = designExample();
  spec.model.layers[0].activation = 'softmax';
  spec.model.layers[3].units = 7;
  spec.dataset.validationSplit = 0;
  spec.dataset.limit = 100;
  spec.training.batchSize = 200;
  spec.earlyStopping.mode = 'max';
  const pointers = problemsOf(spec).map((p) => p.pointer).sort();
  assert.deepEqual(pointers, [
    '/earlyStopping/mode', '/earlyStopping/monitor', '/model/layers/0/activation', '/model/layers/3/units', '/training/batchSize',
  ]);
});

test('a normalized spec validates again to itself', () => {
  const first = validateJobSpec(designExample());
  assert.ok(first.ok);
  const second = validateJobSpec(JSON.parse(JSON.stringify(first.spec)));
  assert.ok(second.ok);
  assert.deepEqual(second.spec, first.spec);
});

test('parseJobSpec throws a JobSpecError carrying every problem', () => {
  const spec = designExample();
  spec.name = '';
  spec.model.layers[3].units = 7;
  assert.throws(() => parseJobSpec(spec), (error: unknown) => {
    assert.ok(error instanceof JobSpecError);
    assert.deepEqual(error.problems.map((p) => p.pointer), ['/name']);
    assert.match(error.message, /\/name: must be a string/);
    return true;
  });
});

test('didYouMean suggests near misses only', () => {
  assert.equal(didYouMean('learningrate', ['learningRate', 'beta1']), 'learningRate');
  assert.equal(didYouMean('batchsize', ['batchSize', 'epochs']), 'batchSize');
  assert.equal(didYouMean('epoch', ['batchSize', 'epochs']), 'epochs');
  assert.equal(didYouMean('colour', ['batchSize', 'epochs']), undefined);
});

function inlineSpec(features: unknown[], labels: unknown[]): any {
  return {
    name: 'inline',
    dataset: { name: 'inline', features, labels },
    model: { layers: [{ type: 'dense', units: 2, activation: 'softmax' }] },
    loss: 'cross-entropy',
    optimizer: { type: 'sgd', learningRate: 0.1 },
    training: { epochs: 1, batchSize: 1 },
  };
}

test('field names that exist on Object.prototype are unknown fields, not crashes', () => {
  const spec = designExample();
  spec.training = JSON.parse('{"epochs": 1, "batchSize": 1, "constructor": 1, "__proto__": {"x": 1}}');
  const pointers = problemsOf(spec).map((p) => p.pointer).sort();
  assert.deepEqual(pointers, ['/training/__proto__', '/training/constructor']);
});

// ---------------------------------------------------------------- input that broke the API (issue 16)

function wideInlineSpec(features: unknown[], labels: unknown[], outputUnits: number, loss: 'cross-entropy' | 'mse'): any {
  return {
    name: 'inline',
    dataset: { name: 'inline', features, labels },
    model: { layers: [{ type: 'dense', units: 4, activation: 'relu' }, { type: 'dense', units: outputUnits, activation: loss === 'mse' ? 'linear' : 'softmax' }] },
    loss,
    optimizer: { type: 'sgd', learningRate: 0.1 },
    training: { epochs: 1, batchSize: 1 },
  };
}

test('a name with NUL or a lone surrogate is a problem at /name, next to the other problems', () => {
  for (const name of ['a\u0000b', 'bad \ud83d', '\ude00 tail']) {
    const p = problemAt({ ...designExample(), name }, '/name');
    assert.match(p.message, /NUL|surrogate/);
  }
  // listed together with a shape problem, not instead of it
  const problems = problemsOf({ ...designExample(), name: 'x\u0000', loss: 'hinge' });
  assert.deepEqual(problems.map((p) => p.pointer).sort(), ['/loss', '/name']);
  // a proper surrogate pair (an emoji) is text like any other
  assert.ok(validateJobSpec({ ...designExample(), name: 'rocket \ud83d\ude80' }).ok);
});

test('inline features beyond float32 are refused at the number, on both sides of zero', () => {
  const rows = [[0, 1], [1, 0], [1, 1], [0, 0]];
  for (const big of [1e39, -1e39, 3.5e38]) {
    const features = rows.map((r) => [...r]);
    features[3]![1] = big;
    const p = problemAt(wideInlineSpec(features, [0, 1, 1, 0], 2, 'cross-entropy'), '/dataset/features/3/1');
    assert.match(p.message, /float32/);
  }
  // float32's largest finite value itself is fine
  const edge = rows.map((r) => [...r]);
  edge[0]![0] = -3.4028234663852886e38;
  assert.ok(validateJobSpec(wideInlineSpec(edge, [0, 1, 1, 0], 2, 'cross-entropy')).ok);
});

test('regression labels beyond float32 are refused at the number', () => {
  const labels = [[0.5], [1], [1e39], [0]];
  const p = problemAt(wideInlineSpec([[0, 1], [1, 0], [1, 1], [0, 0]], labels, 1, 'mse'), '/dataset/labels/2/0');
  assert.match(p.message, /float32/);
});

test('a number too large for JSON (1e999 parses as Infinity) says so instead of "not null"', () => {
  const spec = JSON.parse(JSON.stringify(designExample()).replace('"learningRate":0.001', '"learningRate":1e999'));
  assert.equal(spec.optimizer.learningRate, Infinity);
  const p = problemAt(spec, '/optimizer/learningRate');
  assert.doesNotMatch(p.message, /null/);
  assert.match(p.message, /too large/);
});

test('a 6 MB inline spec: valid as a whole, and its one bad number is found with its pointer', () => {
  const n = 40_000;
  const features = Array.from({ length: n }, (_, i) => Array.from({ length: 8 }, (_, j) => Math.sin(i * 7 + j) * 1000));
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  const spec = wideInlineSpec(features, labels, 2, 'cross-entropy');
  spec.training.batchSize = 32;
  assert.ok(JSON.stringify(spec).length > 6_000_000);
  assert.ok(validateJobSpec(spec).ok);
  features[31_337]![5] = 1e39;
  features[12]![2] = 'x' as unknown as number;
  assert.deepEqual(problemsOf(spec).map((p) => p.pointer), ['/dataset/features/12/2', '/dataset/features/31337/5']);
});
