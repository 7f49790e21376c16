// The `dataset` part of a job spec. The loaded shapes (Split, Dataset, Task) are the
// core's: src/core/dataset.ts.

/** The `dataset` object of a job spec (DESIGN.md). */
export interface DatasetSpec {
  /** 'mnist' | 'fashion-mnist' | 'synthetic/spirals' | 'synthetic/blobs' | 'synthetic/xor' | 'inline' */
  name: string;
  /** fraction of the (limited) training set held out for validation, default 0 */
  validationSplit?: number;
  /** use only the first `limit` training samples (after a deterministic shuffle? no: the first, as stored) */
  limit?: number;
  /** synthetic: number of samples (default 1000) */
  n?: number;
  /** synthetic: noise level (default 0.1) */
  noise?: number;
  /** synthetic: number of classes (spirals/blobs, default 3; xor is always 2) */
  classes?: number;
  /** synthetic: seed for generation (default 0) */
  seed?: number;
  /** inline: features, one array per sample */
  features?: number[][];
  /** inline: class indices (classification) or number arrays (regression) */
  labels?: number[] | number[][];
}
