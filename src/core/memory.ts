// One shared heap per training run: every tensor (weights, gradients, optimizer
// state, activations) is a Float32Array view into a single shared
// WebAssembly.Memory. Worker threads receive the same Memory, so nothing is ever
// copied between them, and WebAssembly kernels address the same floats by byteOffset.
//
// Growing a *shared* memory never detaches existing views, so views made before a
// grow stay valid. A thread pool reuses one Memory run after run (a shared memory is
// only freed once every thread's isolate has collected it, which idle threads may
// never do): such a Heap is told how far the previous runs wrote, and zero-fills
// what it hands out below that mark.

const PAGE = 65536;
/** Bytes below this are left to kernels (scratch, stack); tensors start above. */
export const HEAP_BASE = 1 << 20;
const MAX_PAGES = 32768; // 2 GiB of address space, reserved lazily by V8

/** A fresh shared memory for a Heap. */
export function createSharedMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: HEAP_BASE / PAGE + 16, maximum: MAX_PAGES, shared: true });
}

export class Heap {
  readonly memory: WebAssembly.Memory;
  private top: number;
  private readonly limit: number;
  private readonly dirty: number;

  /**
   * A heap over `memory` that hands out [top, limit). Worker threads build their own
   * Heap over a region the main thread reserved for them, so bump pointers never collide.
   * `dirty`: bytes below this offset may hold an earlier run's data (see above).
   */
  constructor(memory?: WebAssembly.Memory, top = HEAP_BASE, limit = MAX_PAGES * PAGE, dirty = 0) {
    this.memory = memory ?? createSharedMemory();
    this.top = top;
    this.limit = limit;
    this.dirty = dirty;
  }

  /** Current bump pointer in bytes: hand it to another thread to continue allocating. */
  get used(): number { return this.top; }

  /** n floats, 64-byte aligned, zero-filled (fresh pages are zero; reused ones are cleared). */
  alloc(n: number): Float32Array {
    const start = (this.top + 63) & ~63;
    const end = start + n * 4;
    if (end > this.limit) throw new RangeError(`heap region exhausted: need ${end - this.top} bytes, ${this.limit - this.top} left`);
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      } catch {
        throw new RangeError(`the run needs more than ${MAX_PAGES * PAGE / 2 ** 30} GiB for parameters, optimizer state, activations and data; use fewer or smaller layers, a smaller batch or a data limit`);
      }
    }
    this.top = end;
    const v = new Float32Array(this.memory.buffer, start, n);
    if (start < this.dirty) v.fill(0, 0, Math.min(n, (this.dirty - start) / 4));
    return v;
  }

  /** Reserve `bytes` for another Heap (a worker thread's region); returns [start, end). */
  reserve(bytes: number): [number, number] {
    const a = this.alloc(Math.ceil(bytes / 4));
    return [a.byteOffset, a.byteOffset + a.byteLength];
  }

  /** A view at a byte offset that another thread allocated. */
  view(byteOffset: number, n: number): Float32Array {
    const have = this.memory.buffer.byteLength;
    if (byteOffset + n * 4 > have) throw new RangeError(`view ${byteOffset}+${n * 4} outside heap of ${have} bytes`);
    return new Float32Array(this.memory.buffer, byteOffset, n);
  }
}

/**
 * Activation buffers of a minibatch split by rows over `threads` threads. Every
 * alloc(n) is thread `shard`'s n floats (its maxRows rows of one tensor) at the same
 * place of a threads·n block on every thread, so shard k's rows follow shard k − 1's
 * and whole(v) is the tensor over the whole batch: the weight gradient of a block of a
 * layer's units is then one product over all of the batch's rows, on one thread.
 * Thread 0 takes the blocks from its Heap; the others are handed `blocks` and replay
 * the same allocations in the same order.
 */
export class RowBlocks {
  /** [byte offset, floats per thread] of every block, in allocation order */
  readonly blocks: Array<[number, number]>;
  private next = 0;
  private readonly wholes = new Map<number, Float32Array>();

  constructor(private readonly source: Heap | WebAssembly.Memory, readonly threads: number, readonly shard: number,
    blocks?: Array<[number, number]>) {
    if (blocks === undefined && !(source instanceof Heap)) throw new Error('RowBlocks: a thread other than the first replays the blocks it is given');
    this.blocks = blocks ?? [];
  }

  alloc(n: number): Float32Array {
    let whole: Float32Array;
    if (this.source instanceof Heap) {
      whole = this.source.alloc(this.threads * n);
      this.blocks.push([whole.byteOffset, n]);
    } else {
      const b = this.blocks[this.next++];
      if (!b || b[1] !== n) throw new Error(`RowBlocks: allocation ${this.next} of ${n} floats does not match the first thread's ${b ? b[1] : 'none'}`);
      whole = new Float32Array(this.source.buffer, b[0], this.threads * n);
    }
    const mine = whole.subarray(this.shard * n, (this.shard + 1) * n);
    this.wholes.set(mine.byteOffset, whole);
    return mine;
  }

  /** The whole batch's buffer of a view alloc() answered. */
  whole(v: Float32Array): Float32Array {
    const w = this.wholes.get(v.byteOffset);
    if (!w) throw new Error('RowBlocks.whole: not a view this allocator made');
    return w;
  }
}
