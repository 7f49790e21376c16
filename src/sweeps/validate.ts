// validateSweep: the one check of a sweep body, before anything is created. Every
// problem at once, each with a JSON pointer into the sweep body:
// - the shape (schema.ts);
// - each parameter: a pointer the job-spec schema defines, a range that is not empty
//   or invalid, a distribution only with method random;
// - the grid no larger than maxTrials;
// - every trial's spec as the job validator (validateJobSpec) sees it. A trial's
//   problem is mapped back to the parameter that produced it
//   (/parameters/~1optimizer~1learningRate/max: …, /parameters/…/values/2: …), or to
//   the base spec (/spec/…) when no parameter touches that field. A range is also
//   checked at both of its ends, so a range whose max is invalid is refused even
//   when no sample happened to land near it.
import Compile from 'typebox/compile';
import { JobSpecSchema } from '../spec/schema.js';
import { validateJobSpec, MAX_PROBLEMS, type Problem } from '../spec/validate.js';
import { textProblem } from '../spec/text.js';
import { escapeToken, parsePointer, schemaDefines, setAt } from './pointer.js';
import { gridSize, gridTrials, isRange, randomTrials, type ParameterList } from './sampler.js';
import {
  SweepSpecSchema, objectiveMode, type JsonValue, type NormalizedSweep, type ParameterSpec, type SweepSpec, type TrialParams,
} from './schema.js';

export type SweepValidation = { ok: true; sweep: NormalizedSweep } | { ok: false; problems: Problem[] };

const checker = Compile(SweepSpecSchema);

const param = (pointer: string, rest = ''): string => `/parameters/${escapeToken(pointer)}${rest}`;

export function validateSweep(input: unknown): SweepValidation {
  if (!checker.Check(input)) {
    const problems = [...checker.Errors(input)].map((e) => ({ pointer: e.instancePath, message: e.message }));
    return { ok: false, problems: cap(dedupe(problems)) };
  }
  const body = input as SweepSpec;
  const problems: Problem[] = [];
  const nameProblem = textProblem(body.name);
  if (nameProblem !== null) problems.push({ pointer: '/name', message: nameProblem });
  if (typeof body.spec !== 'object' || body.spec === null || Array.isArray(body.spec)) {
    problems.push({ pointer: '/spec', message: 'must be a job spec (an object), the base of every trial' });
  }
  const parameters: ParameterList = Object.entries(body.parameters);
  for (const [pointer, p] of parameters) problems.push(...parameterProblems(pointer, p, body.method));

  let count = body.maxTrials ?? 0;
  if (body.method === 'grid' && parameters.every(([, p]) => !isRange(p))) {
    const size = gridSize(parameters);
    const sizes = parameters.map(([, p]) => (p as { values: unknown[] }).values.length).join(' × ');
    if (body.maxTrials !== undefined && size > body.maxTrials) {
      problems.push({ pointer: '/maxTrials', message: `the grid has ${size} trials (${sizes}) but maxTrials is ${body.maxTrials}; raise maxTrials or use fewer values` });
    }
    count = size;
  }
  if (body.method === 'random' && body.maxTrials === undefined) {
    problems.push({ pointer: '/maxTrials', message: "required field 'maxTrials' is missing: method 'random' draws maxTrials trials" });
  }
  if (problems.length > 0) return { ok: false, problems: cap(problems) };

  const seed = body.seed ?? 0;
  const trials = body.method === 'grid' ? gridTrials(parameters) : randomTrials(parameters, count, seed);
  const metric = body.objective.metric;
  const sweep: NormalizedSweep = {
    name: body.name,
    spec: body.spec as Record<string, JsonValue>,
    parameters: body.parameters,
    method: body.method,
    maxTrials: count,
    parallelism: body.parallelism ?? 1,
    seed,
    objective: { metric, mode: objectiveMode(metric, body.objective.mode) },
    pruner: {
      type: body.pruner?.type ?? 'none',
      minEpochs: body.pruner?.minEpochs ?? 1,
      reductionFactor: body.pruner?.reductionFactor ?? 3,
    },
    trials,
  };
  const specProblems = trialProblems(sweep, parameters);
  if (specProblems.length > 0) return { ok: false, problems: cap(specProblems) };
  return { ok: true, sweep };
}

function parameterProblems(pointer: string, p: ParameterSpec, method: 'grid' | 'random'): Problem[] {
  const out: Problem[] = [];
  const tokens = parsePointer(pointer);
  if (tokens === null) {
    out.push({ pointer: param(pointer), message: `'${pointer}' is not a JSON pointer (it starts with '/', e.g. /optimizer/learningRate)` });
  } else if (!schemaDefines(JobSpecSchema, tokens)) {
    out.push({ pointer: param(pointer), message: `the job spec has no field ${pointer}; a parameter must name a field of the job spec` });
  }
  if (!isRange(p)) return out;
  const { distribution, min, max } = p;
  if (method === 'grid') {
    out.push({ pointer: param(pointer, '/distribution'), message: `'${distribution}' needs method 'random'; a grid takes only 'values'` });
  }
  if (distribution === 'int-uniform') {
    if (!Number.isInteger(min)) out.push({ pointer: param(pointer, '/min'), message: `int-uniform needs an integer min, not ${min}` });
    if (!Number.isInteger(max)) out.push({ pointer: param(pointer, '/max'), message: `int-uniform needs an integer max, not ${max}` });
    if (min > max) out.push({ pointer: param(pointer, '/max'), message: `the range is empty: max ${max} is below min ${min}` });
    return out;
  }
  if (distribution === 'log-uniform' && !(min > 0)) {
    out.push({ pointer: param(pointer, '/min'), message: `log-uniform needs min > 0 (the logarithm of ${min} is not a number)` });
  }
  if (!(min < max)) out.push({ pointer: param(pointer, '/max'), message: `the range is empty: max ${max} must be above min ${min}` });
  return out;
}

/** Base spec + a trial's parameters: a fresh document (the base is never mutated). */
export function trialSpec(base: Record<string, JsonValue>, params: TrialParams): { spec: Record<string, JsonValue>; unreachable: [string, string][] } {
  const spec = structuredClone(base);
  const unreachable: [string, string][] = [];
  for (const [pointer, value] of Object.entries(params)) {
    const missing = setAt(spec, parsePointer(pointer)!, structuredClone(value));
    if (missing !== null) unreachable.push([pointer, missing]);
  }
  return { spec, unreachable };
}

/** A trial to check, and where in the sweep body each of its parameter values came from. */
interface Probe {
  params: TrialParams;
  origin: Record<string, string>;
}

function originOf(pointer: string, p: ParameterSpec, value: JsonValue): string {
  if (!isRange(p)) {
    const index = p.values.findIndex((v) => JSON.stringify(v) === JSON.stringify(value));
    return param(pointer, `/values/${index}`);
  }
  if (value === p.min) return param(pointer, '/min');
  if (value === p.max) return param(pointer, '/max');
  return param(pointer);
}

function trialProblems(sweep: NormalizedSweep, parameters: ParameterList): Problem[] {
  const probes: Probe[] = [];
  const withOrigin = (params: TrialParams): Probe => ({
    params,
    origin: Object.fromEntries(parameters.map(([pointer, p]) => [pointer, originOf(pointer, p, params[pointer]!)])),
  });
  // both ends of every range first, the other parameters as in the first trial, so a
  // bad range is reported at its end (/min, /max) rather than at each sample near it
  const first = sweep.trials[0]!;
  for (const [pointer, p] of parameters) {
    if (!isRange(p)) continue;
    for (const end of [p.min, p.max]) probes.push(withOrigin({ ...first, [pointer]: end }));
  }
  for (const t of sweep.trials) probes.push(withOrigin(t));
  /** range parameters with a problem already: their samples add nothing new */
  const refused = new Set<string>();

  const out: Problem[] = [];
  const seen = new Set<string>();
  const add = (pr: Problem): void => {
    const key = `${pr.pointer}\u0000${pr.message}`;
    if (!seen.has(key)) { seen.add(key); out.push(pr); }
  };
  const trialMetricProblem = (spec: Record<string, JsonValue>): Problem | null => {
    const { metric } = sweep.objective;
    const dataset = spec.dataset as { validationSplit?: number } | undefined;
    if (metric.startsWith('val_') && !((dataset?.validationSplit ?? 0) > 0)) {
      return { pointer: '/objective/metric', message: `${metric} needs a validation set: set dataset.validationSplit above 0 in the spec` };
    }
    if (metric.endsWith('accuracy') && spec.loss !== 'cross-entropy') {
      return { pointer: '/objective/metric', message: `${metric} is reported for classifiers (loss 'cross-entropy') only` };
    }
    return null;
  };
  for (const probe of probes) {
    if (out.length > MAX_PROBLEMS) break;
    const { spec, unreachable } = trialSpec(sweep.spec, probe.params);
    for (const [pointer, missing] of unreachable) {
      add({ pointer: param(pointer), message: `the base spec has no ${missing}, so ${pointer} cannot be set` });
    }
    if (unreachable.length > 0) continue;
    const checked = validateJobSpec(spec);
    if (!checked.ok) {
      for (const problem of checked.problems) {
        const { owner, problem: mapped } = attribute(problem, probe, parameters);
        if (owner !== null && refused.has(owner) && mapped.pointer === param(owner)) continue;
        if (owner !== null && isRange(sweep.parameters[owner]!)) refused.add(owner);
        add(mapped);
      }
      continue;
    }
    const metricProblem = trialMetricProblem(spec);
    if (metricProblem) add(metricProblem);
  }
  return out;
}

/**
 * The parameter whose pointer is the problem's field or contains it (or lies inside
 * it: a problem about a whole layer the parameter changed), the longest such; else
 * the base spec.
 */
function attribute(problem: Problem, probe: Probe, parameters: ParameterList): { owner: string | null; problem: Problem } {
  const at = problem.pointer;
  let best: string | null = null;
  for (const [pointer] of parameters) {
    const related = at === pointer || at.startsWith(pointer + '/') || (at !== '' && pointer.startsWith(at + '/'));
    if (related && (best === null || pointer.length > best.length)) best = pointer;
  }
  if (best === null) return { owner: null, problem: { pointer: at === '' ? '/spec' : `/spec${at}`, message: problem.message } };
  const value = JSON.stringify(probe.params[best]);
  const where = at === best ? '' : ` (at ${at || '/'})`;
  return { owner: best, problem: { pointer: probe.origin[best]!, message: `with ${best} = ${value}, the trial's spec is invalid${where}: ${problem.message}` } };
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.pointer}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function cap(problems: Problem[]): Problem[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  const rest = problems.length - (MAX_PROBLEMS - 1);
  return [...problems.slice(0, MAX_PROBLEMS - 1), { pointer: '', message: `and ${rest} more problems` }];
}
