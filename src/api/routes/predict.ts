// POST /v1/jobs/:id/predict: run a job's trained network (final or best weights) on
// the caller's rows, with the core's Predictor (dropout by the spec's inference rule).
// The network computes in float32: inputs beyond float32's range are refused (400),
// and a row whose output overflows float32 although its inputs fit is a 422 naming
// the row — never a 500 from a NaN that JSON cannot carry.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { IncompatibleWeightsError } from '../../core/errors.js';
import { Predictor } from '../../core/predict.js';
import { decodeSafetensors } from '../../core/safetensors.js';
import { describeDataset } from '../../data/catalog.js';
import { checkpointBytes, jobSpec, weightsCheckpoint, type CheckpointMeta } from '../../db/repositories/checkpoint-reads.js';
import type { Scope } from '../../db/scope.js';
import type { NormalizedJobSpec } from '../../spec/index.js';
import { ApiError, type ErrorDetail } from '../errors.js';
import { jobNotFound, requestScope, requireJob } from '../scope.js';
import { ErrorSchema, PredictRequestSchema, PredictResponseSchema } from '../schemas.js';
import type { AppOptions } from '../app-context.js';

export interface PredictRoutesOptions extends Pick<AppOptions, 'prisma'> {
  /** Predictors kept decoded, by checkpoint id (default 16) */
  predictorCacheSize?: number;
  /** largest body in bytes (PREDICT_BODY_LIMIT; default PREDICT_BODY_LIMIT_DEFAULT) */
  bodyLimit?: number;
}

/** 10,000 MNIST rows written out in full precision are ~150 MB of JSON. */
export const PREDICT_BODY_LIMIT_DEFAULT = 160 * 1024 * 1024;
const MAX_LISTED = 20;
/** the largest finite float32; the network cannot take a value beyond it */
const FLOAT32_MAX = 3.4028234663852886e38;

const JobParams = Type.Object({ id: Type.String({ description: 'job id (uuid)' }) });

/** Least-recently-used cache; checkpoints never change, so an id always means the same weights. */
class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }

  delete(key: K): void {
    this.map.delete(key);
  }
}

/** Every row that the model cannot take, with a pointer (/inputs/3: has 5 values; the model takes 784). */
function inputProblems(inputs: number[][], inputSize: number): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  let more = 0;
  const add = (pointer: string, message: string) => {
    if (problems.length < MAX_LISTED) problems.push({ pointer, message });
    else more++;
  };
  for (let r = 0; r < inputs.length; r++) {
    const row = inputs[r]!;
    if (row.length !== inputSize) {
      add(`/inputs/${r}`, `has ${row.length} value${row.length === 1 ? '' : 's'}; the model takes ${inputSize}`);
      continue;
    }
    for (let j = 0; j < row.length; j++) {
      const x = row[j]!;
      if (!Number.isFinite(x)) add(`/inputs/${r}/${j}`, `is ${x}; inputs must be finite numbers`);
      else if (Math.abs(x) > FLOAT32_MAX) add(`/inputs/${r}/${j}`, `is ${x}; the network computes in float32, whose largest value is ${FLOAT32_MAX}`);
    }
  }
  if (more > 0) problems.push({ pointer: '/inputs', message: `and ${more} more problem(s)` });
  return problems;
}

/** Rows whose outputs are not finite: float32 overflowed inside the network (huge inputs, huge weights). */
function overflowedRows(outputs: number[][]): ErrorDetail[] {
  const rows: ErrorDetail[] = [];
  let more = 0;
  for (let r = 0; r < outputs.length; r++) {
    if (outputs[r]!.every(Number.isFinite)) continue;
    if (rows.length < MAX_LISTED) {
      rows.push({ pointer: `/inputs/${r}`, message: `the model's output overflowed float32 for this row (${outputs[r]!.join(', ')}); use smaller inputs (scaled like the training data)` });
    } else more++;
  }
  if (more > 0) rows.push({ pointer: '/inputs', message: `and ${more} more row(s)` });
  return rows;
}

/** A loaded checkpoint: its network, and the epoch whose weights it holds. */
interface LoadedWeights {
  predictor: Predictor;
  /**
   * The file's own word (__metadata__.epoch): a final checkpoint written after
   * restoreBest holds the best epoch's weights, not the last epoch's; the row's epoch
   * is the one training ended at.
   */
  epoch: number | null;
}

function weightsEpoch(bytes: Uint8Array, row: CheckpointMeta): number | null {
  const stated = Number(decodeSafetensors(bytes).metadata.epoch);
  return Number.isSafeInteger(stated) && stated >= 0 ? stated : row.epoch;
}

export const predictRoutes: FastifyPluginAsyncTypebox<PredictRoutesOptions> = async (app, { prisma, predictorCacheSize, bodyLimit }) => {
  const predictors = new LruCache<string, Promise<LoadedWeights>>(predictorCacheSize ?? 16);

  function loadWeights(scope: Scope, row: CheckpointMeta, spec: NormalizedJobSpec, inputSize: number, task: 'classification' | 'regression') {
    let p = predictors.get(row.id);
    if (!p) {
      p = (async () => {
        const bytes = await checkpointBytes(prisma, scope, row.id);
        if (!bytes) throw new ApiError(409, 'NO_WEIGHTS', `checkpoint ${row.id} was deleted meanwhile (pruned); try again`);
        return { predictor: new Predictor(spec, inputSize, task, bytes), epoch: weightsEpoch(bytes, row) };
      })();
      predictors.set(row.id, p);
      p.catch(() => predictors.delete(row.id));
    }
    return p;
  }

  app.post(
    '/jobs/:id/predict',
    {
      bodyLimit: bodyLimit ?? PREDICT_BODY_LIMIT_DEFAULT,
      schema: {
        summary: "Run a job's trained network on given inputs",
        description:
          'weights=final (default) uses the weights the job ended with, or while it is still running its newest checkpoint; ' +
          'weights=best the weights of its best epoch (see GET /v1/jobs/{id}/checkpoints): that epoch\'s checkpoint, or the final one ' +
          'when the job restored the best weights at the end; when checkpoints.everyEpochs skipped the best epoch and nothing holds its weights, 409. ' +
          'Dropout follows model.dropoutInference (mc-ensemble: seeded by training.seed, so the same request answers the same). ' +
          'Answers outputs (class probabilities for a softmax output) and, for classifiers, predictions (arg-max class), with the checkpoint ' +
          'used and the epoch whose weights it holds. 400 lists every row of the wrong width and every value beyond float32 with a pointer; ' +
          '409 when the job has no such weights; 422 lists the rows whose output overflowed float32.',
        tags: ['jobs'],
        params: JobParams,
        body: PredictRequestSchema,
        response: { 200: PredictResponseSchema, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 413: ErrorSchema, 422: ErrorSchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { inputs, weights = 'final' } = request.body;
      const scope = requestScope(request);
      const job = await requireJob(prisma, request, id);
      const spec = await jobSpec(prisma, scope, id);
      if (!spec) throw jobNotFound(id); // deleted meanwhile
      const dataset = describeDataset(spec.dataset);
      if ('error' in dataset) throw new Error(`stored spec of job ${id}: ${dataset.error.message}`);

      const problems = inputProblems(inputs, dataset.inputSize);
      if (problems.length > 0) {
        throw new ApiError(400, 'INVALID_INPUTS', `the inputs do not fit the model (${dataset.inputSize} values per row)`, problems);
      }

      const found = await weightsCheckpoint(prisma, scope, id, weights);
      if (found === null || !('checkpoint' in found)) {
        const yet = job.status === 'queued' || job.status === 'running' ? ' yet' : '';
        const why = found === null
          ? `job ${id} is ${job.status} and has no weights yet (no checkpoint written)`
          : found.reason === 'no-epoch'
            ? `job ${id} (${job.status}) has no best checkpoint${yet}: no epoch has ended; use weights=final`
            : `job ${id} (${job.status}): its best epoch ${found.epoch} has no checkpoint (checkpoints.everyEpochs skipped it or ` +
              'retention pruned it; set checkpoints.keepBest to keep it); use weights=final';
        throw new ApiError(409, 'NO_WEIGHTS', why);
      }
      const { checkpoint } = found;
      let loaded: LoadedWeights;
      try {
        loaded = await loadWeights(scope, checkpoint, spec, dataset.inputSize, dataset.task);
      } catch (err) {
        if (err instanceof IncompatibleWeightsError) {
          throw new ApiError(409, 'INCOMPATIBLE_WEIGHTS', `checkpoint ${checkpoint.id} does not fit the job's model: ${err.message}`);
        }
        throw err;
      }
      const { outputs, predictions } = loaded.predictor.predict(inputs);
      const overflowed = overflowedRows(outputs);
      if (overflowed.length > 0) {
        const count = outputs.filter((o) => !o.every(Number.isFinite)).length;
        throw new ApiError(422, 'OUTPUT_OVERFLOW', `the model's output overflowed float32 for ${count} row(s)`, overflowed);
      }
      return { outputs, ...(predictions && { predictions }), checkpointId: checkpoint.id, epoch: loaded.epoch };
    },
  );
};
