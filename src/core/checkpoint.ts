// Checkpoints as safetensors in PyTorch's nn.Linear layout (DESIGN.md):
//   layers.<i>.weight [out, in], layers.<i>.bias [out], layers.<i>.alpha [units] (PReLU)
// A resume checkpoint adds the optimizer state (optimizer.<name>, flat like the
// parameters), the best weights so far (best.layers.<i>.*, for restoreBest) and, in
// __metadata__, everything else a resumed run needs: epoch, step, early-stopping
// state, metric history. safetensors.torch.load_file ignores nothing and loads all
// of these; a PyTorch user takes the layers.* tensors.
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { IncompatibleWeightsError, ResumeError } from './errors.js';
import type { ParamPlan } from './model.js';
import type { EarlyStoppingState } from './early-stopping.js';
import type { EpochMetrics } from './diagnosis.js';
import type { MetricPoint } from './types.js';

export const RESUME_FORMAT = 'trainyard-resume/1';

interface TensorOut { name: string; dtype: 'F32'; shape: number[]; data: Float32Array }

function layerTensors(plan: ParamPlan, params: Float32Array, prefix = ''): TensorOut[] {
  // copies: safetensors bytes must not alias a live buffer that keeps training
  return plan.entries.map((e) => ({ name: prefix + e.name, dtype: 'F32' as const, shape: e.shape, data: params.slice(e.offset, e.offset + e.length) }));
}

export interface WeightsMeta { specHash?: string; epoch: number; step: number; metrics?: Record<string, number> }

export function encodeWeights(plan: ParamPlan, params: Float32Array, meta: WeightsMeta): Uint8Array {
  return encodeSafetensors(layerTensors(plan, params), {
    format: 'pt',
    producer: 'trainyard',
    specHash: meta.specHash ?? '',
    epoch: String(meta.epoch),
    step: String(meta.step),
    metrics: JSON.stringify(meta.metrics ?? {}),
  });
}

/**
 * Copy layers.* tensors from a safetensors file into params, checking every name and
 * shape against the plan. Everything that does not fit is listed in one error.
 */
export function loadWeightsInto(plan: ParamPlan, params: Float32Array, bytes: Uint8Array, prefix = ''): void {
  let file;
  try { file = decodeSafetensors(bytes); } catch (err) {
    throw new IncompatibleWeightsError(`not a valid safetensors file (${(err as Error).message})`);
  }
  const problems: string[] = [];
  const expected = new Set(plan.entries.map((e) => prefix + e.name));
  for (const e of plan.entries) {
    const t = file.tensors.get(prefix + e.name);
    const want = `[${e.shape.join(', ')}]`;
    if (!t) { problems.push(`${e.name} ${want} is missing`); continue; }
    const got = `[${t.shape.join(', ')}]`;
    if (got !== want) { problems.push(`${e.name} has shape ${got} but the model needs ${want}`); continue; }
    if (t.dtype !== 'F32' && t.dtype !== 'F64') { problems.push(`${e.name} has dtype ${t.dtype}; F32 or F64 expected`); continue; }
    const data = t.data as Float32Array | Float64Array;
    for (let i = 0; i < e.length; i++) params[e.offset + i] = data[i];
  }
  for (const name of file.tensors.keys()) {
    if (!prefix && name.startsWith('layers.') && !expected.has(name)) problems.push(`${name} does not exist in this model`);
  }
  if (problems.length) throw new IncompatibleWeightsError('the weights do not fit the model', problems);
}

/** Where a run stopped inside an epoch (cancel, shutdown): enough to finish that epoch exactly. */
export interface PartialEpoch {
  /** batches of the epoch already done */
  batch: number;
  lossSum: number;
  correct: number;
  seen: number;
  ratioSteps: number;
  gradNormSum: number[];
  updRatioSum: number[];
  /** batch_loss points of the epoch so far */
  points: MetricPoint[];
  seconds: number;
}

export interface ResumeState {
  specHash: string;
  epoch: number;
  step: number;
  earlyStopping: EarlyStoppingState | null;
  history: EpochMetrics[];
  best: { epoch: number; metrics: Record<string, number> } | null;
  hasBestWeights: boolean;
  /** set when the checkpoint was taken inside epoch `epoch + 1` */
  partial?: PartialEpoch | null;
}

export function encodeResume(plan: ParamPlan, params: Float32Array, optimizerState: Record<string, Float32Array>,
  bestParams: Float32Array | null, state: ResumeState): Uint8Array {
  const tensors = layerTensors(plan, params);
  for (const [name, buf] of Object.entries(optimizerState)) {
    tensors.push({ name: `optimizer.${name}`, dtype: 'F32', shape: [plan.size], data: buf.slice(0, plan.size) });
  }
  if (bestParams) tensors.push(...layerTensors(plan, bestParams, 'best.'));
  return encodeSafetensors(tensors, {
    format: 'pt',
    producer: 'trainyard',
    trainyard: RESUME_FORMAT,
    specHash: state.specHash,
    epoch: String(state.epoch),
    step: String(state.step),
    state: JSON.stringify({ ...state, hasBestWeights: bestParams !== null }),
  });
}

/** Restores params, optimizer state and best weights; returns the run state. */
export function decodeResume(plan: ParamPlan, bytes: Uint8Array, specHash: string | undefined, params: Float32Array,
  optimizerState: Record<string, Float32Array>, bestParams: Float32Array): ResumeState {
  const file = decodeSafetensors(bytes);
  if (file.metadata.trainyard !== RESUME_FORMAT) throw new ResumeError('the checkpoint is not a Trainyard resume checkpoint');
  const state = JSON.parse(file.metadata.state) as ResumeState;
  if (specHash && state.specHash && state.specHash !== specHash) {
    throw new ResumeError(`the checkpoint was written for another spec (hash ${state.specHash.slice(0, 12)}…, this job ${specHash.slice(0, 12)}…)`);
  }
  loadWeightsInto(plan, params, bytes);
  for (const [name, buf] of Object.entries(optimizerState)) {
    const t = file.tensors.get(`optimizer.${name}`);
    if (!t || t.shape[0] !== plan.size) throw new ResumeError(`optimizer state optimizer.${name} is missing or has the wrong size`);
    buf.set(t.data as Float32Array);
  }
  if (state.hasBestWeights) loadWeightsInto(plan, bestParams, bytes, 'best.');
  return state;
}
