// Data parallelism over worker_threads, in two phases per step. The calling thread
// plus (threads − 1) pool threads each take a contiguous shard of every minibatch's
// rows and run forward and the row-wise backward (∂loss/∂Z of every layer, dX) on
// their own Replica over the *shared* parameters; each shard's activations are its rows
// of buffers laid out for the whole batch (RowBlocks). After a barrier, each thread
// takes a block of every layer's units instead: their weight gradients over all of the
// batch's rows, then the update of those parameters while they are in cache (update.ts).
// So there is one gradient buffer and nothing to reduce, and the parameters after a step
// are the same whatever the thread count. Everything lives in one shared
// WebAssembly.Memory, so nothing is copied per step; steps are signalled with Atomics on
// a small control array.
//
// Threads are started once per process and reused across jobs (ThreadPool); a job
// attaches them with `threadEngine(pool)`.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { Split, Task } from './dataset.js';
import type { DeadUnits } from './dead-units.js';
import { addLossStats, type Engine, type EngineFactory, type EngineInit, type EvalSplit } from './engine.js';
import { evalResult, evaluateRows, inferenceOptions, type EvalResult, type InferenceOptions } from './evaluate.js';
import type { ForwardContext } from './layers/layer.js';
import { kernelsChoice, type KernelsChoice } from './kernels/index.js';
import { HEAP_BASE, Heap, RowBlocks, createSharedMemory } from './memory.js';
import type { ParamPlan, Replica } from './model.js';
import { createShard, type Shard } from './shard.js';
import { LAYER_STATS, LOSS_STATS } from './step-stats.js';
import type { LossName, ModelSpec, OptimizerSpec, RegularizationSpec } from './types.js';
import { gradientsAndUpdate } from './update.js';

// control array layout (Int32)
export const CTRL = { seq: 0, done: 1, cmd: 2, rows: 3, step: 4, seed: 5, sample: 7, arrive: 8, split: 9, lr: 10 } as const;

/** The step's learning rate (optimizer.schedule) as a float64 over ctrl[CTRL.lr], ctrl[CTRL.lr + 1] (8-byte aligned). */
export function learningRateCell(ctrl: Int32Array): Float64Array {
  return new Float64Array(ctrl.buffer, ctrl.byteOffset + CTRL.lr * 4, 1);
}
export const CMD = { step: 1, detach: 2, evaluate: 3 } as const;
/** ctrl[CTRL.split] of CMD.evaluate */
export const EVAL_SPLIT = { validation: 0, test: 1 } as const;

/** Rows [from, to) of an n-row evaluation that thread k of T takes. */
export function evalRange(n: number, k: number, T: number): [number, number] {
  return [Math.floor((k * n) / T), Math.floor(((k + 1) * n) / T)];
}

/** What a pool thread needs to rebuild its replica and optimizer over the shared memory. */
export interface AttachMessage {
  type: 'attach';
  memory: WebAssembly.Memory;
  region: [number, number];
  plan: ParamPlan;
  model: ModelSpec;
  loss: LossName;
  optimizer: OptimizerSpec;
  optimizerOffsets: number[];
  regularization: RegularizationSpec;
  task: Task;
  threads: number;
  shard: number;
  maxShardRows: number;
  /** the calling thread's kernels: each thread makes the same (results must not depend on which thread ran a shard) */
  kernels: KernelsChoice;
  /** byte offsets in `memory`; stats holds LOSS_STATS and partials LAYER_STATS per layer, one block per thread */
  offsets: { params: number; grads: number; snapshot: number; ctrl: number; stats: number; partials: number; idx: number; deadUnits: number };
  /** the calling thread's RowBlocks.blocks: where this thread's rows of the batch's activations are */
  rowBlocks: Array<[number, number]>;
  /**
   * the training split: byte offsets into `buffers` where a buffer is given (a split the
   * loader already keeps on a SharedArrayBuffer is shared as it is, not copied), else
   * into `memory`; -1: absent
   */
  train: SharedSplit;
  /** the evaluation splits, shared like `train`; null: the run has none */
  validation: SharedSplit | null;
  test: SharedSplit | null;
  infer: InferenceOptions;
}

export interface SharedSplit { n: number; x: number; labels: number; targets: number; buffers: { x?: SharedArrayBuffer; labels?: SharedArrayBuffer; targets?: SharedArrayBuffer } }

export class ThreadPool {
  private workers: Worker[] = [];
  private memory: WebAssembly.Memory | null = null;
  /** how far earlier runs wrote into `memory` */
  private dirty = 0;
  private current: Heap | null = null;
  private started = 0;
  readonly maxThreads: number;

  /** size = number of extra threads; the caller's thread is always shard 0 */
  constructor(size = Math.max(0, availableParallelism() - 1)) {
    this.maxThreads = size + 1;
  }

  /**
   * @internal The heap of the next run: the pool's one shared memory, reused run after
   * run (one run at a time; release() ends it).
   */
  takeHeap(): Heap {
    if (this.current) throw new Error('ThreadPool is in use by another run; give each concurrent job its own pool');
    this.memory ??= createSharedMemory();
    this.current = new Heap(this.memory, HEAP_BASE, undefined, this.dirty);
    return this.current;
  }

  /** threads started over the pool's life: reuse keeps it at the widest run's thread count − 1 */
  get threadsStarted(): number { return this.started; }

  /** @internal the memory of the run in progress */
  get memoryInUse(): WebAssembly.Memory | null { return this.current ? this.memory : null; }

  /** @internal starts threads on first use */
  acquire(n: number): Worker[] {
    while (this.workers.length < n) {
      const w = new Worker(new URL('./pool-worker.js', import.meta.url));
      w.unref();
      this.workers.push(w);
      this.started++;
    }
    return this.workers.slice(0, n);
  }

  /** @internal the run is over: its heap's memory may be reused */
  release(): void {
    if (!this.current) return;
    this.dirty = Math.max(this.dirty, this.current.used);
    this.current = null;
  }

  async close(): Promise<void> {
    await this.discardThreads();
  }

  /** @internal terminates the threads; the next run starts new ones */
  async discardThreads(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function int32(heap: Heap, n: number): Int32Array {
  const f = heap.alloc(n);
  return new Int32Array(f.buffer, f.byteOffset, n);
}

function float64(heap: Heap, n: number): Float64Array {
  const f = heap.alloc(2 * n);
  return new Float64Array(f.buffer, f.byteOffset, n);
}

/**
 * A split (training, validation or test) as every thread can read it: arrays already on
 * a SharedArrayBuffer (the MNIST-family loader keeps its cache there, src/data/idx.ts)
 * are handed over as they are; others (inline, synthetic data) are copied into the
 * run's heap. @internal exported for its test
 */
export function shareSplit(heap: Heap, s: Split): { split: Split; offsets: SharedSplit } {
  const buffers: SharedSplit['buffers'] = {};
  const onShared = (v: Float32Array | Int32Array) => v.buffer instanceof SharedArrayBuffer;
  let x = s.x;
  if (onShared(x)) buffers.x = x.buffer as SharedArrayBuffer;
  else { x = heap.alloc(s.x.length); x.set(s.x); }
  let labels = s.labels, targets = s.targets;
  if (labels) {
    if (onShared(labels)) buffers.labels = labels.buffer as SharedArrayBuffer;
    else { labels = int32(heap, s.n); labels.set(s.labels!); }
  }
  if (targets) {
    if (onShared(targets)) buffers.targets = targets.buffer as SharedArrayBuffer;
    else { targets = heap.alloc(s.targets!.length); targets.set(s.targets!); }
  }
  return {
    split: { n: s.n, x, labels, targets },
    offsets: { n: s.n, x: x.byteOffset, labels: labels?.byteOffset ?? -1, targets: targets?.byteOffset ?? -1, buffers },
  };
}

/**
 * Waits while ctrl[index] === value: spins briefly first, because the other side is
 * usually microseconds away and waking a sleeping thread (futex, and on a VM an
 * interrupt to an idle vCPU) costs more than a short spin.
 */
export function waitWhileEqual(ctrl: Int32Array, index: number, value: number, timeoutMs = Infinity): void {
  for (let i = 0; i < SPINS; i++) if (Atomics.load(ctrl, index) !== value) return;
  if (Atomics.wait(ctrl, index, value, timeoutMs) === 'timed-out') {
    throw new PoolStalledError(`a training thread made no progress for ${timeoutMs / 1000} s`);
  }
}

/** Inside a step no wait is long: one that is has lost a thread (it crashed, or the memory was corrupted). */
export const STEP_WAIT_MS = 120_000;

/** A pool thread stopped answering inside a step; the run cannot go on. */
export class PoolStalledError extends Error {
  readonly code = 'POOL_STALLED';
  constructor(message: string) {
    super(message);
    this.name = 'PoolStalledError';
  }
}

/**
 * Spin iterations before sleeping (~500 µs): longer than the calling thread's work
 * between two steps (~0.1 ms), so a pool thread never sleeps inside an epoch. With
 * ~50 µs it often did, and each wake-up (futex, an idle vCPU's interrupt) delayed the
 * next step: 784-256-256-10 on 2 threads, 15 one-epoch trials each, interleaved in time
 * on a 2-vCPU EPYC VM: median 41k samples/s at 20,000 spins, 49k at 200,000.
 */
const SPINS = 200_000;

/** Barrier over T threads; `generation` counts completed barriers of this thread. */
export function barrier(ctrl: Int32Array, threads: number, generation: number, timeoutMs = Infinity): void {
  const target = generation * threads;
  if (Atomics.add(ctrl, CTRL.arrive, 1) + 1 === target) { Atomics.notify(ctrl, CTRL.arrive); return; }
  for (;;) {
    const v = Atomics.load(ctrl, CTRL.arrive);
    if (v >= target) return;
    waitWhileEqual(ctrl, CTRL.arrive, v, timeoutMs);
  }
}

/**
 * An EngineFactory that splits each step over min(spec threads, pool size, batch)
 * threads, with the run's tensors in the pool's reused memory.
 */
export function threadEngine(pool: ThreadPool): EngineFactory {
  const build = async ({ plan, spec, data, heap, optimizer, optimizerBuffers, deadUnits }: EngineInit): Promise<Engine> => {
    if (heap.memory !== pool.memoryInUse) throw new Error('threadEngine(pool) needs the heap from pool.takeHeap() (train() does this)');
    const threads = Math.max(1, Math.min(spec.training.threads, pool.maxThreads, spec.training.batchSize));
    const batch = spec.training.batchSize;
    const maxShardRows = Math.ceil(batch / threads);
    const params = heap.alloc(plan.size);
    const grads = heap.alloc(plan.size);
    const snapshot = heap.alloc(plan.size);
    const rows = new RowBlocks(heap, threads, 0);
    const shard = createShard({
      plan, model: spec.model, loss: spec.loss, task: data.task, regularization: spec.regularization, optimizer,
      heap, rows, maxRows: maxShardRows, params, grads, shard: 0, threads, snapshot,
    });
    const layers = shard.update.weights.length;
    const ctrl = int32(heap, 16);
    const stats = float64(heap, threads * LOSS_STATS.size);
    const partials = float64(heap, threads * LAYER_STATS.size * layers);
    const idx = int32(heap, batch);
    const shared = threads > 1 ? shareSplit(heap, data.train) : null;
    // the evaluation splits too: each thread evaluates its part of their rows (evaluate)
    const sharedVal = threads > 1 && data.validation ? shareSplit(heap, data.validation) : null;
    const sharedTest = threads > 1 && data.test ? shareSplit(heap, data.test) : null;
    const infer = inferenceOptions(spec);
    const engine = new ThreadEngine({
      params, shard, train: shared?.split ?? null, ctrl, stats, partials, idx, pool, threads, maxShardRows, layers, deadUnits,
      evalSplits: { validation: sharedVal?.split ?? data.validation ?? null, test: sharedTest?.split ?? data.test ?? null },
      infer, evalOut: heap.alloc(maxShardRows * plan.outputSize),
    });
    if (threads === 1) return engine;

    const workers = pool.acquire(threads - 1);
    // each thread's kernel scratch and evaluation output (its activations are its RowBlocks rows)
    const regionBytes = maxShardRows * plan.outputSize * 4 + 4 * 1024 * 1024;
    const attached = await Promise.allSettled(workers.map((w, k) => new Promise<string>((resolve, reject) => {
      const msg: AttachMessage = {
        type: 'attach', memory: heap.memory, region: heap.reserve(regionBytes), plan, model: spec.model, loss: spec.loss,
        optimizer: spec.optimizer, optimizerOffsets: optimizerBuffers.map((b) => b.byteOffset), regularization: spec.regularization,
        task: data.task, threads, shard: k + 1, maxShardRows, kernels: kernelsChoice(shard.replica.kernels),
        offsets: {
          params: params.byteOffset, grads: grads.byteOffset, snapshot: snapshot.byteOffset,
          ctrl: ctrl.byteOffset, stats: stats.byteOffset, partials: partials.byteOffset, idx: idx.byteOffset,
          deadUnits: deadUnits?.flags.byteOffset ?? -1,
        },
        rowBlocks: rows.blocks,
        train: shared!.offsets, validation: sharedVal?.offsets ?? null, test: sharedTest?.offsets ?? null, infer,
      };
      const onMsg = (m: { type: string; error?: string; kernels?: string }) => {
        w.off('error', onErr);
        if (m.type === 'attached') resolve(m.kernels ?? '?'); else reject(new Error(m.error));
      };
      const onErr = (e: Error) => { w.off('message', onMsg); reject(e); };
      w.once('message', onMsg);
      w.once('error', onErr);
      w.postMessage(msg);
    })));
    const failed = attached.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // the threads that did attach are serving this run: send them back to waiting for the next one
      await engine.detach(attached.filter((r) => r.status === 'fulfilled').length);
      throw failed.reason;
    }
    engine.kernels.push(...attached.map((r) => (r as PromiseFulfilledResult<string>).value));
    return engine;
  };
  const factory: EngineFactory = async (o) => {
    try {
      return await build(o);
    } catch (err) {
      pool.release();
      throw err;
    }
  };
  factory.heap = () => pool.takeHeap();
  return factory;
}

/** The parts of a ThreadEngine, all in the pool's shared memory (but `pool`). */
interface ThreadEngineParts {
  params: Float32Array;
  /** the calling thread's shard 0 */
  shard: Shard;
  /** the training split as the pool threads see it (shareSplit); null with one thread */
  train: Split | null;
  ctrl: Int32Array;
  /** LOSS_STATS per thread */
  stats: Float64Array;
  /** LAYER_STATS per trainable layer, per thread */
  partials: Float64Array;
  /** the batch's sample indices, for the pool threads */
  idx: Int32Array;
  pool: ThreadPool;
  threads: number;
  /** rows of each thread's shard: thread k takes rows [k·maxShardRows, (k+1)·maxShardRows) of every batch */
  maxShardRows: number;
  /** trainable layers */
  layers: number;
  deadUnits: DeadUnits | null;
  /** the run's validation and test splits (shared with the pool threads when there are any) */
  evalSplits: Record<EvalSplit, Split | null>;
  infer: InferenceOptions;
  /** maxShardRows × outputs, for this thread's evaluation chunks */
  evalOut: Float32Array;
}

class ThreadEngine implements Engine {
  readonly params: Float32Array;
  readonly grads: Float32Array;
  readonly replica: Replica;
  readonly threads: number;
  /** the calling thread's, then each pool thread's as it attached */
  readonly kernels: string[];
  readonly layerStats: Float64Array;
  readonly deadUnits: DeadUnits | null;
  private readonly p: ThreadEngineParts;
  private readonly learningRate: Float64Array;
  private readonly ctx: ForwardContext = { dropout: 'train', seed: 0, key: 0, rowOffset: 0 };
  private done = 0;
  private generation = 0;
  private readonly partial0: Float64Array;

  constructor(parts: ThreadEngineParts) {
    this.p = parts;
    this.params = parts.params;
    this.grads = parts.shard.update.grads;
    this.replica = parts.shard.replica;
    this.threads = parts.threads;
    this.kernels = [parts.shard.replica.kernels.name];
    const n = LAYER_STATS.size * parts.layers;
    this.layerStats = new Float64Array(n);
    this.partial0 = parts.partials.subarray(0, n);
    this.deadUnits = parts.deadUnits;
    this.replica.trackAlive(parts.deadUnits);
    this.learningRate = learningRateCell(parts.ctrl);
  }

  step(split: Split, order: Int32Array | null, start: number, rows: number, seed: number, t: number,
    sampleRatio: boolean, stats: Float64Array): void {
    const T = this.threads, { ctrl, idx } = this.p;
    // fixed shards, so that shard k's rows always follow shard k − 1's in the RowBlocks
    // buffers (a short last batch leaves the last threads less or nothing to do)
    const shardRows = this.p.maxShardRows;
    if (T > 1) {
      for (let i = 0; i < rows; i++) idx[i] = order ? order[start + i] : start + i;
      ctrl[CTRL.cmd] = CMD.step; ctrl[CTRL.rows] = rows; ctrl[CTRL.step] = t; ctrl[CTRL.seed] = seed;
      ctrl[CTRL.sample] = sampleRatio ? 1 : 0;
      this.learningRate[0] = this.p.shard.update.optimizer.learningRate;
      Atomics.add(ctrl, CTRL.seq, 1);
      Atomics.notify(ctrl, CTRL.seq);
    }
    // shard 0 on this thread
    const r = this.replica, rows0 = Math.min(shardRows, rows);
    if (T > 1) r.trainShard(this.p.train!, idx, 0, 0, rows0, rows, seed, t, this.ctx);
    else r.trainShard(split, order, start, 0, rows0, rows, seed, t, this.ctx);
    addLossStats(stats, r.stats, 0);
    if (T > 1) barrier(ctrl, T, ++this.generation, STEP_WAIT_MS);
    gradientsAndUpdate(r, this.p.shard.blocks, this.p.shard.update, rows, t, sampleRatio, this.partial0);
    if (T === 1) { this.layerStats.set(this.partial0); return; }

    this.waitForThreads();
    const n = this.layerStats.length, { partials } = this.p;
    this.layerStats.set(this.partial0);
    for (let k = 1; k < T; k++) {
      addLossStats(stats, this.p.stats, k * LOSS_STATS.size);
      for (let i = 0; i < n; i++) this.layerStats[i] += partials[k * n + i];
    }
  }

  evaluate(which: EvalSplit): EvalResult {
    const split = this.p.evalSplits[which];
    if (!split) throw new Error(`the run has no ${which} split`);
    const T = this.threads, { ctrl, stats } = this.p, r = this.replica;
    const mine = new Float64Array(LOSS_STATS.size);
    // below a chunk per thread, waking the threads costs more than it saves
    if (T === 1 || split.n < T * r.maxRows) {
      evaluateRows(r, split, 0, split.n, this.p.infer, this.p.evalOut, mine);
      return evalResult(mine, split.n, r.task);
    }
    ctrl[CTRL.cmd] = CMD.evaluate; ctrl[CTRL.split] = EVAL_SPLIT[which]; ctrl[CTRL.rows] = split.n;
    Atomics.add(ctrl, CTRL.seq, 1);
    Atomics.notify(ctrl, CTRL.seq);
    const [from, to] = evalRange(split.n, 0, T);
    evaluateRows(r, split, from, to, this.p.infer, this.p.evalOut, mine);
    this.waitForThreads();
    // in thread order, so the sums do not depend on which thread finished first
    for (let k = 1; k < T; k++) addLossStats(mine, stats, k * LOSS_STATS.size);
    return evalResult(mine, split.n, r.task);
  }

  /** Waits until every pool thread has finished the command just given (each adds 1 to ctrl[done]). */
  private waitForThreads(): void {
    const ctrl = this.p.ctrl, target = (this.done += this.threads - 1);
    for (;;) {
      const v = Atomics.load(ctrl, CTRL.done);
      if (v >= target) return;
      waitWhileEqual(ctrl, CTRL.done, v, STEP_WAIT_MS);
    }
  }

  async close(): Promise<void> {
    await this.detach(this.threads - 1);
    this.p.pool.release();
  }

  /** Tells the `attached` pool threads serving this run to return to waiting for the next one. */
  async detach(attached: number): Promise<void> {
    if (attached === 0) return;
    const ctrl = this.p.ctrl;
    ctrl[CTRL.cmd] = CMD.detach;
    Atomics.add(ctrl, CTRL.seq, 1);
    Atomics.notify(ctrl, CTRL.seq);
    const target = this.done + attached;
    const deadline = Date.now() + 10_000;
    while (Atomics.load(ctrl, CTRL.done) < target) {
      // a thread that does not come back is lost: start the next run on new threads
      if (Date.now() > deadline) { await this.p.pool.discardThreads(); return; }
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

