// Reads metric histories from `metric_points` (primary key job_id, name, step).
// Every query walks that key: keyset pages and CSV batches by (name, step), and
// downsampling bucket by bucket over step ranges, computed in Postgres so the API
// process never holds a whole series.
//
// Downsampling (maxPoints) is M4: the step range [lo, hi] of a series is cut into
// B = floor(maxPoints / 4) buckets of equal step width; each bucket keeps its first
// and last point and the points with its smallest and largest value (ties: the
// earliest step), deduplicated when they coincide. So the first and last point of
// the series are always there, and no spike or dip is hidden.
//
// NaN: Postgres orders NaN above every number, so a plain max() would report NaN as
// the bucket's maximum and hide the real one. min/max therefore skip NaN, and a
// bucket that holds NaN also keeps its first NaN point, so divergence stays visible.
// ±Infinity are ordered values and simply are the extremes when present. The NaN
// point can push a series over maxPoints; then the series is recomputed with
// floor(maxPoints / 5) buckets, which always fits (for maxPoints < 10, where that is
// a single bucket of up to 5 points, the NaN point is what gets dropped).
//
// Long series read rollups instead of points: `metric_rollups` holds, per block of
// 1024 steps (block = floor(step / 1024)), the block's first and last step, its
// smallest and largest value other than NaN with their earliest steps, and its first
// NaN step; triggers on metric_points keep it current (see its migration). When a
// bucket would be at least a block wide, buckets are made of whole blocks instead
// (the blocks in range are dealt out to B buckets, sizes differing by at most one
// block), and each bucket's first/last/min/max/NaN step is the combination of its
// blocks' rollup rows; only the (at most two) blocks that the step range cuts at its
// ends are aggregated from points. The chosen points themselves are then fetched by
// primary key, so they carry their real step, epoch, value and time. The cost is
// O(blocks in range + maxPoints), about 1000 rollup rows for a million-step series,
// instead of O(points in range). Narrower buckets (short series or step ranges,
// where there are fewer than 1024 * B steps in range) use the point-level M4 below.
//
// Scope: every exported read takes a required Scope and applies it itself (visibleJobs
// below, through jobScopeWhere, the one tenant filter): a job outside the scope reads
// as a job without points. Routes still answer 404 through requireJob
// (src/api/scope.ts), the one existence check; the reads never decide a 404, but no
// future route can read another tenant's points by forgetting it.
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import type { NameStepPosition } from './cursor.js';
import { isUuid } from './repositories/prisma-errors.js';
import { jobScopeWhere, type Scope } from './scope.js';

/** A stored metric value, as the API returns it. */
export interface MetricPointRow {
  step: number;
  epoch: number;
  value: number;
  time: Date;
}

export interface SeriesKey {
  jobId: string;
  name: string;
}

export interface MetricSeries extends SeriesKey {
  points: MetricPointRow[];
  /** true when the series had more than maxPoints points in range and was reduced */
  downsampled: boolean;
}

/** Inclusive step range; a missing bound is open. */
export interface StepRange {
  from?: number;
  to?: number;
}

export interface MetricNameSummary {
  name: string;
  count: number;
  minStep: number;
  maxStep: number;
}

/** The smallest maxPoints that fits M4's four points of one bucket. */
export const MIN_MAX_POINTS = 4;

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

function bounds(range: StepRange): { from: number; to: number } {
  return { from: range.from ?? INT_MIN, to: range.to ?? INT_MAX };
}

/** The given job ids that name a job visible in the scope. */
async function visibleJobs(prisma: PrismaClient, scope: Scope, jobIds: readonly string[]): Promise<Set<string>> {
  const ids = [...new Set(jobIds.filter(isUuid).map((id) => id.toLowerCase()))];
  if (ids.length === 0) return new Set();
  const rows = await prisma.job.findMany({ where: { id: { in: ids }, ...jobScopeWhere(scope) }, select: { id: true } });
  return new Set(rows.map((r) => r.id));
}

async function isVisible(prisma: PrismaClient, scope: Scope, jobId: string): Promise<boolean> {
  return (await visibleJobs(prisma, scope, [jobId])).has(jobId.toLowerCase());
}

/**
 * Every metric name of a job with its point count and step span, summed from the
 * job's rollup rows (one per 1024 steps of each series) rather than counted point
 * by point.
 */
export async function listMetricNames(prisma: PrismaClient, scope: Scope, jobId: string): Promise<MetricNameSummary[]> {
  if (!(await isVisible(prisma, scope, jobId))) return [];
  return prisma.$queryRaw<MetricNameSummary[]>`
    SELECT name, sum(count)::int AS count, min(first_step) AS "minStep", max(last_step) AS "maxStep"
    FROM metric_rollups WHERE job_id = ${jobId}::uuid
    GROUP BY name ORDER BY name`;
}

async function recordedNames(prisma: PrismaClient, jobId: string): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ name: string }[]>`
    WITH RECURSIVE names(name) AS (
      (SELECT name FROM metric_points WHERE job_id = ${jobId}::uuid ORDER BY name LIMIT 1)
      UNION ALL
      SELECT (SELECT p.name FROM metric_points p WHERE p.job_id = ${jobId}::uuid AND p.name > names.name ORDER BY p.name LIMIT 1)
      FROM names WHERE names.name IS NOT NULL
    )
    SELECT name FROM names WHERE name IS NOT NULL`;
  return rows.map((r) => r.name);
}

/**
 * Names a job has points for, in name order, read as a loose index scan: one index
 * probe per distinct name instead of a pass over every point.
 */
export async function metricNames(prisma: PrismaClient, scope: Scope, jobId: string): Promise<string[]> {
  if (!(await isVisible(prisma, scope, jobId))) return [];
  return recordedNames(prisma, jobId);
}

export interface PageQuery {
  jobId: string;
  /** empty: every name */
  names: string[];
  range: StepRange;
  after?: NameStepPosition;
  limit: number;
}

export type NamedPoint = MetricPointRow & { name: string };

export interface PageSeries {
  name: string;
  points: MetricPointRow[];
}

export interface MetricPage {
  /** in name order; a name without points in range is an empty series, on the page its name falls on */
  series: PageSeries[];
  /** null when this page reached the end */
  next: NameStepPosition | null;
}

interface RowPage {
  rows: NamedPoint[];
  next: NameStepPosition | null;
}

function pageWhere(q: Omit<PageQuery, 'limit'>): Prisma.Sql {
  const { from, to } = bounds(q.range);
  const names = q.names.length > 0 ? Prisma.sql`AND name = ANY(${q.names}::text[])` : Prisma.empty;
  // The row comparison on (job_id, name, step) is an index condition of the primary
  // key, so a page starts where the last one ended whatever the page number.
  const after = q.after
    ? Prisma.sql`AND (job_id, name, step) > (${q.jobId}::uuid, ${q.after.name}, ${q.after.step}::int)`
    : Prisma.empty;
  return Prisma.sql`job_id = ${q.jobId}::uuid ${names} AND step BETWEEN ${from}::int AND ${to}::int ${after}`;
}

async function pageRows(prisma: PrismaClient, q: PageQuery): Promise<RowPage> {
  const rows = await prisma.$queryRaw<NamedPoint[]>`
    SELECT name, step, epoch, value, time FROM metric_points
    WHERE ${pageWhere(q)}
    ORDER BY job_id, name, step LIMIT ${q.limit + 1}::int`;
  if (rows.length <= q.limit) return { rows, next: null };
  rows.length = q.limit;
  const last = rows[q.limit - 1]!;
  return { rows, next: { name: last.name, step: last.step } };
}

/**
 * One page of points ordered by (name, step). Points appended while a client pages
 * through land after its cursor (steps only grow), so no point is seen twice or
 * skipped, which OFFSET could not promise. A series may continue on the next page.
 * The names asked for (none: every name the job has recorded) that have no point in
 * range come as empty series, each on the one page whose name span holds it (after
 * the cursor's name, before the name the next page starts with), so a walk over all
 * pages sees every name once, in name order.
 */
export async function readPage(prisma: PrismaClient, scope: Scope, q: PageQuery): Promise<MetricPage> {
  if (!(await isVisible(prisma, scope, q.jobId))) return { series: [], next: null };
  const page = await pageRows(prisma, q);
  const series: PageSeries[] = [];
  for (const { name, ...point } of page.rows) {
    let last = series[series.length - 1];
    if (last === undefined || last.name !== name) series.push((last = { name, points: [] }));
    last.points.push(point);
  }
  const wanted = q.names.length > 0 ? q.names : await recordedNames(prisma, q.jobId);
  const onPage = new Set(series.map((s) => s.name));
  if (wanted.every((n) => onPage.has(n))) return { series, next: page.next };

  // Names order by the database's collation (the primary key's order), so the empty
  // series are placed by Postgres, not by a JS comparison that could disagree.
  const { from, to } = bounds(q.range);
  const afterName = q.after?.name ?? null;
  const nextName = page.next?.name ?? null;
  const layout = await prisma.$queryRaw<{ name: string }[]>`
    SELECT n.name FROM unnest(${[...new Set([...onPage, ...wanted])]}::text[]) AS n(name)
    WHERE n.name = ANY(${[...onPage]}::text[])
       OR (NOT EXISTS (SELECT 1 FROM metric_points p WHERE p.job_id = ${q.jobId}::uuid AND p.name = n.name
                         AND p.step BETWEEN ${from}::int AND ${to}::int)
           AND (${afterName}::text IS NULL OR n.name > ${afterName}::text)
           AND (${nextName}::text IS NULL OR n.name < ${nextName}::text))
    ORDER BY n.name`;
  const byName = new Map(series.map((s) => [s.name, s]));
  return { series: layout.map(({ name }) => byName.get(name) ?? { name, points: [] }), next: page.next };
}

/**
 * The series a reduced answer holds for a job, in name order: the names asked for,
 * or every name the job has recorded when none is.
 */
export async function seriesNames(prisma: PrismaClient, scope: Scope, jobId: string, names: string[]): Promise<string[]> {
  if (names.length === 0) return metricNames(prisma, scope, jobId);
  const rows = await prisma.$queryRaw<{ name: string }[]>`SELECT DISTINCT name FROM unnest(${names}::text[]) AS n(name) ORDER BY name`;
  return rows.map((r) => r.name);
}

/**
 * A full export in batches of `batchSize` points, read by keyset on (name, step), so
 * the process holds one batch at a time whatever the series length. The first batch
 * is read before this resolves: a failing query is then still an ordinary error
 * answer, not a broken stream after a 200.
 */
export async function exportBatches(
  prisma: PrismaClient,
  scope: Scope,
  q: Omit<PageQuery, 'limit' | 'after'>,
  batchSize = 10_000,
): Promise<AsyncGenerator<NamedPoint[]>> {
  const visible = await isVisible(prisma, scope, q.jobId);
  let page: RowPage = visible ? await pageRows(prisma, { ...q, limit: batchSize }) : { rows: [], next: null };
  return (async function* () {
    for (;;) {
      if (page.rows.length > 0) yield page.rows;
      if (page.next === null) return;
      page = await pageRows(prisma, { ...q, after: page.next, limit: batchSize });
    }
  })();
}

interface PointRow extends MetricPointRow {
  ord: number;
}

interface SpanRow {
  ord: number;
  /** points in range, counted up to maxPoints + 1 */
  n: number;
  /** first and last step in range (null: no points in range) */
  lo: number | null;
  hi: number | null;
}

const keysTable = (keys: SeriesKey[]) => Prisma.sql`
  unnest(${keys.map((k) => k.jobId)}::uuid[], ${keys.map((k) => k.name)}::text[]) WITH ORDINALITY AS k(job_id, name, ord)`;

/**
 * Per series: the number of points in range, counted only up to maxPoints + 1 (an
 * index range probe, not a count of the whole series), and the first and last step
 * in range (one index probe each).
 */
async function cappedCounts(prisma: PrismaClient, keys: SeriesKey[], range: StepRange, maxPoints: number): Promise<SpanRow[]> {
  const { from, to } = bounds(range);
  return prisma.$queryRaw<SpanRow[]>`
    SELECT k.ord::int AS ord, c.n,
      (SELECT step FROM metric_points p WHERE p.job_id = k.job_id AND p.name = k.name
         AND p.step BETWEEN ${from}::int AND ${to}::int ORDER BY p.step LIMIT 1) AS lo,
      (SELECT step FROM metric_points p WHERE p.job_id = k.job_id AND p.name = k.name
         AND p.step BETWEEN ${from}::int AND ${to}::int ORDER BY p.step DESC LIMIT 1) AS hi
    FROM ${keysTable(keys)}
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS n FROM (
        SELECT 1 FROM metric_points p
        WHERE p.job_id = k.job_id AND p.name = k.name AND p.step BETWEEN ${from}::int AND ${to}::int
        LIMIT ${maxPoints + 1}::int) x
    ) c`;
}

async function wholeSeries(prisma: PrismaClient, keys: SeriesKey[], range: StepRange): Promise<PointRow[]> {
  const { from, to } = bounds(range);
  return prisma.$queryRaw<PointRow[]>`
    SELECT k.ord::int AS ord, p.step, p.epoch, p.value, p.time FROM ${keysTable(keys)}
    JOIN metric_points p ON p.job_id = k.job_id AND p.name = k.name AND p.step BETWEEN ${from}::int AND ${to}::int
    ORDER BY k.ord, p.step`;
}

const POINT = Prisma.raw('p.step, p.epoch, p.value, p.time');

const NAN = Prisma.raw("'NaN'::float8");

/**
 * M4 over `buckets` equal step-width buckets per series. Per bucket, one index range
 * scan computes first/last step and min/max value; a bucket whose plain min/max is
 * NaN (NaN sorts highest) is rescanned without NaN; then index probes find the
 * earliest step holding the min, the max and the first NaN. Postgres
 * visits each point in range once or twice and returns at most 5 per bucket.
 */
async function m4Points(prisma: PrismaClient, keys: SeriesKey[], range: StepRange, buckets: number): Promise<PointRow[]> {
  const { from, to } = bounds(range);
  const inRange = (b: string) =>
    Prisma.raw(`p.job_id = ${b}.job_id AND p.name = ${b}.name AND p.step BETWEEN ${b}.blo AND ${b}.bhi`);
  // Every point is fetched by an index probe inside its bucket, and MATERIALIZED
  // fences keep the plan a chain of such probes even when the table has no
  // statistics yet (a fresh table once planned a join against the whole series).
  const query = Prisma.sql`
    WITH span AS MATERIALIZED (
      SELECT k.ord, k.job_id, k.name, lo.step AS lo, hi.step AS hi FROM ${keysTable(keys)}
      CROSS JOIN LATERAL (SELECT step FROM metric_points p WHERE p.job_id = k.job_id AND p.name = k.name
        AND p.step BETWEEN ${from}::int AND ${to}::int ORDER BY p.step LIMIT 1) lo
      CROSS JOIN LATERAL (SELECT step FROM metric_points p WHERE p.job_id = k.job_id AND p.name = k.name
        AND p.step BETWEEN ${from}::int AND ${to}::int ORDER BY p.step DESC LIMIT 1) hi
    ), bucket AS (
      -- width w = floor((hi - lo) / B) + 1, so B buckets of w steps cover [lo, hi]
      SELECT s.ord, s.job_id, s.name, s.lo + i * w.w AS blo, least(s.lo + (i + 1) * w.w - 1, s.hi) AS bhi
      FROM span s
      CROSS JOIN LATERAL (SELECT ((s.hi::bigint - s.lo) / ${buckets}::int + 1)::int AS w) w
      CROSS JOIN LATERAL generate_series(0, ${buckets}::int - 1) i
      WHERE s.lo + i::bigint * w.w <= s.hi
    ), agg AS (
      SELECT b.*, a.first_step, a.last_step, a.mn, a.mx, a.mx = ${NAN} AS has_nan
      FROM bucket b CROSS JOIN LATERAL (
        SELECT min(step) AS first_step, max(step) AS last_step, min(value) AS mn, max(value) AS mx
        FROM metric_points p WHERE ${inRange('b')}
      ) a
      WHERE a.first_step IS NOT NULL
    ), extremes AS (
      SELECT g.*, nullif(g.mn, ${NAN}) AS min_v, CASE WHEN g.has_nan THEN f.mx ELSE g.mx END AS max_v
      FROM agg g LEFT JOIN LATERAL (
        SELECT max(value) AS mx FROM metric_points p WHERE g.has_nan AND ${inRange('g')} AND p.value <> ${NAN}
      ) f ON true
    ), pick AS MATERIALIZED (
      SELECT e.ord, x.* FROM extremes e CROSS JOIN LATERAL (
        (SELECT ${POINT} FROM metric_points p WHERE ${inRange('e')} AND p.step = e.first_step)
        UNION (SELECT ${POINT} FROM metric_points p WHERE ${inRange('e')} AND p.step = e.last_step)
        UNION (SELECT ${POINT} FROM metric_points p WHERE e.min_v IS NOT NULL AND ${inRange('e')} AND p.value = e.min_v ORDER BY p.step LIMIT 1)
        UNION (SELECT ${POINT} FROM metric_points p WHERE e.max_v IS NOT NULL AND ${inRange('e')} AND p.value = e.max_v ORDER BY p.step LIMIT 1)
        UNION (SELECT ${POINT} FROM metric_points p WHERE e.has_nan AND ${inRange('e')} AND p.value = ${NAN} ORDER BY p.step LIMIT 1)
      ) x
    )
    SELECT ord::int AS ord, step, epoch, value, time FROM pick ORDER BY ord, step`;
  // The planner's estimate for this query is large enough to trigger JIT
  // compilation, which costs more (tens of ms) than the query saves.
  // (Prisma's default 5 s transaction timeout would cut off a reduction of a very
  // long series, which reads every point in range.)
  const [, rows] = await prisma.$transaction(
    [prisma.$executeRaw`SET LOCAL jit = off`, prisma.$queryRaw<PointRow[]>(query)],
    { timeout: 120_000 },
  );
  return rows;
}

/** Steps per rollup block (metric_rollups.block = step >> 10). */
export const ROLLUP_BLOCK = 1024;

/** A series to reduce, with its first and last step in range. */
interface SpannedKey extends SeriesKey {
  lo: number;
  hi: number;
}

/** One aggregated part of a bucket, as the rollup M4 combines them. */
const PART_AGG = Prisma.raw(`min(p.step) AS first_step, max(p.step) AS last_step,
  min(ARRAY[p.value, p.step::float8]) FILTER (WHERE p.value <> 'NaN'::float8) AS mn,
  max(ARRAY[p.value, -p.step::float8]) FILTER (WHERE p.value <> 'NaN'::float8) AS mx,
  min(p.step) FILTER (WHERE p.value = 'NaN'::float8) AS nan_step`);

/**
 * The block geometry of the rollup M4 for one series: blocks blo..blo+nblocks-1 hold
 * its range, block b goes to bucket floor((b - blo) * nb / nblocks) (nb = min(B,
 * nblocks) buckets of whole blocks); the first and last block are read from points
 * when the step range cuts them (only blocks at the ends can be cut, because lo and
 * hi are the first and last step in range).
 */
export function rollupGeometry(lo: number, hi: number, range: StepRange, buckets: number) {
  const { from, to } = bounds(range);
  const blo = lo >> 10;
  const bhi = hi >> 10;
  const nblocks = bhi - blo + 1;
  const nb = Math.min(buckets, nblocks);
  const firstCut = blo * ROLLUP_BLOCK < from;
  const lastCut = bhi * ROLLUP_BLOCK + ROLLUP_BLOCK - 1 > to;
  const segments: [number, number][] = [];
  if (firstCut) segments.push([lo, Math.min(hi, blo * ROLLUP_BLOCK + ROLLUP_BLOCK - 1)]);
  if (lastCut && !(firstCut && bhi === blo)) segments.push([Math.max(lo, bhi * ROLLUP_BLOCK), hi]);
  return { blo, nblocks, nb, rb0: firstCut ? blo + 1 : blo, rb1: lastCut ? bhi - 1 : bhi, segments };
}

/** Combines the parts of one bucket: first, last, min by (value, step), max by (value desc, step), first NaN. */
const BUCKET_AGG = Prisma.raw(`min(first_step) AS first_step, max(last_step) AS last_step,
  min(ARRAY[min_value, min_step::float8]) FILTER (WHERE min_value IS NOT NULL) AS mn,
  max(ARRAY[max_value, -max_step::float8]) FILTER (WHERE max_value IS NOT NULL) AS mx,
  min(nan_step) AS nan_step`);

/**
 * M4 over buckets of whole blocks, read from metric_rollups (see the top of this
 * file). Per series: its rollup rows in the block range (one index range scan),
 * plus a point-level aggregate of each cut end block; per bucket the combination
 * (first = min first, last = max last, min by (value, step), max by (value desc,
 * step), first NaN = min); then the chosen steps are fetched by primary key.
 */
async function m4Rollups(prisma: PrismaClient, keys: SpannedKey[], range: StepRange, buckets: number, cap: number): Promise<PointRow[]> {
  const geo = keys.map((k) => rollupGeometry(k.lo, k.hi, range, buckets));
  // The fallback bucketing (floor(cap / 5) buckets, for a series whose NaN points
  // push it over cap) is computed in the same statement: it costs a second GROUP BY
  // over the same few rows instead of a second round trip.
  const fallback = Math.min(buckets, Math.max(1, Math.floor(cap / 5)));
  const nb2 = keys.map((k) => rollupGeometry(k.lo, k.hi, range, fallback).nb);
  const seg = geo.flatMap((g, i) => g.segments.map(([a, b]) => ({ ord: i + 1, a, b })));
  const query = Prisma.sql`
    WITH s AS MATERIALIZED (
      SELECT s.ord::int AS ord, s.job_id, s.name, s.blo, s.nblocks, s.nb, s.nb2, s.rb0, s.rb1
      FROM unnest(${keys.map((k) => k.jobId)}::uuid[], ${keys.map((k) => k.name)}::text[],
                  ${geo.map((g) => g.blo)}::int[], ${geo.map((g) => g.nblocks)}::int[], ${geo.map((g) => g.nb)}::int[],
                  ${nb2}::int[], ${geo.map((g) => g.rb0)}::int[], ${geo.map((g) => g.rb1)}::int[])
        WITH ORDINALITY AS s(job_id, name, blo, nblocks, nb, nb2, rb0, rb1, ord)
    ), parts AS (
      SELECT s.ord, ((r.block - s.blo)::bigint * s.nb / s.nblocks)::int AS bucket,
             ((r.block - s.blo)::bigint * s.nb2 / s.nblocks)::int AS bucket2, r.first_step, r.last_step, r.min_value, r.min_step, r.max_value, r.max_step, r.nan_step
      FROM s JOIN metric_rollups r ON r.job_id = s.job_id AND r.name = s.name AND r.block BETWEEN s.rb0 AND s.rb1
      UNION ALL
      SELECT s.ord, (((g.a >> 10) - s.blo)::bigint * s.nb / s.nblocks)::int AS bucket,
             (((g.a >> 10) - s.blo)::bigint * s.nb2 / s.nblocks)::int AS bucket2, a.first_step, a.last_step, a.mn[1], a.mn[2]::int, a.mx[1], (-a.mx[2])::int, a.nan_step
      FROM unnest(${seg.map((x) => x.ord)}::int[], ${seg.map((x) => x.a)}::int[], ${seg.map((x) => x.b)}::int[]) AS g(ord, a, b)
      JOIN s ON s.ord = g.ord
      CROSS JOIN LATERAL (
        SELECT ${PART_AGG} FROM metric_points p
        WHERE p.job_id = s.job_id AND p.name = s.name AND p.step BETWEEN g.a AND g.b
      ) a
      WHERE a.first_step IS NOT NULL
    ), bucket AS (
      SELECT ord, 1 AS try, ${BUCKET_AGG} FROM parts GROUP BY ord, bucket
      UNION ALL
      SELECT ord, 2 AS try, ${BUCKET_AGG} FROM parts GROUP BY ord, bucket2
    ), picked AS (
      SELECT DISTINCT b.ord, b.try, x.step FROM bucket b
      CROSS JOIN LATERAL unnest(ARRAY[b.first_step, b.last_step, b.mn[2]::int, (-b.mx[2])::int, b.nan_step]) AS x(step)
      WHERE x.step IS NOT NULL
    ), counted AS (
      SELECT ord, count(*) FILTER (WHERE try = 1) <= ${cap}::int AS first_fits FROM picked GROUP BY ord
    ), chosen AS (
      SELECT p.ord, p.step FROM picked p JOIN counted c ON c.ord = p.ord WHERE p.try = CASE WHEN c.first_fits THEN 1 ELSE 2 END
    )
    SELECT c.ord, ${POINT} FROM chosen c JOIN s ON s.ord = c.ord
    JOIN metric_points p ON p.job_id = s.job_id AND p.name = s.name AND p.step = c.step
    ORDER BY c.ord, p.step`;
  const [, rows] = await prisma.$transaction([prisma.$executeRaw`SET LOCAL jit = off`, prisma.$queryRaw<PointRow[]>(query)]);
  return rows;
}

export interface DownsampleOptions {
  /**
   * Read metric_rollups when buckets are at least a block wide (default true).
   * false: always reduce from points (the slow path; for benchmarks and tests).
   */
  rollups?: boolean;
}

/** Whether M4 with `buckets` buckets over [lo, hi] reads rollups: when a bucket would span a block or more. */
export function usesRollups(lo: number, hi: number, buckets: number): boolean {
  return Math.floor((hi - lo) / buckets) + 1 >= ROLLUP_BLOCK;
}

/** M4 of each series with `buckets` buckets, each from rollups or from points as its width asks. */
async function m4(
  prisma: PrismaClient,
  keys: SpannedKey[],
  range: StepRange,
  buckets: number,
  maxPoints: number,
  options: DownsampleOptions,
): Promise<MetricPointRow[][]> {
  const viaRollups = keys.map((k) => options.rollups !== false && usesRollups(k.lo, k.hi, buckets));
  const rollupKeys = keys.filter((_, i) => viaRollups[i]);
  const pointKeys = keys.filter((_, i) => !viaRollups[i]);
  const [fromRollups, fromPoints] = await Promise.all([
    rollupKeys.length > 0 ? m4Rollups(prisma, rollupKeys, range, buckets, maxPoints).then((r) => group(r, rollupKeys.length)) : [],
    pointKeys.length > 0 ? m4Points(prisma, pointKeys, range, buckets).then((r) => group(r, pointKeys.length)) : [],
  ]);
  let r = 0;
  let p = 0;
  return keys.map((_, i) => (viaRollups[i] ? fromRollups[r++]! : fromPoints[p++]!));
}

/** Drops the NaN extra of a single-bucket M4 result to fit maxPoints (maxPoints < 10 only). */
function trimToCap(points: MetricPointRow[], maxPoints: number): MetricPointRow[] {
  if (points.length <= maxPoints) return points;
  const kept = points.filter((p, i) => !Number.isNaN(p.value) || i === 0 || i === points.length - 1);
  return kept.length <= maxPoints ? kept : [kept[0]!, kept[kept.length - 1]!];
}

function group(rows: PointRow[], count: number): MetricPointRow[][] {
  const out: MetricPointRow[][] = Array.from({ length: count }, () => []);
  for (const { ord, ...point } of rows) out[Number(ord) - 1]!.push(point);
  return out;
}

/**
 * Each series at most maxPoints points: returned whole when it fits, else reduced
 * by M4 in Postgres (from rollups for wide buckets). Series come back in the order
 * of `keys`; a key without points in range gives an empty series.
 */
export async function downsampledSeries(
  prisma: PrismaClient,
  scope: Scope,
  keys: SeriesKey[],
  range: StepRange,
  maxPoints: number,
  options: DownsampleOptions = {},
): Promise<MetricSeries[]> {
  if (!Number.isInteger(maxPoints) || maxPoints < MIN_MAX_POINTS) throw new RangeError(`maxPoints must be an integer (>= ${MIN_MAX_POINTS})`);
  const visible = await visibleJobs(prisma, scope, keys.map((k) => k.jobId));
  const readable = keys.filter((k) => visible.has(k.jobId.toLowerCase()));
  const series = await reduceSeries(prisma, readable, range, maxPoints, options);
  // a job outside the scope reads as one without points
  let i = 0;
  return keys.map((k) => (visible.has(k.jobId.toLowerCase()) ? series[i++]! : { ...k, points: [], downsampled: false }));
}

async function reduceSeries(
  prisma: PrismaClient,
  keys: SeriesKey[],
  range: StepRange,
  maxPoints: number,
  options: DownsampleOptions,
): Promise<MetricSeries[]> {
  if (keys.length === 0) return [];
  const counts = await cappedCounts(prisma, keys, range, maxPoints);
  const span = new Map(counts.map((c) => [c.ord, c]));
  const fits = new Set(counts.filter((c) => c.n <= maxPoints).map((c) => c.ord));
  const small = keys.filter((_, i) => fits.has(i + 1));
  const large: SpannedKey[] = keys.flatMap((k, i) => (fits.has(i + 1) ? [] : [{ ...k, lo: span.get(i + 1)!.lo!, hi: span.get(i + 1)!.hi! }]));

  const [smallPoints, firstTry] = await Promise.all([
    small.length > 0 ? wholeSeries(prisma, small, range).then((r) => group(r, small.length)) : [],
    large.length > 0 ? m4(prisma, large, range, Math.floor(maxPoints / 4), maxPoints, options) : [],
  ]);
  let largePoints = firstTry;

  const over = largePoints.map((p, i) => (p.length > maxPoints ? i : -1)).filter((i) => i >= 0);
  if (over.length > 0) {
    const retryKeys = over.map((i) => large[i]!);
    const retried = await m4(prisma, retryKeys, range, Math.max(1, Math.floor(maxPoints / 5)), maxPoints, options);
    largePoints = largePoints.slice();
    over.forEach((i, j) => (largePoints[i] = trimToCap(retried[j]!, maxPoints)));
  }

  let s = 0;
  let l = 0;
  return keys.map((key, i) =>
    fits.has(i + 1)
      ? { ...key, points: smallPoints[s++]!, downsampled: false }
      : { ...key, points: largePoints[l++]!, downsampled: true },
  );
}
