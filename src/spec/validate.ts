// validateJobSpec: the one check of a job spec (the API's POST /v1/jobs body
// validator, and the worker before it trains): the schema check, then the rules a
// schema cannot express, each problem as a JSON pointer and one sentence a person
// understands. The schema stays the single source of truth for the shape: TypeBox's
// compiled check decides whether the shape is sound; the walker below only turns a
// failure into sentences, picking the matching branch of a union by its `type`
// instead of listing every branch's complaints. It exists because no compiler here
// lists every problem: TypeBox's Errors() stops at the first failing union member,
// Ajv's allErrors lists every branch of every union. Each subtree the walker visits
// is first checked with its own compiled schema, so a 6 MB inline data set with one
// bad number costs one compiled pass, not an interpreted walk of every number.

import { escapeToken } from './json-pointer.js';
import Compile from 'typebox/compile';
import { datasetProblems, describeDataset, splitCounts, type DatasetDescription } from '../data/catalog.js';
import { normalizeJobSpec, resolveMode, ACTIVATION_ALPHA, type NormalizedJobSpec } from './defaults.js';
import { FLOAT32_MAX, JobSpecSchema, LIMITS, type JobSpec } from './schema.js';
import { textProblem } from './text.js';

export interface Problem {
  /** JSON pointer (RFC 6901) into the submitted spec, e.g. /model/layers/3/units */
  pointer: string;
  message: string;
}

export type ValidationResult =
  | { ok: true; spec: NormalizedJobSpec }
  | { ok: false; problems: Problem[] };

/** More problems than this are summarised in one last problem. */
export const MAX_PROBLEMS = 100;

const validator = Compile(JobSpecSchema);

/**
 * The spec's free text, stored as it is: every other string is an enum value or a
 * uuid. Postgres cannot store NUL or a lone surrogate (text.ts).
 */
const FREE_TEXT_FIELDS = ['name'] as const;

function textProblems(input: unknown): Problem[] {
  if (!isPlainObject(input)) return [];
  const out: Problem[] = [];
  for (const field of FREE_TEXT_FIELDS) {
    const value = input[field];
    const problem = typeof value === 'string' ? textProblem(value) : null;
    if (problem !== null) out.push({ pointer: `/${field}`, message: problem });
  }
  return out;
}

export function validateJobSpec(input: unknown): ValidationResult {
  const text = textProblems(input);
  if (!validator.Check(input)) {
    return { ok: false, problems: cap([...shapeProblems(input), ...text]) };
  }
  if (text.length > 0) return { ok: false, problems: cap(text) };
  const problems = semanticProblems(input);
  if (problems.length > 0) return { ok: false, problems: cap(problems) };
  return { ok: true, spec: normalizeJobSpec(input) };
}

/** Formats problems as `pointer: message` lines (logs, CLI output, error summaries). */
export function formatProblems(problems: Problem[]): string {
  return problems.map((p) => `${p.pointer || '/'}: ${p.message}`).join('\n');
}

function cap(problems: Problem[]): Problem[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  const rest = problems.length - (MAX_PROBLEMS - 1);
  return [...problems.slice(0, MAX_PROBLEMS - 1), { pointer: '', message: `and ${rest} more problems` }];
}

// ================================================================ shape

/** The parts of JSON Schema that TypeBox emits for JobSpecSchema. */
interface Schema {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  anyOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
}

function shapeProblems(input: unknown): Problem[] {
  const out: Problem[] = [];
  walk(JobSpecSchema as unknown as Schema, input, '', out, '');
  if (out.length > 0) return out;
  // The walker found nothing the validator did: fall back to TypeBox's own words.
  return validator.Errors(input).map((e) => ({ pointer: e.instancePath, message: e.message }));
}

/** Compiled checks of the schema's parts, made on first use. */
const compiled = new WeakMap<Schema, { Check(value: unknown): boolean }>();

function isValid(schema: Schema, value: unknown): boolean {
  let check = compiled.get(schema);
  if (!check) {
    check = Compile(schema as never) as { Check(value: unknown): boolean };
    compiled.set(schema, check);
  }
  return check.Check(value);
}

function walk(schema: Schema, value: unknown, pointer: string, out: Problem[], context: string): void {
  if (out.length > MAX_PROBLEMS) return;
  if (isValid(schema, value)) return;

  if (schema.anyOf) {
    const tags = discriminatorTags(schema.anyOf);
    if (tags) return walkTagged(schema.anyOf, tags, value, pointer, out);
    if (schema.anyOf.some((branch) => isValid(branch, value))) return;
    if (schema.anyOf.every((branch) => branch.const !== undefined)) {
      out.push({ pointer, message: oneOf(schema.anyOf.map((b) => b.const), value) });
      return;
    }
    // A plain union: report against the branch the value comes closest to.
    let best: Problem[] | undefined;
    for (const branch of schema.anyOf) {
      const trial: Problem[] = [];
      walk(branch, value, pointer, trial, context);
      if (!best || trial.length < best.length) best = trial;
    }
    out.push(...(best ?? []));
    return;
  }

  if (schema.type === 'object') {
    if (!isPlainObject(value)) {
      out.push({ pointer, message: `must be an object, not ${show(value)}` });
      return;
    }
    const properties = schema.properties ?? {};
    const known = Object.keys(properties);
    for (const key of schema.required ?? []) {
      if (!(key in value)) out.push({ pointer: join(pointer, key), message: `required field '${key}' is missing${context}` });
    }
    for (const key of Object.keys(value)) {
      const property = Object.hasOwn(properties, key) ? properties[key] : undefined;
      if (property) {
        walk(property, value[key], join(pointer, key), out, '');
      } else if (schema.additionalProperties === false) {
        const guess = didYouMean(key, known);
        out.push({
          pointer: join(pointer, key),
          message: `unknown field '${key}'${context}` + (guess ? ` (did you mean '${guess}'?)` : ` (known fields: ${known.join(', ')})`),
        });
      }
    }
    return;
  }

  if (schema.type === 'array') {
    if (!Array.isArray(value)) {
      out.push({ pointer, message: `must be an array, not ${show(value)}` });
      return;
    }
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      out.push({ pointer, message: `must have at least ${schema.minItems} ${plural(schema.minItems, 'item')}, not ${value.length}` });
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      out.push({ pointer, message: `must have at most ${schema.maxItems} ${plural(schema.maxItems, 'item')}, not ${value.length}` });
    }
    if (schema.items) {
      for (let i = 0; i < value.length && out.length <= MAX_PROBLEMS; i++) walk(schema.items, value[i], `${pointer}/${i}`, out, '');
    }
    return;
  }

  out.push({ pointer, message: describeLeaf(schema, value) });
}

/** The `type` constants of a union of objects told apart by `type`, or undefined. */
function discriminatorTags(branches: Schema[]): string[] | undefined {
  const tags: string[] = [];
  for (const branch of branches) {
    const tag = branch.type === 'object' ? branch.properties?.type?.const : undefined;
    if (typeof tag !== 'string') return undefined;
    tags.push(tag);
  }
  return tags;
}

function walkTagged(branches: Schema[], tags: string[], value: unknown, pointer: string, out: Problem[]): void {
  const choices = tags.map((t) => `'${t}'`).join(', ');
  if (!isPlainObject(value)) {
    out.push({ pointer, message: `must be an object with a 'type' of ${choices}, not ${show(value)}` });
    return;
  }
  if (!('type' in value)) {
    out.push({ pointer: join(pointer, 'type'), message: `required field 'type' is missing; use one of ${choices}` });
    return;
  }
  const index = tags.indexOf(value.type as string);
  if (index < 0) {
    out.push({ pointer: join(pointer, 'type'), message: oneOf(tags, value.type) });
    return;
  }
  walk(branches[index], value, pointer, out, ` for type '${tags[index]}'`);
}

function describeLeaf(schema: Schema, value: unknown): string {
  if (schema.enum) return oneOf(schema.enum, value);
  if (schema.const !== undefined) return `must be ${JSON.stringify(schema.const)}, not ${show(value)}`;
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const kind = schema.type === 'integer' ? 'an integer' : 'a number';
      if (typeof value === 'number' && !Number.isFinite(value)) {
        // JSON.parse reads a number beyond ±1.8e308 (e.g. 1e999) as ±Infinity
        return `must be ${kind}${range(schema)}, but this number is too large to represent (beyond ±1.8e308)`;
      }
      if (typeof value === 'number' && schema.maximum === FLOAT32_MAX && Math.abs(value) > FLOAT32_MAX) {
        return `must be within float32 range (±3.4028235e38), the precision Trainyard trains in, not ${show(value)}`;
      }
      return `must be ${kind}${range(schema)}, not ${show(value)}`;
    }
    case 'boolean':
      return `must be true or false, not ${show(value)}`;
    case 'string': {
      if (typeof value === 'string' && schema.format === 'uuid') {
        return `must be a UUID such as 123e4567-e89b-12d3-a456-426614174000, not ${show(value)}`;
      }
      const { minLength: min, maxLength: max } = schema;
      const length = min !== undefined && max !== undefined ? ` of ${min} to ${max} characters`
        : min !== undefined ? ` of at least ${min} ${plural(min, 'character')}`
        : max !== undefined ? ` of at most ${max} characters` : '';
      const actual = typeof value === 'string' ? `${value.length} ${plural(value.length, 'character')}` : show(value);
      return `must be a string${length}, not ${actual}`;
    }
    default:
      return `is not valid: ${show(value)}`;
  }
}

function range(s: Schema): string {
  const lower = s.minimum !== undefined ? { n: s.minimum, strict: false } : s.exclusiveMinimum !== undefined ? { n: s.exclusiveMinimum, strict: true } : undefined;
  const upper = s.maximum !== undefined ? { n: s.maximum, strict: false } : s.exclusiveMaximum !== undefined ? { n: s.exclusiveMaximum, strict: true } : undefined;
  if (lower && upper && !lower.strict && !upper.strict) return ` between ${lower.n} and ${upper.n}`;
  const parts: string[] = [];
  if (lower) parts.push(`${lower.strict ? '>' : '≥'} ${lower.n}`);
  if (upper) parts.push(`${upper.strict ? '<' : '≤'} ${upper.n}`);
  return parts.length ? ` ${parts.join(' and ')}` : '';
}

function oneOf(allowed: unknown[], value: unknown): string {
  const list = allowed.map((v) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v))).join(', ');
  const guess = typeof value === 'string' ? didYouMean(value, allowed.filter((v): v is string => typeof v === 'string')) : undefined;
  return `must be one of ${list}, not ${show(value)}` + (guess ? ` (did you mean '${guess}'?)` : '');
}

/** The closest candidate by edit distance, when it is close enough to be a typo. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = candidate.toLowerCase() === lower ? 0 : levenshtein(lower, candidate.toLowerCase()) + 0.5;
    if (d < bestDistance) { best = candidate; bestDistance = d; }
  }
  const tolerance = Math.max(1, Math.floor(word.length / 3));
  return best !== undefined && bestDistance <= tolerance + 0.5 ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(pointer: string, key: string): string {
  return `${pointer}/${escapeToken(key)}`;
}

function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

// ================================================================ semantics

/** Rules across fields, for a spec whose shape is sound. Every problem, not the first. */
function semanticProblems(spec: JobSpec): Problem[] {
  const problems: Problem[] = [...datasetProblems(spec.dataset)];
  const described = describeDataset(spec.dataset);
  const data = 'error' in described ? undefined : described;
  const dataName = spec.dataset.name === 'inline' ? 'the inline data' : spec.dataset.name;

  layerProblems(spec, data, dataName, problems);

  if (spec.loss === 'cross-entropy' && data?.task === 'regression') {
    problems.push({ pointer: '/loss', message: `cross-entropy needs a classification data set, but ${dataName} is regression; use mse` });
  }

  const optimizer = spec.optimizer;
  if (optimizer.type === 'momentum' && optimizer.nesterov === true && optimizer.momentum === 0) {
    problems.push({ pointer: '/optimizer/nesterov', message: 'Nesterov momentum needs a momentum above 0, but momentum is 0' });
  }

  if (data) {
    const { limit, validationSplit = 0 } = spec.dataset;
    const { train } = splitCounts(data.trainSize, limit, validationSplit);
    if (train > 0 && spec.training.batchSize > train) {
      const after = [limit !== undefined ? `limit ${limit}` : '', validationSplit > 0 ? `validationSplit ${validationSplit}` : '']
        .filter(Boolean).join(' and ');
      problems.push({
        pointer: '/training/batchSize',
        message: `batchSize is ${spec.training.batchSize} but only ${train} samples are left for training${after ? ` after ${after}` : ''}`,
      });
    }
  }

  const es = spec.earlyStopping;
  if (es) {
    const monitor = es.monitor ?? 'val_loss';
    const monitorPointer = '/earlyStopping/monitor';
    const named = es.monitor === undefined ? `${monitor} (the default)` : monitor;
    if (monitor.startsWith('val_') && !(spec.dataset.validationSplit && spec.dataset.validationSplit > 0)) {
      problems.push({
        pointer: monitorPointer,
        message: `early stopping monitors ${named}, which needs a validation set; set dataset.validationSplit above 0 or monitor a train_ metric`,
      });
    }
    if (monitor.endsWith('accuracy') && data?.task === 'regression') {
      problems.push({ pointer: monitorPointer, message: `${monitor} needs a classification data set, but ${dataName} is regression` });
    }
    if (es.mode !== undefined && es.mode !== 'auto' && es.mode !== resolveMode(monitor, 'auto')) {
      const expected = resolveMode(monitor, 'auto');
      problems.push({
        pointer: '/earlyStopping/mode',
        message: `mode '${es.mode}' does not fit ${monitor}: ${expected === 'max' ? 'accuracy should go up' : 'loss should go down'}, so use '${expected}' or 'auto'`,
      });
    }
  }

  return problems;
}

function layerProblems(spec: JobSpec, data: DatasetDescription | undefined, dataName: string, problems: Problem[]): void {
  const layers = spec.model.layers;
  const last = layers.length - 1;
  const at = (i: number, field?: string) => `/model/layers/${i}${field ? `/${field}` : ''}`;

  layers.forEach((layer, i) => {
    if (layer.type !== 'dense') return;
    if (layer.activation === 'softmax' && i !== last) {
      problems.push({ pointer: at(i, 'activation'), message: `softmax is only allowed on the last layer, but layer ${i} of ${layers.length} uses it` });
    }
    if (layer.alpha !== undefined && !Object.hasOwn(ACTIVATION_ALPHA, layer.activation ?? 'linear')) {
      problems.push({
        pointer: at(i, 'alpha'),
        message: `alpha only applies to leaky-relu, prelu and elu, but layer ${i} uses ${layer.activation ?? 'linear (the default)'}`,
      });
    }
  });

  const output = layers[last];
  if (output.type !== 'dense') {
    problems.push({ pointer: at(last, 'type'), message: `the last layer must be dense, but layer ${last} is a ${output.type} layer` });
  } else {
    const activation = output.activation ?? 'linear';
    if (spec.loss === 'cross-entropy' && activation !== 'softmax') {
      problems.push({ pointer: at(last, 'activation'), message: `cross-entropy needs a softmax output, but the last layer's activation is ${activation}` });
    }
    if (data && output.units !== data.outputSize) {
      const what = data.task === 'classification'
        ? `${data.outputSize} ${data.outputSize === 1 ? 'class' : 'classes'}`
        : `${data.outputSize} target ${plural(data.outputSize, 'value')} per sample`;
      problems.push({ pointer: at(last, 'units'), message: `the last layer has ${output.units} ${plural(output.units, 'unit')} but ${dataName} has ${what}` });
    }
  }

  if (data) {
    const count = parameterCount(layers, data.inputSize);
    if (count > LIMITS.parameters) {
      problems.push({
        pointer: '/model/layers',
        message: `the model has ${count.toLocaleString('en-US')} parameters, more than the limit of ${LIMITS.parameters.toLocaleString('en-US')}`,
      });
    }
  }
}

/**
 * Trainable parameters: dense in·units + units (+ units PReLU slopes),
 * maxout in·units·pieces + units·pieces; dropout has none and keeps the width.
 */
export function parameterCount(layers: JobSpec['model']['layers'], inputSize: number): number {
  let width = inputSize;
  let total = 0;
  for (const layer of layers) {
    if (layer.type === 'dense') {
      total += width * layer.units + layer.units + (layer.activation === 'prelu' ? layer.units : 0);
      width = layer.units;
    } else if (layer.type === 'maxout') {
      total += width * layer.units * layer.pieces + layer.units * layer.pieces;
      width = layer.units;
    }
  }
  return total;
}

/** Thrown by parseJobSpec; carries every problem (the API answers 400, a worker fails the job unrecoverably). */
export class JobSpecError extends Error {
  override readonly name = 'JobSpecError';
  constructor(readonly problems: Problem[]) {
    super(`invalid job spec (${problems.length} ${plural(problems.length, 'problem')}):\n${formatProblems(problems)}`);
  }
}

/** validateJobSpec for callers that want the normalized spec or an exception. */
export function parseJobSpec(input: unknown): NormalizedJobSpec {
  const result = validateJobSpec(input);
  if (!result.ok) throw new JobSpecError(result.problems);
  return result.spec;
}
