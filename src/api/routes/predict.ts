// POST /v1/jobs/:id/predict: run a job's trained network (final or best weights) on
// the caller's rows, with the core's Predictor (dropout by the spec's inference rule).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { IncompatibleWeightsError } from '../../core/errors.js';
import { Predictor } from '../../core/predict.js';
import { describeDataset } from '../../data/catalog.js';
import { checkpointBytes, weightsCheckpoint } from '../../db/repositories/checkpoint-reads.js';
import { findJob } from '../../db/repositories/jobs.js';
import { requestScope } from '../scope.js';
import type { NormalizedJobSpec } from '../../spec/index.js';
import { ApiError, type ErrorDetail } from '../errors.js';
import { ErrorSchema, PredictRequestSchema, PredictResponseSchema } from '../schemas.js';
import type { AppOptions } from '../app-context.js';

export interface PredictRoutesOptions extends Pick<AppOptions, 'prisma'> {
  /** Predictors kept decoded, by checkpoint id (default 16) */
  predictorCacheSize?: number;
}

/** 10,000 MNIST rows written out in full precision are ~150 MB of JSON. */
const PREDICT_BODY_LIMIT = 160 * 1024 * 1024;
const MAX_LISTED = 20;

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
      if (!Number.isFinite(row[j])) add(`/inputs/${r}/${j}`, `is ${row[j]}; inputs must be finite numbers`);
    }
  }
  if (more > 0) problems.push({ pointer: '/inputs', message: `and ${more} more problem(s)` });
  return problems;
}

export const predictRoutes: FastifyPluginAsyncTypebox<PredictRoutesOptions> = async (app, { prisma, predictorCacheSize }) => {
  const predictors = new LruCache<string, Promise<Predictor>>(predictorCacheSize ?? 16);

  function predictorFor(checkpointId: string, spec: NormalizedJobSpec, inputSize: number, task: 'classification' | 'regression') {
    let p = predictors.get(checkpointId);
    if (!p) {
      p = (async () => {
        const bytes = await checkpointBytes(prisma, checkpointId);
        if (!bytes) throw new ApiError(409, 'NO_WEIGHTS', `checkpoint ${checkpointId} was deleted meanwhile (pruned); try again`);
        return new Predictor(spec, inputSize, task, bytes);
      })();
      predictors.set(checkpointId, p);
      p.catch(() => predictors.delete(checkpointId));
    }
    return p;
  }

  app.post(
    '/jobs/:id/predict',
    {
      bodyLimit: PREDICT_BODY_LIMIT,
      schema: {
        summary: "Run a job's trained network on given inputs",
        description:
          'weights=final (default) uses the weights the job ended with, or while it is still running its newest checkpoint; ' +
          'weights=best its best checkpoint (see GET /v1/jobs/{id}/checkpoints). Dropout follows model.dropoutInference. ' +
          'Answers outputs (class probabilities for a softmax output) and, for classifiers, predictions (arg-max class). ' +
          '400 lists every row of the wrong width with a pointer; 409 when the job has no weights yet.',
        tags: ['jobs'],
        params: JobParams,
        body: PredictRequestSchema,
        response: { 200: PredictResponseSchema, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 413: ErrorSchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { inputs, weights = 'final' } = request.body;
      const job = await findJob(prisma, requestScope(request), id);
      if (!job) throw new ApiError(404, 'NOT_FOUND', `no job with id ${id}`);
      // stored normalized and validated when it was submitted
      const spec = job.spec as unknown as NormalizedJobSpec;
      const dataset = describeDataset(spec.dataset);
      if ('error' in dataset) throw new Error(`stored spec of job ${id}: ${dataset.error.message}`);

      const problems = inputProblems(inputs, dataset.inputSize);
      if (problems.length > 0) {
        throw new ApiError(400, 'INVALID_INPUTS', `the inputs do not fit the model (${dataset.inputSize} values per row)`, problems);
      }

      const checkpoint = await weightsCheckpoint(prisma, id, weights);
      if (!checkpoint) {
        const why = weights === 'best'
          ? `job ${id} (${job.status}) has no best checkpoint${job.status === 'queued' || job.status === 'running' ? ' yet' : ''}; use weights=final`
          : `job ${id} is ${job.status} and has no weights yet (no checkpoint written)`;
        throw new ApiError(409, 'NO_WEIGHTS', why);
      }
      let predictor: Predictor;
      try {
        predictor = await predictorFor(checkpoint.id, spec, dataset.inputSize, dataset.task);
      } catch (err) {
        if (err instanceof IncompatibleWeightsError) {
          throw new ApiError(409, 'INCOMPATIBLE_WEIGHTS', `checkpoint ${checkpoint.id} does not fit the job's model: ${err.message}`);
        }
        throw err;
      }
      const { outputs, predictions } = predictor.predict(inputs);
      return { outputs, ...(predictions && { predictions }), checkpointId: checkpoint.id, epoch: checkpoint.epoch };
    },
  );
};
