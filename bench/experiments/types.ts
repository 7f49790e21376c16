// What a claim is and what running it gives: the report's unit (docs/EXPERIMENTS.md,
// docs/experiments/results.json).
import type { Service } from './service.js';

/** quick: a tiny budget for CI; moderate: a real but small one (shared machine); full: the specs as written. */
export type Level = 'quick' | 'moderate' | 'full';

export interface Context {
  service: Service;
  level: Level;
  /** where the experiment's base specs live (examples/experiments) */
  examples: string;
}

/** svg '' : a plot kept from an earlier run (already on disk) */
export interface Plot { file: string; svg: string; caption: string }

export interface ClaimResult {
  /** null: not run (the note says why) */
  held: boolean | null;
  numbers: Record<string, unknown>;
  jobs: string[];
  plots: Plot[];
  /** what the numbers say, in a sentence or two */
  summary: string;
  /** the budget actually trained (data, epochs) */
  budget: string;
  note?: string;
  /** the level it ran at, when it differs from the report's (a claim kept from an earlier run) */
  level?: Level;
}

export interface Claim {
  id: string;
  claim: string;
  /** base specs under examples/experiments */
  specs: string[];
  run(ctx: Context): Promise<ClaimResult>;
}
